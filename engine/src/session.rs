//! `Session`: a DataFusion `SessionContext` configured for corepy.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use corepy_planner::rules::{analyzer_rules, optimizer_rules};
use corepy_planner::{CorepyError, Result};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::datasource::{provider_as_source, MemTable};
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::SessionStateBuilder;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use datafusion::physical_optimizer::optimizer::PhysicalOptimizer;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::build_side::BuildSideByRows;
use crate::files::path_schema::PathSchema;
use crate::files::{open_table, CsvOptions, FileKind};
use crate::gpu::{Fallback, GpuOptions, Placement};
use crate::late_materialization::{CorepyOptions, LateMaterialization};
use crate::query_planner::CorepyQueryPlanner;
use crate::single_array_key::SingleArrayKey;

/// Settings of a session; `None` means corepy's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionOptions {
    /// Partitions each query is split into (default: twice the number of cores; see
    /// [`default_target_partitions`]).
    pub target_partitions: Option<usize>,
    /// Rows per batch (default: DataFusion's, 8192).
    pub batch_size: Option<usize>,
    /// Memory the session's operators may hold before they spill or fail (default: no limit).
    pub memory_limit: Option<usize>,
    /// Where spill files go (default: the system's temporary directory).
    pub spill_dir: Option<PathBuf>,
    /// Fuse row-wise work into JIT-compiled kernels (default: on, unless the environment
    /// variable `COREPY_JIT` is `0`).
    pub jit: Option<bool>,
    /// Where fused stages run (default: `COREPY_DEVICE_PRIORITY`'s first device, else the
    /// CPU).
    pub device: Option<Placement>,
    /// What a stage placed on the GPU does when it cannot run there (default: warn).
    pub gpu_fallback: Option<Fallback>,
}

/// Partitions per query unless a session says otherwise: twice the cores. Measured with
/// the benchmark suite on 2 cores (`bench/README.md`, "Tuning"): the H2O group-by questions
/// run 10% faster than with one partition per core (smaller hash tables per partition, and
/// a partition that finishes early leaves its core to another), TPC-H is unchanged.
pub fn default_target_partitions() -> usize {
    2 * std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Whether sessions fuse by default: `COREPY_JIT=0` (or `false`, `off`) turns it off.
pub fn jit_default() -> bool {
    !matches!(
        std::env::var("COREPY_JIT").as_deref(),
        Ok("0" | "false" | "off" | "no")
    )
}

/// DataFusion's physical optimizer rules with corepy's build-side correction right after
/// its join selection (before distribution is enforced, and before dynamic filters exist,
/// after which a join's inputs can no longer be swapped).
fn physical_optimizer_rules() -> Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>> {
    let mut rules = PhysicalOptimizer::new().rules;
    let after = rules
        .iter()
        .position(|rule| rule.name() == "join_selection")
        // Not found (a DataFusion that renamed it): first, where DataFusion's own
        // selection still runs after it, rather than after dynamic filters exist.
        .map_or(0, |at| at + 1);
    rules.insert(after, Arc::new(BuildSideByRows));
    rules.insert(after + 1, Arc::new(SingleArrayKey));
    rules
}

/// A corepy session: DataFusion's context with corepy's optimizer rules, query planner and
/// file-path tables. Cloning is cheap and shares the catalog.
#[derive(Clone)]
pub struct Session {
    context: SessionContext,
    options: SessionOptions,
    /// The device settings queries are planned with (shared by clones; `set_placement`
    /// changes them for later queries).
    gpu: Arc<parking_lot::Mutex<GpuOptions>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("options", &self.options)
            .finish()
    }
}

/// The least share of its key range a join's build keys must fill to be looked up in an
/// array (`datafusion.execution.perfect_hash_join_min_key_density`).
pub const PERFECT_HASH_DENSITY: f64 = 0.1;

static ANONYMOUS_TABLES: AtomicUsize = AtomicUsize::new(0);

impl Session {
    pub fn new(options: SessionOptions) -> Result<Self> {
        let partitions = options
            .target_partitions
            .unwrap_or_else(default_target_partitions);
        if partitions == 0 {
            return Err(CorepyError::invalid_argument(
                "target_partitions must be at least 1",
            ));
        }
        let mut config = SessionConfig::new()
            .with_target_partitions(partitions)
            .with_information_schema(true)
            .with_option_extension(CorepyOptions::default());
        // Measured with the TPC-H suite (bench/README.md, "Tuning: corepy's session defaults"): a join
        // whose build keys fill a tenth of their range looks them up in an array, not a
        // hash table. TPC-H's failed orders fill an eighth of the order keys' range, and
        // the lazy q21's semi join of 60 M lines with them ran 2.9 → 1.9 s at SF10;
        // DataFusion's default, 0.15, hashes them.
        config
            .options_mut()
            .execution
            .perfect_hash_join_min_key_density = PERFECT_HASH_DENSITY;
        if let Some(batch_size) = options.batch_size {
            if batch_size == 0 {
                return Err(CorepyError::invalid_argument(
                    "batch_size must be at least 1",
                ));
            }
            config = config.with_batch_size(batch_size);
        }
        let mut runtime = RuntimeEnvBuilder::new();
        if let Some(limit) = options.memory_limit {
            runtime = runtime.with_memory_limit(limit, 1.0);
        }
        if let Some(dir) = &options.spill_dir {
            runtime = runtime.with_disk_manager_builder(
                DiskManagerBuilder::default()
                    .with_mode(DiskManagerMode::Directories(vec![dir.clone()])),
            );
        }
        let mut state = SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(runtime.build_arc()?)
            .with_default_features()
            .with_physical_optimizer_rules(physical_optimizer_rules())
            .with_query_planner(Arc::new(CorepyQueryPlanner));
        for rule in analyzer_rules() {
            state = state.with_analyzer_rule(rule);
        }
        let jit = options.jit.unwrap_or_else(jit_default);
        for rule in optimizer_rules(jit) {
            state = state.with_optimizer_rule(rule);
        }
        if jit {
            state =
                state.with_physical_optimizer_rule(Arc::new(crate::jit::aggregate::FoldAggregates));
        }
        // After the fold: what is left partial may merge runs, with the JIT on or off.
        state = state.with_physical_optimizer_rule(Arc::new(crate::run_aggregate::AggregateRuns));
        state = state.with_physical_optimizer_rule(Arc::new(LateMaterialization));
        // Last: after it no rule may swap a join's inputs or look under them for a scan.
        state = state.with_physical_optimizer_rule(Arc::new(crate::bloom_join::BloomJoins));
        let context = SessionContext::new_with_state(state.build());
        // Same name, same answers: replaces DataFusion's `corr`.
        context.register_udaf(corepy_planner::aggregates::GroupedCorr::udaf());
        install_path_schema(&context)?;
        let gpu = GpuOptions {
            placement: match options.device {
                Some(p) => p,
                None => crate::gpu::placement::placement_from_env()?,
            },
            fallback: options.gpu_fallback.unwrap_or_default(),
        };
        Ok(Self {
            context,
            options,
            gpu: Arc::new(parking_lot::Mutex::new(gpu)),
        })
    }

    /// The device settings queries are planned with.
    pub fn gpu_options(&self) -> GpuOptions {
        *self.gpu.lock()
    }

    /// Where later queries' fused stages run (`cp.set_backend`).
    pub fn set_placement(&self, placement: Placement) {
        self.gpu.lock().placement = placement;
    }

    /// The DataFusion context behind this session.
    pub fn context(&self) -> &SessionContext {
        &self.context
    }

    pub fn options(&self) -> &SessionOptions {
        &self.options
    }

    /// Whether this session fuses row-wise work into compiled kernels.
    pub fn jit(&self) -> bool {
        self.options.jit.unwrap_or_else(jit_default)
    }

    /// The number of partitions queries are split into.
    pub fn target_partitions(&self) -> usize {
        self.context.state().config().target_partitions()
    }

    /// Opens a file or glob as a table (checked now, read when a query runs).
    pub async fn open_file(
        &self,
        path: &str,
        kind: Option<FileKind>,
        csv: &CsvOptions,
    ) -> Result<Arc<dyn TableProvider>> {
        open_table(&self.context.state(), path, kind, csv).await
    }

    /// A plan that scans a file or glob, its table named after the file.
    pub async fn scan_file(
        &self,
        path: &str,
        kind: Option<FileKind>,
        csv: &CsvOptions,
    ) -> Result<LogicalPlan> {
        let table = self.open_file(path, kind, csv).await?;
        scan(&table_name_for(path), table)
    }

    /// Registers a file or glob under `name`, for SQL.
    pub async fn register_file(
        &self,
        name: &str,
        path: &str,
        kind: Option<FileKind>,
        csv: &CsvOptions,
    ) -> Result<()> {
        let table = self.open_file(path, kind, csv).await?;
        self.register_table(name, table)
    }

    /// Registers any table provider under `name`, replacing a table of that name.
    pub fn register_table(&self, name: &str, table: Arc<dyn TableProvider>) -> Result<()> {
        if name.trim().is_empty() {
            return Err(CorepyError::invalid_argument(
                "a table name cannot be empty",
            ));
        }
        self.context.deregister_table(name)?;
        self.context.register_table(name, table)?;
        Ok(())
    }

    /// A table of in-memory batches (shared, not copied), in contiguous partitions: scans
    /// run in parallel, and the partitions read one after another give the rows in order.
    pub fn memory_table(&self, schema: SchemaRef, batches: Vec<RecordBatch>) -> Result<MemTable> {
        let partitions = contiguous_partitions(batches, self.target_partitions());
        Ok(MemTable::try_new(schema, partitions)?)
    }

    /// A plan that scans in-memory batches (which are shared, not copied).
    pub fn scan_batches(
        &self,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Result<LogicalPlan> {
        let table = self.memory_table(schema, batches)?;
        let id = ANONYMOUS_TABLES.fetch_add(1, Ordering::Relaxed);
        scan(&format!("memory_{id}"), Arc::new(table))
    }
}

fn scan(name: &str, table: Arc<dyn TableProvider>) -> Result<LogicalPlan> {
    Ok(LogicalPlanBuilder::scan(name, provider_as_source(table), None)?.build()?)
}

/// Replaces the default schema with one that also opens file paths named in SQL.
fn install_path_schema(context: &SessionContext) -> Result<()> {
    let state = context.state();
    let defaults = &state.config().options().catalog;
    let catalog = context
        .catalog(&defaults.default_catalog)
        .ok_or_else(|| CorepyError::internal("the default catalog is missing"))?;
    catalog.register_schema(
        &defaults.default_schema,
        Arc::new(PathSchema::new(context.state_weak_ref())),
    )?;
    Ok(())
}

/// `data/lineitem.parquet` → `lineitem`; a glob keeps its directory's name.
fn table_name_for(path: &str) -> String {
    let path = std::path::Path::new(path);
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("file");
    if stem.contains(['*', '?', '[']) {
        path.parent()
            .and_then(|p| p.file_name())
            .and_then(|s| s.to_str())
            .unwrap_or("files")
            .to_string()
    } else {
        stem.to_string()
    }
}

/// A partition of memory is worth its overhead from this many rows.
const MIN_PARTITION_ROWS: usize = 1 << 15;

/// Splits batches into at most `partitions` contiguous runs of about equal rows, slicing
/// (zero-copy) a batch where a run ends. Contiguous, not dealt round-robin: results are
/// collected partition after partition (`execute.rs`), and so keep the rows' order.
fn contiguous_partitions(batches: Vec<RecordBatch>, partitions: usize) -> Vec<Vec<RecordBatch>> {
    let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let count = partitions.clamp(1, total.div_ceil(MIN_PARTITION_ROWS).max(1));
    let per_partition = total.div_ceil(count).max(1);
    let mut split: Vec<Vec<RecordBatch>> = vec![Vec::new()];
    let mut room = per_partition;
    for batch in batches {
        let mut offset = 0;
        while offset < batch.num_rows() {
            if room == 0 {
                split.push(Vec::new());
                room = per_partition;
            }
            let take = room.min(batch.num_rows() - offset);
            split
                .last_mut()
                .expect("never empty")
                .push(batch.slice(offset, take));
            offset += take;
            room -= take;
        }
    }
    split
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_come_from_file_names() {
        assert_eq!(table_name_for("data/lineitem.parquet"), "lineitem");
        assert_eq!(table_name_for("data/orders/*.parquet"), "orders");
    }

    #[test]
    fn memory_is_split_into_contiguous_partitions_of_about_equal_rows() {
        use datafusion::arrow::array::Int64Array;
        let column = |from: i64, to: i64| {
            let values: Arc<dyn datafusion::arrow::array::Array> =
                Arc::new(Int64Array::from_iter_values(from..to));
            RecordBatch::try_from_iter([("x", values)]).expect("a batch")
        };
        let rows = |split: &[Vec<RecordBatch>]| -> Vec<usize> {
            split
                .iter()
                .map(|p| p.iter().map(RecordBatch::num_rows).sum())
                .collect()
        };
        let values = |split: &[Vec<RecordBatch>]| -> Vec<i64> {
            split
                .iter()
                .flatten()
                .flat_map(|b| {
                    let x = b
                        .column(0)
                        .as_any()
                        .downcast_ref::<Int64Array>()
                        .expect("i64");
                    x.values().to_vec()
                })
                .collect()
        };
        // One large batch is sliced; partitions read in turn give the rows in order.
        let one = contiguous_partitions(vec![column(0, 100_000)], 3);
        assert_eq!(rows(&one), [33_334, 33_334, 33_332]);
        assert_eq!(values(&one), (0..100_000).collect::<Vec<_>>());
        // Several batches: cut where a partition is full.
        let many = contiguous_partitions(vec![column(0, 50_000), column(50_000, 70_000)], 2);
        assert_eq!(rows(&many), [35_000, 35_000]);
        assert_eq!(values(&many), (0..70_000).collect::<Vec<_>>());
        // Small tables stay whole; no batches is one empty partition.
        assert_eq!(rows(&contiguous_partitions(vec![column(0, 10)], 4)), [10]);
        let empty = RecordBatch::new_empty(Arc::new(datafusion::arrow::datatypes::Schema::empty()));
        assert_eq!(contiguous_partitions(vec![empty], 4).len(), 1);
        assert_eq!(contiguous_partitions(Vec::new(), 4).len(), 1);
    }

    #[test]
    fn zero_partitions_is_rejected() {
        let options = SessionOptions {
            target_partitions: Some(0),
            ..Default::default()
        };
        assert!(matches!(
            Session::new(options),
            Err(CorepyError::InvalidArgument { .. })
        ));
    }
}
