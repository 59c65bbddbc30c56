//! `JoinedAggregateAsWindow`: a join with a one-row aggregate of the join's other input —
//! the lazy form of TPC-H q15, `revenue.join(revenue.select(max(total_revenue)),
//! how="cross").filter(total_revenue == best)`, or SQL's `FROM revenue, (SELECT
//! max(total_revenue) AS best FROM revenue)` — reads that input once, the aggregate taken
//! as a window over its rows (what `as_window.rs` does for the scalar-subquery form).
//!
//! ```text
//! Inner Join: r.c = b.best                   Filter: r.c = b.best
//!   <P> (SubqueryAlias r)                      Projection: <P's columns>, f(__corepy_scalar_0) AS b.best
//!   SubqueryAlias b                    =>        WindowAggr: max(r.c) OVER () AS __corepy_scalar_0
//!     Projection: f(m) AS best                     <P>
//!       Aggregate: aggr=[max(c) AS m]
//!         <P's rows>
//! ```
//!
//! When `P` is itself an aggregation of those rows by groups (q11's lazy form, `stock
//! .group_by(part).agg(sum(v)).join(stock.select(sum(v) * 0.0001), how="cross")`), the
//! whole's aggregate is combined from the groups' by a window on that aggregation, as
//! `over_groups.rs` does for the HAVING form (a sum of the groups' sums, not of floats; a
//! count's sum; a minimum's minimum, a maximum's maximum), and passed up through `P`'s
//! projection and alias.
//!
//! Why the answer cannot change: an aggregate without groups has exactly one row, so the
//! join pairs every row of `P` with that row, then keeps the pairs its condition holds for.
//! The aggregate reads the same rows as `P` (`P` renamed, or the same plan with other
//! columns: `same_rows.rs`), so a window over all of `P` computes the same value on every
//! row; the projection gives each row the one-row side's columns under their own names, so
//! the join's condition, now a filter, reads what it read. `P` empty: the join has no rows,
//! and neither has the window. The window's value is cast to the aggregate's type. Joins
//! that compare NULL keys as equal, and aggregates with DISTINCT, FILTER or ORDER BY, are
//! left alone.

use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, NullEquality, Result, TableReference};
use datafusion::logical_expr::expr::{AggregateFunction, WindowFunction};
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{
    cast, Aggregate, Expr, Join, JoinType, LogicalPlan, LogicalPlanBuilder,
};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

use super::as_window::plain_aggregate;
use super::over_groups::{over_the_same_rows, window_over_groups};
use super::SCALAR;
use crate::semi_join::on_join;

#[derive(Debug, Default)]
pub struct JoinedAggregateAsWindow;

impl OptimizerRule for JoinedAggregateAsWindow {
    fn name(&self) -> &str {
        "corepy_joined_aggregate_as_window"
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
        on_join(plan, as_window)
    }
}

/// The one-row side of a join, taken apart: the alias it is known by, the expressions of
/// its columns over its aggregate's columns (in order), the aggregate and its functions.
struct OneRow<'a> {
    alias: Option<&'a TableReference>,
    columns: Vec<Expr>,
    aggregate: &'a Aggregate,
    /// The aggregate's functions, in order.
    functions: Vec<AggregateFunction>,
}

/// `plan` taken apart as `[SubqueryAlias] [Projection] <rest>`: the alias, the
/// projection's expressions, and the rest.
fn peeled(plan: &LogicalPlan) -> (Option<&TableReference>, Option<&Vec<Expr>>, &LogicalPlan) {
    let (alias, plan) = match plan {
        LogicalPlan::SubqueryAlias(a) => (Some(&a.alias), a.input.as_ref()),
        other => (None, other),
    };
    let (projection, plan) = match plan {
        LogicalPlan::Projection(p) => (Some(&p.expr), p.input.as_ref()),
        other => (None, other),
    };
    (alias, projection, plan)
}

/// `[SubqueryAlias] [Projection] Aggregate` without groups, of plain aggregates.
fn one_row(plan: &LogicalPlan) -> Option<OneRow<'_>> {
    let (alias, projection, plan) = peeled(plan);
    let LogicalPlan::Aggregate(aggregate) = plan else {
        return None;
    };
    if !aggregate.group_expr.is_empty() || aggregate.aggr_expr.is_empty() {
        return None;
    }
    let functions = aggregate
        .aggr_expr
        .iter()
        .map(plain_aggregate)
        .collect::<Option<Vec<_>>>()?;
    let columns = match projection {
        Some(exprs) => exprs.iter().map(|e| e.clone().unalias()).collect(),
        None => aggregate
            .schema
            .columns()
            .into_iter()
            .map(Expr::Column)
            .collect(),
    };
    Some(OneRow {
        alias,
        columns,
        aggregate,
        functions,
    })
}

/// The join with its one-row aggregate side taken as windows over its other side, or
/// `None`.
fn as_window(join: &Join) -> Result<Option<LogicalPlan>> {
    let keys_compare_nulls =
        !join.on.is_empty() && join.null_equality != NullEquality::NullEqualsNothing;
    if join.join_type != JoinType::Inner || join.null_aware || keys_compare_nulls {
        return Ok(None);
    }
    for one_row_on_right in [true, false] {
        let (rows, other) = if one_row_on_right {
            (join.left.as_ref(), join.right.as_ref())
        } else {
            (join.right.as_ref(), join.left.as_ref())
        };
        let Some(side) = one_row(other) else {
            continue;
        };
        let Some((windowed, values)) = with_windows(&side, rows)? else {
            continue;
        };
        return rewritten(
            join,
            rows,
            other,
            &side,
            windowed,
            &values,
            one_row_on_right,
        )
        .map(Some);
    }
    Ok(None)
}

/// `rows` with a window column per aggregate of the one-row side, and each aggregate's
/// value as an expression of those columns; `None` when the side's aggregation does not
/// read `rows`' rows or the rows of what `rows` groups.
fn with_windows(side: &OneRow<'_>, rows: &LogicalPlan) -> Result<Option<(LogicalPlan, Vec<Expr>)>> {
    let aggregate = side.aggregate;
    // Names no column of `rows` has (a plan rewritten before may hold such columns).
    let taken = |name: &str| {
        // `rows` and the alias, projection and aggregation it may be made of.
        let mut plan = Some(rows);
        (0..3).any(|_| {
            let Some(node) = plan else { return false };
            plan = node.inputs().first().copied();
            node.schema().fields().iter().any(|f| f.name() == name)
        })
    };
    let mut names: Vec<String> = Vec::with_capacity(aggregate.aggr_expr.len());
    let mut next = 0;
    while names.len() < aggregate.aggr_expr.len() {
        let name = format!("{SCALAR}_{next}");
        next += 1;
        if !taken(&name) {
            names.push(name);
        }
    }
    let aliased = |windows: Vec<Expr>| -> Vec<Expr> {
        windows
            .into_iter()
            .zip(&names)
            .map(|(w, name)| w.alias(name))
            .collect()
    };
    if let Some(windows) = windows_over(side, rows) {
        let windowed = LogicalPlanBuilder::from(rows.clone())
            .window(aliased(windows))?
            .build()?;
        let values = names
            .iter()
            .map(|name| Expr::Column(Column::from_name(name)))
            .collect();
        return Ok(Some((windowed, values)));
    }
    // Over the groups of an aggregation of the same rows (q11's lazy form): the window sits
    // on the aggregation, and its column is passed up through the projection and alias.
    let (alias, projection, plan) = peeled(rows);
    let LogicalPlan::Aggregate(groups) = plan else {
        return Ok(None);
    };
    let plain_groups = !groups.group_expr.is_empty()
        && !groups
            .group_expr
            .iter()
            .any(|g| matches!(g, Expr::GroupingSet(_)));
    if !plain_groups {
        return Ok(None);
    }
    let windows = side
        .functions
        .iter()
        .map(|function| window_over_groups(aggregate, function.clone(), groups))
        .collect::<Option<Vec<_>>>();
    let Some(windows) = windows else {
        return Ok(None);
    };
    let mut windowed = LogicalPlanBuilder::from(plan.clone()).window(aliased(windows))?;
    if let Some(exprs) = projection {
        let passed = names
            .iter()
            .map(|name| Expr::Column(Column::from_name(name)));
        windowed = windowed.project(exprs.iter().cloned().chain(passed))?;
    }
    if let Some(alias) = alias {
        windowed = windowed.alias(alias.clone())?;
    }
    let values = names
        .iter()
        .map(|name| Expr::Column(Column::new(alias.cloned(), name)))
        .collect();
    Ok(Some((windowed.build()?, values)))
}

/// `agg(args) OVER ()` over `rows` for each of the aggregate's aggregates, when it reads
/// the same rows as `rows`.
fn windows_over(side: &OneRow<'_>, rows: &LogicalPlan) -> Option<Vec<Expr>> {
    let relation = side.aggregate.input.as_ref();
    // `rows` may be the aggregated relation under an alias: its columns are then that
    // relation's, requalified.
    let (alias, target) = match rows {
        LogicalPlan::SubqueryAlias(a) => (Some(&a.alias), a.input.as_ref()),
        other => (None, other),
    };
    let mut windows = Vec::with_capacity(side.functions.len());
    for AggregateFunction { func, params } in &side.functions {
        let args = over_the_same_rows(params.args.clone(), relation, rows).or_else(|| {
            let args = over_the_same_rows(params.args.clone(), relation, target)?;
            args.into_iter().map(|a| requalified(a, alias)).collect()
        })?;
        windows.push(Expr::from(WindowFunction::new(Arc::clone(func), args)));
    }
    Some(windows)
}

/// `expr` with its columns named as `alias` shows them (an alias over the plan they name).
fn requalified(expr: Expr, alias: Option<&TableReference>) -> Option<Expr> {
    let Some(alias) = alias else {
        return Some(expr);
    };
    expr.transform_up(|e| {
        Ok(match e {
            Expr::Column(c) => {
                Transformed::yes(Expr::Column(Column::new(Some(alias.clone()), c.name)))
            }
            other => Transformed::no(other),
        })
    })
    .map(|t| t.data)
    .ok()
}

/// The windowed rows projected to the join's columns (the one-row side's as their
/// expressions over the windows' values) and filtered by the join's condition.
fn rewritten(
    join: &Join,
    rows: &LogicalPlan,
    one_row_plan: &LogicalPlan,
    side: &OneRow<'_>,
    windowed: LogicalPlan,
    values: &[Expr],
    one_row_on_right: bool,
) -> Result<LogicalPlan> {
    // Each aggregate column of the one-row side is its window's value, of its type.
    let aggregate_fields = side.aggregate.schema.columns();
    let value_of = |expr: &Expr| -> Result<Expr> {
        Ok(expr
            .clone()
            .transform_up(|e| {
                let Expr::Column(c) = &e else {
                    return Ok(Transformed::no(e));
                };
                Ok(match aggregate_fields.iter().position(|a| a == c) {
                    Some(i) => {
                        let data_type = side.aggregate.schema.field(i).data_type().clone();
                        Transformed::yes(cast(values[i].clone(), data_type))
                    }
                    None => Transformed::no(e),
                })
            })?
            .data)
    };
    let one_row_columns = one_row_plan
        .schema()
        .iter()
        .zip(&side.columns)
        .map(|((qualifier, field), expr)| {
            Ok(value_of(expr)?.alias_qualified(
                qualifier.cloned().or_else(|| side.alias.cloned()),
                field.name(),
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let row_columns: Vec<Expr> = rows
        .schema()
        .columns()
        .into_iter()
        .map(Expr::Column)
        .collect();
    let columns = if one_row_on_right {
        row_columns
            .into_iter()
            .chain(one_row_columns)
            .collect::<Vec<_>>()
    } else {
        one_row_columns
            .into_iter()
            .chain(row_columns)
            .collect::<Vec<_>>()
    };
    let condition = join
        .on
        .iter()
        .map(|(l, r)| l.clone().eq(r.clone()))
        .chain(join.filter.clone());
    let projected = LogicalPlanBuilder::from(windowed).project(columns)?;
    match conjunction(condition) {
        Some(predicate) => projected.filter(predicate)?.build(),
        None => projected.build(),
    }
}
