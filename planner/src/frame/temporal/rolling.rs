//! `rolling`: for every row, the aggregations over the rows of its group whose index lies in
//! `(t + offset, t + offset + period]` (Polars' default: `offset = -period`, `closed="right"`,
//! so `(t - period, t]`), planned as window functions over a RANGE frame of ticks.

use datafusion::common::ScalarValue;
use datafusion::logical_expr::{
    col, ident, lit, when, Expr, LogicalPlan, LogicalPlanBuilder, WindowFrame, WindowFrameBound,
    WindowFrameUnits,
};

use crate::error::{CorepyError, Result};
use crate::expr::{describe, is_aggregate};
use crate::naming::{named, output_name};
use crate::window::{aggregates_over, plan_windows};

use super::super::{checked, unique_names};
use super::{with_ticks, Closed, Index, Span, TICKS};

/// What [`rolling`] computes over.
#[derive(Debug, Clone)]
pub struct RollingSpec {
    /// The index column; `None`: the frame's one temporal column.
    pub index_column: Option<String>,
    pub period: Span,
    /// Where the window starts, from the row's time; `None`: `-period`.
    pub offset: Option<Span>,
    pub closed: Closed,
    pub group_by: Vec<Expr>,
}

/// One row per input row: the group keys, the index, then each aggregation over the row's
/// window (null for a row whose index is null). Rows are sorted by the keys, then the index.
pub fn rolling(
    input: LogicalPlan,
    spec: RollingSpec,
    aggregations: Vec<Expr>,
) -> Result<LogicalPlan> {
    let index = Index::resolve(&input, spec.index_column.as_deref(), "rolling")?;
    let period = index.ticks_of(spec.period, "period")?;
    if period <= 0 {
        return Err(CorepyError::invalid_argument(
            "rolling() needs a positive period",
        ));
    }
    let offset = match spec.offset {
        Some(offset) => index.ticks_of(offset, "offset")?,
        None => -period,
    };
    let frame = range_frame(offset, period, spec.closed)?;
    let keys = named_all(checked(spec.group_by, &input)?);
    let aggregations = named_all(checked(aggregations, &input)?);
    check_aggregations(&aggregations, "rolling")?;
    check_output_names(&keys, &index, &aggregations)?;

    let input = with_ticks(input, &index)?;
    let partition_by: Vec<Expr> = keys.iter().map(|k| k.clone().unalias()).collect();
    let order_by = vec![col(TICKS).sort(true, true)];
    let windowed = aggregations
        .into_iter()
        .map(|a| aggregates_over(a, &partition_by, &order_by, &frame))
        .collect::<Result<Vec<_>>>()?;
    let (plan, windowed) = plan_windows(input, windowed)?;
    // A row without an index value has no window: its aggregations are null.
    let windowed = windowed
        .into_iter()
        .map(|w| {
            let name = output_name(&w);
            let value =
                when(col(TICKS).is_null(), lit(ScalarValue::Null)).otherwise(w.unalias())?;
            Ok(value.alias(name))
        })
        .collect::<Result<Vec<_>>>()?;
    let projection = keys
        .iter()
        .cloned()
        .chain(std::iter::once(index.column()))
        .chain(windowed)
        .collect::<Vec<_>>();
    let sort = sort_keys(&keys, &index);
    Ok(LogicalPlanBuilder::from(plan)
        .project(projection)?
        .sort(sort)?
        .build()?)
}

/// The RANGE frame `[offset, offset + period]` around each row's ticks, its ends opened
/// as `closed` says (an open end moves in by one tick).
fn range_frame(offset: i64, period: i64, closed: Closed) -> Result<WindowFrame> {
    let start = offset + i64::from(closed.left_open());
    let end = offset + period - i64::from(closed.right_open());
    if end < start {
        return Err(CorepyError::invalid_argument(
            "the rolling window is empty: its period is too short for closed='none'",
        ));
    }
    let bound = |ticks: i64| {
        let value = |n: i64| ScalarValue::Int64(Some(n));
        if ticks < 0 {
            WindowFrameBound::Preceding(value(-ticks))
        } else if ticks == 0 {
            WindowFrameBound::CurrentRow
        } else {
            WindowFrameBound::Following(value(ticks))
        }
    };
    Ok(WindowFrame::new_bounds(
        WindowFrameUnits::Range,
        bound(start),
        bound(end),
    ))
}

/// Every aggregation of a time window must aggregate.
pub(super) fn check_aggregations(aggregations: &[Expr], operation: &str) -> Result<()> {
    if aggregations.is_empty() {
        return Err(CorepyError::invalid_argument(
            "agg() needs at least one aggregation",
        ));
    }
    match aggregations.iter().find(|e| !is_aggregate(e)) {
        Some(row_wise) => Err(CorepyError::invalid_argument(format!(
            "{operation}().agg() takes aggregations, but `{}` is row-wise; aggregate it, e.g. \
             col(\"x\").mean()",
            describe(row_wise)
        ))),
        None => Ok(()),
    }
}

/// Each expression with its output name made explicit.
pub(super) fn named_all(exprs: Vec<Expr>) -> Vec<Expr> {
    exprs.into_iter().map(named).collect()
}

/// No two output columns (keys, index, aggregations) may share a name.
pub(super) fn check_output_names(
    keys: &[Expr],
    index: &Index,
    aggregations: &[Expr],
) -> Result<()> {
    let columns: Vec<Expr> = keys
        .iter()
        .cloned()
        .chain(std::iter::once(index.column()))
        .chain(aggregations.iter().cloned())
        .collect();
    unique_names(columns).map(|_| ())
}

/// Output order: the keys, then the index (both ascending, nulls first).
pub(super) fn sort_keys(keys: &[Expr], index: &Index) -> Vec<datafusion::logical_expr::SortExpr> {
    keys.iter()
        .map(|k| ident(output_name(k)))
        .chain(std::iter::once(index.column()))
        .map(|c| c.sort(true, true))
        .collect()
}
