//! `PushJoinKeysIntoAggregate`: a join whose partner is grouped by the join key gets that
//! grouping restricted to the keys the other side can have.
//!
//! ```text
//! Join: o.k = g.k                      Join: o.k = g.k
//!   <outer: part filtered>               <outer>
//!   Aggregate: groupBy=[k]        =>     Aggregate: groupBy=[k]
//!     <input>                              LeftSemi Join: k = __corepy_keys.k
//!                                            <input>
//!                                            SubqueryAlias: __corepy_keys
//!                                              <key source of o.k: part filtered>
//! ```
//!
//! Why the answer cannot change: a group's aggregates depend only on that group's rows, so
//! dropping the rows of some key drops whole groups and leaves the others as they were;
//! filters and projections above the aggregation work row by row. The groups dropped have
//! keys the other side never holds (the key source holds every value it can take), and the
//! join's equality (`null = null` is not true) never matches them, nor a NULL key. The join
//! types allowed are those whose output does not show the grouped side's unmatched rows.
//! A null-aware anti join (`NOT IN`) reads the grouped side's NULL keys, so it is left alone.

use std::sync::Arc;

use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, NullEquality, Result};
use datafusion::logical_expr::{Aggregate, Expr, Join, JoinType, LogicalPlan, LogicalPlanBuilder};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

use super::key_source::{column_below, reduced_before, selective_source, KeySource};
use super::on_join;
use crate::exists_in_one_pass::BOUNDS_ALIAS;

#[derive(Debug, Default)]
pub struct PushJoinKeysIntoAggregate;

impl OptimizerRule for PushJoinKeysIntoAggregate {
    fn name(&self) -> &str {
        "corepy_push_join_keys_into_aggregate"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::TopDown)
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        on_join(plan, |join| {
            Ok(reduce_grouped_side(join)?.map(LogicalPlan::Join))
        })
    }
}

/// Which input of a join holds the grouped relation.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Left,
    Right,
}

/// The join with its grouped input reduced to the other input's keys, or `None`.
fn reduce_grouped_side(join: &Join) -> Result<Option<Join>> {
    if join.null_aware || join.null_equality != NullEquality::NullEqualsNothing {
        return Ok(None);
    }
    for side in [Side::Right, Side::Left] {
        if !unmatched_rows_hidden(join.join_type, side) {
            continue;
        }
        let (grouped, other) = match side {
            Side::Right => (&join.right, &join.left),
            Side::Left => (&join.left, &join.right),
        };
        if is_exists_pass(grouped) {
            continue;
        }
        let mut reductions = Vec::new();
        for (l, r) in &join.on {
            let (ours, theirs) = match side {
                Side::Right => (r, l),
                Side::Left => (l, r),
            };
            let (Expr::Column(ours), Expr::Column(theirs)) = (ours, theirs) else {
                continue;
            };
            let Some(key) = grouping_column(grouped, ours) else {
                continue;
            };
            if let Some(source) = selective_source(other, theirs) {
                reductions.push((key, source));
            }
        }
        if reductions.is_empty() {
            continue;
        }
        let reduced = Arc::new(reduce(grouped, &reductions)?);
        let mut join = join.clone();
        match side {
            Side::Right => join.right = reduced,
            Side::Left => join.left = reduced,
        }
        return Ok(Some(join));
    }
    Ok(None)
}

/// Whether `plan` is the grouped pass of [`ExistsInOnePass`]. It reads the table the outer
/// rows usually come from (TPC-H q21's lines), so the "selective" source of their keys is a
/// filtered scan of that same table: a semi join with it would hash 38 M late lines at SF10
/// to save grouping the others. The join's Bloom filter drops those lines below the
/// aggregation at run time instead (the engine's `bloom_join::below`).
///
/// [`ExistsInOnePass`]: crate::exists_in_one_pass::ExistsInOnePass
fn is_exists_pass(plan: &LogicalPlan) -> bool {
    matches!(plan, LogicalPlan::SubqueryAlias(alias) if alias.alias.table() == BOUNDS_ALIAS)
}

/// Whether a join's output leaves out the rows of `side` that match nothing.
fn unmatched_rows_hidden(join_type: JoinType, side: Side) -> bool {
    use JoinType::*;
    match side {
        Side::Right => matches!(
            join_type,
            Inner | Left | LeftSemi | LeftAnti | RightSemi | LeftMark
        ),
        Side::Left => matches!(
            join_type,
            Inner | Right | RightSemi | RightAnti | LeftSemi | RightMark
        ),
    }
}

/// The Aggregate input's column that `column` of `plan` is the grouping key of, when
/// `plan` is an aggregation under row-wise nodes that pass the key on, and it was not
/// reduced before.
fn grouping_column(plan: &LogicalPlan, column: &Column) -> Option<Column> {
    let LogicalPlan::Aggregate(aggregate) = plan else {
        let (input, below) = column_below(plan, column)?;
        return grouping_column(input, &below);
    };
    if aggregate
        .group_expr
        .iter()
        .any(|e| matches!(e, Expr::GroupingSet(_)))
        || reduced_before(&aggregate.input)
    {
        return None;
    }
    let index = aggregate.schema.index_of_column(column).ok()?;
    match aggregate.group_expr.get(index)? {
        Expr::Column(key) => Some(key.clone()),
        _ => None,
    }
}

/// `plan` with the input of its aggregation semi-joined with each key source.
fn reduce(plan: &LogicalPlan, reductions: &[(Column, KeySource)]) -> Result<LogicalPlan> {
    if let LogicalPlan::Aggregate(aggregate) = plan {
        let mut input = aggregate.input.as_ref().clone();
        for (key, source) in reductions {
            input = semi_join_keys(input, key, source)?;
        }
        return Ok(LogicalPlan::Aggregate(Aggregate::try_new(
            Arc::new(input),
            aggregate.group_expr.clone(),
            aggregate.aggr_expr.clone(),
        )?));
    }
    // The nodes between the join and the aggregation (a Projection, an alias, a Filter)
    // are rebuilt over the reduced aggregation, keeping their expressions.
    let inputs = plan.inputs();
    let [only] = inputs.as_slice() else {
        unreachable!("grouping_column walks only nodes with one input");
    };
    let reduced = reduce(only, reductions)?;
    plan.with_new_exprs(plan.expressions(), vec![reduced])
}

/// `input LEFT SEMI JOIN (SELECT column FROM source) ON key = column`.
fn semi_join_keys(input: LogicalPlan, key: &Column, source: &KeySource) -> Result<LogicalPlan> {
    let (keys, keys_column) = source.key_set()?;
    LogicalPlanBuilder::from(input)
        .join_detailed(
            keys,
            JoinType::LeftSemi,
            (vec![key.clone()], vec![keys_column]),
            None,
            NullEquality::NullEqualsNothing,
        )?
        .build()
}
