//! The `corepy` command line.
//!
//! ```text
//! corepy sql "SELECT … FROM 'data/lineitem.parquet'" [--format table|csv|json|parquet] [--output FILE]
//! corepy sql "EXPLAIN [ANALYZE|VERBOSE] SELECT …"
//! corepy gen tpch --scale 0.1 --output data/tpch
//! ```
//!
//! The same code runs as the Rust binary and behind the Python package's `corepy` script.

mod output;

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use corepy_engine::runtime::block_on_cancellable;
use corepy_engine::{Session, SessionOptions};
use corepy_planner::{CorepyError, Result};

pub use output::OutputFormat;

#[derive(Debug, Parser)]
#[command(
    name = "corepy",
    version,
    about = "corepy: compiled, fused, explained queries over Arrow, Parquet and CSV files"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run one SQL statement; quoted file paths and globs are tables.
    Sql {
        /// The statement, e.g. "SELECT count(*) FROM 'data/lineitem.parquet'".
        query: String,
        /// How to print the result.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
        /// Write the result to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Rows shown by the table format (the rest are counted).
        #[arg(long, default_value_t = 40)]
        max_rows: usize,
    },
    /// Generate benchmark data.
    Gen {
        #[command(subcommand)]
        dataset: Dataset,
    },
}

#[derive(Debug, Subcommand)]
enum Dataset {
    /// The eight TPC-H tables as Parquet files.
    Tpch {
        /// The TPC-H scale factor (1 ≈ 1 GB of raw data).
        #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
        scale: f64,
        /// The directory to write `<table>.parquet` into.
        #[arg(long, short)]
        output: PathBuf,
    },
}

/// Runs the command line `args` (program name first). Results go to `stdout`, messages to
/// `stderr`. `interrupted` is polled while a query runs; when it returns true the query is
/// cancelled. Returns the process exit code: 0 success, 1 error, 2 usage, 130 interrupted.
pub fn run(
    args: Vec<String>,
    stdout: &mut (dyn Write + Send),
    stderr: &mut dyn Write,
    interrupted: &mut dyn FnMut() -> bool,
) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let code = error.exit_code();
            let text = error.render().to_string();
            let _ = if code == 0 {
                stdout.write_all(text.as_bytes())
            } else {
                stderr.write_all(text.as_bytes())
            };
            return code;
        }
    };
    match execute(cli, stdout, stderr, interrupted) {
        Ok(()) => 0,
        Err(CorepyError::Cancelled) => {
            let _ = writeln!(stderr, "interrupted");
            130
        }
        Err(error) => {
            let _ = writeln!(stderr, "error: {error}");
            1
        }
    }
}

fn execute(
    cli: Cli,
    stdout: &mut (dyn Write + Send),
    stderr: &mut dyn Write,
    interrupted: &mut dyn FnMut() -> bool,
) -> Result<()> {
    match cli.command {
        Command::Sql {
            query,
            format,
            output,
            max_rows,
        } => {
            let session = Session::new(SessionOptions::default())?;
            let work = async move {
                let plan = crate::plan_sql(&session, &query).await?;
                session.collect(&plan).await
            };
            let result = block_on_cancellable(work, || {
                if interrupted() {
                    Err(CorepyError::Cancelled)
                } else {
                    Ok(())
                }
            })
            .unwrap_or_else(Err)?;
            output::write_result(&result, format, output.as_deref(), max_rows, stdout)
        }
        Command::Gen {
            dataset: Dataset::Tpch { scale, output },
        } => {
            let started = std::time::Instant::now();
            let written = crate::tpch::generate(scale, &output)?;
            for table in &written {
                let _ = writeln!(stderr, "{:>10} rows  {}", table.rows, table.path.display());
            }
            let _ = writeln!(
                stderr,
                "TPC-H scale {scale} written to {} in {:.1} s",
                output.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &[&str]) -> (i32, String, String) {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let args = std::iter::once("corepy")
            .chain(args.iter().copied())
            .map(String::from)
            .collect();
        let code = run(args, &mut out, &mut err, &mut || false);
        (
            code,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn sql_prints_a_table() {
        let (code, out, _) = cli(&["sql", "SELECT 1 AS one, 'x' AS s"]);
        assert_eq!(code, 0);
        assert!(out.contains("| one | s |"), "{out}");
        assert!(out.contains("1 row"), "{out}");
    }

    #[test]
    fn explain_prints_plan_sections() {
        let (code, out, _) = cli(&["sql", "EXPLAIN SELECT 1 AS one"]);
        assert_eq!(code, 0);
        assert!(out.contains("== logical_plan =="), "{out}");
        assert!(out.contains("== physical_plan =="), "{out}");
    }

    #[test]
    fn errors_exit_with_one_and_a_message() {
        let (code, _, err) = cli(&["sql", "SELECT * FROM 'missing.parquet'"]);
        assert_eq!(code, 1);
        assert!(err.contains("missing.parquet"), "{err}");
    }

    #[test]
    fn usage_errors_exit_with_two() {
        let (code, _, err) = cli(&["sql"]);
        assert_eq!(code, 2);
        assert!(err.contains("Usage"), "{err}");
    }

    #[test]
    fn interruption_cancels_and_exits_with_130() {
        let (code, _, err) = {
            let mut out = Vec::new();
            let mut err = Vec::new();
            let args = [
                "corepy",
                "sql",
                "SELECT count(*) FROM generate_series(1, 10000000000) AS a(x) WHERE x % 7 = 3",
            ]
            .map(String::from)
            .to_vec();
            let code = run(args, &mut out, &mut err, &mut || true);
            (code, out, String::from_utf8(err).unwrap())
        };
        assert_eq!(code, 130);
        assert!(err.contains("interrupted"));
    }
}
