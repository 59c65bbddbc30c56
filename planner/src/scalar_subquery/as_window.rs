//! `ScalarSubqueryAsWindow`: a filter that compares rows of a relation with an aggregate of
//! that same relation — TPC-H q15's `total_revenue = (SELECT max(total_revenue) FROM
//! revenue)` — reads the relation once, the aggregate taken as a window over all its rows
//! (Zuzarte et al., "WinMagic: Subquery Elimination Using Window Aggregation").
//!
//! ```text
//! Filter: r.c = (<subquery>)                    Projection: <P's columns>
//!   Subquery: Aggregate: aggr=[max(v.c)]           Filter: r.c = __corepy_scalar
//!     SubqueryAlias v: Projection: … <P>    =>       WindowAggr: max(r.c) OVER () AS __corepy_scalar
//!   <P>                                                <P>
//! ```
//!
//! Why the answer cannot change: the subquery is uncorrelated, so it has one value, the
//! aggregate over every row of its relation; that relation is `P` itself under aliases and
//! projections that only rename columns, and a window over the whole of `P` computes the
//! same aggregate over the same rows, on each row. The filter then compares each row with
//! the same value as before. (`P` empty: no rows either way.) DataFusion's own plan reads
//! `P`'s inputs twice, once for the subquery and once for the rows.

use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, Result};
use datafusion::logical_expr::expr::{AggregateFunction, WindowFunction};
use datafusion::logical_expr::utils::{conjunction, split_conjunction};
use datafusion::logical_expr::{
    col, Aggregate, Expr, Filter, LogicalPlan, LogicalPlanBuilder, Subquery,
};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

use crate::fusion::FusedStage;
use crate::semi_join::column_below;

/// Name of the window column that holds the subquery's value.
pub(super) const SCALAR: &str = "__corepy_scalar";

#[derive(Debug, Default)]
pub struct ScalarSubqueryAsWindow;

impl OptimizerRule for ScalarSubqueryAsWindow {
    fn name(&self) -> &str {
        "corepy_scalar_subquery_as_window"
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
        super::rewrite_filter(plan, as_window)
    }
}

/// The filter with its first scalar subquery over its own input as a window, or `None`.
fn as_window(filter: &Filter) -> Result<Option<LogicalPlan>> {
    let input = filter.input.as_ref();
    let conjuncts = split_conjunction(&filter.predicate);
    for (i, conjunct) in conjuncts.iter().enumerate() {
        let Some(subquery) = only_subquery(conjunct) else {
            continue;
        };
        let Some((window, value)) = window_of(&subquery, input) else {
            continue;
        };
        return with_window(input, window, &conjuncts, i, &value).map(Some);
    }
    Ok(None)
}

/// `input` with the window as a column, filtered by `conjuncts` whose `i`th has its
/// subquery replaced by `value`, and projected back to `input`'s columns.
pub(super) fn with_window(
    input: &LogicalPlan,
    window: Expr,
    conjuncts: &[&Expr],
    i: usize,
    value: &Expr,
) -> Result<LogicalPlan> {
    let windowed = LogicalPlanBuilder::from(input.clone())
        .window(vec![window.alias(SCALAR)])?
        .build()?;
    let replaced = conjuncts[i]
        .clone()
        .transform_up(|e| {
            Ok(match e {
                Expr::ScalarSubquery(_) => Transformed::yes(value.clone()),
                other => Transformed::no(other),
            })
        })?
        .data;
    let mut kept: Vec<Expr> = conjuncts.iter().map(|c| (*c).clone()).collect();
    kept[i] = replaced;
    let columns: Vec<Expr> = input.schema().columns().into_iter().map(col).collect();
    LogicalPlanBuilder::from(windowed)
        .filter(conjunction(kept).expect("a conjunct"))?
        .project(columns)?
        .build()
}

/// The one scalar subquery of an expression, if it has exactly one and it is
/// uncorrelated.
pub(super) fn only_subquery(expr: &Expr) -> Option<Subquery> {
    let mut found = Vec::new();
    expr.apply(|e| {
        if let Expr::ScalarSubquery(s) = e {
            found.push(s.clone());
        }
        Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
    })
    .ok()?;
    match found.as_slice() {
        [only] if only.outer_ref_columns.is_empty() => Some(only.clone()),
        _ => None,
    }
}

/// The aggregate function of an aggregate expression (aliased or not), when it is a plain
/// one: no DISTINCT, FILTER or ORDER BY, so that a window computes it alike.
pub(super) fn plain_aggregate(aggr: &Expr) -> Option<AggregateFunction> {
    let Expr::AggregateFunction(function) = aggr.clone().unalias() else {
        return None;
    };
    let params = &function.params;
    let plain = !params.distinct && params.filter.is_none() && params.order_by.is_empty();
    plain.then_some(function)
}

/// A subquery `[Projection: f(a)] Aggregate: aggr=[agg(args)]` without groups: its
/// aggregation, its one aggregate (a plain one: no DISTINCT, FILTER or ORDER BY), and the
/// subquery's value as an expression of the column `__corepy_scalar` that will hold the
/// aggregate's value.
pub(super) fn single_aggregate(
    subquery: &Subquery,
) -> Option<(&Aggregate, AggregateFunction, Expr)> {
    let (aggregate_plan, value) = match subquery.subquery.as_ref() {
        LogicalPlan::Projection(p) if p.expr.len() == 1 => (p.input.as_ref(), Some(&p.expr[0])),
        other => (other, None),
    };
    let LogicalPlan::Aggregate(aggregate) = aggregate_plan else {
        return None;
    };
    let ([aggr], true) = (
        aggregate.aggr_expr.as_slice(),
        aggregate.group_expr.is_empty(),
    ) else {
        return None;
    };
    let function = plain_aggregate(aggr)?;
    // The subquery's value: the window column, through the Projection over the aggregate.
    let scalar = Expr::Column(Column::from_name(SCALAR));
    let aggregate_column = Expr::Column(Column::from(aggregate.schema.qualified_field(0)));
    let value = match value {
        None => scalar,
        Some(expr) => {
            expr.clone()
                .unalias()
                .transform_up(|e| {
                    Ok(if e == aggregate_column {
                        Transformed::yes(scalar.clone())
                    } else {
                        Transformed::no(e)
                    })
                })
                .ok()?
                .data
        }
    };
    // Nothing of the aggregate's own columns may remain.
    let leftover = value.column_refs().into_iter().any(|c| c.name != SCALAR);
    (!leftover).then_some((aggregate, function, value))
}

/// For a subquery aggregating a relation that is `input` renamed: the window
/// `agg(args) OVER ()` over `input`, and the subquery's value over the window's column.
fn window_of(subquery: &Subquery, input: &LogicalPlan) -> Option<(Expr, Expr)> {
    let (aggregate, AggregateFunction { func, params }, value) = single_aggregate(subquery)?;
    let mut args = Vec::with_capacity(params.args.len());
    for arg in params.args {
        args.push(in_terms_of(arg, aggregate.input.as_ref(), input)?);
    }
    let window = Expr::from(WindowFunction::new(Arc::clone(&func), args));
    Some((window, value))
}

/// `expr` over `relation` rewritten over `target`, when `relation` is `target` under nodes
/// that only rename or pick its columns (each column followed down to `target`).
pub(super) fn in_terms_of(
    expr: Expr,
    relation: &LogicalPlan,
    target: &LogicalPlan,
) -> Option<Expr> {
    let mut failed = false;
    let rewritten = expr
        .transform_up(|e| {
            let Expr::Column(c) = &e else {
                return Ok(Transformed::no(e));
            };
            match column_in(relation, c, target) {
                Some(found) => Ok(Transformed::yes(Expr::Column(found))),
                None => {
                    failed = true;
                    Ok(Transformed::no(e))
                }
            }
        })
        .ok()?
        .data;
    (!failed).then_some(rewritten)
}

/// The column of `target` that `column` of `plan` is, when `plan` reaches `target` through
/// aliases and projections of columns (no filters: the rows must be the same).
fn column_in(plan: &LogicalPlan, column: &Column, target: &LogicalPlan) -> Option<Column> {
    if plan == target {
        return Some(column.clone());
    }
    let filters = FusedStage::of(plan).is_some_and(|stage| stage.predicate.is_some());
    if matches!(plan, LogicalPlan::Filter(_)) || filters {
        return None;
    }
    let (input, below) = column_below(plan, column)?;
    column_in(input, &below, target)
}
