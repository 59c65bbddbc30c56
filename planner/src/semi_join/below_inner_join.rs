//! `PushSemiJoinDown`: a semi or anti join against a small relation moves below the inner
//! joins under it, onto the input that owns every column it reads.
//!
//! ```text
//! LeftSemi Join: o.k = s.k                 Projection / Inner Join: c = o.c
//!   Projection                               <customer>
//!     Inner Join: c = o.c           =>       LeftSemi Join: o.k = s.k
//!       <customer>                             <orders>
//!       <orders>                               <s: GROUP BY … HAVING …>
//!   <s: GROUP BY … HAVING …>
//! ```
//!
//! Why the answer cannot change: whether a row of `customer ⋈ orders` has a partner in `s`
//! depends only on its `orders` columns (the join's keys and its filter read nothing
//! else), and those columns are the `orders` row's own. So keeping the `orders` rows with
//! a partner (or, for an anti join, without one) and then joining keeps exactly the joined
//! rows the semi join kept. Filters and projections that pass the columns on unchanged
//! commute with it the same way. A null-aware anti join (`NOT IN`) is left alone.
//!
//! The move pays when the semi join keeps few rows, so it is made only against relations
//! known to be small: a `GROUP BY … HAVING` result (`IN (SELECT k … GROUP BY k HAVING …)`)
//! or a key set of [`super::PushJoinKeysIntoAggregate`]. Against a large one it could
//! probe more rows than before.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, Result};
use datafusion::logical_expr::{Expr, Join, JoinType, LogicalPlan};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

use super::key_source::KEYS_ALIAS;
use super::on_join;
use crate::fusion::FusedStage;

#[derive(Debug, Default)]
pub struct PushSemiJoinDown;

impl OptimizerRule for PushSemiJoinDown {
    fn name(&self) -> &str {
        "corepy_push_semi_join_down"
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
        on_join(plan, sink_small_semi_join)
    }
}

/// The semi or anti join moved below the inner joins under it, or `None`.
fn sink_small_semi_join(semi: &Join) -> Result<Option<LogicalPlan>> {
    if !matches!(semi.join_type, JoinType::LeftSemi | JoinType::LeftAnti)
        || semi.null_aware
        || !is_small(&semi.right)
    {
        return Ok(None);
    }
    let mut read: HashSet<Column> = HashSet::new();
    for (l, _) in &semi.on {
        read.extend(l.column_refs().into_iter().cloned());
    }
    if let Some(filter) = &semi.filter {
        let left = semi.left.schema();
        read.extend(
            filter
                .column_refs()
                .into_iter()
                .filter(|c| left.has_column(c))
                .cloned(),
        );
    }
    sink(&semi.left, &read, semi, &|_| true)
}

/// `plan` (the semi join's left input) with the semi join applied as deep as it can go,
/// or `None` when that is not below an inner join. `read` are the left columns the semi
/// join reads; `accept` says whether the semi join may be applied to a plan (the deepest
/// one that owns `read` is tried, and no other).
pub(super) fn sink(
    plan: &LogicalPlan,
    read: &HashSet<Column>,
    semi: &Join,
    accept: &dyn Fn(&LogicalPlan) -> bool,
) -> Result<Option<LogicalPlan>> {
    Ok(match plan {
        LogicalPlan::Projection(projection) if passes_on(&projection.expr, read) => {
            sink(&projection.input, read, semi, accept)?
                .map(|input| plan.with_new_exprs(plan.expressions(), vec![input]))
                .transpose()?
        }
        LogicalPlan::Filter(filter) => sink(&filter.input, read, semi, accept)?
            .map(|input| plan.with_new_exprs(plan.expressions(), vec![input]))
            .transpose()?,
        // A fused stage that passes the columns read on: as a Filter under a Projection (a
        // semi join keeps its left side's schema, so the stage keeps its kernel).
        LogicalPlan::Extension(_) => match FusedStage::of(plan) {
            Some(stage) if passes_on(&stage.exprs, read) => sink(&stage.input, read, semi, accept)?
                .map(|input| plan.with_new_exprs(plan.expressions(), vec![input]))
                .transpose()?,
            _ => None,
        },
        LogicalPlan::Join(join) if join.join_type == JoinType::Inner => {
            let owns = |side: &LogicalPlan| read.iter().all(|c| side.schema().has_column(c));
            let (left, right) = match (owns(&join.left), owns(&join.right)) {
                (true, false) => match applied_below(&join.left, read, semi, accept)? {
                    Some(left) => (left, join.right.as_ref().clone()),
                    None => return Ok(None),
                },
                (false, true) => match applied_below(&join.right, read, semi, accept)? {
                    Some(right) => (join.left.as_ref().clone(), right),
                    None => return Ok(None),
                },
                _ => return Ok(None),
            };
            Some(over(join, left, right)?)
        }
        _ => None,
    })
}

/// The semi join applied to `plan`, as deep below it as it can go, if `accept` takes
/// that place.
fn applied_below(
    plan: &LogicalPlan,
    read: &HashSet<Column>,
    semi: &Join,
    accept: &dyn Fn(&LogicalPlan) -> bool,
) -> Result<Option<LogicalPlan>> {
    if let Some(moved) = sink(plan, read, semi, accept)? {
        return Ok(Some(moved));
    }
    if !accept(plan) {
        return Ok(None);
    }
    Ok(Some(over(semi, plan.clone(), semi.right.as_ref().clone())?))
}

/// `join` (its kind, keys and filter) over new inputs.
fn over(join: &Join, left: LogicalPlan, right: LogicalPlan) -> Result<LogicalPlan> {
    Ok(LogicalPlan::Join(Join::try_new(
        Arc::new(left),
        Arc::new(right),
        join.on.clone(),
        join.filter.clone(),
        join.join_type,
        join.join_constraint,
        join.null_equality,
        join.null_aware,
    )?))
}

/// Whether a Projection passes each column read on unchanged, under its own name.
fn passes_on(exprs: &[Expr], read: &HashSet<Column>) -> bool {
    read.iter()
        .all(|c| exprs.iter().any(|e| matches!(e, Expr::Column(x) if x == c)))
}

fn is_grouped(plan: &LogicalPlan) -> bool {
    matches!(plan, LogicalPlan::Aggregate(aggregate) if !aggregate.group_expr.is_empty())
}

/// A relation known to be small: a key set of `PushJoinKeysIntoAggregate`, or groups
/// filtered by `HAVING`, under projections and aliases.
fn is_small(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::SubqueryAlias(alias) if alias.alias.table() == KEYS_ALIAS => true,
        LogicalPlan::SubqueryAlias(alias) => is_small(&alias.input),
        LogicalPlan::Projection(projection) => is_small(&projection.input),
        LogicalPlan::Filter(filter) => is_grouped(&filter.input),
        other => FusedStage::of(other)
            .is_some_and(|stage| stage.predicate.is_some() && is_grouped(&stage.input)),
    }
}
