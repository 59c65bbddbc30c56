//! File formats corepy reads, recognised by extension or named by the caller.

use std::path::Path;
use std::sync::Arc;

use corepy_planner::{CorepyError, Result};
use datafusion::arrow::datatypes::SchemaRef;

use super::compression::Compression;
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

/// How text files are read: CSV's header and delimiter, and for CSV and NDJSON the column
/// types the caller gives instead of the guessed ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    pub has_header: bool,
    pub delimiter: u8,
    /// Every column, in file order: names and types (Polars' `schema=`); nothing is guessed.
    pub schema: Option<SchemaRef>,
    /// Some columns' types, by name (Polars' `schema_overrides=`); the rest are guessed.
    pub overrides: Option<SchemaRef>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            has_header: true,
            delimiter: b',',
            schema: None,
            overrides: None,
        }
    }
}

impl FileKind {
    /// The format a file extension stands for, if corepy knows it; a compression extension
    /// is looked through (`t.csv.gz` is CSV).
    pub fn from_extension(path: &Path) -> Option<Self> {
        let name = path.to_string_lossy();
        let (_, uncompressed) = Compression::of_path(&name);
        let extension = Path::new(uncompressed)
            .extension()?
            .to_str()?
            .to_ascii_lowercase();
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
                 .csv or .json/.jsonl/.ndjson (CSV and NDJSON may end in .gz, .bz2, .xz or \
                 .zst), or read it with scan_parquet, scan_ipc, scan_csv or scan_ndjson",
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

    /// DataFusion's reader for this format, decompressing `compression`; binary formats
    /// compress inside the file, so a whole-file codec on them is refused, naming `path`.
    pub fn file_format(
        self,
        csv: &CsvOptions,
        compression: Compression,
        path: &str,
    ) -> Result<Arc<dyn FileFormat>> {
        let codec = compression.file_compression_type();
        Ok(match self {
            Self::Csv => Arc::new(
                CsvFormat::default()
                    .with_has_header(csv.has_header)
                    .with_delimiter(csv.delimiter)
                    .with_file_compression_type(codec),
            ),
            Self::Json => Arc::new(JsonFormat::default().with_file_compression_type(codec)),
            _ if compression.is_compressed() => {
                return Err(CorepyError::file_format(
                    path,
                    format!(
                        "a {} file cannot be {}-compressed as a whole (it compresses its own \
                         pages or buffers); decompress it first",
                        self.name(),
                        compression.name()
                    ),
                ))
            }
            Self::Parquet => Arc::new(ParquetFormat::default()),
            Self::Ipc => Arc::new(ArrowFormat),
        })
    }

    /// Whether column types are guessed from the values (per file), rather than stored.
    pub fn infers_types(self) -> bool {
        matches!(self, Self::Csv | Self::Json)
    }
}

/// CSV options for `path`: tab-separated for `.tsv` (and `.tsv.gz`, …), `base` otherwise.
pub fn csv_options_for(path: &Path, base: &CsvOptions) -> CsvOptions {
    let name = path.to_string_lossy();
    let is_tsv = Path::new(Compression::of_path(&name).1)
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
        assert_eq!(
            FileKind::from_extension(Path::new("x.csv.gz")),
            Some(FileKind::Csv)
        );
        assert_eq!(
            FileKind::from_extension(Path::new("x.jsonl.zst")),
            Some(FileKind::Json)
        );
        assert_eq!(FileKind::from_extension(Path::new("x.gz")), None);
        assert_eq!(FileKind::from_extension(Path::new("x.txt")), None);
        assert!(FileKind::detect(Path::new("x")).is_err());
    }

    #[test]
    fn tsv_is_tab_separated() {
        let options = csv_options_for(Path::new("x.tsv"), &CsvOptions::default());
        assert_eq!(options.delimiter, b'\t');
    }
}
