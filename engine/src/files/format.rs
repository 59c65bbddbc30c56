//! File formats corepy reads, recognised by extension or named by the caller.

use std::path::Path;
use std::sync::Arc;

use corepy_planner::{CorepyError, Result};
use datafusion::datasource::file_format::arrow::ArrowFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::file_format::FileFormat;

/// A readable file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Parquet,
    /// Arrow IPC file format (Feather v2): `.arrow`, `.feather`, `.ipc`.
    Ipc,
    Csv,
    /// Newline-delimited JSON, one object per line: `.json`, `.jsonl`, `.ndjson`.
    Json,
}

/// How CSV files are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    pub has_header: bool,
    pub delimiter: u8,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            has_header: true,
            delimiter: b',',
        }
    }
}

impl FileKind {
    /// The format a file extension stands for, if corepy knows it.
    pub fn from_extension(path: &Path) -> Option<Self> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "parquet" | "parq" | "pq" => Some(Self::Parquet),
            "arrow" | "feather" | "ipc" => Some(Self::Ipc),
            "csv" | "tsv" => Some(Self::Csv),
            "json" | "jsonl" | "ndjson" => Some(Self::Json),
            _ => None,
        }
    }

    /// The format of `path` from its extension, or an error that says how to name it.
    pub fn detect(path: &Path) -> Result<Self> {
        Self::from_extension(path).ok_or_else(|| {
            CorepyError::file_format(
                path.display().to_string(),
                "cannot tell its format from the extension; use .parquet, .arrow/.feather/.ipc, \
                 .csv or .json/.jsonl/.ndjson, or read it with scan_parquet, scan_ipc, \
                 scan_csv or scan_ndjson",
            )
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Parquet => "Parquet",
            Self::Ipc => "Arrow IPC",
            Self::Csv => "CSV",
            Self::Json => "NDJSON",
        }
    }

    /// DataFusion's reader for this format.
    pub fn file_format(self, csv: &CsvOptions) -> Arc<dyn FileFormat> {
        match self {
            Self::Parquet => Arc::new(ParquetFormat::default()),
            Self::Ipc => Arc::new(ArrowFormat),
            Self::Csv => Arc::new(
                CsvFormat::default()
                    .with_has_header(csv.has_header)
                    .with_delimiter(csv.delimiter),
            ),
            Self::Json => Arc::new(JsonFormat::default()),
        }
    }

    /// Whether column types are guessed from the values (per file), rather than stored.
    pub fn infers_types(self) -> bool {
        matches!(self, Self::Csv | Self::Json)
    }
}

/// CSV options for `path`: tab-separated for `.tsv`, `base` otherwise.
pub fn csv_options_for(path: &Path, base: &CsvOptions) -> CsvOptions {
    let is_tsv = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
    if is_tsv && base.delimiter == b',' {
        CsvOptions {
            delimiter: b'\t',
            ..base.clone()
        }
    } else {
        base.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions() {
        assert_eq!(
            FileKind::from_extension(Path::new("a/b.PARQUET")),
            Some(FileKind::Parquet)
        );
        assert_eq!(
            FileKind::from_extension(Path::new("x.feather")),
            Some(FileKind::Ipc)
        );
        assert_eq!(
            FileKind::from_extension(Path::new("x.tsv")),
            Some(FileKind::Csv)
        );
        assert_eq!(
            FileKind::from_extension(Path::new("x.ndjson")),
            Some(FileKind::Json)
        );
        assert_eq!(FileKind::from_extension(Path::new("x.txt")), None);
        assert!(FileKind::detect(Path::new("x")).is_err());
    }

    #[test]
    fn tsv_is_tab_separated() {
        let options = csv_options_for(Path::new("x.tsv"), &CsvOptions::default());
        assert_eq!(options.delimiter, b'\t');
    }
}
