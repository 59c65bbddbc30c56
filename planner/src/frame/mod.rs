//! Frame operations of the lazy API as logical plan builders.
//!
//! Every operation checks its expressions against the input schema when it is called, so a
//! wrong column or type is reported where the user wrote it, not when the query runs.

mod aggregate;
mod asof;
mod dates;
mod division;
mod join;
mod row_index;
mod temporal;

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Column, ScalarValue, UnnestOptions};
use datafusion::logical_expr::{ident, lit, when, Expr, LogicalPlan, LogicalPlanBuilder, SortExpr};

use crate::error::{CorepyError, Result};
use crate::expr::{call, check_type, describe, is_aggregate};
use crate::naming::{named, output_name};
use crate::window::plan_windows;

pub use aggregate::group_by;
pub use asof::{join_asof, AsofSpec, Strategy, Tolerance};
use dates::truncation_keeps_type;
use division::true_division;
pub use join::{join, How, JoinSpec};
pub use row_index::{ensure_ordinal, with_ordinal, with_row_index, RowIndex, ROW};
pub use temporal::{group_by_dynamic, rolling, Closed, DynamicSpec, Label, RollingSpec, Span};

/// One key of [`sort`].
#[derive(Debug, Clone)]
pub struct SortKey {
    pub expr: Expr,
    pub descending: bool,
    pub nulls_last: bool,
}

/// `SELECT exprs FROM input`. A select made only of aggregations reduces the whole input to
/// one row, as in Polars.
pub fn select(input: LogicalPlan, exprs: Vec<Expr>) -> Result<LogicalPlan> {
    if exprs.is_empty() {
        return Err(CorepyError::invalid_argument(
            "select() needs at least one expression",
        ));
    }
    let input = ensure_ordinal(input, &exprs)?;
    let exprs = checked(exprs, &input)?;
    let aggregates = exprs.iter().filter(|e| is_aggregate(e)).count();
    if aggregates == exprs.len() {
        return group_by(input, Vec::new(), exprs);
    }
    if aggregates > 0 {
        return Err(CorepyError::invalid_argument(
            "select() mixes aggregations with row-wise expressions; use group_by().agg() \
             or aggregate every expression",
        ));
    }
    let exprs = unique_names(exprs.into_iter().map(named).collect())?;
    let (input, exprs) = plan_windows(input, exprs)?;
    Ok(LogicalPlanBuilder::from(input).project(exprs)?.build()?)
}

/// Adds columns, or replaces those with the same name in place.
pub fn with_columns(input: LogicalPlan, exprs: Vec<Expr>) -> Result<LogicalPlan> {
    // The columns passed through are the frame's own, not a row index added for `exprs`.
    let schema = Arc::clone(input.schema());
    let input = ensure_ordinal(input, &exprs)?;
    let exprs = checked(exprs, &input)?;
    if let Some(e) = exprs.iter().find(|e| is_aggregate(e)) {
        return Err(CorepyError::invalid_argument(format!(
            "with_columns() takes row-wise expressions, but `{}` is an aggregation",
            describe(e)
        )));
    }
    let new_columns = unique_names(exprs.into_iter().map(named).collect())?;
    let (input, mut new_columns) = plan_windows(input, new_columns)?;
    let mut projection = Vec::with_capacity(schema.fields().len() + new_columns.len());
    for (qualifier, field) in schema.iter() {
        match new_columns
            .iter()
            .position(|e| output_name(e) == *field.name())
        {
            Some(index) => projection.push(new_columns.remove(index)),
            None => projection.push(Expr::Column((qualifier, field).into())),
        }
    }
    projection.extend(new_columns);
    Ok(LogicalPlanBuilder::from(input)
        .project(projection)?
        .build()?)
}

/// Keeps the rows for which `predicate` is true.
pub fn filter(input: LogicalPlan, predicate: Expr) -> Result<LogicalPlan> {
    let columns = column_exprs(&input);
    let input = ensure_ordinal(input, std::slice::from_ref(&predicate))?;
    let predicate = polars_meaning(predicate, input.schema())?;
    let data_type = check_type(&predicate, input.schema())?;
    if !matches!(data_type, DataType::Boolean | DataType::Null) {
        return Err(CorepyError::schema(format!(
            "filter predicate `{}` has type {data_type}, expected Boolean",
            describe(&predicate)
        )));
    }
    if is_aggregate(&predicate) {
        return Err(CorepyError::invalid_argument(format!(
            "filter() takes a row-wise predicate, but `{}` is an aggregation",
            describe(&predicate)
        )));
    }
    // A predicate over window functions (`x > x.mean().over("g")`) filters the Window
    // node's output, then drops the window columns (and a row index) again.
    let width = columns.len();
    let (input, mut predicates) = plan_windows(input, vec![predicate])?;
    let widened = input.schema().fields().len() > width;
    let filtered = LogicalPlanBuilder::from(input).filter(predicates.remove(0))?;
    Ok(if widened {
        filtered.project(columns)?.build()?
    } else {
        filtered.build()?
    })
}

/// Sorts by the keys, the first key most significant.
pub fn sort(input: LogicalPlan, keys: Vec<SortKey>) -> Result<LogicalPlan> {
    if keys.is_empty() {
        return Err(CorepyError::invalid_argument(
            "sort() needs at least one key",
        ));
    }
    let exprs: Vec<Expr> = keys.iter().map(|k| k.expr.clone()).collect();
    let input = ensure_ordinal(input, &exprs)?;
    let exprs = checked(exprs, &input)?;
    let sort_exprs = keys
        .into_iter()
        .zip(exprs)
        .map(|(k, expr)| SortExpr::new(expr, !k.descending, !k.nulls_last))
        .collect::<Vec<_>>();
    Ok(LogicalPlanBuilder::from(input).sort(sort_exprs)?.build()?)
}

/// Distinct rows; with `subset`, one row (any) per distinct value of those columns.
pub fn unique(input: LogicalPlan, subset: Vec<Expr>) -> Result<LogicalPlan> {
    let subset = checked(subset, &input)?;
    if subset.is_empty() {
        return Ok(LogicalPlanBuilder::from(input).distinct()?.build()?);
    }
    let columns = column_exprs(&input);
    Ok(LogicalPlanBuilder::from(input)
        .distinct_on(subset, columns, None)?
        .build()?)
}

/// How [`concat`] stacks frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concat {
    /// The same column names in the same order; types unified as SQL's UNION ALL does.
    Vertical,
    /// Columns matched by name; a frame without a column gives nulls there.
    Diagonal,
}

/// The rows of every frame, one frame after the other (row order is not kept).
pub fn concat(frames: Vec<LogicalPlan>, how: Concat) -> Result<LogicalPlan> {
    let mut frames = frames.into_iter();
    let first = frames
        .next()
        .ok_or_else(|| CorepyError::invalid_argument("concat() needs at least one frame"))?;
    let expected = column_names(&first);
    let mut builder = LogicalPlanBuilder::from(first);
    for (position, frame) in frames.enumerate() {
        builder = match how {
            Concat::Vertical => {
                let got = column_names(&frame);
                if got != expected {
                    return Err(CorepyError::schema(format!(
                        "concat(how=\"vertical\") needs the same columns in the same order, \
                         but frame {} has {got:?} where the first has {expected:?}; use \
                         how=\"diagonal\" to match columns by name",
                        position + 1
                    )));
                }
                builder.union(frame)?
            }
            Concat::Diagonal => builder.union_by_name(frame)?,
        };
    }
    Ok(builder.build()?)
}

/// Polars' `explode`: one row per element of the list columns `columns` (several columns
/// are unnested side by side). A null list gives one row with a null when `keep_nulls`, an
/// empty list one when `empty_as_null` (whatever `keep_nulls`); otherwise no row.
pub fn explode(
    input: LogicalPlan,
    columns: Vec<String>,
    empty_as_null: bool,
    keep_nulls: bool,
) -> Result<LogicalPlan> {
    if columns.is_empty() {
        return Err(CorepyError::invalid_argument(
            "explode() needs at least one column",
        ));
    }
    for name in &columns {
        let data_type = check_type(&ident(name.as_str()), input.schema())?;
        if !matches!(
            data_type,
            DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _)
        ) {
            return Err(CorepyError::schema(format!(
                "explode() needs list columns, but '{name}' is {data_type}"
            )));
        }
    }
    let projection = input
        .schema()
        .columns()
        .into_iter()
        .map(|column| {
            if !(empty_as_null && columns.contains(&column.name)) {
                return Ok(Expr::Column(column));
            }
            let data_type = input
                .schema()
                .qualified_field_from_column(&column)?
                .1
                .data_type();
            match list_of_one_null(data_type)? {
                // An empty list becomes `[null]`, which unnests to one null row.
                Some(one_null) => {
                    let list = Expr::Column(column.clone());
                    let empty = call("cardinality", vec![list.clone()])?.eq(lit(0u64));
                    Ok(when(empty, lit(one_null))
                        .otherwise(list)?
                        .alias(column.name))
                }
                None => Ok(Expr::Column(column)),
            }
        })
        .collect::<Result<Vec<_>>>()?;
    let options = UnnestOptions::new().with_preserve_nulls(keep_nulls);
    let columns = columns
        .iter()
        .map(|c| Column::from_name(c.as_str()))
        .collect();
    Ok(LogicalPlanBuilder::from(input)
        .project(projection)?
        .unnest_columns_with_options(columns, options)?
        .build()?)
}

/// `[null]` as a list of `data_type`; `None` for lists that cannot be empty (fixed size).
fn list_of_one_null(data_type: &DataType) -> Result<Option<ScalarValue>> {
    Ok(match data_type {
        DataType::List(item) => Some(ScalarValue::List(ScalarValue::new_list(
            &[ScalarValue::try_from(item.data_type())?],
            item.data_type(),
            true,
        ))),
        DataType::LargeList(item) => Some(ScalarValue::LargeList(ScalarValue::new_large_list(
            &[ScalarValue::try_from(item.data_type())?],
            item.data_type(),
        ))),
        _ => None,
    })
}

/// Skips `offset` rows, then keeps at most `n`, in the frame's row order: a sorted frame's
/// order, else the order at the source (see [`row_index`]). DataFusion stops reading once
/// it has the rows, since the row index comes out in order.
pub fn limit(input: LogicalPlan, offset: usize, n: Option<usize>) -> Result<LogicalPlan> {
    if is_sorted(&input) {
        return Ok(LogicalPlanBuilder::from(input).limit(offset, n)?.build()?);
    }
    let columns = column_exprs(&input);
    let indexed = with_ordinal(input, ROW)?;
    Ok(LogicalPlanBuilder::from(indexed)
        .sort(vec![ident(ROW).sort(true, true)])?
        .limit(offset, n)?
        .project(columns)?
        .build()?)
}

/// Whether `plan` ends in a sort, seen through the operators that keep its order.
fn is_sorted(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::Sort(_) => true,
        LogicalPlan::Projection(p) => is_sorted(&p.input),
        LogicalPlan::Filter(f) => is_sorted(&f.input),
        LogicalPlan::Limit(l) => is_sorted(&l.input),
        LogicalPlan::SubqueryAlias(a) => is_sorted(&a.input),
        _ => false,
    }
}

/// The names of a plan's output columns, in order.
fn column_names(plan: &LogicalPlan) -> Vec<String> {
    plan.schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

/// A plan's output columns, as (qualified) column expressions.
fn column_exprs(plan: &LogicalPlan) -> Vec<Expr> {
    plan.schema()
        .columns()
        .into_iter()
        .map(Expr::Column)
        .collect()
}

/// The expressions, with Polars' meanings where they depend on types, checked against the
/// input's schema.
fn checked(exprs: Vec<Expr>, input: &LogicalPlan) -> Result<Vec<Expr>> {
    exprs
        .into_iter()
        .map(|expr| {
            let expr = polars_meaning(expr, input.schema())?;
            check_type(&expr, input.schema())?;
            Ok(expr)
        })
        .collect()
}

/// Polars' meanings of what depends on operand types: true division and floor division,
/// truncation keeping the type.
fn polars_meaning(expr: Expr, schema: &datafusion::common::DFSchema) -> Result<Expr> {
    truncation_keeps_type(true_division(expr, schema)?, schema)
}

/// Rejects two outputs with the same name, pointing at `.alias()`.
fn unique_names(exprs: Vec<Expr>) -> Result<Vec<Expr>> {
    let mut seen = HashSet::new();
    for expr in &exprs {
        let name = output_name(expr);
        if !seen.insert(name.clone()) {
            return Err(CorepyError::schema(format!(
                "duplicate output column '{name}' (from `{}`); give it another name with \
                 .alias()",
                describe(expr)
            )));
        }
    }
    Ok(exprs)
}

#[cfg(test)]
mod tests;
