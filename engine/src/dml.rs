//! Plans a sealed `DELETE` or `UPDATE` (the planner's `SealedDml`) as written: DataFusion's
//! own physical planner reads the analyzed statement, which no optimizer rule has touched,
//! and asks the table to delete or update the rows it names.

use std::sync::Arc;

use async_trait::async_trait;
use corepy_planner::dml::SealedDml;
use datafusion::catalog::Session;
use datafusion::common::Result;
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{LogicalPlan, UserDefinedLogicalNode};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{ExtensionPlanner, PhysicalPlanner};

/// The extension planner of `SealedDml`.
#[derive(Debug, Default)]
pub struct SealedDmlPlanner;

#[async_trait]
impl ExtensionPlanner for SealedDmlPlanner {
    async fn plan_extension(
        &self,
        planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        _logical_inputs: &[&LogicalPlan],
        _physical_inputs: &[Arc<dyn ExecutionPlan>],
        session_state: &dyn Session,
        _planning_ctx: &PhysicalPlanningContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let Some(sealed) = node.as_any().downcast_ref::<SealedDml>() else {
            return Ok(None);
        };
        // The physical planner plans what it is given; only `SessionState` optimizes.
        let plan = planner
            .create_physical_plan(&sealed.statement, session_state)
            .await?;
        Ok(Some(plan))
    }
}
