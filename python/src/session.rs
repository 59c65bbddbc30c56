//! `PySession`: the bindings of `corepy_engine::Session`.

use std::path::PathBuf;
use std::sync::Arc;

use corepy_engine::{CsvOptions, FileKind, Session, SessionOptions};
use corepy_planner::{CorepyError, Result};
use datafusion::catalog::view::ViewTable;
use pyo3::prelude::*;
use pyo3_arrow::input::AnyRecordBatch;
use pyo3_arrow::PySchema;

use crate::errors::{guarded, OrRaise};
use crate::frame::PyLazyFrame;
use crate::run::run_query;

#[pyclass(frozen, name = "Session", module = "corepy._core")]
pub struct PySession {
    pub session: Session,
}

fn file_kind(format: Option<&str>) -> Result<Option<FileKind>> {
    match format.map(str::to_ascii_lowercase).as_deref() {
        None | Some("auto") => Ok(None),
        Some("parquet") => Ok(Some(FileKind::Parquet)),
        Some("ipc" | "arrow" | "feather") => Ok(Some(FileKind::Ipc)),
        Some("csv") => Ok(Some(FileKind::Csv)),
        Some("ndjson" | "json" | "jsonl") => Ok(Some(FileKind::Json)),
        Some(other) => Err(CorepyError::invalid_argument(format!(
            "unknown file format '{other}'; use parquet, ipc, csv or ndjson"
        ))),
    }
}

/// CSV and NDJSON options; `schema` and `overrides` are the caller's column types.
fn csv_options(
    has_header: bool,
    separator: &str,
    schema: Option<PySchema>,
    overrides: Option<PySchema>,
) -> Result<CsvOptions> {
    match separator.as_bytes() {
        [byte] => Ok(CsvOptions {
            has_header,
            delimiter: *byte,
            schema: schema.map(|s| s.into_inner()),
            overrides: overrides.map(|s| s.into_inner()),
        }),
        _ => Err(CorepyError::invalid_argument(format!(
            "the CSV separator must be a single ASCII character, got {separator:?}"
        ))),
    }
}

#[pymethods]
impl PySession {
    #[new]
    #[pyo3(signature = (target_partitions=None, batch_size=None, memory_limit=None, spill_dir=None, jit=None, device=None, gpu_fallback=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        target_partitions: Option<usize>,
        batch_size: Option<usize>,
        memory_limit: Option<usize>,
        spill_dir: Option<PathBuf>,
        jit: Option<bool>,
        device: Option<&str>,
        gpu_fallback: Option<&str>,
    ) -> PyResult<Self> {
        guarded(|| {
            let options = SessionOptions {
                target_partitions,
                batch_size,
                memory_limit,
                spill_dir,
                jit,
                device: crate::gpu::placement(device)?,
                gpu_fallback: gpu_fallback
                    .map(|f| f.parse::<corepy_engine::gpu::Fallback>().or_raise())
                    .transpose()?,
            };
            Session::new(options)
                .map(|session| Self { session })
                .or_raise()
        })
    }

    #[getter]
    fn target_partitions(&self) -> PyResult<usize> {
        guarded(|| Ok(self.session.target_partitions()))
    }

    #[getter]
    fn jit(&self) -> PyResult<bool> {
        guarded(|| Ok(self.session.jit()))
    }

    /// Where fused stages run: "cpu", "cuda:N" or "auto".
    #[getter]
    fn device(&self) -> PyResult<String> {
        guarded(|| Ok(self.session.gpu_options().placement.to_string()))
    }

    #[getter]
    fn gpu_fallback(&self) -> PyResult<String> {
        guarded(|| {
            Ok(match self.session.gpu_options().fallback {
                corepy_engine::gpu::Fallback::Warn => "warn",
                corepy_engine::gpu::Fallback::Raise => "raise",
                corepy_engine::gpu::Fallback::Silent => "silent",
            }
            .to_string())
        })
    }

    fn set_device(&self, device: &str) -> PyResult<()> {
        guarded(|| {
            let placement = crate::gpu::placement(Some(device))?.expect("given");
            self.session.set_placement(placement);
            Ok(())
        })
    }

    fn sql(&self, py: Python<'_>, query: String) -> PyResult<PyLazyFrame> {
        guarded(|| {
            let session = self.session.clone();
            let plan = run_query(py, {
                let session = session.clone();
                async move { corepy_sql::plan_sql(&session, &query).await }
            })?;
            Ok(PyLazyFrame::new(session, plan))
        })
    }

    #[pyo3(signature = (path, format=None, has_header=true, separator=",", schema=None, overrides=None))]
    #[allow(clippy::too_many_arguments)]
    fn scan(
        &self,
        py: Python<'_>,
        path: String,
        format: Option<&str>,
        has_header: bool,
        separator: &str,
        schema: Option<PySchema>,
        overrides: Option<PySchema>,
    ) -> PyResult<PyLazyFrame> {
        guarded(|| {
            let kind = file_kind(format).or_raise()?;
            let csv = csv_options(has_header, separator, schema, overrides).or_raise()?;
            let session = self.session.clone();
            let plan = run_query(py, {
                let session = session.clone();
                async move { session.scan_file(&path, kind, &csv).await }
            })?;
            Ok(PyLazyFrame::new(session, plan))
        })
    }

    #[pyo3(signature = (name, path, format=None, has_header=true, separator=","))]
    fn register_file(
        &self,
        py: Python<'_>,
        name: String,
        path: String,
        format: Option<&str>,
        has_header: bool,
        separator: &str,
    ) -> PyResult<()> {
        guarded(|| {
            let kind = file_kind(format).or_raise()?;
            let csv = csv_options(has_header, separator, None, None).or_raise()?;
            let session = self.session.clone();
            run_query(py, async move {
                session.register_file(&name, &path, kind, &csv).await
            })
        })
    }

    /// Makes a lazy frame's plan a table (a view) that SQL can name.
    fn register_frame(&self, name: &str, frame: &PyLazyFrame) -> PyResult<()> {
        guarded(|| {
            let view = ViewTable::new(frame.plan.clone(), None);
            self.session.register_table(name, Arc::new(view)).or_raise()
        })
    }

    /// Registers Arrow data (anything with `__arrow_c_stream__` / `__arrow_c_array__`).
    fn register_arrow(&self, name: &str, data: AnyRecordBatch) -> PyResult<()> {
        guarded(|| {
            let table = data.into_table()?;
            let (batches, schema) = table.into_inner();
            let table = self.session.memory_table(schema, batches).or_raise()?;
            self.session
                .register_table(name, Arc::new(table))
                .or_raise()
        })
    }

    fn deregister(&self, name: &str) -> PyResult<()> {
        guarded(|| {
            self.session
                .context()
                .deregister_table(name)
                .map(|_| ())
                .map_err(CorepyError::from)
                .or_raise()
        })
    }

    fn tables(&self) -> PyResult<Vec<String>> {
        guarded(|| {
            Ok({
                let mut names = self
                    .session
                    .context()
                    .catalog_names()
                    .into_iter()
                    .filter_map(|c| self.session.context().catalog(&c))
                    .flat_map(|catalog| {
                        catalog
                            .schema_names()
                            .into_iter()
                            .filter(|s| s != "information_schema")
                            .filter_map(move |s| catalog.schema(&s))
                            .flat_map(|schema| schema.table_names())
                    })
                    .collect::<Vec<_>>();
                names.sort();
                names
            })
        })
    }

    /// A lazy frame over Arrow data, which is shared, not copied.
    fn scan_arrow(&self, data: AnyRecordBatch) -> PyResult<PyLazyFrame> {
        guarded(|| {
            let table = data.into_table()?;
            let (batches, schema) = table.into_inner();
            let plan = self.session.scan_batches(schema, batches).or_raise()?;
            Ok(PyLazyFrame::new(self.session.clone(), plan))
        })
    }

    fn __repr__(&self) -> PyResult<String> {
        guarded(|| {
            Ok({
                format!(
                    "Session(target_partitions={})",
                    self.session.target_partitions()
                )
            })
        })
    }
}
