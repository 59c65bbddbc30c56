//! Writing a query's result to one file, atomically: the batches stream into a temporary
//! file beside the target, which replaces the target only once the query and the writer
//! have finished. A failed query, a full disk or a cancelled call leave no file behind (and
//! an existing target untouched).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use corepy_planner::{CorepyError, Result};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::csv::WriterBuilder as CsvWriterBuilder;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::writer::FileWriter as IpcWriter;
use datafusion::arrow::json::LineDelimitedWriter as JsonLinesWriter;
use datafusion::logical_expr::LogicalPlan;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression as ParquetCodec, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::physical_plan::execute_stream;
use futures::StreamExt;

use crate::files::Compression;
use crate::session::Session;

/// The format of a written file, with its options.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteFormat {
    Parquet {
        compression: ParquetCompression,
    },
    Ipc,
    Csv {
        header: bool,
        delimiter: u8,
        compression: Compression,
    },
    /// Newline-delimited JSON: one object per row.
    Json {
        compression: Compression,
    },
}

/// Parquet page compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParquetCompression {
    Zstd,
    Snappy,
    Uncompressed,
}

impl ParquetCompression {
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "zstd" => Ok(Self::Zstd),
            "snappy" => Ok(Self::Snappy),
            "uncompressed" => Ok(Self::Uncompressed),
            other => Err(CorepyError::invalid_argument(format!(
                "unknown Parquet compression '{other}'; use zstd, snappy or uncompressed"
            ))),
        }
    }

    fn codec(self) -> ParquetCodec {
        match self {
            Self::Zstd => ParquetCodec::ZSTD(ZstdLevel::default()),
            Self::Snappy => ParquetCodec::SNAPPY,
            Self::Uncompressed => ParquetCodec::UNCOMPRESSED,
        }
    }
}

impl Session {
    /// Runs `plan` and writes its result to `path`; returns the number of rows written.
    pub async fn write(
        &self,
        plan: &LogicalPlan,
        path: &Path,
        format: &WriteFormat,
    ) -> Result<u64> {
        let temporary = TemporaryFile::beside(path)?;
        let physical = self.physical_plan(plan).await?;
        let schema = physical.schema();
        let file = temporary.open()?;
        let mut writer = BatchWriter::new(file, schema, format).map_err(|e| io_error(path, e))?;
        let mut stream = execute_stream(physical, self.context().task_ctx())?;
        let mut rows = 0u64;
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(CorepyError::from)?;
            rows += batch.num_rows() as u64;
            writer.write(&batch).map_err(|e| io_error(path, e))?;
        }
        writer.finish().map_err(|e| io_error(path, e))?;
        temporary.commit(path)?;
        Ok(rows)
    }
}

/// One of the four writers, behind one interface.
enum BatchWriter {
    Parquet(ArrowWriter<BufWriter<File>>),
    Ipc(IpcWriter<BufWriter<File>>),
    // Boxed: a codec's state is large, and the enum is as large as its largest variant.
    Csv(Box<datafusion::arrow::csv::Writer<Encoder>>),
    Json(Box<JsonLinesWriter<Encoder>>),
}

type WriteResult<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

impl BatchWriter {
    fn new(file: File, schema: SchemaRef, format: &WriteFormat) -> WriteResult<Self> {
        let out = BufWriter::with_capacity(1 << 20, file);
        Ok(match format {
            WriteFormat::Parquet { compression } => {
                let properties = WriterProperties::builder()
                    .set_compression(compression.codec())
                    .build();
                BatchWriter::Parquet(ArrowWriter::try_new(out, schema, Some(properties))?)
            }
            WriteFormat::Ipc => BatchWriter::Ipc(IpcWriter::try_new(out, &schema)?),
            WriteFormat::Csv {
                header,
                delimiter,
                compression,
            } => BatchWriter::Csv(Box::new(
                CsvWriterBuilder::new()
                    .with_header(*header)
                    .with_delimiter(*delimiter)
                    .build(Encoder::new(out, *compression)?),
            )),
            WriteFormat::Json { compression } => BatchWriter::Json(Box::new(JsonLinesWriter::new(
                Encoder::new(out, *compression)?,
            ))),
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> WriteResult<()> {
        match self {
            BatchWriter::Parquet(w) => w.write(batch)?,
            BatchWriter::Ipc(w) => w.write(batch)?,
            BatchWriter::Csv(w) => w.write(batch)?,
            BatchWriter::Json(w) => w.write(batch)?,
        }
        Ok(())
    }

    /// Writes the footer, flushes and syncs the file to disk.
    fn finish(self) -> WriteResult<()> {
        let out = match self {
            BatchWriter::Parquet(w) => w.into_inner()?,
            BatchWriter::Ipc(mut w) => {
                w.finish()?;
                w.into_inner()?
            }
            BatchWriter::Csv(w) => (*w).into_inner().finish()?,
            BatchWriter::Json(mut w) => {
                w.finish()?;
                (*w).into_inner().finish()?
            }
        };
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok(())
    }
}

/// A text file's bytes on their way to disk, compressed as asked (the codecs DataFusion
/// reads them back with).
enum Encoder {
    Plain(BufWriter<File>),
    Gzip(flate2::write::GzEncoder<BufWriter<File>>),
    Bzip2(bzip2::write::BzEncoder<BufWriter<File>>),
    Xz(liblzma::write::XzEncoder<BufWriter<File>>),
    Zstd(zstd::Encoder<'static, BufWriter<File>>),
}

impl Encoder {
    fn new(out: BufWriter<File>, compression: Compression) -> std::io::Result<Self> {
        Ok(match compression {
            Compression::None => Self::Plain(out),
            Compression::Gzip => Self::Gzip(flate2::write::GzEncoder::new(
                out,
                flate2::Compression::default(),
            )),
            Compression::Bzip2 => Self::Bzip2(bzip2::write::BzEncoder::new(
                out,
                bzip2::Compression::default(),
            )),
            Compression::Xz => Self::Xz(liblzma::write::XzEncoder::new(out, 6)),
            Compression::Zstd => Self::Zstd(zstd::Encoder::new(out, 3)?),
        })
    }

    /// Writes the codec's trailer; the buffered file is then ready to sync.
    fn finish(self) -> std::io::Result<BufWriter<File>> {
        match self {
            Self::Plain(out) => Ok(out),
            Self::Gzip(encoder) => encoder.finish(),
            Self::Bzip2(encoder) => encoder.finish(),
            Self::Xz(encoder) => encoder.finish(),
            Self::Zstd(encoder) => encoder.finish(),
        }
    }

    fn inner(&mut self) -> &mut dyn Write {
        match self {
            Self::Plain(out) => out,
            Self::Gzip(encoder) => encoder,
            Self::Bzip2(encoder) => encoder,
            Self::Xz(encoder) => encoder,
            Self::Zstd(encoder) => encoder,
        }
    }
}

impl Write for Encoder {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.inner().write(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner().flush()
    }
}

fn io_error(path: &Path, error: impl std::fmt::Display) -> CorepyError {
    CorepyError::invalid_argument(format!("cannot write '{}': {error}", path.display()))
}

/// A file next to the target that is removed on drop unless committed (renamed over the
/// target): an error or a cancelled query drops it.
struct TemporaryFile {
    path: PathBuf,
    committed: bool,
}

impl TemporaryFile {
    /// Checks that `target` can be written, and names a temporary file in its directory
    /// (same file system, so the final rename is atomic).
    fn beside(target: &Path) -> Result<Self> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = target.file_name().ok_or_else(|| {
            CorepyError::invalid_argument(format!(
                "cannot write '{}': not a file name",
                target.display()
            ))
        })?;
        if target.is_dir() {
            return Err(CorepyError::invalid_argument(format!(
                "cannot write '{}': it is a directory",
                target.display()
            )));
        }
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !parent.is_dir() {
            return Err(CorepyError::PathNotFound {
                path: format!(
                    "{} (the directory to write '{}' in)",
                    parent.display(),
                    target.display()
                ),
            });
        }
        let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
        let temporary = format!(
            ".{}.{}-{unique}.corepy-partial",
            name.to_string_lossy(),
            std::process::id()
        );
        Ok(TemporaryFile {
            path: parent.join(temporary),
            committed: false,
        })
    }

    fn open(&self) -> Result<File> {
        File::create(&self.path).map_err(|e| {
            let dir = self.path.parent().unwrap_or(Path::new("."));
            CorepyError::invalid_argument(format!("cannot write in '{}': {e}", dir.display()))
        })
    }

    fn commit(mut self, target: &Path) -> Result<()> {
        std::fs::rename(&self.path, target).map_err(|e| io_error(target, e))?;
        self.committed = true;
        // The rename is durable once the directory entry is.
        if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(())
    }
}

impl Drop for TemporaryFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
