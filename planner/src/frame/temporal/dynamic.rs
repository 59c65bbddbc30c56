//! `group_by_dynamic`: aggregations over windows laid on a fixed grid. Window `j` is
//! `[g + j·every, g + j·every + period)` (ends per `closed`), where the grid origin `g` is
//! `offset` (plus four days for whole weeks: Polars' weeks start on Monday, 1970-01-05).
//! As Polars' `start_by="window"`, a group's first window is the one at its earliest index
//! truncated by `every`; only windows that hold rows are output.
//!
//! A row belongs to `ceil(period / every)` consecutive windows at most: the plan numbers
//! them (one window, or an unnested list of candidates), keeps the candidates that hold
//! the row, and aggregates by (keys, window). Calendar windows (`"1mo"`, `"1q"`, `"1y"`)
//! group by the truncated index instead.

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::ScalarValue;
use datafusion::functions_aggregate::expr_fn as aggregates;
use datafusion::logical_expr::{cast, col, ident, lit, Expr, LogicalPlan, LogicalPlanBuilder};

use crate::error::{CorepyError, Result};
use crate::expr::call;
use crate::naming::output_name;
use crate::window::{aggregates_over, plan_windows};

use super::super::{checked, column_exprs};
use super::rolling::{check_aggregations, check_output_names, named_all, sort_keys};
use super::{floor_div, with_ticks, Closed, Index, Span, TICKS};

const WINDOW: &str = "__corepy_window";
const DATAPOINT: &str = "__corepy_datapoint";
const FIRST_WINDOW: &str = "__corepy_first_window";
const LOWER: &str = "_lower_boundary";
const UPPER: &str = "_upper_boundary";

/// Which time names a window in the output's index column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    Left,
    Right,
    /// The window's earliest index value.
    Datapoint,
}

impl Label {
    pub fn parse(text: &str) -> Result<Self> {
        Ok(match text {
            "left" => Label::Left,
            "right" => Label::Right,
            "datapoint" => Label::Datapoint,
            other => {
                return Err(CorepyError::invalid_argument(format!(
                    "unknown label='{other}'; use 'left', 'right' or 'datapoint'"
                )))
            }
        })
    }
}

/// What [`group_by_dynamic`] computes over.
#[derive(Debug, Clone)]
pub struct DynamicSpec {
    pub index_column: Option<String>,
    pub every: Span,
    /// The window length; `None`: `every`.
    pub period: Option<Span>,
    /// The grid's shift; `None`: none.
    pub offset: Option<Span>,
    pub closed: Closed,
    pub label: Label,
    pub include_boundaries: bool,
    pub group_by: Vec<Expr>,
}

/// One row per (group, window holding rows): the keys, the window bounds if asked for, the
/// window's label in the index column, then the aggregations. Sorted by keys, then index.
pub fn group_by_dynamic(
    input: LogicalPlan,
    spec: DynamicSpec,
    aggregations: Vec<Expr>,
) -> Result<LogicalPlan> {
    let index = Index::resolve(&input, spec.index_column.as_deref(), "group_by_dynamic")?;
    let keys = named_all(checked(spec.group_by.clone(), &input)?);
    let aggregations = named_all(checked(aggregations, &input)?);
    check_aggregations(&aggregations, "group_by_dynamic")?;
    check_output_names(&keys, &index, &aggregations)?;
    let grid = match spec.every.months_only() {
        Some(months) => return calendar(input, &spec, months, &index, keys, aggregations),
        None => Grid::new(&spec, &index)?,
    };

    let input = with_ticks(input, &index)?;
    let (input, first_window) = if grid.may_start_before_first_row() {
        let partition_by: Vec<Expr> = keys.iter().map(|k| k.clone().unalias()).collect();
        let earliest = aggregates_over(
            aggregates::min(col(TICKS)).alias(FIRST_WINDOW),
            &partition_by,
            &[],
            &datafusion::logical_expr::WindowFrame::new(None),
        )?;
        let mut columns = column_exprs(&input);
        columns.push(earliest);
        let (plan, columns) = plan_windows(input, columns)?;
        let plan = LogicalPlanBuilder::from(plan).project(columns)?.build()?;
        (plan, Some(grid.first_window(col(FIRST_WINDOW))))
    } else {
        (input, None)
    };
    let numbered = grid.number_windows(input)?;
    let mut holds = grid.holds_row();
    if let Some(first) = first_window {
        holds = holds.and(col(WINDOW).gt_eq(first));
    }
    let kept = LogicalPlanBuilder::from(numbered).filter(holds)?.build()?;

    let mut group_keys = keys.clone();
    group_keys.push(col(WINDOW));
    let mut computed = aggregations.clone();
    if spec.label == Label::Datapoint {
        computed.push(aggregates::min(col(TICKS)).alias(DATAPOINT));
    }
    let grouped = super::super::group_by(kept, group_keys, computed)?;

    let lower = grid.window_start(col(WINDOW));
    let upper = lower.clone() + lit(grid.period);
    let label = match spec.label {
        Label::Left => lower.clone(),
        Label::Right => upper.clone(),
        Label::Datapoint => col(DATAPOINT),
    };
    let bounds = spec.include_boundaries.then(|| {
        [
            boundary(index.ticks_to_index(lower), &index).alias(LOWER),
            boundary(index.ticks_to_index(upper), &index).alias(UPPER),
        ]
    });
    let label = index.ticks_to_index(label);
    project_windows(grouped, &keys, &index, label, bounds, &aggregations)
}

/// The grid of fixed windows, in ticks, with `closed` folded in: every window is treated as
/// `[start, start + span)` over `ticks - shift`.
pub(super) struct Grid {
    every: i64,
    period: i64,
    origin: i64,
    /// 1 when the window is open on the left: `(s, …` over `t` is `[s, …` over `t - 1`.
    shift: i64,
    /// The period as a half-open span over the shifted ticks.
    span: i64,
}

impl Grid {
    pub(super) fn new(spec: &DynamicSpec, index: &Index) -> Result<Self> {
        let every = index.ticks_of(spec.every, "every")?;
        let period = match spec.period {
            Some(period) => index.ticks_of(period, "period")?,
            None => every,
        };
        if every <= 0 || period <= 0 {
            return Err(CorepyError::invalid_argument(
                "group_by_dynamic() needs a positive every and period",
            ));
        }
        let offset = match spec.offset {
            Some(offset) => index.ticks_of(offset, "offset")?,
            None => 0,
        };
        // Polars' weeks start on Monday, 1970-01-05; other windows count from the epoch.
        let week_origin = if spec.every.is_weeks() {
            index.ticks_of(
                Span::Calendar {
                    months: 0,
                    days: 4,
                    nanoseconds: 0,
                },
                "week origin",
            )?
        } else {
            0
        };
        let shift = i64::from(spec.closed.left_open());
        let span = period + i64::from(!spec.closed.right_open()) - shift;
        if span <= 0 {
            return Err(CorepyError::invalid_argument(
                "group_by_dynamic() windows are empty: the period is too short for \
                 closed='none'",
            ));
        }
        Ok(Self {
            every,
            period,
            origin: week_origin + offset,
            shift,
            span,
        })
    }

    fn shifted_ticks(&self) -> Expr {
        col(TICKS) - lit(self.shift)
    }

    /// How many consecutive windows may hold one row.
    pub(super) fn windows_per_row(&self) -> i64 {
        (self.span + self.every - 1) / self.every
    }

    /// Whether a row may fall in a window before its group's first one: only when windows
    /// are longer than `every`, so only then is the first window computed.
    pub(super) fn may_start_before_first_row(&self) -> bool {
        self.span > self.every
    }

    /// The number of a group's first window: the one at its earliest (shifted) index,
    /// truncated by `every` on the grid — Polars' `start_by="window"`.
    fn first_window(&self, earliest: Expr) -> Expr {
        floor_div(earliest - lit(self.shift) - lit(self.origin), self.every)
    }

    fn window_start(&self, window: Expr) -> Expr {
        lit(self.origin) + window * lit(self.every)
    }

    /// `input` with the column [`WINDOW`]: the last window starting at or before each row,
    /// and, when windows overlap, one row per earlier candidate too.
    fn number_windows(&self, input: LogicalPlan) -> Result<LogicalPlan> {
        let last = floor_div(self.shifted_ticks() - lit(self.origin), self.every);
        let mut columns = column_exprs(&input);
        let count = self.windows_per_row();
        if count == 1 {
            columns.push(last.alias(WINDOW));
            return Ok(LogicalPlanBuilder::from(input).project(columns)?.build()?);
        }
        let back = (0..count)
            .map(|n| lit(ScalarValue::Int64(Some(n))))
            .collect();
        columns.push(call("make_array", back)?.alias(WINDOW));
        let listed = LogicalPlanBuilder::from(input)
            .project(columns)?
            .unnest_column(WINDOW)?
            .build()?;
        let mut columns = column_exprs(&listed);
        columns.pop();
        columns.push((last - col(WINDOW)).alias(WINDOW));
        Ok(LogicalPlanBuilder::from(listed).project(columns)?.build()?)
    }

    /// The row's shifted ticks fall before the end of window [`WINDOW`] (they are never
    /// before its start, by construction).
    fn holds_row(&self) -> Expr {
        let end = self.window_start(col(WINDOW)) + lit(self.span);
        self.shifted_ticks().lt(end)
    }
}

/// Calendar windows (`every` in months): one window per row, the index truncated to the
/// month, quarter or year.
fn calendar(
    input: LogicalPlan,
    spec: &DynamicSpec,
    months: i32,
    index: &Index,
    keys: Vec<Expr>,
    aggregations: Vec<Expr>,
) -> Result<LogicalPlan> {
    let unit = match months {
        1 => "month",
        3 => "quarter",
        12 => "year",
        _ => {
            return Err(CorepyError::invalid_argument(
                "calendar windows are '1mo', '1q' or '1y'; other month counts are not \
                 supported",
            ))
        }
    };
    if spec.period.is_some_and(|p| p != spec.every)
        || spec.offset.is_some()
        || spec.closed != Closed::Left
        || spec.label == Label::Datapoint
    {
        return Err(CorepyError::invalid_argument(
            "calendar windows ('1mo', '1q', '1y') take no period or offset, closed='left' \
             and label='left' or 'right'; use a fixed every such as '30d' for more",
        ));
    }
    let start = cast(
        call("date_trunc", vec![lit(unit), index.column()])?,
        index.data_type.clone(),
    );
    let mut group_keys = keys.clone();
    group_keys.push(start.alias(LOWER));
    let grouped = super::super::group_by(input, group_keys, aggregations.clone())?;
    let interval = ScalarValue::new_interval_mdn(months, 0, 0);
    let lower = col(LOWER);
    let upper = cast(lower.clone() + lit(interval), index.data_type.clone());
    let label = if spec.label == Label::Right {
        upper.clone()
    } else {
        lower.clone()
    };
    let bounds = spec.include_boundaries.then(|| {
        [
            boundary(lower.clone(), index).alias(LOWER),
            boundary(upper.clone(), index).alias(UPPER),
        ]
    });
    project_windows(grouped, &keys, index, label, bounds, &aggregations)
}

/// A window bound as Polars shows it: a datetime (microseconds) for a date index.
fn boundary(bound: Expr, index: &Index) -> Expr {
    match index.data_type {
        DataType::Date32 | DataType::Date64 => {
            cast(bound, DataType::Timestamp(TimeUnit::Microsecond, None))
        }
        _ => bound,
    }
}

/// Keys, bounds, the label as the index column, aggregations; sorted by keys, then label.
fn project_windows(
    grouped: LogicalPlan,
    keys: &[Expr],
    index: &Index,
    label: Expr,
    bounds: Option<[Expr; 2]>,
    aggregations: &[Expr],
) -> Result<LogicalPlan> {
    let mut projection: Vec<Expr> = keys.iter().map(|k| ident(output_name(k))).collect();
    projection.extend(bounds.into_iter().flatten());
    projection.push(label.alias(index.name.clone()));
    projection.extend(aggregations.iter().map(|a| ident(output_name(a))));
    Ok(LogicalPlanBuilder::from(grouped)
        .project(projection)?
        .sort(sort_keys(keys, index))?
        .build()?)
}
