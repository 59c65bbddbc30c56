//! `CorepyError` → the matching exception class of `corepy.exceptions`, with the details
//! (column, candidates, path, line, …) as attributes.

use corepy_engine::runtime::panic_error;
use corepy_planner::CorepyError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// `?` for corepy results inside binding functions.
pub trait OrRaise<T> {
    fn or_raise(self) -> PyResult<T>;
}

impl<T> OrRaise<T> for Result<T, CorepyError> {
    fn or_raise(self) -> PyResult<T> {
        self.map_err(to_py_err)
    }
}

/// The Python exception for `error`.
pub fn to_py_err(error: CorepyError) -> PyErr {
    Python::attach(|py| build(py, &error).unwrap_or_else(|failure| failure))
}

fn build(py: Python<'_>, error: &CorepyError) -> PyResult<PyErr> {
    let attributes = PyDict::new(py);
    let class = match error {
        CorepyError::ColumnNotFound {
            column,
            candidates,
            available,
        } => {
            attributes.set_item("column", column)?;
            attributes.set_item("candidates", candidates.clone())?;
            attributes.set_item("available", available.clone())?;
            "ColumnNotFoundError"
        }
        CorepyError::Sql { line, column, .. } => {
            attributes.set_item("line", *line)?;
            attributes.set_item("column", *column)?;
            "SQLError"
        }
        CorepyError::Schema { .. } => "SchemaError",
        CorepyError::Plan { .. } => "PlanError",
        CorepyError::PathNotFound { path } => {
            attributes.set_item("path", path)?;
            attributes.set_item("filename", path)?;
            "PathNotFoundError"
        }
        CorepyError::FileFormat { path, .. } => {
            attributes.set_item("path", path)?;
            "FileFormatError"
        }
        CorepyError::InvalidArgument { .. } => "InvalidArgumentError",
        CorepyError::Shape { .. } => "ShapeError",
        CorepyError::Compute { .. } => "ComputeError",
        CorepyError::Device { .. } => "DeviceError",
        CorepyError::Cancelled => "CancelledError",
        CorepyError::Internal { .. } => "InternalError",
    };
    let exceptions = py.import("corepy.exceptions")?;
    let instance = exceptions.getattr(class)?.call1((error.to_string(),))?;
    for (name, value) in attributes.iter() {
        instance.setattr(name.extract::<String>()?, value)?;
    }
    Ok(PyErr::from_value(instance))
}

/// Runs `f`, turning a panic into `corepy.InternalError` instead of pyo3's
/// `PanicException` (a `BaseException` that `except Exception` would not catch).
pub fn guarded<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|payload| Err(to_py_err(panic_error(payload))))
}
