//! The GPU as Python sees it: whether there is one (and if not, why), and the warnings a
//! stage's fallback from the GPU left.

use corepy_engine::gpu::{self, Placement};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{guarded, OrRaise};

/// `cuda:<ordinal>`'s description as a dict, or the reason there is none (a string).
#[pyfunction]
#[pyo3(signature = (ordinal=0))]
fn gpu_status(py: Python<'_>, ordinal: usize) -> PyResult<Py<PyAny>> {
    guarded(|| match gpu::gpu(ordinal) {
        Ok(device) => {
            let info = &device.info;
            let d = PyDict::new(py);
            d.set_item("device", format!("cuda:{}", info.ordinal))?;
            d.set_item("name", &info.name)?;
            d.set_item("compute_capability", info.compute_capability)?;
            d.set_item("memory_bytes", info.memory_bytes)?;
            d.set_item("multiprocessors", info.multiprocessors)?;
            d.set_item("driver_version", info.driver_version)?;
            Ok(d.into_any().unbind())
        }
        Err(no) => Ok(no.message.into_pyobject(py)?.into_any().unbind()),
    })
}

/// Runs `count` random row and tensor kernels on `cuda:<ordinal>` against the interpreter
/// and the CPU JIT (the GIL released); a dict of counts and mismatches.
#[pyfunction]
#[pyo3(signature = (count=500, ordinal=0))]
fn gpu_selftest(py: Python<'_>, count: u64, ordinal: usize) -> PyResult<Py<PyAny>> {
    guarded(|| {
        let device = gpu::gpu(ordinal)
            .map_err(|no| corepy_planner::CorepyError::Device {
                message: no.message,
            })
            .or_raise()?;
        let report = py.detach(|| gpu::selftest::selftest(&device, count));
        let d = PyDict::new(py);
        d.set_item("row_kernels", report.row_kernels)?;
        d.set_item("tensor_kernels", report.tensor_kernels)?;
        d.set_item("not_rendered", report.not_rendered)?;
        d.set_item("mismatches", report.mismatches)?;
        Ok(d.into_any().unbind())
    })
}

/// The fallback warnings recorded since the last call.
#[pyfunction]
fn take_warnings() -> PyResult<Vec<String>> {
    guarded(|| Ok(gpu::warnings::take()))
}

/// Checks a device string (`"cpu"`, `"cuda"`, `"cuda:N"`, `"gpu"`, `"auto"`), giving its
/// canonical spelling.
#[pyfunction]
fn parse_device(device: &str) -> PyResult<String> {
    guarded(|| Ok(device.parse::<Placement>().or_raise()?.to_string()))
}

pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(gpu_status, module)?)?;
    module.add_function(wrap_pyfunction!(take_warnings, module)?)?;
    module.add_function(wrap_pyfunction!(gpu_selftest, module)?)?;
    module.add_function(wrap_pyfunction!(parse_device, module)?)?;
    Ok(())
}

/// An optional device argument parsed.
pub fn placement(device: Option<&str>) -> PyResult<Option<Placement>> {
    device
        .map(|d| d.parse::<Placement>().or_raise())
        .transpose()
}
