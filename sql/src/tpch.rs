//! TPC-H data as Parquet, generated in-process with the `tpchgen` crates (no network, no
//! external `dbgen`): one file per table, `<dir>/<table>.parquet`.

use std::fs::File;
use std::path::{Path, PathBuf};

use corepy_planner::{CorepyError, Result};
use datafusion::arrow::array::RecordBatchReader;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use tpchgen::generators::{
    CustomerGenerator, LineItemGenerator, NationGenerator, OrderGenerator, PartGenerator,
    PartSuppGenerator, RegionGenerator, SupplierGenerator,
};
use tpchgen_arrow::{
    CustomerArrow, LineItemArrow, NationArrow, OrderArrow, PartArrow, PartSuppArrow, RegionArrow,
    SupplierArrow,
};

/// The eight TPC-H tables, in dependency order.
pub const TABLES: [&str; 8] = [
    "region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem",
];

/// One written table.
#[derive(Debug, Clone, PartialEq)]
pub struct WrittenTable {
    pub table: &'static str,
    pub rows: usize,
    pub path: PathBuf,
}

/// Writes the eight TPC-H tables at `scale` into `dir` (created if missing), one table per
/// thread. Each file is written under a temporary name and renamed when complete, so a
/// failure never leaves a half-written table behind.
pub fn generate(scale: f64, dir: &Path) -> Result<Vec<WrittenTable>> {
    if !(scale.is_finite() && scale > 0.0 && scale <= 1000.0) {
        return Err(CorepyError::invalid_argument(format!(
            "the TPC-H scale factor must be in (0, 1000], got {scale}"
        )));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| CorepyError::file_format(dir.display().to_string(), e.to_string()))?;
    std::thread::scope(|scope| {
        let handles: Vec<_> = TABLES
            .iter()
            .map(|&table| scope.spawn(move || write_table(table, scale, dir)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(CorepyError::internal("a TPC-H writer panicked")))
            })
            .collect()
    })
}

fn reader(table: &str, scale: f64) -> Box<dyn RecordBatchReader + Send> {
    match table {
        "region" => Box::new(RegionArrow::new(RegionGenerator::new(scale, 1, 1))),
        "nation" => Box::new(NationArrow::new(NationGenerator::new(scale, 1, 1))),
        "supplier" => Box::new(SupplierArrow::new(SupplierGenerator::new(scale, 1, 1))),
        "customer" => Box::new(CustomerArrow::new(CustomerGenerator::new(scale, 1, 1))),
        "part" => Box::new(PartArrow::new(PartGenerator::new(scale, 1, 1))),
        "partsupp" => Box::new(PartSuppArrow::new(PartSuppGenerator::new(scale, 1, 1))),
        "orders" => Box::new(OrderArrow::new(OrderGenerator::new(scale, 1, 1))),
        _ => Box::new(LineItemArrow::new(LineItemGenerator::new(scale, 1, 1))),
    }
}

fn write_table(table: &'static str, scale: f64, dir: &Path) -> Result<WrittenTable> {
    let path = dir.join(format!("{table}.parquet"));
    let partial = dir.join(format!(".{table}.parquet.partial"));
    let outcome = write_parquet(reader(table, scale), &partial);
    match outcome {
        Ok(rows) => {
            std::fs::rename(&partial, &path)
                .map_err(|e| CorepyError::file_format(path.display().to_string(), e.to_string()))?;
            Ok(WrittenTable { table, rows, path })
        }
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            Err(error)
        }
    }
}

/// Streams `batches` into a Parquet file at `path`; returns the row count.
pub fn write_parquet(batches: Box<dyn RecordBatchReader + Send>, path: &Path) -> Result<usize> {
    let io =
        |e: std::io::Error| CorepyError::file_format(path.display().to_string(), e.to_string());
    let file = File::create(path).map_err(io)?;
    let properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build();
    let parquet = |e: datafusion::parquet::errors::ParquetError| {
        CorepyError::file_format(path.display().to_string(), e.to_string())
    };
    let mut writer =
        ArrowWriter::try_new(file, batches.schema(), Some(properties)).map_err(parquet)?;
    let mut rows = 0;
    for batch in batches {
        let batch = batch?;
        rows += batch.num_rows();
        writer.write(&batch).map_err(parquet)?;
    }
    writer.close().map_err(parquet)?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_scale_writes_all_tables() {
        let dir = tempfile::tempdir().unwrap();
        let written = generate(0.001, dir.path()).unwrap();
        assert_eq!(written.len(), 8);
        let nation = written.iter().find(|w| w.table == "nation").unwrap();
        assert_eq!(nation.rows, 25);
        for table in &written {
            assert!(table.path.exists());
        }
        let leftovers = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".partial")
            })
            .count();
        assert_eq!(leftovers, 0);
    }

    #[test]
    fn invalid_scale_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        assert!(generate(0.0, dir.path()).is_err());
        assert!(generate(f64::NAN, dir.path()).is_err());
    }
}
