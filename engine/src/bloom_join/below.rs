//! Where the probe role goes: as far down the probe side as the join's key columns can be
//! followed through operators that keep or drop whole keys.
//!
//! A join whose probe side is an aggregation grouped by the join key (an unnested
//! subquery, `EXISTS` answered by one grouped pass) would otherwise filter the groups after
//! every row has been hashed into one: TPC-H q21 groups 60 M lines at SF10 for the 0.7 M
//! orders its outer query holds. Below the aggregation the filter drops the lines first.
//!
//! Why the answer cannot change: a row dropped below is a row whose key (the same value,
//! followed through column references) no build row has. Through a projection the value is
//! the column it references; through an aggregation (DataFusion's, or a kernel's that reads
//! the key as it is) it is the group's key, so dropping the
//! row drops whole groups the join drops anyway and leaves every other group's rows, hence
//! its aggregates, as they were. A repartition or a merge of partitions only moves rows
//! between partitions, which matters only when each partition has its own filter: below
//! them only when the join collected its build side into one filter for every partition.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::aggregates::AggregateExec;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::execution_plan::{ChildrenPropertiesMode, ReplaceChildrenOptions};
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::ExecutionPlan;

use crate::jit::aggregate::JitAggregateExec;
use crate::run_aggregate::RunAggregateExec;

/// Makes the probe role over a node, given the keys as that node's columns.
pub type MakeProbe<'a> =
    &'a dyn Fn(Arc<dyn ExecutionPlan>, Vec<Arc<dyn PhysicalExpr>>) -> Arc<dyn ExecutionPlan>;

/// `plan` with `probe(node, keys)` put over the lowest node whose output still holds the
/// keys, found by following `keys` (columns of `plan`) down first children.
pub fn place_probe(
    plan: Arc<dyn ExecutionPlan>,
    keys: Vec<Arc<dyn PhysicalExpr>>,
    collected: bool,
    probe: MakeProbe,
) -> Result<Arc<dyn ExecutionPlan>> {
    let Some(below) = keys_below(plan.as_ref(), &keys, collected) else {
        return Ok(probe(plan, keys));
    };
    let mut children: Vec<Arc<dyn ExecutionPlan>> =
        plan.children().into_iter().map(Arc::clone).collect();
    children[0] = place_probe(Arc::clone(&children[0]), below, collected, probe)?;
    plan.replace_children(
        children,
        ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
    )
}

/// The keys as columns of `plan`'s only child, when `plan` passes each key's value through
/// and drops or keeps rows by it alone.
fn keys_below(
    plan: &dyn ExecutionPlan,
    keys: &[Arc<dyn PhysicalExpr>],
    collected: bool,
) -> Option<Vec<Arc<dyn PhysicalExpr>>> {
    let columns: Vec<&Column> = keys
        .iter()
        .map(|key| key.downcast_ref::<Column>())
        .collect::<Option<_>>()?;
    let same = || Some(keys.to_vec());
    if plan.downcast_ref::<RepartitionExec>().is_some()
        || plan.downcast_ref::<CoalescePartitionsExec>().is_some()
    {
        return if collected { same() } else { None };
    }
    // Each output column's input column, where it is one.
    let as_column = |e: &Arc<dyn PhysicalExpr>| e.downcast_ref::<Column>().cloned();
    let sources: Vec<Option<Column>> = if let Some(aggregate) = plan.downcast_ref::<AggregateExec>()
    {
        let group = aggregate.group_expr();
        if !group.is_single() {
            return None;
        }
        group.expr().iter().map(|(e, _)| as_column(e)).collect()
    } else if let Some(runs) = plan.downcast_ref::<RunAggregateExec>() {
        runs.keys().iter().map(as_column).collect()
    } else if let Some(folded) = plan.downcast_ref::<JitAggregateExec>() {
        let schema = folded.children()[0].schema();
        folded
            .key_input_columns()
            .into_iter()
            .map(|index| index.map(|i| Column::new(schema.field(i).name(), i)))
            .collect()
    } else if let Some(projection) = plan.downcast_ref::<ProjectionExec>() {
        projection
            .expr()
            .iter()
            .map(|p| as_column(&p.expr))
            .collect()
    } else {
        return None;
    };
    columns
        .iter()
        .map(|column| {
            let source = sources.get(column.index())?.clone()?;
            Some(Arc::new(source) as Arc<dyn PhysicalExpr>)
        })
        .collect()
}
