//! [`WindowTopAsTopPerGroup`]: a filter that keeps the first `k` rows of each window
//! partition runs over a [`TopPerGroup`] instead of over the window that numbers all rows.
//!
//! Why the answer cannot change: the filter stays where it was, over the same columns with
//! the same values. [`TopPerGroup`] emits a subset of the window's rows — those numbered at
//! most `k`, with the numbers the window gives them — and the rule only fires when one of the
//! filter's conjuncts is *not true* on every other row: `n <= k`, `n < k + 1`, `n = k`,
//! `k >= n`, `n BETWEEN a AND k`, with `n` the row number itself, a lossless integer cast of
//! it, or a `CASE` whose branches are it or NULL (the lazy API's `rank("ordinal")`, which is
//! NULL where the ordered value is). A row the rewrite drops fails that conjunct, so the
//! filter would have dropped it too. Ties in the order keys are numbered in an arbitrary
//! order by the window as well; `TopPerGroup` numbers them in input order.
//!
//! The rows dropped never reach the filter: a filter (or a projection between it and the
//! window) that could raise an error on some row — arithmetic, casts, functions — keeps
//! the window, so errors are raised on exactly the rows they were.
//!
//! Only a window computing `row_number()` alone is replaced: `rank()` and `dense_rank()`
//! keep every tie at the bound, and other window functions need every row. Its keys must be
//! deterministic (the repartition below and the operator evaluate them apart) and of types
//! Arrow's row format orders.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, DFSchema, Result};
use datafusion::logical_expr::expr::{Case, Cast, TryCast, WindowFunction};
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::logical_expr::{
    Between, BinaryExpr, Expr, ExprSchemable, Extension, Filter, LogicalPlan, Operator, Projection,
    Window, WindowFunctionDefinition,
};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

use super::TopPerGroup;
use crate::scalar::integer_value;

/// Replaces `Filter(row number <= k) → Window(row_number())` by
/// `Filter(row number <= k) → TopPerGroup(k)`, also with a projection between them.
#[derive(Debug, Default)]
pub struct WindowTopAsTopPerGroup;

impl OptimizerRule for WindowTopAsTopPerGroup {
    fn name(&self) -> &str {
        "corepy_window_top_as_top_per_group"
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
        let LogicalPlan::Filter(filter) = &plan else {
            return Ok(Transformed::no(plan));
        };
        let input = match filter.input.as_ref() {
            LogicalPlan::Window(window) => top_of(filter, window, None).map(extension),
            LogicalPlan::Projection(projection) => match projection.input.as_ref() {
                LogicalPlan::Window(window) => top_of(filter, window, Some(projection))
                    .map(|top| above(projection, extension(top)))
                    .transpose()?,
                _ => None,
            },
            _ => None,
        };
        let Some(input) = input else {
            return Ok(Transformed::no(plan));
        };
        let filter = Filter::try_new(filter.predicate.clone(), Arc::new(input))?;
        Ok(Transformed::yes(LogicalPlan::Filter(filter)))
    }
}

fn extension(top: TopPerGroup) -> LogicalPlan {
    LogicalPlan::Extension(Extension {
        node: Arc::new(top),
    })
}

/// `projection` over `input` instead of its own input (the same schema).
fn above(projection: &Projection, input: LogicalPlan) -> Result<LogicalPlan> {
    let projection = Projection::try_new_with_schema(
        projection.expr.clone(),
        Arc::new(input),
        projection.schema.clone(),
    )?;
    Ok(LogicalPlan::Projection(projection))
}

/// The [`TopPerGroup`] that can stand in for `window` below `filter`, if one can; the
/// filter is directly over the window, or over a `projection` of it that passes the number
/// through as a column (DataFusion leaves such filters above the projection at times).
fn top_of(
    filter: &Filter,
    window: &Window,
    projection: Option<&Projection>,
) -> Option<TopPerGroup> {
    let [Expr::WindowFunction(function)] = window.window_expr.as_slice() else {
        return None;
    };
    if !is_plain_row_number(function) {
        return None;
    }
    let last = window.schema.fields().len().checked_sub(1)?;
    if window.schema.field(last).data_type() != &DataType::UInt64 {
        return None;
    }
    let in_window = |column: &Column| window.schema.index_of_column(column).ok() == Some(last);
    let number = |column: &Column| match projection {
        None => in_window(column),
        Some(projection) => {
            let Ok(at) = projection.schema.index_of_column(column) else {
                return false;
            };
            matches!(projection.expr[at].clone().unalias(), Expr::Column(ref c) if in_window(c))
        }
    };
    let params = &function.params;
    let keys = params
        .partition_by
        .iter()
        .chain(params.order_by.iter().map(|sort| &sort.expr));
    if !keys
        .into_iter()
        .all(|key| is_comparable(key, window.input.schema()))
    {
        return None;
    }
    let conjuncts = split_conjunction(&filter.predicate);
    // The rows the rewrite drops never reach the filter (nor the projection): nothing there
    // may raise an error the plan as written would raise on them.
    let passed_through = projection.map_or(&[][..], |p| p.expr.as_slice());
    let safe = |e: &Expr| cannot_fail(e, &number);
    if !conjuncts.iter().copied().chain(passed_through).all(safe) {
        return None;
    }
    let k = conjuncts
        .into_iter()
        .filter_map(|conjunct| bound(conjunct, &number))
        .min()?;
    Some(TopPerGroup {
        input: window.input.as_ref().clone(),
        partition_by: function.params.partition_by.clone(),
        order_by: function.params.order_by.clone(),
        k,
        schema: Arc::clone(&window.schema),
    })
}

/// Whether the operator can key on `key`: deterministic (a repartition and the operator
/// evaluate it apart), of a type Arrow's row format orders.
fn is_comparable(key: &Expr, schema: &DFSchema) -> bool {
    !key.is_volatile()
        && key
            .get_type(schema)
            .is_ok_and(|data_type| RowConverter::supports_fields(&[SortField::new(data_type)]))
}

/// Whether `expr` evaluates without error on every row: columns and literals, compared,
/// tested for NULL, combined by AND, OR, NOT and CASE; `TRY_CAST`s, and casts of the number
/// to a 64-bit integer (its bound's forms). Arithmetic (checked, or dividing), other casts and functions
/// may fail, so a filter or projection holding them keeps the window.
pub(crate) fn cannot_fail(expr: &Expr, number: &dyn Fn(&Column) -> bool) -> bool {
    use Operator::*;
    match expr {
        Expr::Column(_) | Expr::Literal(..) => true,
        Expr::Alias(alias) => cannot_fail(&alias.expr, number),
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            matches!(
                op,
                Eq | NotEq | Lt | LtEq | Gt | GtEq | And | Or | IsDistinctFrom | IsNotDistinctFrom
            ) && cannot_fail(left, number)
                && cannot_fail(right, number)
        }
        Expr::Not(e) | Expr::IsNull(e) | Expr::IsNotNull(e) => cannot_fail(e, number),
        Expr::Between(between) => {
            cannot_fail(&between.expr, number)
                && cannot_fail(&between.low, number)
                && cannot_fail(&between.high, number)
        }
        Expr::InList(list) => {
            cannot_fail(&list.expr, number) && list.list.iter().all(|e| cannot_fail(e, number))
        }
        Expr::Case(case) => {
            case.expr.as_deref().is_none_or(|e| cannot_fail(e, number))
                && case
                    .when_then_expr
                    .iter()
                    .all(|(when, then)| cannot_fail(when, number) && cannot_fail(then, number))
                && case
                    .else_expr
                    .as_deref()
                    .is_none_or(|e| cannot_fail(e, number))
        }
        Expr::TryCast(TryCast { expr, .. }) => cannot_fail(expr, number),
        Expr::Cast(Cast { expr, field }) => {
            matches!(field.data_type(), DataType::Int64 | DataType::UInt64)
                && matches!(expr.as_ref(), Expr::Column(c) if number(c))
        }
        _ => false,
    }
}

/// `row_number()` with no arguments, filter or `DISTINCT`; its frame does not matter.
fn is_plain_row_number(function: &WindowFunction) -> bool {
    let WindowFunctionDefinition::WindowUDF(udf) = &function.fun else {
        return false;
    };
    let params = &function.params;
    udf.name() == "row_number"
        && params.args.is_empty()
        && params.filter.is_none()
        && !params.distinct
}

/// The largest row number on which `conjunct` can be true, when it bounds the row number
/// (see the file's comment for the forms); 0 when no row number satisfies it.
fn bound(conjunct: &Expr, number: &dyn Fn(&Column) -> bool) -> Option<u64> {
    let limit = match conjunct {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            if is_number_or_null(left, number) {
                match op {
                    Operator::LtEq | Operator::Eq => integer(right)?,
                    Operator::Lt => integer(right)? - 1,
                    _ => return None,
                }
            } else if is_number_or_null(right, number) {
                match op {
                    Operator::GtEq | Operator::Eq => integer(left)?,
                    Operator::Gt => integer(left)? - 1,
                    _ => return None,
                }
            } else {
                return None;
            }
        }
        Expr::Between(Between {
            expr,
            negated: false,
            high,
            ..
        }) if is_number_or_null(expr, number) => integer(high)?,
        _ => return None,
    };
    Some(u64::try_from(limit.max(0)).unwrap_or(u64::MAX))
}

/// Whether `expr` is the row number, or NULL where it is not: the column, a cast of it to
/// a 64-bit integer (exact for every row number), or a `CASE` whose every branch is one of
/// those or a NULL literal.
fn is_number_or_null(expr: &Expr, number: &dyn Fn(&Column) -> bool) -> bool {
    match expr {
        Expr::Column(column) => number(column),
        Expr::Alias(alias) => is_number_or_null(&alias.expr, number),
        Expr::Cast(Cast { expr, field }) | Expr::TryCast(TryCast { expr, field }) => {
            matches!(field.data_type(), DataType::Int64 | DataType::UInt64)
                && is_number_or_null(expr, number)
        }
        Expr::Case(Case {
            when_then_expr,
            else_expr,
            ..
        }) => {
            let branch = |e: &Expr| is_null_literal(e) || is_number_or_null(e, number);
            when_then_expr.iter().all(|(_, then)| branch(then))
                && else_expr.as_deref().is_none_or(branch)
        }
        _ => false,
    }
}

fn is_null_literal(expr: &Expr) -> bool {
    matches!(expr, Expr::Literal(value, _) if value.is_null())
}

/// The value of a non-null integer literal.
fn integer(expr: &Expr) -> Option<i128> {
    match expr {
        Expr::Literal(value, _) => integer_value(value),
        _ => None,
    }
}
