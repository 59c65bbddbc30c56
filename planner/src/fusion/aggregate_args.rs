//! Aggregate arguments and grouping keys computed by a fused stage below the aggregation:
//! `sum(a * b)` becomes `sum(__corepy_agg_arg_0)` over a stage that computes `a * b` (and
//! `GROUP BY k % 4` a key column the same way), fused with the Filter under it when that
//! fuses too. The rewrite happens only when the stage fuses whole. The engine can then fold the partial
//! aggregation into that stage's kernel (`engine/src/jit/aggregate`), and when it does
//! not, the argument is still computed in the fused pass instead of by DataFusion.
//!
//! The meaning is unchanged: DataFusion evaluates an aggregate's arguments on every input
//! row (a `FILTER (WHERE …)` clause only masks them afterwards), and the Projection computes
//! them on the same rows. Each rewritten aggregate keeps its output name, and the rewrite
//! is dropped unless the Aggregate's schema comes out identical.

use std::collections::BTreeSet;
use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, Result};
use datafusion::logical_expr::expr::AggregateFunction;
use datafusion::logical_expr::{col, Aggregate, Expr, Extension, LogicalPlan, Projection};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

use super::lower::lower_stage;
use super::stage::FusedStage;

/// Prefix of the Projection's columns that hold aggregate arguments.
const ARG_PREFIX: &str = "__corepy_agg_arg_";

#[derive(Debug, Default)]
pub struct PushAggregateArguments;

impl OptimizerRule for PushAggregateArguments {
    fn name(&self) -> &str {
        "corepy_push_aggregate_arguments"
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
        let LogicalPlan::Aggregate(aggregate) = &plan else {
            return Ok(Transformed::no(plan));
        };
        Ok(match push_arguments(aggregate)? {
            Some(rewritten) => Transformed::yes(rewritten),
            None => Transformed::no(plan),
        })
    }
}

/// The Aggregate over a Projection of its computed arguments, or `None` when no argument
/// is worth computing below it (or the rewrite would change the Aggregate's schema).
fn push_arguments(aggregate: &Aggregate) -> Result<Option<LogicalPlan>> {
    let input = aggregate.input.as_ref();
    let mut pushed: Vec<Expr> = Vec::new();
    let group_expr: Vec<Expr> = aggregate
        .group_expr
        .iter()
        .map(|key| rewrite_key(key, input, &mut pushed))
        .collect();
    let mut aggr_expr = Vec::with_capacity(aggregate.aggr_expr.len());
    for expr in &aggregate.aggr_expr {
        aggr_expr.push(rewrite_aggregate(expr, input, &mut pushed)?);
    }
    if pushed.is_empty() {
        return Ok(None);
    }
    // The Projection passes on the input columns the Aggregate still reads, then the
    // arguments, named after their position.
    let mut used = BTreeSet::new();
    for e in group_expr.iter().chain(&aggr_expr) {
        for c in e.column_refs() {
            used.insert(c.clone());
        }
    }
    let mut exprs: Vec<Expr> = input
        .schema()
        .columns()
        .into_iter()
        .filter(|c| used.contains(c))
        .map(Expr::Column)
        .collect();
    exprs.extend(pushed);
    let Some(stage) = fused_projection(below_column_picks(input), exprs)? else {
        return Ok(None);
    };
    let rewritten = Aggregate::try_new(Arc::new(stage), group_expr, aggr_expr)?;
    if rewritten.schema.fields() != aggregate.schema.fields() {
        return Ok(None);
    }
    Ok(Some(LogicalPlan::Aggregate(rewritten)))
}

/// `exprs` over `input` as one fused stage (with the Filter `input` is, if it fuses
/// too), or `None`. Never a DataFusion Projection: DataFusion's physical projection
/// pushdown may move one below a Filter, evaluating the arguments on rows the Filter
/// drops (and raising their errors), which the Aggregate would not have done.
fn fused_projection(input: &LogicalPlan, exprs: Vec<Expr>) -> Result<Option<LogicalPlan>> {
    let schema = Projection::try_new(exprs.clone(), Arc::new(input.clone()))?.schema;
    let with_filter = match input {
        LogicalPlan::Filter(f) => FusedStage::try_new(
            f.input.as_ref().clone(),
            Some(f.predicate.clone()),
            exprs.clone(),
            Arc::clone(&schema),
        )
        .ok(),
        _ => None,
    };
    let stage =
        with_filter.or_else(|| FusedStage::try_new(input.clone(), None, exprs, schema).ok());
    Ok(stage.map(|stage| {
        LogicalPlan::Extension(Extension {
            node: Arc::new(stage),
        })
    }))
}

/// The plan under any Projection that only picks columns (DataFusion's projection
/// pruning puts one under each Aggregate): the new Projection reads the same columns from
/// below it, so that the fusion rule sees it right over the Filter and fuses both.
fn below_column_picks(input: &LogicalPlan) -> &LogicalPlan {
    match input {
        LogicalPlan::Projection(p) if p.expr.iter().all(|e| matches!(e, Expr::Column(_))) => {
            p.input.as_ref()
        }
        other => other,
    }
}

/// A computed grouping key (`GROUP BY a % 4`) as a column of the Projection (appended to
/// `pushed`), aliased to its old name; a column, a constant or a grouping set as it is.
fn rewrite_key(key: &Expr, input: &LogicalPlan, pushed: &mut Vec<Expr>) -> Expr {
    let taken = input
        .schema()
        .has_column_with_unqualified_name(&pushed_name(pushed.len()));
    if matches!(key, Expr::GroupingSet(_)) || taken || !worth_pushing(key, input, false) {
        return key.clone();
    }
    let (qualifier, name) = key.qualified_name();
    let column = pushed_name(pushed.len());
    pushed.push(key.clone().unalias().alias(&column));
    col(Column::from_name(&column)).alias_qualified(qualifier, name)
}

fn pushed_name(i: usize) -> String {
    format!("{ARG_PREFIX}{i}")
}

/// One aggregate expression with its computed arguments replaced by columns of the
/// Projection (appended to `pushed`), aliased to its old name.
fn rewrite_aggregate(expr: &Expr, input: &LogicalPlan, pushed: &mut Vec<Expr>) -> Result<Expr> {
    let (qualifier, name) = expr.qualified_name();
    let taken: BTreeSet<String> = input
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let before = pushed.len();
    let replaced = expr.clone().transform_down(|e| {
        let Expr::AggregateFunction(AggregateFunction { func, params }) = e else {
            return Ok(Transformed::no(e));
        };
        let mut params = params;
        // DataFusion answers count, min and max of a column from exact statistics
        // without reading it: an argument that can fail must stay an expression, which it
        // evaluates (and so raises the error, as without the JIT).
        let from_statistics = matches!(func.name(), "count" | "min" | "max");
        for arg in params.args.iter_mut() {
            if worth_pushing(arg, input, from_statistics) {
                let column = pushed_name(pushed.len());
                if taken.contains(&column) {
                    continue;
                }
                pushed.push(std::mem::replace(arg, col(Column::from_name(&column))).alias(&column));
            }
        }
        Ok(Transformed::new(
            Expr::AggregateFunction(AggregateFunction { func, params }),
            true,
            datafusion::common::tree_node::TreeNodeRecursion::Jump,
        ))
    })?;
    if pushed.len() == before {
        return Ok(expr.clone());
    }
    Ok(replaced.data.unalias().alias_qualified(qualifier, name))
}

/// An argument that computes something (not a column or a constant) and that the kernel
/// IR computes exactly as DataFusion does; with `only_infallible`, one that cannot fail.
fn worth_pushing(arg: &Expr, input: &LogicalPlan, only_infallible: bool) -> bool {
    if matches!(arg, Expr::Column(_) | Expr::Literal(..)) {
        return false;
    }
    match lower_stage(input.schema(), None, std::slice::from_ref(arg)) {
        Ok(lowered) => {
            let k = &lowered.kernel;
            !only_infallible || !k.nodes.iter().any(|n| n.can_fail(k))
        }
        Err(_) => false,
    }
}
