//! `join_asof`: each left row joined with the right row whose key is the nearest before it
//! (`backward`), after it (`forward`) or either (`nearest`), within the same `by` groups and
//! within `tolerance`, as Polars does.
//!
//! The plan needs no sorted inputs. Right rows are numbered in (by, key) order. The left
//! rows and the right keys are stacked into one relation and ordered by key; for each left
//! row, a running max (backward) or min (forward) of the right rows' numbers over the rows
//! before or after it is the match, because a number grows with its key. Which side comes
//! first at equal keys decides whether an exact match counts. The match then joins the
//! numbered right frame on its number.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::functions_aggregate::expr_fn as aggregates;
use datafusion::logical_expr::{
    cast, ident, lit, when, Expr, ExprSchemable, LogicalPlan, LogicalPlanBuilder, SortExpr,
    WindowFrameBound,
};

use crate::error::{CorepyError, Result};
use crate::expr::check_type;
use crate::window::{
    aggregates_over, over, plan_windows, row_number, rows, unbounded_following,
    unbounded_preceding, Over,
};

use super::column_names;
use super::join::{comparable, join, How, JoinSpec};
use super::temporal::{as_ticks, Index, Span};

const KEY: &str = "__corepy_asof_key";
const SIDE: &str = "__corepy_asof_side";
const RANK: &str = "__corepy_asof_rank";
const RIGHT_KEY: &str = "__corepy_asof_right_key";
const BEFORE: &str = "__corepy_asof_before";
const BEFORE_KEY: &str = "__corepy_asof_before_key";
const AFTER: &str = "__corepy_asof_after";
const AFTER_KEY: &str = "__corepy_asof_after_key";
const MATCH: &str = "__corepy_asof_match";

/// Which right row an as-of join picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// The last right key at or before the left key.
    Backward,
    /// The first right key at or after the left key.
    Forward,
    /// The closer of the two; on a tie, the later (as Polars).
    Nearest,
}

impl Strategy {
    pub fn parse(text: &str) -> Result<Self> {
        Ok(match text {
            "backward" => Strategy::Backward,
            "forward" => Strategy::Forward,
            "nearest" => Strategy::Nearest,
            other => {
                return Err(CorepyError::invalid_argument(format!(
                    "unknown strategy='{other}'; use 'backward', 'forward' or 'nearest'"
                )))
            }
        })
    }
}

/// The largest distance between matched keys.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tolerance {
    /// For numeric keys.
    Number(f64),
    /// For temporal keys: a duration; for integer keys, index units.
    Span(Span),
}

/// What [`join_asof`] joins on.
#[derive(Debug, Clone)]
pub struct AsofSpec {
    pub left_on: String,
    pub right_on: String,
    pub by_left: Vec<String>,
    pub by_right: Vec<String>,
    pub strategy: Strategy,
    pub tolerance: Option<Tolerance>,
    pub allow_exact_matches: bool,
    pub suffix: String,
    /// Drop the right key when it has the left key's name (Polars' default).
    pub coalesce: bool,
}

/// Every left row, with the columns of its matching right row (nulls when none): the left
/// columns, then the right ones but the keys named like the left keys; clashing right
/// names get `suffix`. Row order is not defined.
pub fn join_asof(left: LogicalPlan, right: LogicalPlan, spec: AsofSpec) -> Result<LogicalPlan> {
    let key_type = check_keys(&left, &right, &spec)?;
    let tolerance = tolerance_expr(&left, &spec, &key_type)?;
    let ranked = rank_right(right, &spec, &key_type)?;
    let stacked = stack(&left, &ranked, &spec, &key_type)?;
    let matched = find_matches(stacked, &spec, tolerance)?;
    let left_columns: Vec<Expr> = column_names(&left).into_iter().map(ident).collect();
    let mut projection = left_columns;
    projection.push(ident(MATCH));
    let matched = LogicalPlanBuilder::from(matched)
        .project(projection)?
        .build()?;

    let right_kept: Vec<Expr> = column_names(&ranked)
        .into_iter()
        .filter(|name| !dropped_right_column(name, &spec))
        .map(ident)
        .collect();
    let ranked = LogicalPlanBuilder::from(ranked)
        .project(right_kept)?
        .build()?;
    let joined = join(
        matched,
        ranked,
        JoinSpec {
            how: How::Left,
            left_on: vec![ident(MATCH)],
            right_on: vec![ident(RANK)],
            suffix: spec.suffix.clone(),
            coalesce: Some(true),
            nulls_equal: false,
        },
    )?;
    let outputs: Vec<Expr> = column_names(&joined)
        .into_iter()
        .filter(|name| name != MATCH)
        .map(ident)
        .collect();
    Ok(LogicalPlanBuilder::from(joined).project(outputs)?.build()?)
}

/// The right frame's own internal columns and the keys Polars drops from the output.
fn dropped_right_column(name: &str, spec: &AsofSpec) -> bool {
    let same_key = spec.coalesce && name == spec.right_on && spec.left_on == spec.right_on;
    let same_by = spec
        .by_left
        .iter()
        .zip(&spec.by_right)
        .any(|(l, r)| l == r && r == name);
    same_key || same_by
}

/// The keys exist and can be compared; returns the type both keys are compared as.
fn check_keys(left: &LogicalPlan, right: &LogicalPlan, spec: &AsofSpec) -> Result<DataType> {
    if spec.by_left.len() != spec.by_right.len() {
        return Err(CorepyError::invalid_argument(format!(
            "by_left has {} columns but by_right has {}; give as many on each side",
            spec.by_left.len(),
            spec.by_right.len()
        )));
    }
    let lt = check_type(&ident(spec.left_on.as_str()), left.schema())?;
    let rt = check_type(&ident(spec.right_on.as_str()), right.schema())?;
    let orderable = |t: &DataType| t.is_numeric() || t.is_temporal();
    let key_type = match (orderable(&lt), orderable(&rt)) {
        (true, true) if lt == rt => lt.clone(),
        (true, true) if lt.is_numeric() && rt.is_numeric() => {
            datafusion::logical_expr::type_coercion::binary::comparison_coercion(&lt, &rt)
                .unwrap_or(DataType::Float64)
        }
        _ => {
            return Err(CorepyError::schema(format!(
                "join_asof() keys must be numbers, dates or datetimes of the same type, but \
                 '{}' is {lt} on the left and '{}' is {rt} on the right",
                spec.left_on, spec.right_on
            )))
        }
    };
    for (l, r) in spec.by_left.iter().zip(&spec.by_right) {
        let lt = check_type(&ident(l.as_str()), left.schema())?;
        let rt = check_type(&ident(r.as_str()), right.schema())?;
        if !comparable(&lt, &rt) {
            return Err(CorepyError::schema(format!(
                "join_asof() by columns cannot be compared: '{l}' ({lt}) on the left with \
                 '{r}' ({rt}) on the right; cast one of them"
            )));
        }
    }
    Ok(key_type)
}

/// A key as a number that orders and subtracts: ticks for dates and datetimes.
fn key_number(key: &str, key_type: &DataType) -> Expr {
    as_ticks(cast(ident(key), key_type.clone()), key_type)
}

/// The tolerance in the keys' numbers, as a literal.
fn tolerance_expr(
    left: &LogicalPlan,
    spec: &AsofSpec,
    key_type: &DataType,
) -> Result<Option<Expr>> {
    let Some(tolerance) = spec.tolerance else {
        return Ok(None);
    };
    let value = match tolerance {
        Tolerance::Number(n) if key_type.is_numeric() && n >= 0.0 => lit(n),
        Tolerance::Span(span) if !key_type.is_floating() => {
            let ticks = Index::resolve(left, Some(&spec.left_on), "join_asof")?
                .ticks_of(span, "tolerance")?;
            if ticks < 0 {
                return Err(CorepyError::invalid_argument(
                    "join_asof() tolerance must not be negative",
                ));
            }
            lit(ticks)
        }
        _ => {
            return Err(CorepyError::invalid_argument(format!(
                "join_asof() tolerance {tolerance:?} does not fit keys of type {key_type}: give \
                 a non-negative number for numeric keys, a duration such as '2s' for dates and \
                 datetimes"
            )))
        }
    };
    Ok(Some(value))
}

/// The right rows with a key (and by values), numbered in (by, key) order as [`RANK`].
fn rank_right(right: LogicalPlan, spec: &AsofSpec, key_type: &DataType) -> Result<LogicalPlan> {
    let mut present = ident(spec.right_on.as_str()).is_not_null();
    for by in &spec.by_right {
        present = present.and(ident(by.as_str()).is_not_null());
    }
    let filtered = LogicalPlanBuilder::from(right).filter(present)?.build()?;
    let mut order: Vec<SortExpr> = spec
        .by_right
        .iter()
        .map(|b| ident(b.as_str()).sort(true, true))
        .collect();
    order.push(key_number(&spec.right_on, key_type).sort(true, true));
    let numbered = over(
        row_number(),
        &Over {
            partition_by: Vec::new(),
            order_by: order,
        },
    )?;
    let mut columns: Vec<Expr> = column_names(&filtered).into_iter().map(ident).collect();
    columns.push(cast(numbered, DataType::Int64).alias(RANK));
    let (plan, columns) = plan_windows(filtered, columns)?;
    Ok(LogicalPlanBuilder::from(plan).project(columns)?.build()?)
}

/// Left rows (all their columns, side 0) stacked on right keys (side 1, left columns
/// null), each with the key number, the by values, and for right rows their rank and key.
fn stack(
    left: &LogicalPlan,
    ranked: &LogicalPlan,
    spec: &AsofSpec,
    key_type: &DataType,
) -> Result<LogicalPlan> {
    let number_type = key_number(&spec.left_on, key_type).get_type(left.schema())?;
    let by_names: Vec<String> = (0..spec.by_left.len()).map(by_column).collect();
    let mut left_part: Vec<Expr> = column_names(left).into_iter().map(ident).collect();
    left_part.push(key_number(&spec.left_on, key_type).alias(KEY));
    for (name, by) in by_names.iter().zip(&spec.by_left) {
        left_part.push(ident(by.as_str()).alias(name));
    }
    left_part.push(lit(0i8).alias(SIDE));
    left_part.push(lit(ScalarValue::Int64(None)).alias(RANK));
    left_part.push(cast(lit(ScalarValue::Null), number_type.clone()).alias(RIGHT_KEY));

    let mut right_part: Vec<Expr> = left
        .schema()
        .fields()
        .iter()
        .map(|f| cast(lit(ScalarValue::Null), f.data_type().clone()).alias(f.name()))
        .collect();
    right_part.push(key_number(&spec.right_on, key_type).alias(KEY));
    for ((name, by), left_by) in by_names.iter().zip(&spec.by_right).zip(&spec.by_left) {
        let by_type = check_type(&ident(left_by.as_str()), left.schema())?;
        right_part.push(cast(ident(by.as_str()), by_type).alias(name));
    }
    right_part.push(lit(1i8).alias(SIDE));
    right_part.push(ident(RANK));
    right_part.push(key_number(&spec.right_on, key_type).alias(RIGHT_KEY));

    let left_rows = LogicalPlanBuilder::from(left.clone())
        .project(left_part)?
        .build()?;
    let right_rows = LogicalPlanBuilder::from(ranked.clone())
        .project(right_part)?
        .build()?;
    Ok(LogicalPlanBuilder::from(left_rows)
        .union(right_rows)?
        .build()?)
}

fn by_column(i: usize) -> String {
    format!("__corepy_asof_by_{i}")
}

/// The left rows of the stack, each with its match's rank in [`MATCH`].
fn find_matches(
    stacked: LogicalPlan,
    spec: &AsofSpec,
    tolerance: Option<Expr>,
) -> Result<LogicalPlan> {
    let partition_by: Vec<Expr> = (0..spec.by_left.len())
        .map(|i| ident(by_column(i)))
        .collect();
    // At equal keys, right rows first make an exact match count for a backward search, and
    // left rows first for a forward one; `allow_exact_matches=False` swaps them.
    let right_first =
        |wanted: bool| vec![ident(KEY).sort(true, true), ident(SIDE).sort(!wanted, true)];
    let exact = spec.allow_exact_matches;
    let before = rows(unbounded_preceding(), WindowFrameBound::CurrentRow);
    let after = rows(WindowFrameBound::CurrentRow, unbounded_following());
    let mut columns: Vec<Expr> = column_names(&stacked).into_iter().map(ident).collect();
    let searches_back = spec.strategy != Strategy::Forward;
    let searches_forward = spec.strategy != Strategy::Backward;
    if searches_back {
        let order = right_first(exact);
        for (function, name) in [(RANK, BEFORE), (RIGHT_KEY, BEFORE_KEY)] {
            let running = aggregates::max(ident(function)).alias(name);
            columns.push(aggregates_over(running, &partition_by, &order, &before)?);
        }
    }
    if searches_forward {
        let order = right_first(!exact);
        for (function, name) in [(RANK, AFTER), (RIGHT_KEY, AFTER_KEY)] {
            let running = aggregates::min(ident(function)).alias(name);
            columns.push(aggregates_over(running, &partition_by, &order, &after)?);
        }
    }
    let (windowed, columns) = plan_windows(stacked, columns)?;
    let windowed = LogicalPlanBuilder::from(windowed)
        .project(columns)?
        .build()?;

    let key = ident(KEY);
    let (rank, matched_key) = match spec.strategy {
        Strategy::Backward => (ident(BEFORE), ident(BEFORE_KEY)),
        Strategy::Forward => (ident(AFTER), ident(AFTER_KEY)),
        Strategy::Nearest => {
            let after_is_closer =
                (ident(AFTER_KEY) - key.clone()).lt_eq(key.clone() - ident(BEFORE_KEY));
            let pick = |after: Expr, before: Expr| -> Result<Expr> {
                Ok(when(ident(BEFORE_KEY).is_null(), after.clone())
                    .when(ident(AFTER_KEY).is_null(), before.clone())
                    .when(after_is_closer.clone(), after)
                    .otherwise(before)?)
            };
            (
                pick(ident(AFTER), ident(BEFORE))?,
                pick(ident(AFTER_KEY), ident(BEFORE_KEY))?,
            )
        }
    };
    let mut keep = key.clone().is_not_null();
    if let Some(tolerance) = tolerance {
        let distance = cast(key - matched_key.clone(), DataType::Float64);
        let within =
            datafusion::functions::expr_fn::abs(distance).lt_eq(cast(tolerance, DataType::Float64));
        keep = keep.and(within);
    }
    let chosen = when(keep, rank).otherwise(lit(ScalarValue::Int64(None)))?;
    let mut columns: Vec<Expr> = column_names(&windowed).into_iter().map(ident).collect();
    columns.push(chosen.alias(MATCH));
    Ok(LogicalPlanBuilder::from(windowed)
        .filter(ident(SIDE).eq(lit(0i8)))?
        .project(columns)?
        .build()?)
}
