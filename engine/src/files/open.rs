//! Opening a path or glob as a table, with checks that name the offending file.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use corepy_planner::{CorepyError, Result};
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::{Session as CatalogSession, TableProvider};
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::object_store::path::Path as StorePath;
use datafusion::object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};

use super::format::{csv_options_for, CsvOptions, FileKind};
use super::hive::partitioned_files;
use super::resolve::{absolute, resolve_files};

/// Opens `path` (a file, a glob, or a directory: every file under it, with Hive partition
/// columns from `key=value` directories) as a table. `kind` forces a format; without it the
/// extension decides. Every file is checked before any query runs: it must be non-empty,
/// readable as its format, and of the same schema as the other files of the glob.
pub async fn open_table(
    state: &dyn CatalogSession,
    path: &str,
    kind: Option<FileKind>,
    csv: &CsvOptions,
) -> Result<Arc<dyn TableProvider>> {
    let directory = Path::new(path).is_dir();
    let (files, partitions) = if directory {
        let found = partitioned_files(Path::new(path))?;
        let files = found
            .files
            .iter()
            .map(|f| absolute(f))
            .collect::<Result<Vec<_>>>()?;
        (files, found.columns)
    } else {
        (resolve_files(path)?, Vec::new())
    };
    let kind = match kind {
        Some(kind) => kind,
        None => common_kind(path, &files)?,
    };
    let csv = csv_options_for(&files[0], csv);
    let format = kind.file_format(&csv);
    let store = state
        .runtime_env()
        .object_store(ObjectStoreUrl::local_filesystem())?;

    let mut metas = Vec::with_capacity(files.len());
    let mut schemas: Vec<(PathBuf, SchemaRef)> = Vec::with_capacity(files.len());
    for file in &files {
        check_file(file, kind)?;
        let meta = object_meta(store.as_ref(), file).await?;
        let schema = format
            .infer_schema(state, &store, std::slice::from_ref(&meta))
            .await
            .map_err(|e| with_path(file, kind, e.into()))?;
        schemas.push((file.clone(), schema));
        metas.push(meta);
    }
    check_same_schema(path, kind, &schemas)?;
    let schema = if kind.infers_types() && metas.len() > 1 {
        // CSV and JSON types are guessed per file; the union of the guesses fits every file.
        format
            .infer_schema(state, &store, &metas)
            .await
            .map_err(|e| with_path(Path::new(path), kind, e.into()))?
    } else {
        merged(&schemas)?
    };

    let config = if directory {
        directory_config(path, &files, format, partitions)?
    } else {
        let urls = files
            .iter()
            .map(|f| ListingTableUrl::parse(f.to_string_lossy()))
            .collect::<datafusion::common::Result<Vec<_>>>()?;
        let options = ListingOptions::new(format).with_file_extension("");
        ListingTableConfig::new_with_multi_paths(urls).with_listing_options(options)
    };
    Ok(Arc::new(ListingTable::try_new(config.with_schema(schema))?))
}

/// A directory's table: its files (of one extension) and its partition columns.
fn directory_config(
    path: &str,
    files: &[PathBuf],
    format: Arc<dyn datafusion::datasource::file_format::FileFormat>,
    partitions: Vec<(String, datafusion::arrow::datatypes::DataType)>,
) -> Result<ListingTableConfig> {
    let extension = |f: &PathBuf| {
        f.extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default()
    };
    let first = extension(&files[0]);
    if let Some(other) = files.iter().find(|f| extension(f) != first) {
        return Err(CorepyError::file_format(
            path,
            format!(
                "its files have different extensions: '{}' and '{}'",
                files[0].display(),
                other.display()
            ),
        ));
    }
    let root = absolute(Path::new(path))?;
    let url = ListingTableUrl::parse(format!("{}/", root.to_string_lossy().trim_end_matches('/')))?;
    let options = ListingOptions::new(format)
        .with_file_extension(first)
        .with_table_partition_cols(partitions);
    Ok(ListingTableConfig::new(url).with_listing_options(options))
}

/// The one format all matched files share.
fn common_kind(pattern: &str, files: &[PathBuf]) -> Result<FileKind> {
    let first = FileKind::detect(&files[0])?;
    for file in &files[1..] {
        if FileKind::detect(file)? != first {
            return Err(CorepyError::file_format(
                pattern,
                format!(
                    "it matches files of different formats: '{}' and '{}'",
                    files[0].display(),
                    file.display()
                ),
            ));
        }
    }
    Ok(first)
}

async fn object_meta(store: &dyn ObjectStore, file: &Path) -> Result<ObjectMeta> {
    let location = StorePath::from_absolute_path(file)
        .map_err(|e| CorepyError::file_format(file.display().to_string(), e.to_string()))?;
    store
        .head(&location)
        .await
        .map_err(|e| CorepyError::file_format(file.display().to_string(), e.to_string()))
}

/// A CSV file whose last quoted field never closes: the CSV reader would take the rest of
/// the file as that one field (silently dropping every row after it), so it is refused,
/// naming the line the quote opens on. One pass over the file, at memory speed (the reader
/// then finds it in the page cache). A doubled quote inside a quoted field toggles twice.
fn check_csv_quotes(file: &Path, mut handle: std::fs::File) -> Result<()> {
    let name = file.display().to_string();
    let mut buffer = vec![0u8; 1 << 20];
    let (mut quoted, mut line, mut opened_on) = (false, 1u64, 0u64);
    loop {
        let read = handle
            .read(&mut buffer)
            .map_err(|e| CorepyError::file_format(name.clone(), e.to_string()))?;
        if read == 0 {
            break;
        }
        for &byte in &buffer[..read] {
            if byte == b'"' {
                quoted = !quoted;
                if quoted {
                    opened_on = line;
                }
            } else if byte == b'\n' {
                line += 1;
            }
        }
    }
    if quoted {
        return Err(CorepyError::file_format(
            name,
            format!(
                "malformed CSV: the quoted field that starts on line {opened_on} is never \
                 closed (an unterminated quote)"
            ),
        ));
    }
    Ok(())
}

/// Cheap checks of a file's first and last bytes, so that an empty, truncated or corrupt file
/// gets a precise message instead of a decoder error (or a decoder panic).
pub fn check_file(file: &Path, kind: FileKind) -> Result<()> {
    let name = file.display().to_string();
    let io_error = |e: std::io::Error| CorepyError::file_format(name.clone(), e.to_string());
    let mut handle = std::fs::File::open(file).map_err(io_error)?;
    let size = handle.metadata().map_err(io_error)?.len();
    if size == 0 {
        return Err(CorepyError::file_format(
            name,
            "the file is empty (0 bytes)",
        ));
    }
    let magic: &[u8] = match kind {
        FileKind::Parquet => b"PAR1",
        FileKind::Ipc => b"ARROW1",
        FileKind::Csv => return check_csv_quotes(file, handle),
        // The reader reports the line of a malformed object, and the engine adds the path.
        FileKind::Json => return Ok(()),
    };
    let length = magic.len() as u64;
    let mut head = vec![0u8; magic.len()];
    let mut tail = vec![0u8; magic.len()];
    let complete = size >= 2 * length
        && handle.read_exact(&mut head).is_ok()
        && handle.seek(SeekFrom::End(-(length as i64))).is_ok()
        && handle.read_exact(&mut tail).is_ok();
    if !complete || head != magic {
        return Err(CorepyError::file_format(
            name,
            format!(
                "not a {} file (it does not start with {:?})",
                kind.name(),
                String::from_utf8_lossy(magic)
            ),
        ));
    }
    if tail != magic {
        return Err(CorepyError::file_format(
            name,
            format!(
                "the {} file is truncated or corrupt (its footer is missing)",
                kind.name()
            ),
        ));
    }
    if kind == FileKind::Parquet {
        check_parquet_footer_length(&mut handle, size)
            .map_err(|m| CorepyError::file_format(name, m))?;
    }
    Ok(())
}

/// A Parquet file ends with its metadata, the metadata's length (4 bytes) and `PAR1`; a
/// length that does not fit in the file means the footer is corrupt.
fn check_parquet_footer_length(handle: &mut std::fs::File, size: u64) -> Result<(), String> {
    let mut length = [0u8; 4];
    handle
        .seek(SeekFrom::End(-8))
        .and_then(|_| handle.read_exact(&mut length))
        .map_err(|e| e.to_string())?;
    let metadata = u64::from(u32::from_le_bytes(length));
    if metadata + 12 > size {
        return Err(format!(
            "the Parquet footer is corrupt: its metadata length ({metadata} bytes) exceeds the file \
             size ({size} bytes)"
        ));
    }
    Ok(())
}

fn with_path(file: &Path, kind: FileKind, error: CorepyError) -> CorepyError {
    let message = match error {
        CorepyError::FileFormat { message, .. } | CorepyError::Compute { message } => message,
        CorepyError::Internal { message } | CorepyError::Plan { message } => message,
        other => other.to_string(),
    };
    CorepyError::file_format(
        file.display().to_string(),
        format!("not a valid {} file: {message}", kind.name()),
    )
}

/// Every file of a glob must have the same columns, of the same types (CSV: the same
/// columns; their guessed types are unified).
fn check_same_schema(
    pattern: &str,
    kind: FileKind,
    schemas: &[(PathBuf, SchemaRef)],
) -> Result<()> {
    let (first_path, first) = &schemas[0];
    for (path, schema) in &schemas[1..] {
        if let Some(difference) = schema_difference(first, schema, !kind.infers_types()) {
            return Err(CorepyError::file_format(
                pattern,
                format!(
                    "the files it matches have different schemas: '{}' and '{}' differ in {difference}",
                    first_path.display(),
                    path.display()
                ),
            ));
        }
    }
    Ok(())
}

fn schema_difference(a: &Schema, b: &Schema, compare_types: bool) -> Option<String> {
    let names = |s: &Schema| {
        s.fields()
            .iter()
            .map(|f| f.name().clone())
            .collect::<Vec<_>>()
    };
    if names(a) != names(b) {
        return Some(format!(
            "their columns: [{}] vs [{}]",
            names(a).join(", "),
            names(b).join(", ")
        ));
    }
    if !compare_types {
        return None;
    }
    a.fields().iter().zip(b.fields()).find_map(|(x, y)| {
        (x.data_type() != y.data_type()).then(|| {
            format!(
                "the type of column '{}': {} vs {}",
                x.name(),
                x.data_type(),
                y.data_type()
            )
        })
    })
}

fn merged(schemas: &[(PathBuf, SchemaRef)]) -> Result<SchemaRef> {
    if schemas.len() == 1 {
        return Ok(Arc::clone(&schemas[0].1));
    }
    let plain = schemas
        .iter()
        .map(|(_, s)| Schema::new(s.fields().clone()))
        .collect::<Vec<_>>();
    Ok(Arc::new(Schema::try_merge(plain)?))
}
