//! corepy's `QueryPlanner`: DataFusion's physical planner plus corepy's extension planners,
//! which turn corepy's logical extension nodes into its own operators.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::Result;
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{DefaultPhysicalPlanner, ExtensionPlanner, PhysicalPlanner};

/// Plans corepy's extension nodes; everything else is DataFusion's default planning.
#[derive(Debug, Default)]
pub struct CorepyQueryPlanner;

impl CorepyQueryPlanner {
    /// The planners of corepy's extension nodes; a new extension node registers its
    /// planner here.
    fn extension_planners() -> Vec<Arc<dyn ExtensionPlanner + Send + Sync>> {
        vec![
            Arc::new(crate::jit::FusedStagePlanner),
            Arc::new(crate::row_index::RowIndexPlanner),
            Arc::new(crate::dml::SealedDmlPlanner),
            Arc::new(crate::top_per_group::TopPerGroupPlanner),
        ]
    }
}

#[async_trait]
impl QueryPlanner for CorepyQueryPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session_state: &dyn Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        DefaultPhysicalPlanner::with_extension_planners(Self::extension_planners())
            .create_physical_plan(logical_plan, session_state)
            .await
    }
}
