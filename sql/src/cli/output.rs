//! Writing a query result as a table, CSV, JSON or Parquet, to standard output or to a file
//! that appears only once complete.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use corepy_engine::QueryResult;
use corepy_planner::{CorepyError, Result};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::parquet::arrow::ArrowWriter;

use crate::explain::{format_explain, is_explain};

/// How the CLI prints a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A boxed text table (EXPLAIN results print as plan sections).
    Table,
    /// CSV with a header row.
    Csv,
    /// A JSON array of objects, one per row.
    Json,
    /// A Parquet file (needs --output).
    Parquet,
}

/// Writes `result` in `format` to `output`, or to `stdout` when there is no output file.
pub fn write_result(
    result: &QueryResult,
    format: OutputFormat,
    output: Option<&Path>,
    max_rows: usize,
    stdout: &mut (dyn Write + Send),
) -> Result<()> {
    match output {
        None if format == OutputFormat::Parquet => Err(CorepyError::invalid_argument(
            "--format parquet writes binary data; give a file with --output",
        )),
        None => write_to(result, format, max_rows, stdout),
        Some(path) => write_file_atomically(path, |file| write_to(result, format, max_rows, file)),
    }
}

fn write_to(
    result: &QueryResult,
    format: OutputFormat,
    max_rows: usize,
    out: &mut (dyn Write + Send),
) -> Result<()> {
    let io = |e: std::io::Error| CorepyError::file_format("", e.to_string());
    match format {
        OutputFormat::Table if is_explain(result) => {
            out.write_all(format_explain(result).as_bytes()).map_err(io)
        }
        OutputFormat::Table => write_table(result, max_rows, out),
        OutputFormat::Csv => {
            let mut writer = datafusion::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(out);
            for batch in &result.batches {
                writer.write(batch)?;
            }
            Ok(())
        }
        OutputFormat::Json => {
            let mut writer = datafusion::arrow::json::ArrayWriter::new(out);
            for batch in &result.batches {
                writer.write(batch)?;
            }
            writer.finish()?;
            Ok(())
        }
        OutputFormat::Parquet => {
            let mut writer = ArrowWriter::try_new(out, result.schema.clone(), None)
                .map_err(|e| CorepyError::internal(e.to_string()))?;
            for batch in &result.batches {
                writer
                    .write(batch)
                    .map_err(|e| CorepyError::internal(e.to_string()))?;
            }
            writer
                .close()
                .map_err(|e| CorepyError::internal(e.to_string()))?;
            Ok(())
        }
    }
}

/// A boxed table of the first `max_rows` rows and a line that counts them all.
fn write_table(result: &QueryResult, max_rows: usize, out: &mut (dyn Write + Send)) -> Result<()> {
    let total = result.num_rows();
    let shown = result.head(max_rows);
    let table = if shown.is_empty() {
        pretty_format_batches(&[RecordBatch::new_empty(result.schema.clone())])?
    } else {
        pretty_format_batches(&shown)?
    };
    let rows = if total == 1 {
        "1 row".to_string()
    } else {
        format!("{total} rows")
    };
    let footer = if total > max_rows {
        format!(
            "{rows} ({max_rows} shown), {} columns",
            result.schema.fields().len()
        )
    } else {
        format!("{rows}, {} columns", result.schema.fields().len())
    };
    writeln!(out, "{table}\n{footer}").map_err(|e| CorepyError::file_format("", e.to_string()))
}

/// Writes through `write` into a temporary file beside `path`, then renames it into place:
/// a failed or interrupted write leaves no partial file behind.
fn write_file_atomically(
    path: &Path,
    write: impl FnOnce(&mut (dyn Write + Send)) -> Result<()>,
) -> Result<()> {
    let name = path.display().to_string();
    let io = |e: std::io::Error| CorepyError::file_format(name.clone(), e.to_string());
    let partial = partial_path(path);
    let outcome = (|| {
        let mut file = BufWriter::new(File::create(&partial).map_err(io)?);
        write(&mut file)?;
        file.flush().map_err(io)?;
        file.get_ref().sync_all().map_err(io)?;
        std::fs::rename(&partial, path).map_err(io)
    })();
    if outcome.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    outcome.map_err(|error| match error {
        CorepyError::FileFormat { path: p, message } if p.is_empty() => {
            CorepyError::file_format(name.clone(), message)
        }
        other => other,
    })
}

fn partial_path(path: &Path) -> PathBuf {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{file_name}.partial-{}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    fn result(rows: i64) -> QueryResult {
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(Int64Array::from_iter_values(0..rows))],
        )
        .unwrap();
        QueryResult {
            schema,
            batches: vec![batch],
        }
    }

    #[test]
    fn table_shows_at_most_max_rows() {
        let mut out = Vec::new();
        write_result(&result(100), OutputFormat::Table, None, 3, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("100 rows (3 shown), 1 columns"), "{text}");
        assert!(!text.contains("| 3 "), "{text}");
    }

    #[test]
    fn csv_and_json() {
        let mut out = Vec::new();
        write_result(&result(2), OutputFormat::Csv, None, 40, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "x\n0\n1\n");
        let mut out = Vec::new();
        write_result(&result(2), OutputFormat::Json, None, 40, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), r#"[{"x":0},{"x":1}]"#);
    }

    #[test]
    fn parquet_needs_an_output_file() {
        let mut out = Vec::new();
        let error =
            write_result(&result(2), OutputFormat::Parquet, None, 40, &mut out).unwrap_err();
        assert!(error.to_string().contains("--output"));
    }

    #[test]
    fn output_file_is_complete_or_absent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.parquet");
        write_result(
            &result(5),
            OutputFormat::Parquet,
            Some(&path),
            40,
            &mut Vec::new(),
        )
        .unwrap();
        assert!(path.exists());
        let failed =
            write_file_atomically(&dir.path().join("bad.csv"), |_| Err(CorepyError::Cancelled));
        assert!(failed.is_err());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["out.parquet"]);
    }
}
