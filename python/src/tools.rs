//! Module-level tools: the `corepy` command line, TPC-H generation and the benchmarks' triad.

use std::path::PathBuf;

use pyo3::prelude::*;

use crate::errors::{guarded, OrRaise};

/// Runs the `corepy` command line with `argv` (program name first); returns the exit code.
/// Ctrl-C cancels a running query (exit code 130).
#[pyfunction]
fn run_cli(py: Python<'_>, argv: Vec<String>) -> PyResult<i32> {
    guarded(|| {
        Ok(py.detach(|| {
            let mut interrupted = || Python::attach(|py| py.check_signals().is_err());
            corepy_sql::cli::run(
                argv,
                &mut std::io::stdout(),
                &mut std::io::stderr(),
                &mut interrupted,
            )
        }))
    })
}

/// Writes the eight TPC-H tables at `scale` as `<output>/<table>.parquet`; returns
/// `(table, rows, path)` for each.
#[pyfunction]
fn gen_tpch(py: Python<'_>, scale: f64, output: PathBuf) -> PyResult<Vec<(String, usize, String)>> {
    guarded(|| {
        let written = py
            .detach(|| corepy_sql::tpch::generate(scale, &output))
            .or_raise()?;
        Ok(written
            .into_iter()
            .map(|t| (t.table.to_string(), t.rows, t.path.display().to_string()))
            .collect())
    })
}

pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(run_cli, module)?)?;
    module.add_function(wrap_pyfunction!(gen_tpch, module)?)?;
    module.add_class::<crate::triad::Triad>()?;
    Ok(())
}
