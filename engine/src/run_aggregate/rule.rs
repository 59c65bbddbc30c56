//! The physical rule that puts a [`RunAggregateExec`] in place of a partial aggregation
//! whose aggregates merge by runs (see [`super::plan`]). It runs after corepy's fold
//! (an aggregation folded into a fused stage's kernel is not partial any more) and is off
//! with `SET corepy.aggregate_runs = false`. What the operator decides, it decides per
//! partition at run time, so the answer never depends on whether the rule applies.

use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::Result;
use datafusion::config::ConfigOptions;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::AggregateExec;
use datafusion::physical_plan::ExecutionPlan;

use corepy_planner::options::CorepyOptions;

use super::exec::RunAggregateExec;
use super::plan::plan_runs;
use crate::jit::aggregate::Fallback;

#[derive(Debug, Default)]
pub struct AggregateRuns;

impl PhysicalOptimizerRule for AggregateRuns {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if !CorepyOptions::of(config).aggregate_runs {
            return Ok(plan);
        }
        plan.transform_up(by_runs).data()
    }

    fn name(&self) -> &str {
        "corepy_aggregate_runs"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

fn by_runs(node: Arc<dyn ExecutionPlan>) -> Result<Transformed<Arc<dyn ExecutionPlan>>> {
    let Some(aggregate) = node.downcast_ref::<AggregateExec>() else {
        return Ok(Transformed::no(node));
    };
    let Ok(plan) = plan_runs(aggregate) else {
        return Ok(Transformed::no(node));
    };
    let runs = RunAggregateExec::new(
        Arc::clone(aggregate.input()),
        Arc::new(plan),
        Fallback::direct(Arc::clone(&node)),
        Arc::clone(aggregate.properties()),
    );
    Ok(Transformed::yes(Arc::new(runs)))
}
