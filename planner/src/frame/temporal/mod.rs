//! Time windows: `rolling` (one window per row, ending at the row's time) and
//! `group_by_dynamic` (fixed windows on a grid of `every`), over an *index column* that is a
//! date, a datetime or an integer.
//!
//! Both work on the index as integer *ticks* in its own unit (days for a date, the unit of a
//! timestamp, the value of an integer), so that every window bound is exact integer
//! arithmetic: an open bound `(a` is the closed bound `[a + 1`.

pub(super) mod dynamic;
mod rolling;

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::logical_expr::{cast, ident, Expr, LogicalPlan, LogicalPlanBuilder};

use crate::error::{CorepyError, Result};
use crate::expr::check_type;

pub use dynamic::{group_by_dynamic, DynamicSpec, Label};
pub use rolling::{rolling, RollingSpec};

/// The name of the index, as ticks, while a time window is planned.
const TICKS: &str = "__corepy_ticks";

const NANOS_PER_DAY: i128 = 86_400_000_000_000;

/// A window length or offset as the user wrote it: a Polars duration (calendar months,
/// days and nanoseconds) or a number of index units (`"3i"`, for an integer index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    Calendar {
        months: i32,
        days: i32,
        nanoseconds: i64,
    },
    Index(i64),
}

impl Span {
    /// Only whole months: `"1mo"`, `"1q"`, `"2y"`.
    fn months_only(self) -> Option<i32> {
        match self {
            Span::Calendar {
                months,
                days: 0,
                nanoseconds: 0,
            } if months != 0 => Some(months),
            _ => None,
        }
    }

    /// A whole number of weeks (Polars starts weekly windows on Monday).
    fn is_weeks(self) -> bool {
        matches!(self, Span::Calendar { months: 0, days, nanoseconds: 0 } if days != 0 && days % 7 == 0)
    }
}

/// Which ends of a window belong to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    Left,
    Right,
    Both,
    None,
}

impl Closed {
    pub fn parse(text: &str) -> Result<Self> {
        Ok(match text {
            "left" => Closed::Left,
            "right" => Closed::Right,
            "both" => Closed::Both,
            "none" => Closed::None,
            other => {
                return Err(CorepyError::invalid_argument(format!(
                    "unknown closed='{other}'; use 'left', 'right', 'both' or 'none'"
                )))
            }
        })
    }

    fn left_open(self) -> bool {
        matches!(self, Closed::Right | Closed::None)
    }

    fn right_open(self) -> bool {
        matches!(self, Closed::Left | Closed::None)
    }
}

/// The index column of a time window (or the key of an as-of join).
pub(super) struct Index {
    name: String,
    data_type: DataType,
    /// Nanoseconds per tick; `None` for an integer index.
    tick_nanos: Option<i128>,
}

impl Index {
    /// `name`, or the frame's one temporal column when `name` is `None`.
    pub(super) fn resolve(
        input: &LogicalPlan,
        name: Option<&str>,
        operation: &str,
    ) -> Result<Self> {
        let name = match name {
            Some(name) => name.to_string(),
            None => single_temporal_column(input, operation)?,
        };
        let data_type = check_type(&ident(name.as_str()), input.schema())?;
        let tick_nanos = match &data_type {
            DataType::Date32 => Some(NANOS_PER_DAY),
            DataType::Date64 => Some(1_000_000),
            DataType::Timestamp(unit, _) => Some(unit_nanos(*unit)),
            t if t.is_integer() => None,
            other => {
                return Err(CorepyError::schema(format!(
                    "{operation}() index column '{name}' has type {other}; it must be a date, a \
                     datetime or an integer column"
                )))
            }
        };
        Ok(Self {
            name,
            data_type,
            tick_nanos,
        })
    }

    fn column(&self) -> Expr {
        ident(self.name.as_str())
    }

    /// The index as Int64 ticks.
    fn ticks(&self) -> Expr {
        match self.tick_nanos {
            Some(_) => as_ticks(self.column(), &self.data_type),
            None => cast(self.column(), DataType::Int64),
        }
    }

    /// Int64 ticks back to the index's type.
    fn ticks_to_index(&self, ticks: Expr) -> Expr {
        match self.data_type {
            DataType::Date32 => cast(cast(ticks, DataType::Int32), DataType::Date32),
            _ => cast(ticks, self.data_type.clone()),
        }
    }

    /// `span` as a number of ticks; `what` names it in errors ("period", "offset", …).
    pub(super) fn ticks_of(&self, span: Span, what: &str) -> Result<i64> {
        match (span, self.tick_nanos) {
            (Span::Index(n), None) => Ok(n),
            (Span::Index(_), Some(_)) => Err(CorepyError::invalid_argument(format!(
                "{what} counts index units ('…i'), which is for an integer index, but '{}' is \
                 {}; use a duration such as '1h' or '3d'",
                self.name, self.data_type
            ))),
            (Span::Calendar { .. }, None) => Err(CorepyError::invalid_argument(format!(
                "the index column '{}' is an integer ({}): give {what} in index units, such as \
                 '3i' or 3",
                self.name, self.data_type
            ))),
            (
                Span::Calendar {
                    months,
                    days,
                    nanoseconds,
                },
                Some(tick),
            ) => {
                if months != 0 {
                    return Err(CorepyError::invalid_argument(format!(
                        "a {what} in calendar months ('mo', 'q', 'y') is not supported here; \
                         use days, e.g. '30d'"
                    )));
                }
                let total = i128::from(days) * NANOS_PER_DAY + i128::from(nanoseconds);
                if total % tick != 0 {
                    return Err(CorepyError::invalid_argument(format!(
                        "the {what} is not a whole number of the index column's unit: '{}' is \
                         {}",
                        self.name, self.data_type
                    )));
                }
                i64::try_from(total / tick).map_err(|_| {
                    CorepyError::invalid_argument(format!("the {what} is out of range"))
                })
            }
        }
    }
}

/// `value` (of `data_type`) as an Int64 number of its unit when it is a date or datetime;
/// numbers stay as they are.
pub(super) fn as_ticks(value: Expr, data_type: &DataType) -> Expr {
    match data_type {
        DataType::Date32 => cast(cast(value, DataType::Int32), DataType::Int64),
        t if t.is_temporal() => cast(value, DataType::Int64),
        _ => value,
    }
}

fn unit_nanos(unit: TimeUnit) -> i128 {
    match unit {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    }
}

fn single_temporal_column(input: &LogicalPlan, operation: &str) -> Result<String> {
    let temporal: Vec<String> = input
        .schema()
        .fields()
        .iter()
        .filter(|f| f.data_type().is_temporal())
        .map(|f| f.name().clone())
        .collect();
    match temporal.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(CorepyError::invalid_argument(format!(
            "{operation}() needs an index column, and the frame has no date or datetime \
             column; name one with index_column="
        ))),
        many => Err(CorepyError::invalid_argument(format!(
            "{operation}() needs an index column, and the frame has several temporal \
             columns ({}); choose one with index_column=",
            many.join(", ")
        ))),
    }
}

/// `input` with the index added as ticks, in the column [`TICKS`].
fn with_ticks(input: LogicalPlan, index: &Index) -> Result<LogicalPlan> {
    let mut columns: Vec<Expr> = input
        .schema()
        .columns()
        .into_iter()
        .map(Expr::Column)
        .collect();
    columns.push(index.ticks().alias(TICKS));
    Ok(LogicalPlanBuilder::from(input).project(columns)?.build()?)
}

/// `a` divided by the positive constant `b`, rounded down (SQL's `/` rounds toward zero).
fn floor_div(a: Expr, b: i64) -> Expr {
    let b = datafusion::logical_expr::lit(b);
    let remainder = ((a.clone() % b.clone()) + b.clone()) % b.clone();
    (a - remainder) / b
}

#[cfg(test)]
mod tests;
