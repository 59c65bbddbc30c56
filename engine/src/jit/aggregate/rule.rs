//! The physical rule that folds a partial aggregation into the fused stage under it.
//!
//! DataFusion plans `Aggregate` as a Partial AggregateExec per partition and a Final one
//! over their states (or, over one partition, a Single one). Where the Partial (or
//! Single) aggregation reads a `JitExec` compiled for the CPU and every aggregate folds
//! (see [`super::plan`]), the pair becomes one `JitAggregateExec`; a Single aggregation
//! becomes that and a Final one. Anything else is left as it is, so the answer never
//! depends on whether the fold applies.

use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::Result;
use datafusion::config::ConfigOptions;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::execution_plan::{ChildrenPropertiesMode, ReplaceChildrenOptions};
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::{ExecutionPlan, Partitioning};

use corepy_codegen::ir::AggFunc;

use super::exec::JitAggregateExec;
use super::fallback::Fallback;
use super::plan::plan_fold;
use corepy_planner::options::CorepyOptions;

use crate::jit::{kernel_cache, JitExec};

#[derive(Debug, Default)]
pub struct FoldAggregates;

impl PhysicalOptimizerRule for FoldAggregates {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let dense = CorepyOptions::of(config).dense_groups;
        plan.transform_up(|node| fold(node, dense)).data()
    }

    fn name(&self) -> &str {
        "corepy_fold_aggregates"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

fn fold(node: Arc<dyn ExecutionPlan>, dense: bool) -> Result<Transformed<Arc<dyn ExecutionPlan>>> {
    let Some(aggregate) = node.downcast_ref::<AggregateExec>() else {
        return Ok(Transformed::no(node));
    };
    // A round-robin repartition may sit between (a one-partition source spread over the
    // cores): the kernel then reads the stage's input spread the same way.
    let (stage_plan, spread) = match aggregate.input().downcast_ref::<RepartitionExec>() {
        Some(r) if matches!(r.partitioning(), Partitioning::RoundRobinBatch(_)) => {
            (r.input(), Some(r))
        }
        _ => (aggregate.input(), None),
    };
    // An aggregation with no stage under it (straight over a scan: it computes nothing)
    // reads its input through one that passes the columns on, folded only into a table
    // laid out by key (see `dense.rs`); everything else about it stays as it is.
    let passing_on;
    let (stage, synthetic) = match stage_plan.downcast_ref::<JitExec>() {
        Some(stage) if stage.runs_compiled_on_cpu() => (stage, false),
        Some(_) => return Ok(Transformed::no(node)),
        None if dense && !aggregate.group_expr().expr().is_empty() => {
            passing_on = JitExec::passing_on(Arc::clone(stage_plan));
            (&passing_on, true)
        }
        None => return Ok(Transformed::no(node)),
    };
    let single = match aggregate.mode() {
        AggregateMode::Partial => false,
        AggregateMode::Single => true,
        _ => return Ok(Transformed::no(node)),
    };
    // The partial aggregation whose state the kernel produces.
    let partial = if single {
        partial_over(aggregate, Arc::clone(aggregate.input()))?
    } else {
        aggregate.clone()
    };
    let plan = match plan_fold(stage, &partial).map(|p| p.laid_out_by_key(dense)) {
        Ok(plan) if !synthetic || plan.dense.is_some() => plan,
        _ => return Ok(Transformed::no(node)),
    };
    if single
        && plan
            .kernel
            .aggregates
            .iter()
            .any(|a| a.func == AggFunc::Moments)
    {
        // A single aggregation becomes a partial one and a final one, whose merge of the
        // one partial state of a variance rounds (mean · n / n) where the single one did
        // not: the answer would change in its last bits, or overflow. Left as it is.
        return Ok(Transformed::no(node));
    }
    let Ok(compiled) = kernel_cache().get_or_compile(&plan.kernel) else {
        return Ok(Transformed::no(node));
    };
    let input = match spread {
        Some(r) => Arc::new(r.clone()).replace_children(
            vec![Arc::clone(stage.stage_input())],
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )?,
        None => Arc::clone(stage.stage_input()),
    };
    // A key has as many groups as the data has values: past a few thousand a partition
    // goes back to DataFusion's partial aggregation, over the stage as it was. Its
    // batches go where the fold's go, so its schema must be the fold's.
    let fallback = match plan.keys.is_empty() {
        true => None,
        false => {
            let fallback = partial_over(&partial, Arc::clone(stage_plan))?;
            if fallback.schema() != partial.schema() {
                return Ok(Transformed::no(node));
            }
            Some(match synthetic {
                // The rest is the stage's input: the partial aggregation reads it as before.
                true => Fallback::direct(Arc::new(fallback)),
                false => Fallback::new(Arc::new(fallback)),
            })
        }
    };
    let folded: Arc<dyn ExecutionPlan> = Arc::new(JitAggregateExec::new(
        input,
        Arc::new(plan),
        compiled.kernel,
        compiled.compiled_now,
        stage.description().to_string(),
        fallback,
        partial.schema(),
    ));
    if !single {
        return Ok(Transformed::yes(folded));
    }
    let last = AggregateExec::try_new(
        AggregateMode::Final,
        aggregate.group_expr().as_final(),
        aggregate.aggr_expr().to_vec(),
        aggregate.filter_expr().to_vec(),
        folded,
        aggregate.input_schema(),
    )?;
    Ok(Transformed::yes(Arc::new(last)))
}

/// A partial aggregation of `aggregate`'s groups and aggregates over `input` (which has
/// the schema of `aggregate`'s input).
fn partial_over(aggregate: &AggregateExec, input: Arc<dyn ExecutionPlan>) -> Result<AggregateExec> {
    AggregateExec::try_new(
        AggregateMode::Partial,
        aggregate.group_expr().clone(),
        aggregate.aggr_expr().to_vec(),
        aggregate.filter_expr().to_vec(),
        input,
        aggregate.input_schema(),
    )
}
