//! Runs the SQL logic tests in `tests/sql/*.slt` against a corepy session.
//!
//! TPC-H at scale 0.01 is generated once into a temporary directory; test files name it as
//! `${TPCH}` (with `control substitution on`); `${SCRATCH}` is an empty directory of each
//! run's own, for the files a test writes. `cargo test --test slt -- FILTER` runs only
//! the files whose name contains FILTER; `COREPY_SLT_COMPLETE=1` rewrites their expected
//! results from what corepy returns (review the diff before committing it).
//!
//! Every file runs twice: with the JIT on (label `jit`) and off (label `nojit`); a record
//! that differs between the two, such as a plan, is written once per mode under
//! `onlyif jit` / `onlyif nojit`.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use corepy_engine::{Session, SessionOptions};
use corepy_planner::CorepyError;
use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType};

struct CorepyDb {
    session: Session,
    /// The TPC-H directory, shown as `${TPCH}` in results so that plans are reproducible.
    tpch_dir: String,
}

#[derive(Debug)]
struct SltError(CorepyError);

impl std::fmt::Display for SltError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SltError {}

#[async_trait]
impl AsyncDB for CorepyDb {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        let plan = corepy_sql::plan_sql(&self.session, sql)
            .await
            .map_err(SltError)?;
        let result = self.session.collect(&plan).await.map_err(SltError)?;
        if result.schema.fields().is_empty() {
            return Ok(DBOutput::StatementComplete(0));
        }
        let types = result
            .schema
            .fields()
            .iter()
            .map(|f| column_type(f.data_type()))
            .collect();
        let mut rows = Vec::new();
        for batch in &result.batches {
            rows.extend(batch_rows(batch).map_err(SltError)?.into_iter().map(|row| {
                row.into_iter()
                    .map(|value| {
                        value
                            .replace(&self.tpch_dir, "${TPCH}")
                            .replace(self.tpch_dir.trim_start_matches('/'), "${TPCH}")
                    })
                    .collect()
            }));
        }
        Ok(DBOutput::Rows {
            types,
            rows: split_multiline(rows),
        })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "corepy"
    }
}

fn column_type(data_type: &DataType) -> DefaultColumnType {
    if data_type.is_integer() {
        DefaultColumnType::Integer
    } else if data_type.is_floating() || matches!(data_type, DataType::Decimal128(..)) {
        DefaultColumnType::FloatingPoint
    } else if matches!(
        data_type,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    ) {
        DefaultColumnType::Text
    } else {
        DefaultColumnType::Any
    }
}

/// Values as text: NULL for nulls, (empty) for empty strings, Arrow's display otherwise.
fn batch_rows(batch: &RecordBatch) -> Result<Vec<Vec<String>>, CorepyError> {
    let options = FormatOptions::default();
    let formatters = batch
        .columns()
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((0..batch.num_rows())
        .map(|row| {
            batch
                .columns()
                .iter()
                .zip(&formatters)
                .map(|(column, formatter)| {
                    if column.is_null(row) {
                        "NULL".to_string()
                    } else {
                        // Plans end in a newline, which an .slt file cannot express.
                        let text = formatter.value(row).to_string().trim_end().to_string();
                        if text.is_empty() {
                            "(empty)".to_string()
                        } else {
                            text
                        }
                    }
                })
                .collect()
        })
        .collect())
}

/// A row whose values span several lines (plans) becomes one row per line, as written in
/// the .slt file; the validator compares rows line by line.
fn split_multiline(rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    rows.into_iter()
        .flat_map(|row| {
            if row.iter().any(|value| value.contains('\n')) {
                row.join(" ")
                    .lines()
                    .map(|line| vec![line.to_string()])
                    .collect()
            } else {
                vec![row]
            }
        })
        .collect()
}

fn slt_files(filter: Option<&str>) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/sql");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .filter(|p| filter.is_none_or(|f| p.to_string_lossy().contains(f)))
        .collect();
    files.sort();
    files
}

/// Runs (or, with `COREPY_SLT_COMPLETE`, completes) one file with the JIT on or off.
fn run_file(
    runtime: &tokio::runtime::Runtime,
    file: &Path,
    tpch: &str,
    jit: bool,
) -> Result<(), String> {
    let tpch_dir = tpch.to_string();
    let mut runner = sqllogictest::Runner::new(move || {
        let tpch_dir = tpch_dir.clone();
        async move {
            Ok(CorepyDb {
                session: Session::new(SessionOptions {
                    target_partitions: Some(2),
                    jit: Some(jit),
                    ..Default::default()
                })
                .map_err(SltError)?,
                tpch_dir,
            })
        }
    });
    runner.add_label(if jit { "jit" } else { "nojit" });
    runner.set_var("TPCH".to_string(), tpch.to_string());
    let scratch = tempfile::tempdir().map_err(|e| format!("no scratch directory: {e}"))?;
    runner.set_var("SCRATCH".to_string(), scratch.path().display().to_string());
    if std::env::var_os("COREPY_SLT_COMPLETE").is_some() {
        // Rewrites the expected results from what corepy returns: review the diff!
        return runtime
            .block_on(runner.update_test_file(
                file,
                " ",
                sqllogictest::default_validator,
                sqllogictest::default_normalizer,
                sqllogictest::strict_column_validator,
            ))
            .map_err(|e| format!("cannot complete {}: {e}", file.display()));
    }
    runtime
        .block_on(runner.run_file_async(file))
        .map_err(|e| e.to_string())
}

fn main() {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let data = tempfile::tempdir().expect("temporary directory");
    corepy_sql::tpch::generate(0.01, data.path()).expect("TPC-H generation");
    let tpch = data.path().display().to_string();

    let runtime = corepy_engine::runtime::runtime();
    let files = slt_files(filter.as_deref());
    let mut failures = Vec::new();
    let mut runs = 0;
    for file in &files {
        for jit in [true, false] {
            runs += 1;
            let name = format!(
                "{} ({})",
                file.file_name().unwrap().to_string_lossy(),
                if jit { "jit" } else { "nojit" }
            );
            if let Err(error) = run_file(runtime, file, &tpch, jit) {
                println!("test {name} ... FAILED\n{error}");
                failures.push(name);
            } else {
                println!("test {name} ... ok");
            }
        }
    }
    let passed = runs - failures.len();
    println!(
        "\ntest result: {}. {passed} passed; {} failed; 0 ignored; 0 measured; 0 filtered out",
        if failures.is_empty() { "ok" } else { "FAILED" },
        failures.len()
    );
    if !failures.is_empty() {
        std::process::exit(1);
    }
}
