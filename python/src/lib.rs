//! The extension module `corepy._core`: thin, frozen pyclasses over the Rust crates.
//!
//! Every method is a few lines that convert arguments, call into `planner`, `engine` or
//! `sql`, and convert the result. Queries run with the GIL released and stop on Ctrl-C
//! ([`run`]); errors become the exception classes of `corepy.exceptions` ([`errors`]). The
//! typed, documented API users see is the pure-Python package around this module.

mod dataframe;
mod errors;
mod expr;
mod frame;
mod gpu;
mod run;
mod session;
mod tensor;
mod tools;
mod triad;

use pyo3::prelude::*;

#[pymodule]
fn _core(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<session::PySession>()?;
    module.add_class::<frame::PyLazyFrame>()?;
    module.add_class::<dataframe::PyDataFrame>()?;
    module.add_class::<expr::PyExpr>()?;
    module.add_function(wrap_pyfunction!(frame::concat, module)?)?;
    expr::register(module)?;
    tools::register(module)?;
    tensor::register(module)?;
    gpu::register(module)?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
