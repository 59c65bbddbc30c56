//! How large a scanned table is, in bytes: the sizes of its local files, or the memory of
//! its batches. Rules that duplicate a small relation to reduce a large one compare them
//! with this; a table of unknown size (a remote file, a view) is never reduced.

use datafusion::datasource::listing::ListingTable;
use datafusion::datasource::source_as_provider;
use datafusion::datasource::MemTable;
use datafusion::logical_expr::LogicalPlan;

use crate::fusion::FusedStage;

/// The bytes of the table scanned under projections, aliases, filters and fused stages,
/// if known.
pub fn scanned_bytes(plan: &LogicalPlan) -> Option<u64> {
    let mut node = plan;
    let scan = loop {
        match node {
            LogicalPlan::Projection(p) => node = &p.input,
            LogicalPlan::SubqueryAlias(a) => node = &a.input,
            LogicalPlan::Filter(f) => node = &f.input,
            LogicalPlan::TableScan(scan) => break scan,
            other => node = &FusedStage::of(other)?.input,
        }
    };
    let provider = source_as_provider(&scan.source).ok()?;
    if let Some(listing) = provider.downcast_ref::<ListingTable>() {
        return listing.table_paths().iter().try_fold(0u64, |sum, url| {
            let path = url.get_url().to_file_path().ok()?;
            Some(sum + local_bytes(&path)?)
        });
    }
    if let Some(memory) = provider.downcast_ref::<MemTable>() {
        return memory.batches.iter().try_fold(0u64, |sum, partition| {
            let batches = partition.try_read().ok()?;
            Some(
                sum + batches
                    .iter()
                    .map(|b| b.get_array_memory_size() as u64)
                    .sum::<u64>(),
            )
        });
    }
    None
}

/// The size of a file, or of the files under a directory (Hive partitions).
fn local_bytes(path: &std::path::Path) -> Option<u64> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.is_file() {
        return Some(meta.len());
    }
    std::fs::read_dir(path).ok()?.try_fold(0u64, |sum, entry| {
        Some(sum + local_bytes(&entry.ok()?.path())?)
    })
}
