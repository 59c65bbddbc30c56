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
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::ExecutionPlan;

use corepy_planner::options::CorepyOptions;

use super::exec::RunAggregateExec;
use super::plan::plan_runs;
use crate::jit::aggregate::{Fallback, JitAggregateExec};
use crate::jit::JitExec;

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
    if reads_groups(aggregate.input()) {
        return Ok(Transformed::no(node));
    }
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

/// Whether `input` is the groups of another aggregation, through filters and projections
/// (the second aggregation of a `count(DISTINCT …)`): a hash table's groups come in its
/// own order, never in runs, and a probe would only find that out.
fn reads_groups(input: &Arc<dyn ExecutionPlan>) -> bool {
    let mut node = input;
    loop {
        if node.downcast_ref::<AggregateExec>().is_some()
            || node.downcast_ref::<JitAggregateExec>().is_some()
        {
            return true;
        }
        let passes_rows = node.downcast_ref::<ProjectionExec>().is_some()
            || node.downcast_ref::<FilterExec>().is_some()
            || node.downcast_ref::<JitExec>().is_some();
        match node.children().first() {
            Some(child) if passes_rows => node = child,
            _ => return false,
        }
    }
}
