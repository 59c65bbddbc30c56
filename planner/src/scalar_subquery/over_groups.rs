//! `ScalarSubqueryOverGroups`: a HAVING that compares each group's aggregate with the same
//! aggregate over the whole relation — TPC-H q11's `HAVING sum(v) > (SELECT sum(v) * 0.0001
//! FROM <the same join>)` — takes the whole-relation value from the groups, as a window over
//! them, instead of evaluating the relation a second time.
//!
//! ```text
//! Filter: a > f((<subquery>))                 Projection: <G's columns>
//!   Subquery: Projection: f(x)                   Filter: a > f(CAST(__corepy_scalar AS T))
//!     Aggregate: aggr=[sum(v) AS x]       =>       WindowAggr: sum(a) OVER () AS __corepy_scalar
//!       <R>                                          G
//!   G = Aggregate: group=[k], aggr=[sum(v) AS a]
//!     <R>
//! ```
//!
//! Why the answer cannot change: the subquery is uncorrelated and reads `R` itself (under
//! renames, or the same plan with fewer columns: `same_rows.rs`; no filter of its own), so
//! its value is `sum(v)` over every row of `R`. Every row of `R` falls in exactly one
//! group of `G` (a NULL key is a group too), so that sum is the
//! sum of the groups' sums; a group whose rows are all NULL has a NULL sum, skipped by the
//! outer sum as its rows are by the inner one. Likewise a count is the sum of the groups'
//! counts, a minimum or maximum the minimum or maximum of theirs. The value is cast back to
//! the subquery's type, so the comparison is typed as before. A sum of floats is left
//! alone: summed in another order it may differ in its last bits. (`R` empty: no groups,
//! so no rows either way.)

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, Result};
use datafusion::functions_aggregate::min_max::{max_udaf, min_udaf};
use datafusion::functions_aggregate::sum::sum_udaf;
use datafusion::logical_expr::expr::{AggregateFunction, WindowFunction};
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::logical_expr::{
    cast, Aggregate, AggregateUDF, Expr, ExprSchemable, Filter, LogicalPlan,
};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};
use std::sync::Arc;

use super::as_window::{in_terms_of, only_subquery, single_aggregate, with_window, SCALAR};
use super::same_rows::same_rows;

#[derive(Debug, Default)]
pub struct ScalarSubqueryOverGroups;

impl OptimizerRule for ScalarSubqueryOverGroups {
    fn name(&self) -> &str {
        "corepy_scalar_subquery_over_groups"
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
        super::rewrite_filter(plan, over_groups)
    }
}

/// The filter over an aggregation with its first scalar subquery over the aggregation's
/// input taken from the groups, or `None`.
fn over_groups(filter: &Filter) -> Result<Option<LogicalPlan>> {
    let LogicalPlan::Aggregate(groups) = filter.input.as_ref() else {
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
    let conjuncts = split_conjunction(&filter.predicate);
    for (i, conjunct) in conjuncts.iter().enumerate() {
        let Some(subquery) = only_subquery(conjunct) else {
            continue;
        };
        let Some((whole, function, value)) = single_aggregate(&subquery) else {
            continue;
        };
        let Some(window) = window_over_groups(whole, function, groups) else {
            continue;
        };
        // The window's type may be wider (a sum of sums): back to the subquery's.
        let subquery_type = whole.schema.field(0).data_type().clone();
        let value = value
            .transform_up(|e| {
                Ok(match &e {
                    Expr::Column(c) if c.name == SCALAR => {
                        Transformed::yes(cast(e, subquery_type.clone()))
                    }
                    _ => Transformed::no(e),
                })
            })?
            .data;
        return with_window(filter.input.as_ref(), window, &conjuncts, i, &value).map(Some);
    }
    Ok(None)
}

/// `re(a) OVER ()` over the groups, where `a` is the groups' column holding the same
/// aggregate as the subquery's (`whole`) over the same rows, and `re` combines the groups'
/// values into the whole's.
pub(super) fn window_over_groups(
    whole: &Aggregate,
    function: AggregateFunction,
    groups: &Aggregate,
) -> Option<Expr> {
    let combine = combining(whole, &function)?;
    let mut same = function;
    same.params.args = over_the_same_rows(
        std::mem::take(&mut same.params.args),
        whole.input.as_ref(),
        groups.input.as_ref(),
    )?;
    let same = Expr::AggregateFunction(same);
    let position = groups
        .aggr_expr
        .iter()
        .position(|a| a.clone().unalias() == same)?;
    let column = Column::from(
        groups
            .schema
            .qualified_field(groups.group_expr.len() + position),
    );
    Some(Expr::from(WindowFunction::new(
        combine,
        vec![Expr::Column(column)],
    )))
}

/// The aggregate that combines groups' values of `function` into the whole's: a sum of
/// sums (not of floats), of counts, a minimum of minimums, a maximum of maximums.
fn combining(whole: &Aggregate, function: &AggregateFunction) -> Option<Arc<AggregateUDF>> {
    match function.func.name() {
        "sum" => {
            let [arg] = function.params.args.as_slice() else {
                return None;
            };
            let data_type = arg.get_type(whole.input.schema()).ok()?;
            (!data_type.is_floating()).then(sum_udaf)
        }
        "count" => Some(sum_udaf()),
        "min" => Some(min_udaf()),
        "max" => Some(max_udaf()),
        _ => None,
    }
}

/// The arguments `args` over `relation` as arguments over `target`, when the two read the
/// same rows: `relation` is `target` renamed, or the same plan with fewer columns (then the
/// columns keep their qualified names, which `target` must carry).
pub(super) fn over_the_same_rows(
    args: Vec<Expr>,
    relation: &LogicalPlan,
    target: &LogicalPlan,
) -> Option<Vec<Expr>> {
    let renamed: Option<Vec<Expr>> = args
        .iter()
        .map(|arg| in_terms_of(arg.clone(), relation, target))
        .collect();
    if renamed.is_some() {
        return renamed;
    }
    let carried = args
        .iter()
        .flat_map(Expr::column_refs)
        .all(|c| target.schema().has_column(c));
    (carried && same_rows(relation, target)).then_some(args)
}
