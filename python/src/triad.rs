//! STREAM's triad, `a = b + s·c` over f64, on a given number of threads: the memory-speed
//! ceiling that the benchmarks compare fused kernels with, measured in the same process and
//! interleaved with them (`bench/memory_speed.py`), because this host's bandwidth drifts
//! by tens of percent from minute to minute.

use std::time::Instant;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::errors::guarded;

/// Three arrays of `rows` f64, written once on creation (so no run pays page faults), and
/// the threads each run splits them over. Private (`_core._Triad`): a benchmark's
/// yardstick, not part of corepy's API.
#[pyclass(module = "corepy._core", name = "_Triad")]
pub struct Triad {
    a: Vec<f64>,
    b: Vec<f64>,
    c: Vec<f64>,
    threads: usize,
}

#[pymethods]
impl Triad {
    #[new]
    fn new(rows: usize, threads: usize) -> PyResult<Self> {
        guarded(|| {
            if rows == 0 || threads == 0 {
                return Err(PyValueError::new_err(
                    "_Triad needs at least one row and one thread",
                ));
            }
            Ok(Triad {
                a: vec![0.0; rows],
                b: vec![1.0; rows],
                c: vec![2.0; rows],
                threads,
            })
        })
    }

    /// The bytes one run names: two arrays read, one written (STREAM's convention).
    fn bytes(&self) -> PyResult<usize> {
        guarded(|| Ok(3 * std::mem::size_of::<f64>() * self.a.len()))
    }

    /// Runs the triad once; returns its wall time in seconds.
    fn run(&mut self, py: Python<'_>) -> PyResult<f64> {
        guarded(|| Ok(py.detach(|| triad(&mut self.a, &self.b, &self.c, 3.0, self.threads))))
    }
}

/// `a[i] = b[i] + s * c[i]`, each thread over one contiguous part; the wall time.
fn triad(a: &mut [f64], b: &[f64], c: &[f64], s: f64, threads: usize) -> f64 {
    let part = a.len().div_ceil(threads);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for ((a, b), c) in a.chunks_mut(part).zip(b.chunks(part)).zip(c.chunks(part)) {
            scope.spawn(move || {
                for ((a, b), c) in a.iter_mut().zip(b).zip(c) {
                    *a = b + s * c;
                }
            });
        }
    });
    started.elapsed().as_secs_f64()
}
