//! `PyLazyFrame`: a logical plan and the session that will run it.

use std::path::{Path, PathBuf};

use corepy_engine::{Compression, ExplainOptions, ParquetCompression, Session, WriteFormat};
use corepy_planner::frame::{
    self, AsofSpec, Closed, DynamicSpec, How, JoinSpec, Label, RollingSpec, SortKey, Span,
    Strategy, Tolerance,
};
use corepy_planner::{CorepyError, Result};
use datafusion::logical_expr::LogicalPlan;
use pyo3::prelude::*;
use pyo3_arrow::PySchema;

use crate::dataframe::PyDataFrame;
use crate::errors::{guarded, OrRaise};
use crate::expr::{plain_all, PyExpr};
use crate::run::run_query;

#[pyclass(frozen, from_py_object, name = "LazyFrame", module = "corepy._core")]
#[derive(Clone)]
pub struct PyLazyFrame {
    pub session: Session,
    pub plan: LogicalPlan,
}

impl PyLazyFrame {
    pub fn new(session: Session, plan: LogicalPlan) -> Self {
        Self { session, plan }
    }

    /// A new frame over the plan `build` makes from this one.
    fn derive(&self, build: impl FnOnce(LogicalPlan) -> Result<LogicalPlan>) -> PyResult<Self> {
        guarded(|| {
            let plan = build(self.plan.clone()).or_raise()?;
            Ok(Self::new(self.session.clone(), plan))
        })
    }
}

/// `cp.concat(frames, how)`: the frames' plans stacked, in the first frame's session.
#[pyfunction]
pub fn concat(frames: Vec<PyLazyFrame>, how: &str) -> PyResult<PyLazyFrame> {
    guarded(|| {
        let how = match how {
            "vertical" => frame::Concat::Vertical,
            "diagonal" => frame::Concat::Diagonal,
            other => {
                return Err(CorepyError::invalid_argument(format!(
                    "unknown concat how='{other}'; use vertical, diagonal or horizontal"
                )))
                .or_raise()
            }
        };
        let session = frames
            .first()
            .map(|f| f.session.clone())
            .ok_or_else(|| CorepyError::invalid_argument("concat() needs at least one frame"))
            .or_raise()?;
        let plans = frames.into_iter().map(|f| f.plan).collect();
        let plan = frame::concat(plans, how).or_raise()?;
        Ok(PyLazyFrame::new(session, plan))
    })
}

/// The format of `LazyFrame.write`, from the names the Python methods pass. A text format
/// without a named `compression` is compressed as `path`'s extension says (`.csv.gz`).
fn write_format(
    path: &Path,
    format: &str,
    compression: Option<&str>,
    header: bool,
    delimiter: &str,
) -> Result<WriteFormat> {
    let text_compression = || match compression {
        Some(name) => Compression::parse(name),
        None => Ok(Compression::of_file(path)),
    };
    Ok(match format {
        "parquet" => WriteFormat::Parquet {
            compression: ParquetCompression::parse(compression.unwrap_or("zstd"))?,
        },
        "ipc" => WriteFormat::Ipc,
        "csv" => match delimiter.as_bytes() {
            [byte] => WriteFormat::Csv {
                header,
                delimiter: *byte,
                compression: text_compression()?,
            },
            _ => {
                return Err(CorepyError::invalid_argument(format!(
                    "the CSV separator must be one ASCII character, got {delimiter:?}"
                )))
            }
        },
        "ndjson" => WriteFormat::Json {
            compression: text_compression()?,
        },
        other => {
            return Err(CorepyError::invalid_argument(format!(
                "unknown file format '{other}'; use parquet, ipc, csv or ndjson"
            )))
        }
    })
}

/// A window span as the Python package passes it: (months, days, nanoseconds, index
/// units), the last set only for `"3i"`-style spans of an integer index.
type PySpan = (i32, i32, i64, Option<i64>);

fn span((months, days, nanoseconds, index): PySpan) -> Span {
    match index {
        Some(n) => Span::Index(n),
        None => Span::Calendar {
            months,
            days,
            nanoseconds,
        },
    }
}

/// An as-of tolerance: a number, or a span.
#[derive(FromPyObject)]
enum PyTolerance {
    Number(f64),
    Span(PySpan),
}

/// Repeats a single flag for every key, or checks there is one flag per key.
fn per_key(flags: Vec<bool>, keys: usize, what: &str) -> Result<Vec<bool>> {
    match flags.len() {
        1 => Ok(vec![flags[0]; keys]),
        n if n == keys => Ok(flags),
        n => Err(CorepyError::invalid_argument(format!(
            "sort() got {n} values for {what} but {keys} keys; give one value or one per key"
        ))),
    }
}

#[pymethods]
impl PyLazyFrame {
    fn select(&self, exprs: Vec<PyExpr>) -> PyResult<Self> {
        guarded(|| {
            let exprs = plain_all(&exprs)?;
            self.derive(|plan| frame::select(plan, exprs))
        })
    }

    fn with_columns(&self, exprs: Vec<PyExpr>) -> PyResult<Self> {
        guarded(|| {
            let exprs = plain_all(&exprs)?;
            self.derive(|plan| frame::with_columns(plan, exprs))
        })
    }

    fn filter(&self, predicate: PyExpr) -> PyResult<Self> {
        guarded(|| {
            let predicate = predicate.plain()?;
            self.derive(|plan| frame::filter(plan, predicate))
        })
    }

    fn sort(
        &self,
        keys: Vec<PyExpr>,
        descending: Vec<bool>,
        nulls_last: Vec<bool>,
    ) -> PyResult<Self> {
        guarded(|| {
            let keys = plain_all(&keys)?;
            self.derive(|plan| {
                let descending = per_key(descending, keys.len(), "descending")?;
                let nulls_last = per_key(nulls_last, keys.len(), "nulls_last")?;
                let keys = keys
                    .into_iter()
                    .zip(descending.into_iter().zip(nulls_last))
                    .map(|(key, (descending, nulls_last))| SortKey {
                        expr: key,
                        descending,
                        nulls_last,
                    })
                    .collect();
                frame::sort(plan, keys)
            })
        })
    }

    #[pyo3(signature = (n, offset=0))]
    fn limit(&self, n: Option<usize>, offset: usize) -> PyResult<Self> {
        guarded(|| self.derive(|plan| frame::limit(plan, offset, n)))
    }

    fn unique(&self, subset: Vec<PyExpr>) -> PyResult<Self> {
        guarded(|| {
            let subset = plain_all(&subset)?;
            self.derive(|plan| frame::unique(plan, subset))
        })
    }

    fn group_by_agg(&self, keys: Vec<PyExpr>, aggregations: Vec<PyExpr>) -> PyResult<Self> {
        guarded(|| {
            let (keys, aggregations) = (plain_all(&keys)?, plain_all(&aggregations)?);
            self.derive(|plan| frame::group_by(plan, keys, aggregations))
        })
    }

    /// Joins with `other` (see `corepy_planner::frame::join` for the output columns).
    #[pyo3(signature = (other, how, left_on, right_on, suffix, coalesce=None, nulls_equal=false))]
    #[allow(clippy::too_many_arguments)]
    fn join(
        &self,
        other: &PyLazyFrame,
        how: &str,
        left_on: Vec<PyExpr>,
        right_on: Vec<PyExpr>,
        suffix: String,
        coalesce: Option<bool>,
        nulls_equal: bool,
    ) -> PyResult<Self> {
        guarded(|| {
            let (left_on, right_on) = (plain_all(&left_on)?, plain_all(&right_on)?);
            let right = other.plan.clone();
            self.derive(|plan| {
                let spec = JoinSpec {
                    how: How::parse(how)?,
                    left_on,
                    right_on,
                    suffix,
                    coalesce,
                    nulls_equal,
                };
                frame::join(plan, right, spec)
            })
        })
    }

    /// `rolling(…).agg(…)`: see `corepy_planner::frame::rolling`.
    #[pyo3(signature = (index_column, period, offset, closed, group_by, aggregations))]
    fn rolling_agg(
        &self,
        index_column: Option<String>,
        period: PySpan,
        offset: Option<PySpan>,
        closed: &str,
        group_by: Vec<PyExpr>,
        aggregations: Vec<PyExpr>,
    ) -> PyResult<Self> {
        guarded(|| {
            let (group_by, aggregations) = (plain_all(&group_by)?, plain_all(&aggregations)?);
            self.derive(|plan| {
                let spec = RollingSpec {
                    index_column,
                    period: span(period),
                    offset: offset.map(span),
                    closed: Closed::parse(closed)?,
                    group_by,
                };
                frame::rolling(plan, spec, aggregations)
            })
        })
    }

    /// `group_by_dynamic(…).agg(…)`: see `corepy_planner::frame::group_by_dynamic`.
    #[pyo3(signature = (index_column, every, period, offset, closed, label, include_boundaries, group_by, aggregations))]
    #[allow(clippy::too_many_arguments)]
    fn group_by_dynamic_agg(
        &self,
        index_column: Option<String>,
        every: PySpan,
        period: Option<PySpan>,
        offset: Option<PySpan>,
        closed: &str,
        label: &str,
        include_boundaries: bool,
        group_by: Vec<PyExpr>,
        aggregations: Vec<PyExpr>,
    ) -> PyResult<Self> {
        guarded(|| {
            let (group_by, aggregations) = (plain_all(&group_by)?, plain_all(&aggregations)?);
            self.derive(|plan| {
                let spec = DynamicSpec {
                    index_column,
                    every: span(every),
                    period: period.map(span),
                    offset: offset.map(span),
                    closed: Closed::parse(closed)?,
                    label: Label::parse(label)?,
                    include_boundaries,
                    group_by,
                };
                frame::group_by_dynamic(plan, spec, aggregations)
            })
        })
    }

    /// As-of join with `other`: see `corepy_planner::frame::join_asof`.
    #[pyo3(signature = (other, left_on, right_on, by_left, by_right, strategy, tolerance, allow_exact_matches, suffix, coalesce))]
    #[allow(clippy::too_many_arguments)]
    fn join_asof(
        &self,
        other: &PyLazyFrame,
        left_on: String,
        right_on: String,
        by_left: Vec<String>,
        by_right: Vec<String>,
        strategy: &str,
        tolerance: Option<PyTolerance>,
        allow_exact_matches: bool,
        suffix: String,
        coalesce: bool,
    ) -> PyResult<Self> {
        guarded(|| {
            let right = other.plan.clone();
            self.derive(|plan| {
                let spec = AsofSpec {
                    left_on,
                    right_on,
                    by_left,
                    by_right,
                    strategy: Strategy::parse(strategy)?,
                    tolerance: tolerance.map(|t| match t {
                        PyTolerance::Number(n) => Tolerance::Number(n),
                        PyTolerance::Span(s) => Tolerance::Span(span(s)),
                    }),
                    allow_exact_matches,
                    suffix,
                    coalesce,
                };
                frame::join_asof(plan, right, spec)
            })
        })
    }

    /// Polars' `with_row_index`: see `corepy_planner::frame::with_row_index`.
    fn with_row_index(&self, name: String, offset: u64) -> PyResult<Self> {
        guarded(|| self.derive(|plan| frame::with_row_index(plan, &name, offset)))
    }

    fn explode(
        &self,
        columns: Vec<String>,
        empty_as_null: bool,
        keep_nulls: bool,
    ) -> PyResult<Self> {
        guarded(|| self.derive(|plan| frame::explode(plan, columns, empty_as_null, keep_nulls)))
    }

    /// Runs the query and writes its result to `path` (atomically); returns the rows written.
    #[pyo3(signature = (path, format, compression=None, header=true, delimiter=","))]
    fn write(
        &self,
        py: Python<'_>,
        path: PathBuf,
        format: &str,
        compression: Option<&str>,
        header: bool,
        delimiter: &str,
    ) -> PyResult<u64> {
        guarded(|| {
            let format = write_format(&path, format, compression, header, delimiter).or_raise()?;
            let session = self.session.clone();
            let plan = self.plan.clone();
            run_query(
                py,
                async move { session.write(&plan, &path, &format).await },
            )
        })
    }

    #[pyo3(signature = (device=None))]
    fn compute(&self, py: Python<'_>, device: Option<&str>) -> PyResult<PyDataFrame> {
        guarded(|| {
            let session = self.session.clone();
            let plan = self.plan.clone();
            let device = crate::gpu::placement(device)?;
            let result = run_query(py, {
                let session = session.clone();
                async move { session.collect_on(&plan, device).await }
            })?;
            Ok(PyDataFrame::new(session, result))
        })
    }

    #[pyo3(signature = (optimized=true, analyze=false, kernels=false, device=None))]
    fn explain(
        &self,
        py: Python<'_>,
        optimized: bool,
        analyze: bool,
        kernels: bool,
        device: Option<&str>,
    ) -> PyResult<String> {
        guarded(|| {
            let session = self.session.clone();
            let plan = self.plan.clone();
            let options = ExplainOptions {
                optimized,
                analyze,
                kernels,
                device: crate::gpu::placement(device)?,
            };
            run_query(py, async move { session.explain(&plan, options).await })
        })
    }

    /// The output schema, as a pyarrow Schema.
    fn schema<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let schema = self.plan.schema().inner().clone();
        PySchema::new(schema).into_pyarrow(py)
    }

    fn columns(&self) -> PyResult<Vec<String>> {
        guarded(|| {
            Ok({
                self.plan
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect()
            })
        })
    }

    fn __repr__(&self) -> PyResult<String> {
        guarded(|| Ok(format!("LazyFrame plan:\n{}", self.plan.display_indent())))
    }
}
