//! `PyDataFrame`: a computed result, exported zero-copy through the Arrow PyCapsule stream
//! interface.

use std::fmt::Write as _;
use std::sync::Arc;

use corepy_engine::{QueryResult, Session};
use corepy_sql::explain::{format_explain, is_explain};
use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, StructArray};
use datafusion::arrow::datatypes::Field;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::arrow::util::pretty::pretty_format_batches;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use pyo3_arrow::ffi::{to_stream_pycapsule, ArrayIterator};
use pyo3_arrow::PySchema;

use crate::errors::{guarded, OrRaise};
use crate::frame::PyLazyFrame;

#[pyclass(frozen, name = "DataFrame", module = "corepy._core")]
pub struct PyDataFrame {
    session: Session,
    result: QueryResult,
}

impl PyDataFrame {
    pub fn new(session: Session, result: QueryResult) -> Self {
        Self { session, result }
    }
}

#[pymethods]
impl PyDataFrame {
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyCapsule>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let schema = Arc::clone(&self.result.schema);
        let arrays = self
            .result
            .batches
            .clone()
            .into_iter()
            .map(|batch| Ok(Arc::new(StructArray::from(batch)) as ArrayRef));
        let field = Field::new_struct("", schema.fields().clone(), false)
            .with_metadata(schema.metadata().clone());
        let reader = Box::new(ArrayIterator::new(arrays, field.into()));
        Ok(to_stream_pycapsule(py, reader, requested_schema)?)
    }

    #[getter]
    fn num_rows(&self) -> PyResult<usize> {
        guarded(|| Ok(self.result.num_rows()))
    }

    #[getter]
    fn num_columns(&self) -> PyResult<usize> {
        guarded(|| Ok(self.result.schema.fields().len()))
    }

    fn columns(&self) -> PyResult<Vec<String>> {
        guarded(|| {
            Ok({
                self.result
                    .schema
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect()
            })
        })
    }

    fn schema<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        PySchema::new(Arc::clone(&self.result.schema)).into_pyarrow(py)
    }

    /// A lazy frame over this result, for further queries.
    fn lazy(&self) -> PyResult<PyLazyFrame> {
        guarded(|| {
            let plan = self
                .session
                .scan_batches(Arc::clone(&self.result.schema), self.result.batches.clone())
                .or_raise()?;
            Ok(PyLazyFrame::new(self.session.clone(), plan))
        })
    }

    /// True when this is the result of an EXPLAIN statement.
    fn is_explain(&self) -> PyResult<bool> {
        guarded(|| Ok(is_explain(&self.result)))
    }

    /// The plans of an EXPLAIN result as text.
    fn explain_text(&self) -> PyResult<String> {
        guarded(|| Ok(format_explain(&self.result)))
    }

    /// A text table of the first `max_rows` rows.
    fn format_table(&self, max_rows: usize) -> PyResult<String> {
        guarded(|| {
            let shown = self.result.head(max_rows);
            let batches = if shown.is_empty() {
                vec![RecordBatch::new_empty(Arc::clone(&self.result.schema))]
            } else {
                shown
            };
            let table = pretty_format_batches(&batches)
                .map_err(corepy_planner::CorepyError::from)
                .or_raise()?;
            Ok(table.to_string())
        })
    }

    /// An HTML table of the first `max_rows` rows, for notebooks.
    fn format_html(&self, max_rows: usize) -> PyResult<String> {
        guarded(|| {
            let mut html = String::from("<table class=\"corepy-frame\">\n<thead><tr>");
            for field in self.result.schema.fields() {
                let _ = write!(
                    html,
                    "<th>{}<br><small>{}</small></th>",
                    escape(field.name()),
                    escape(&field.data_type().to_string())
                );
            }
            html.push_str("</tr></thead>\n<tbody>\n");
            let options = FormatOptions::default().with_null("null");
            for batch in self.result.head(max_rows) {
                let formatters = batch
                    .columns()
                    .iter()
                    .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(corepy_planner::CorepyError::from)
                    .or_raise()?;
                for row in 0..batch.num_rows() {
                    html.push_str("<tr>");
                    for (column, formatter) in batch.columns().iter().zip(&formatters) {
                        let cell = if column.is_null(row) {
                            "<i>null</i>".to_string()
                        } else {
                            escape(&formatter.value(row).to_string())
                        };
                        let _ = write!(html, "<td>{cell}</td>");
                    }
                    html.push_str("</tr>\n");
                }
            }
            html.push_str("</tbody>\n</table>");
            Ok(html)
        })
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
