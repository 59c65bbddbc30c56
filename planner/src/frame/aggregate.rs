//! `group_by(keys).agg(aggregations)`.

use std::collections::HashMap;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::logical_expr::utils::find_aggregate_exprs;
use datafusion::logical_expr::{col, Expr, LogicalPlan, LogicalPlanBuilder};

use crate::error::{CorepyError, Result};
use crate::expr::{describe, is_aggregate};
use crate::naming::{named, output_name};

use super::{checked, unique_names};

/// Groups by `keys` and computes `aggregations` per group; the output holds the keys, then
/// the aggregations, in the order given. An aggregation may be an expression over several
/// aggregate functions (`sum(a) / count(a)`).
pub fn group_by(
    input: LogicalPlan,
    keys: Vec<Expr>,
    aggregations: Vec<Expr>,
) -> Result<LogicalPlan> {
    let input = super::ensure_ordinal(input, &aggregations)?;
    let keys = checked(keys, &input)?;
    let aggregations = checked(aggregations, &input)?;
    if let Some(key) = keys.iter().find(|k| is_aggregate(k)) {
        return Err(CorepyError::invalid_argument(format!(
            "group_by() key `{}` is an aggregation",
            describe(key)
        )));
    }
    if let Some(row_wise) = aggregations.iter().find(|e| !is_aggregate(e)) {
        return Err(CorepyError::invalid_argument(format!(
            "agg() takes aggregations, but `{}` is row-wise; aggregate it, e.g. \
             col(\"x\").sum() or .mean()",
            describe(row_wise)
        )));
    }
    let keys = keys.into_iter().map(named).collect::<Vec<_>>();
    let aggregations = aggregations.into_iter().map(named).collect::<Vec<_>>();
    let outputs = unique_names(keys.iter().chain(&aggregations).cloned().collect())?;
    if aggregations.iter().all(is_bare_aggregate) {
        return Ok(LogicalPlanBuilder::from(input)
            .aggregate(keys, aggregations)?
            .build()?);
    }
    aggregate_then_project(input, keys, aggregations, outputs)
}

/// An aggregate function call, possibly aliased: what an `Aggregate` node computes directly.
fn is_bare_aggregate(expr: &Expr) -> bool {
    match expr {
        Expr::Alias(alias) => is_bare_aggregate(&alias.expr),
        other => matches!(other, Expr::AggregateFunction(_)),
    }
}

/// Computes each distinct aggregate function once, then the expressions over them.
fn aggregate_then_project(
    input: LogicalPlan,
    keys: Vec<Expr>,
    aggregations: Vec<Expr>,
    outputs: Vec<Expr>,
) -> Result<LogicalPlan> {
    let functions = find_aggregate_exprs(aggregations.iter());
    let slots: HashMap<Expr, String> = functions
        .iter()
        .enumerate()
        .map(|(i, f)| (f.clone(), format!("__corepy_agg_{i}")))
        .collect();
    let computed: Vec<Expr> = functions
        .iter()
        .map(|f| f.clone().alias(slots[f].clone()))
        .collect();
    let mut projection: Vec<Expr> = keys.iter().map(|k| col(output_name(k))).collect();
    for aggregation in aggregations {
        let name = output_name(&aggregation);
        let rewritten = aggregation
            .transform_down(|node| match slots.get(&node) {
                Some(slot) => Ok(Transformed::yes(col(slot.clone()))),
                None => Ok(Transformed::no(node)),
            })?
            .data;
        projection.push(strip_alias(rewritten).alias(name));
    }
    debug_assert_eq!(projection.len(), outputs.len());
    Ok(LogicalPlanBuilder::from(input)
        .aggregate(keys, computed)?
        .project(projection)?
        .build()?)
}

fn strip_alias(expr: Expr) -> Expr {
    match expr {
        Expr::Alias(alias) => *alias.expr,
        other => other,
    }
}
