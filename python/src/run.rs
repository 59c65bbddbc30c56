//! Running a query from Python: the GIL is released while it runs, and Ctrl-C cancels it
//! (raising `KeyboardInterrupt`) without harming the session.

use std::future::Future;

use corepy_engine::runtime::block_on_cancellable;
use corepy_planner::Result;
use pyo3::prelude::*;

use crate::errors::{guarded, OrRaise};

/// Runs `work` to completion with the GIL released, checking for signals meanwhile.
pub fn run_query<T: Send + 'static>(
    py: Python<'_>,
    work: impl Future<Output = Result<T>> + Send + 'static,
) -> PyResult<T> {
    guarded(|| {
        let outcome =
            py.detach(|| block_on_cancellable(work, || Python::attach(|py| py.check_signals())));
        outcome?.or_raise()
    })
}
