//! Opening a path or glob as a table, with checks that name the offending file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use corepy_planner::{CorepyError, Result};
use datafusion::arrow::datatypes::{DataType, Schema, SchemaRef};
use datafusion::catalog::{Session as CatalogSession, TableProvider};
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::object_store::path::Path as StorePath;
use datafusion::object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};

use super::check::{check_file, check_object};
use super::compression::Compression;
use super::format::{csv_options_for, CsvOptions, FileKind};
use super::hive::partitioned_files;
use super::remote::{ipc_footer_schema, is_remote, resolve_remote};
use super::resolve::{absolute, resolve_files};

/// Opens `path` (a file, a glob, a directory: every file under it, with Hive partition
/// columns from `key=value` directories, or an `https://` or `s3://` URL) as a table. `kind`
/// forces a format; without it the extension decides (through a `.gz`, `.bz2`, `.xz` or
/// `.zst` one, which names the compression). Every file is checked before any query runs:
/// it must be non-empty, readable as its format, and of the same schema as the other files
/// of the glob.
pub async fn open_table(
    state: &dyn CatalogSession,
    path: &str,
    kind: Option<FileKind>,
    csv: &CsvOptions,
) -> Result<Arc<dyn TableProvider>> {
    let found = if is_remote(path) {
        Found::remote(state, path).await?
    } else {
        Found::local(state, path).await?
    };
    let names: Vec<&str> = found.sources.iter().map(|s| s.name.as_str()).collect();
    let kind = match kind {
        Some(kind) => kind,
        None => common_kind(path, &names)?,
    };
    let compression = common_compression(path, &names)?;
    let csv = csv_options_for(Path::new(names[0]), csv);
    let format = kind.file_format(&csv, compression, names[0])?;

    let mut schemas: Vec<(String, SchemaRef)> = Vec::with_capacity(names.len());
    for source in &found.sources {
        found.check(source, kind).await?;
        let schema = if kind == FileKind::Ipc && source.local.is_none() {
            ipc_footer_schema(found.store.as_ref(), &source.meta, &source.name).await?
        } else {
            format
                .infer_schema(state, &found.store, std::slice::from_ref(&source.meta))
                .await
                .map_err(|e| with_path(&source.name, kind, e.into()))?
        };
        schemas.push((source.name.clone(), schema));
    }
    check_same_schema(path, kind, &schemas)?;
    let schema = if kind.infers_types() && schemas.len() > 1 {
        // CSV and JSON types are guessed per file; the union of the guesses fits every file.
        let metas: Vec<ObjectMeta> = found.sources.iter().map(|s| s.meta.clone()).collect();
        format
            .infer_schema(state, &found.store, &metas)
            .await
            .map_err(|e| with_path(path, kind, e.into()))?
    } else {
        merged(&schemas)?
    };
    let schema = with_given_types(schema, &csv, kind, path)?;

    let config = match found.partitions {
        Some(partitions) => directory_config(path, &names, format, partitions)?,
        None => {
            let urls = found
                .sources
                .iter()
                .map(|s| ListingTableUrl::parse(&s.name))
                .collect::<datafusion::common::Result<Vec<_>>>()?;
            let options = ListingOptions::new(format).with_file_extension("");
            ListingTableConfig::new_with_multi_paths(urls).with_listing_options(options)
        }
    };
    // Each query would otherwise read every file's footer again for its statistics (5% of
    // planning time on the TPC-H queries); the cache checks a file's size and modification
    // time, so a file rewritten in place is read again.
    let statistics_cache = state.runtime_env().cache_manager.get_file_statistic_cache();
    Ok(Arc::new(
        ListingTable::try_new(config.with_schema(schema))?.with_cache(statistics_cache),
    ))
}

/// The table's schema once the caller's types replace the guessed ones: a whole `schema`
/// (names and types, in file order) or some columns' `overrides`, by name.
fn with_given_types(
    guessed: SchemaRef,
    options: &CsvOptions,
    kind: FileKind,
    path: &str,
) -> Result<SchemaRef> {
    if (options.schema.is_some() || options.overrides.is_some()) && !kind.infers_types() {
        return Err(CorepyError::invalid_argument(format!(
            "a {} file stores its column types; schema= and schema_overrides= apply to CSV \
             and NDJSON",
            kind.name()
        )));
    }
    let mut schema = match &options.schema {
        Some(given) if kind == FileKind::Csv && given.fields().len() != guessed.fields().len() => {
            return Err(CorepyError::file_format(
                path,
                format!(
                    "schema= names {} columns, but the file has {}: [{}]",
                    given.fields().len(),
                    guessed.fields().len(),
                    field_names(&guessed).join(", ")
                ),
            ))
        }
        Some(given) => Arc::clone(given),
        None => guessed,
    };
    if let Some(overrides) = &options.overrides {
        let mut fields: Vec<_> = schema.fields().iter().cloned().collect();
        for field in overrides.fields() {
            let Some(slot) = fields.iter_mut().find(|f| f.name() == field.name()) else {
                return Err(CorepyError::column_not_found(
                    field.name(),
                    field_names(&schema),
                ));
            };
            *slot = Arc::new(
                slot.as_ref()
                    .clone()
                    .with_data_type(field.data_type().clone()),
            );
        }
        schema = Arc::new(Schema::new(fields));
    }
    Ok(schema)
}

fn field_names(schema: &Schema) -> Vec<String> {
    schema.fields().iter().map(|f| f.name().clone()).collect()
}

/// The files a path names, with the store that reads them.
struct Found {
    store: Arc<dyn ObjectStore>,
    sources: Vec<Source>,
    /// A directory's Hive partition columns; `None` for a file, a glob or a URL.
    partitions: Option<Vec<(String, DataType)>>,
}

/// One file: its name (a local path or a URL, for messages and for DataFusion), its
/// metadata, and its local path when it has one.
struct Source {
    name: String,
    meta: ObjectMeta,
    local: Option<PathBuf>,
}

impl Found {
    async fn local(state: &dyn CatalogSession, path: &str) -> Result<Self> {
        let directory = Path::new(path).is_dir();
        let (files, partitions) = if directory {
            let found = partitioned_files(Path::new(path))?;
            let files = found
                .files
                .iter()
                .map(|f| absolute(f))
                .collect::<Result<Vec<_>>>()?;
            (files, Some(found.columns))
        } else {
            (resolve_files(path)?, None)
        };
        let store = state
            .runtime_env()
            .object_store(ObjectStoreUrl::local_filesystem())?;
        let mut sources = Vec::with_capacity(files.len());
        for file in files {
            sources.push(Source {
                name: file.to_string_lossy().into_owned(),
                meta: object_meta(store.as_ref(), &file).await?,
                local: Some(file),
            });
        }
        Ok(Self {
            store,
            sources,
            partitions,
        })
    }

    async fn remote(state: &dyn CatalogSession, address: &str) -> Result<Self> {
        let found = resolve_remote(state, address).await?;
        let sources = found
            .objects
            .into_iter()
            .map(|(url, meta)| Source {
                name: url,
                meta,
                local: None,
            })
            .collect();
        Ok(Self {
            store: found.store,
            sources,
            partitions: None,
        })
    }

    async fn check(&self, source: &Source, kind: FileKind) -> Result<()> {
        match &source.local {
            Some(file) => check_file(file, kind),
            None => check_object(self.store.as_ref(), &source.meta, kind, &source.name).await,
        }
    }
}

/// A directory's table: its files (of one extension) and its partition columns.
fn directory_config(
    path: &str,
    files: &[&str],
    format: Arc<dyn datafusion::datasource::file_format::FileFormat>,
    partitions: Vec<(String, DataType)>,
) -> Result<ListingTableConfig> {
    // The whole extension, `.csv.gz` included: the listing keeps files that end with it.
    let extension = |f: &&str| {
        let (compression, stem) = Compression::of_path(f);
        Path::new(stem)
            .extension()
            .map(|e| format!(".{}{}", e.to_string_lossy(), compression.extension()))
            .unwrap_or_default()
    };
    let first = extension(&files[0]);
    if let Some(other) = files.iter().find(|f| extension(f) != first) {
        return Err(CorepyError::file_format(
            path,
            format!(
                "its files have different extensions: '{}' and '{}'",
                files[0], other
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
fn common_kind(pattern: &str, files: &[&str]) -> Result<FileKind> {
    let first = FileKind::detect(Path::new(files[0]))?;
    for file in &files[1..] {
        if FileKind::detect(Path::new(file))? != first {
            return Err(CorepyError::file_format(
                pattern,
                format!(
                    "it matches files of different formats: '{}' and '{file}'",
                    files[0]
                ),
            ));
        }
    }
    Ok(first)
}

/// The one compression all matched files share (a scan decodes them with one codec).
fn common_compression(pattern: &str, files: &[&str]) -> Result<Compression> {
    let first = Compression::of_path(files[0]).0;
    match files.iter().find(|f| Compression::of_path(f).0 != first) {
        Some(other) => Err(CorepyError::file_format(
            pattern,
            format!(
                "it matches files of different compressions: '{}' ({}) and '{other}' ({})",
                files[0],
                first.name(),
                Compression::of_path(other).0.name()
            ),
        )),
        None => Ok(first),
    }
}

async fn object_meta(store: &dyn ObjectStore, file: &Path) -> Result<ObjectMeta> {
    let location = StorePath::from_absolute_path(file)
        .map_err(|e| CorepyError::file_format(file.display().to_string(), e.to_string()))?;
    store
        .head(&location)
        .await
        .map_err(|e| CorepyError::file_format(file.display().to_string(), e.to_string()))
}

fn with_path(file: &str, kind: FileKind, error: CorepyError) -> CorepyError {
    let message = match error {
        CorepyError::FileFormat { message, .. } | CorepyError::Compute { message } => message,
        CorepyError::Internal { message } | CorepyError::Plan { message } => message,
        other => other.to_string(),
    };
    CorepyError::file_format(file, format!("not a valid {} file: {message}", kind.name()))
}

/// Every file of a glob must have the same columns, of the same types (CSV: the same
/// columns; their guessed types are unified).
fn check_same_schema(pattern: &str, kind: FileKind, schemas: &[(String, SchemaRef)]) -> Result<()> {
    let (first_path, first) = &schemas[0];
    for (path, schema) in &schemas[1..] {
        if let Some(difference) = schema_difference(first, schema, !kind.infers_types()) {
            return Err(CorepyError::file_format(
                pattern,
                format!(
                    "the files it matches have different schemas: '{first_path}' and '{path}' \
                     differ in {difference}"
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

fn merged(schemas: &[(String, SchemaRef)]) -> Result<SchemaRef> {
    if schemas.len() == 1 {
        return Ok(Arc::clone(&schemas[0].1));
    }
    let plain = schemas
        .iter()
        .map(|(_, s)| Schema::new(s.fields().clone()))
        .collect::<Vec<_>>();
    Ok(Arc::new(Schema::try_merge(plain)?))
}
