//! `PyExpr`: a DataFusion expression, built from Python.

use corepy_planner::dtype::parse_dtype;
use corepy_planner::expr::{aggregate, binary, cast_to, describe};
use corepy_planner::naming::output_name;
use corepy_planner::raise_error::RaiseError;
use corepy_planner::window;
use corepy_planner::CorepyError;
use datafusion::arrow::datatypes::{DataType, IntervalMonthDayNano};
use datafusion::functions_aggregate::count::count_all;
use datafusion::logical_expr::{in_list, lit, Case, Expr};
use datafusion::prelude::ident;
use datafusion::scalar::ScalarValue;
use pyo3::prelude::*;
use pyo3_arrow::PyDataType;

use crate::errors::{guarded, OrRaise};

/// A column expression. Immutable: every method returns a new expression.
#[pyclass(frozen, from_py_object, name = "Expr", module = "corepy._core")]
#[derive(Clone)]
pub struct PyExpr {
    pub expr: Expr,
    /// The rows an aggregation of this expression keeps: `col("a").filter(p).sum()`.
    /// Only an aggregation may follow such a filter.
    pub filter: Option<Expr>,
}

impl From<Expr> for PyExpr {
    fn from(expr: Expr) -> Self {
        Self { expr, filter: None }
    }
}

impl PyExpr {
    /// The expression, for anything but an aggregation: a pending row filter is an error.
    pub fn plain(&self) -> PyResult<Expr> {
        match &self.filter {
            None => Ok(self.expr.clone()),
            Some(filter) => Err(CorepyError::invalid_argument(format!(
                "`{}` was filtered by `{}`, which must be followed by an aggregation \
                 (e.g. .sum()); to filter rows, use LazyFrame.filter()",
                describe(&self.expr),
                describe(filter)
            )))
            .or_raise(),
        }
    }
}

/// The expressions of a list, none with a pending row filter.
pub fn plain_all(exprs: &[PyExpr]) -> PyResult<Vec<Expr>> {
    exprs.iter().map(PyExpr::plain).collect()
}

#[pymethods]
impl PyExpr {
    fn binary(&self, operator: &str, other: &PyExpr) -> PyResult<PyExpr> {
        guarded(|| {
            binary(self.plain()?, operator, other.plain()?)
                .map(PyExpr::from)
                .or_raise()
        })
    }

    fn not_(&self) -> PyResult<PyExpr> {
        guarded(|| Ok((!self.plain()?).into()))
    }

    fn neg(&self) -> PyResult<PyExpr> {
        guarded(|| Ok((-self.plain()?).into()))
    }

    fn is_null(&self) -> PyResult<PyExpr> {
        guarded(|| Ok(self.plain()?.is_null().into()))
    }

    fn is_not_null(&self) -> PyResult<PyExpr> {
        guarded(|| Ok(self.plain()?.is_not_null().into()))
    }

    fn cast(&self, dtype: &Bound<'_, PyAny>) -> PyResult<PyExpr> {
        guarded(|| Ok(cast_to(self.plain()?, data_type(dtype)?).into()))
    }

    fn alias(&self, name: &str) -> PyResult<PyExpr> {
        guarded(|| {
            // A new name replaces the old one instead of stacking on it.
            Ok(self.plain()?.unalias_nested().data.alias(name).into())
        })
    }

    /// `self IN (values)`, or `NOT IN` when `negated`.
    fn is_in(&self, values: Vec<PyExpr>, negated: bool) -> PyResult<PyExpr> {
        guarded(|| Ok(in_list(self.plain()?, plain_all(&values)?, negated).into()))
    }

    /// Keeps, for the aggregation that follows, the rows where `predicate` is true.
    fn filter(&self, predicate: &PyExpr) -> PyResult<PyExpr> {
        guarded(|| {
            let predicate = predicate.plain()?;
            let filter = match &self.filter {
                None => predicate,
                Some(earlier) => earlier.clone().and(predicate),
            };
            Ok(PyExpr {
                expr: self.expr.clone(),
                filter: Some(filter),
            })
        })
    }

    fn aggregate(&self, function: &str) -> PyResult<PyExpr> {
        guarded(|| {
            aggregate(function, self.expr.clone(), self.filter.clone())
                .map(PyExpr::from)
                .or_raise()
        })
    }

    /// Pearson's correlation of `self` and `other` (Polars' `pl.corr`).
    fn corr(&self, other: &PyExpr) -> PyResult<PyExpr> {
        guarded(|| {
            corepy_planner::expr::corr(self.expr.clone(), other.plain()?, self.filter.clone())
                .map(PyExpr::from)
                .or_raise()
        })
    }

    fn fill_null_strategy(&self, strategy: &str) -> PyResult<PyExpr> {
        guarded(|| {
            window::fill_null_strategy(self.plain()?, strategy)
                .map(PyExpr::from)
                .or_raise()
        })
    }

    fn quantile(&self, q: f64, interpolation: &str) -> PyResult<PyExpr> {
        guarded(|| {
            corepy_planner::expr::quantile(self.expr.clone(), q, interpolation, self.filter.clone())
                .map(PyExpr::from)
                .or_raise()
        })
    }

    /// `self.over(partition_by, order_by)`; `descending` and `nulls_last` per order key.
    fn over(
        &self,
        partition_by: Vec<PyExpr>,
        order_by: Vec<PyExpr>,
        descending: Vec<bool>,
        nulls_last: Vec<bool>,
    ) -> PyResult<PyExpr> {
        guarded(|| {
            let order_by = plain_all(&order_by)?
                .into_iter()
                .zip(descending.into_iter().zip(nulls_last))
                .map(|(key, (descending, nulls_last))| key.sort(!descending, !nulls_last))
                .collect();
            let spec = window::Over {
                partition_by: plain_all(&partition_by)?,
                order_by,
            };
            window::over(self.plain()?, &spec)
                .map(PyExpr::from)
                .or_raise()
        })
    }

    fn cumulative(&self, function: &str, reverse: bool) -> PyResult<PyExpr> {
        guarded(|| {
            window::cumulative(function, self.plain()?, reverse)
                .map(PyExpr::from)
                .or_raise()
        })
    }

    #[pyo3(signature = (function, window_size, min_samples=None))]
    fn rolling(
        &self,
        function: &str,
        window_size: u64,
        min_samples: Option<u64>,
    ) -> PyResult<PyExpr> {
        guarded(|| {
            window::rolling(function, self.plain()?, window_size, min_samples)
                .map(PyExpr::from)
                .or_raise()
        })
    }

    #[pyo3(signature = (n, fill=None))]
    fn shift(&self, n: i64, fill: Option<PyExpr>) -> PyResult<PyExpr> {
        guarded(|| {
            let fill = match fill.map(|f| f.plain()).transpose()? {
                None => None,
                Some(Expr::Literal(value, _)) => Some(value),
                Some(other) => {
                    return Err(CorepyError::invalid_argument(format!(
                        "shift() fill_value must be a constant, got `{}`",
                        describe(&other)
                    )))
                    .or_raise()
                }
            };
            Ok(window::shift(self.plain()?, n, fill).into())
        })
    }

    fn rank(&self, method: &str, descending: bool) -> PyResult<PyExpr> {
        guarded(|| {
            window::rank(self.plain()?, method, descending)
                .map(PyExpr::from)
                .or_raise()
        })
    }

    /// Whether the expression holds an aggregation (`x.sum()`, `x - x.mean()`).
    fn is_aggregate(&self) -> PyResult<bool> {
        guarded(|| Ok(corepy_planner::expr::is_aggregate(&self.expr)))
    }

    /// The name of the column this expression produces.
    fn output_name(&self) -> PyResult<String> {
        guarded(|| Ok(output_name(&self.expr)))
    }

    fn __repr__(&self) -> PyResult<String> {
        guarded(|| {
            Ok({
                let shown = match &self.expr {
                    Expr::Alias(alias) => format!("{} AS {}", describe(&alias.expr), alias.name),
                    other => describe(other),
                };
                match &self.filter {
                    None => shown,
                    Some(filter) => format!("{shown} FILTER (WHERE {})", describe(filter)),
                }
            })
        })
    }
}

/// A data type from a name (`"int64"`) or any object with `__arrow_c_schema__`.
pub fn data_type(dtype: &Bound<'_, PyAny>) -> PyResult<DataType> {
    if let Ok(name) = dtype.extract::<String>() {
        return parse_dtype(&name).or_raise();
    }
    Ok(dtype.extract::<PyDataType>()?.into_inner())
}

#[pyfunction]
fn col(name: &str) -> PyResult<PyExpr> {
    guarded(|| {
        Ok({
            // `ident` keeps the name as written: no SQL-style splitting on dots or case folding.
            ident(name).into()
        })
    })
}

/// `raise_error(message)`: fails the query with the message where it is not NULL.
#[pyfunction]
fn raise_error(message: PyExpr, dtype: &Bound<'_, PyAny>) -> PyResult<PyExpr> {
    guarded(|| {
        let return_type = data_type(dtype)?;
        Ok(RaiseError::call(message.expr, return_type).into())
    })
}

#[pyfunction]
fn count_rows() -> PyResult<PyExpr> {
    guarded(|| Ok(count_all().alias("len").into()))
}

#[pyfunction]
fn lit_null() -> PyResult<PyExpr> {
    guarded(|| Ok(lit(ScalarValue::Null).into()))
}

#[pyfunction]
fn lit_bool(value: bool) -> PyResult<PyExpr> {
    guarded(|| Ok(lit(value).into()))
}

#[pyfunction]
fn lit_int(value: i64) -> PyResult<PyExpr> {
    guarded(|| Ok(lit(value).into()))
}

#[pyfunction]
fn lit_uint(value: u64) -> PyResult<PyExpr> {
    guarded(|| Ok(lit(value).into()))
}

#[pyfunction]
fn lit_float(value: f64) -> PyResult<PyExpr> {
    guarded(|| Ok(lit(value).into()))
}

#[pyfunction]
fn lit_str(value: &str) -> PyResult<PyExpr> {
    guarded(|| Ok(lit(value).into()))
}

#[pyfunction]
fn lit_bytes(value: Vec<u8>) -> PyResult<PyExpr> {
    guarded(|| Ok(lit(ScalarValue::Binary(Some(value))).into()))
}

#[pyfunction]
fn lit_date(days_since_epoch: i32) -> PyResult<PyExpr> {
    guarded(|| Ok(lit(ScalarValue::Date32(Some(days_since_epoch))).into()))
}

#[pyfunction]
#[pyo3(signature = (microseconds_since_epoch, tz=None))]
fn lit_timestamp(microseconds_since_epoch: i64, tz: Option<String>) -> PyResult<PyExpr> {
    guarded(|| {
        Ok({
            lit(ScalarValue::TimestampMicrosecond(
                Some(microseconds_since_epoch),
                tz.map(Into::into),
            ))
            .into()
        })
    })
}

#[pyfunction]
fn lit_duration(microseconds: i64) -> PyResult<PyExpr> {
    guarded(|| Ok(lit(ScalarValue::DurationMicrosecond(Some(microseconds))).into()))
}

#[pyfunction]
fn lit_decimal(unscaled: i128, precision: u8, scale: i8) -> PyResult<PyExpr> {
    guarded(|| {
        let value = ScalarValue::try_new_decimal128(unscaled, precision, scale)
            .map_err(corepy_planner::CorepyError::from)
            .or_raise()?;
        Ok(lit(value).into())
    })
}

/// `CASE WHEN c1 THEN v1 … ELSE otherwise END`; no `otherwise` gives NULL.
#[pyfunction]
#[pyo3(signature = (conditions, values, otherwise=None))]
fn case_when(
    conditions: Vec<PyExpr>,
    values: Vec<PyExpr>,
    otherwise: Option<PyExpr>,
) -> PyResult<PyExpr> {
    guarded(|| {
        let branches = plain_all(&conditions)?
            .into_iter()
            .zip(plain_all(&values)?)
            .map(|(c, v)| (Box::new(c), Box::new(v)))
            .collect();
        let otherwise = otherwise.map(|o| o.plain()).transpose()?.map(Box::new);
        Ok(Expr::Case(Case::new(None, branches, otherwise)).into())
    })
}

/// DataFusion's scalar function `name` over `args`.
#[pyfunction]
fn call(name: &str, args: Vec<PyExpr>) -> PyResult<PyExpr> {
    guarded(|| {
        corepy_planner::expr::call(name, plain_all(&args)?)
            .map(PyExpr::from)
            .or_raise()
    })
}

/// An interval of calendar months, days and nanoseconds (Polars' durations such as "1mo2d").
#[pyfunction]
fn lit_interval(months: i32, days: i32, nanoseconds: i64) -> PyResult<PyExpr> {
    guarded(|| {
        Ok({
            let value = IntervalMonthDayNano::new(months, days, nanoseconds);
            lit(ScalarValue::IntervalMonthDayNano(Some(value))).into()
        })
    })
}

/// SQL's `row_number()`: give it an order with `over`.
#[pyfunction]
fn row_number() -> PyResult<PyExpr> {
    guarded(|| Ok(window::row_number().into()))
}

/// The first non-null value of `exprs`, row by row.
#[pyfunction]
fn coalesce(exprs: Vec<PyExpr>) -> PyResult<PyExpr> {
    guarded(|| Ok(datafusion::functions::expr_fn::coalesce(plain_all(&exprs)?).into()))
}

pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(case_when, module)?)?;
    module.add_function(wrap_pyfunction!(coalesce, module)?)?;
    module.add_function(wrap_pyfunction!(row_number, module)?)?;
    module.add_function(wrap_pyfunction!(call, module)?)?;
    module.add_function(wrap_pyfunction!(lit_interval, module)?)?;
    module.add_function(wrap_pyfunction!(col, module)?)?;
    module.add_function(wrap_pyfunction!(count_rows, module)?)?;
    module.add_function(wrap_pyfunction!(raise_error, module)?)?;
    module.add_function(wrap_pyfunction!(lit_null, module)?)?;
    module.add_function(wrap_pyfunction!(lit_bool, module)?)?;
    module.add_function(wrap_pyfunction!(lit_int, module)?)?;
    module.add_function(wrap_pyfunction!(lit_uint, module)?)?;
    module.add_function(wrap_pyfunction!(lit_float, module)?)?;
    module.add_function(wrap_pyfunction!(lit_str, module)?)?;
    module.add_function(wrap_pyfunction!(lit_bytes, module)?)?;
    module.add_function(wrap_pyfunction!(lit_date, module)?)?;
    module.add_function(wrap_pyfunction!(lit_timestamp, module)?)?;
    module.add_function(wrap_pyfunction!(lit_duration, module)?)?;
    module.add_function(wrap_pyfunction!(lit_decimal, module)?)?;
    Ok(())
}
