//! What the join order's estimates start from: a scanned table's row count, and the
//! smallest and largest value of its integer and date columns — read from Parquet footers
//! (cached by path, size and modification time, so a query plans without reading a file
//! twice) or counted from the batches of an in-memory table. Anything else has no
//! statistics, and a join region over it keeps the order the query gave.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};
use std::time::SystemTime;

use datafusion::arrow::datatypes::DataType;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::ListingTable;
use datafusion::datasource::source_as_provider;
use datafusion::datasource::MemTable;
use datafusion::datasource::TableProvider;
use datafusion::logical_expr::TableScan;
use datafusion::parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};
use datafusion::parquet::file::statistics::Statistics;
use parking_lot::Mutex;

/// Files beyond this many (a huge Hive tree) are not read for statistics.
const MAX_FILES: usize = 4096;

/// A table's rows and the value range of the columns whose range bounds their distinct
/// values.
#[derive(Debug, Default, Clone)]
pub struct TableStats {
    pub rows: f64,
    /// Column name → (smallest, largest) over every file and row group.
    pub ranges: HashMap<String, (f64, f64)>,
}

impl TableStats {
    /// At most how many distinct values `column` has: the rows, or fewer when the column
    /// is an integer whose range is narrower.
    pub fn distinct(&self, column: &str) -> f64 {
        match self.ranges.get(column) {
            Some((min, max)) => (max - min + 1.0).clamp(1.0, self.rows.max(1.0)),
            None => self.rows.max(1.0),
        }
    }
}

/// The statistics of a scan's table, if corepy can know them without running a query.
pub fn table_stats(scan: &TableScan) -> Option<Arc<TableStats>> {
    let provider = source_as_provider(&scan.source).ok()?;
    if let Some(memory) = provider.downcast_ref::<MemTable>() {
        let mut rows = 0usize;
        for partition in &memory.batches {
            rows += partition
                .try_read()
                .ok()?
                .iter()
                .map(|b| b.num_rows())
                .sum::<usize>();
        }
        return Some(Arc::new(TableStats {
            rows: rows as f64,
            ranges: HashMap::new(),
        }));
    }
    let listing = provider.downcast_ref::<ListingTable>()?;
    let format: &dyn std::any::Any = listing.options().format.as_ref();
    format.downcast_ref::<ParquetFormat>()?;
    let mut files = Vec::new();
    for url in listing.table_paths() {
        parquet_files(&url.get_url().to_file_path().ok()?, &mut files)?;
    }
    let schema = listing.schema();
    let mut stats = TableStats::default();
    for file in &files {
        let footer = footer(file)?;
        stats.rows += footer.file_metadata().num_rows() as f64;
        for (name, range) in integer_ranges(&footer) {
            let ranged = schema
                .field_with_name(&name)
                .is_ok_and(|f| bounds_distinct_values(f.data_type()));
            if ranged {
                let entry = stats.ranges.entry(name).or_insert(range);
                *entry = (entry.0.min(range.0), entry.1.max(range.1));
            }
        }
    }
    Some(Arc::new(stats))
}

/// Types whose range of values bounds how many distinct values they hold (decimals and
/// timestamps are stored scaled, so their footer values are not counted in steps of one).
fn bounds_distinct_values(data_type: &DataType) -> bool {
    data_type.is_integer() || matches!(data_type, DataType::Date32)
}

/// The Parquet files at `path` (a file, or a directory of Hive partitions).
fn parquet_files(path: &Path, files: &mut Vec<PathBuf>) -> Option<()> {
    if files.len() > MAX_FILES {
        return None;
    }
    let meta = std::fs::metadata(path).ok()?;
    if meta.is_file() {
        files.push(path.to_path_buf());
        return Some(());
    }
    for entry in std::fs::read_dir(path).ok()? {
        let entry = entry.ok()?.path();
        let hidden = entry
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.') || n.starts_with('_'));
        if !hidden {
            parquet_files(&entry, files)?;
        }
    }
    Some(())
}

type FooterKey = (PathBuf, u64, Option<SystemTime>);

static FOOTERS: LazyLock<Mutex<HashMap<FooterKey, Arc<ParquetMetaData>>>> =
    LazyLock::new(Default::default);

/// A file's footer, read once per version of the file.
fn footer(path: &Path) -> Option<Arc<ParquetMetaData>> {
    let meta = std::fs::metadata(path).ok()?;
    let key = (path.to_path_buf(), meta.len(), meta.modified().ok());
    if let Some(found) = FOOTERS.lock().get(&key) {
        return Some(Arc::clone(found));
    }
    let file = std::fs::File::open(path).ok()?;
    let footer = Arc::new(ParquetMetaDataReader::new().parse_and_finish(&file).ok()?);
    let mut cache = FOOTERS.lock();
    if cache.len() > 4 * MAX_FILES {
        cache.clear();
    }
    cache.insert(key, Arc::clone(&footer));
    Some(footer)
}

/// The (smallest, largest) value of each top-level integer column of a file, over the row
/// groups whose statistics say; a column without statistics in any row group is left out.
fn integer_ranges(footer: &ParquetMetaData) -> HashMap<String, (f64, f64)> {
    let mut ranges: HashMap<String, Option<(f64, f64)>> = HashMap::new();
    for group in footer.row_groups() {
        for chunk in group.columns() {
            let descriptor = chunk.column_descr();
            if descriptor.path().parts().len() != 1 {
                continue;
            }
            let range = chunk.statistics().and_then(integer_range);
            let entry = ranges.entry(descriptor.name().to_string()).or_insert(range);
            *entry = match (*entry, range) {
                (Some(a), Some(b)) => Some((a.0.min(b.0), a.1.max(b.1))),
                _ => None,
            };
        }
    }
    ranges
        .into_iter()
        .filter_map(|(name, range)| Some((name, range?)))
        .collect()
}

fn integer_range(statistics: &Statistics) -> Option<(f64, f64)> {
    match statistics {
        Statistics::Int32(s) => Some((*s.min_opt()? as f64, *s.max_opt()? as f64)),
        Statistics::Int64(s) => Some((*s.min_opt()? as f64, *s.max_opt()? as f64)),
        _ => None,
    }
}
