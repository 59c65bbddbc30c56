//! Running a logical plan to Arrow batches, and EXPLAIN [ANALYZE] text for it.

use std::fmt::Write as _;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use corepy_planner::{CorepyError, Result};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::listing::ListingTable;
use datafusion::datasource::source_as_provider;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::{
    collect, collect_partitioned, displayable, ExecutionPlan, Partitioning,
};

use futures::FutureExt;

use crate::files::check::check_file;
use crate::files::FileKind;
use crate::gpu::Placement;
use crate::runtime::panic_error;
use crate::session::Session;

/// Whether `plan` deals batches round-robin to its partitions anywhere.
fn deals_batches(plan: &dyn ExecutionPlan) -> bool {
    let here = plan
        .downcast_ref::<RepartitionExec>()
        .is_some_and(|r| matches!(r.partitioning(), Partitioning::RoundRobinBatch(_)));
    here || plan
        .children()
        .into_iter()
        .any(|c| deals_batches(c.as_ref()))
}

/// The result of a query: its batches and the schema of the plan that produced them.
#[derive(Debug, Clone)]
pub struct QueryResult {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
}

impl QueryResult {
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// The first `rows` rows, as slices of the batches (no copy).
    pub fn head(&self, rows: usize) -> Vec<RecordBatch> {
        let mut left = rows;
        let mut out = Vec::new();
        for batch in &self.batches {
            if left == 0 {
                break;
            }
            let take = batch.num_rows().min(left);
            if take > 0 {
                out.push(batch.slice(0, take));
            }
            left -= take;
        }
        out
    }
}

/// What [`Session::explain`] shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExplainOptions {
    /// Show the optimized logical plan and the physical plan (else the plan as written).
    pub optimized: bool,
    /// Run the query and show each operator's metrics.
    pub analyze: bool,
    /// Also print each fused kernel: its IR and its Cranelift IR (and its PTX when the
    /// stage is placed on, or asked for on, a GPU).
    pub kernels: bool,
    /// Plan for this device instead of the session's (`explain(device="cuda")`).
    pub device: Option<Placement>,
}

impl Default for ExplainOptions {
    fn default() -> Self {
        Self {
            optimized: true,
            analyze: false,
            kernels: false,
            device: None,
        }
    }
}

impl Session {
    /// Optimizes and plans `plan` for execution.
    pub async fn physical_plan(&self, plan: &LogicalPlan) -> Result<Arc<dyn ExecutionPlan>> {
        self.physical_plan_on(plan, None).await
    }

    /// [`Session::physical_plan`], on `device` instead of the session's placement.
    pub async fn physical_plan_on(
        &self,
        plan: &LogicalPlan,
        device: Option<Placement>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let mut state = self.context().state();
        let mut gpu = self.gpu_options();
        if let Some(device) = device {
            gpu.placement = device;
        }
        if !self.jit() && matches!(gpu.placement, Placement::On(crate::gpu::Device::Cuda(_))) {
            // Only fused stages run on a GPU: with fusion off nothing would, so say so.
            crate::gpu::stage::fall_back(
                gpu.fallback,
                "the query",
                "fusion is off (COREPY_JIT=0 or Config(jit=False)), and only fused stages run on the GPU",
                None,
            )?;
        }
        // The planner of fused stages reads the placement from the query's config.
        state.config_mut().set_extension(Arc::new(gpu));
        explained(state.create_physical_plan(plan), plan).await
    }

    /// Runs `plan` to completion. File errors name the files the plan reads.
    pub async fn collect(&self, plan: &LogicalPlan) -> Result<QueryResult> {
        self.collect_on(plan, None).await
    }

    /// [`Session::collect`], on `device` instead of the session's placement.
    pub async fn collect_on(
        &self,
        plan: &LogicalPlan,
        device: Option<Placement>,
    ) -> Result<QueryResult> {
        let physical = self.physical_plan_on(plan, device).await?;
        let schema = physical.schema();
        let batches = self.run_to_batches(physical, plan).await?;
        Ok(QueryResult { schema, batches })
    }

    /// Runs a physical plan to its batches: each partition collected by its own task, the
    /// partitions' batches in partition order — the rows' order when the partitions are
    /// contiguous parts of the data (files, row groups, memory: see `Session::memory_table`).
    ///
    /// Why not DataFusion's `collect`: it merges the partitions through a channel, and each
    /// batch sent wakes the receiving thread; over 8 Ki-row batches that hand-over cost
    /// ≈ 7% of a fused expression's time (perf, 2e7 rows on 2 cores). It stays where batches
    /// are dealt round-robin to partitions: there, batches in the order they are done come
    /// closer to the rows' order than partition after partition.
    async fn run_to_batches(
        &self,
        physical: Arc<dyn ExecutionPlan>,
        plan: &LogicalPlan,
    ) -> Result<Vec<RecordBatch>> {
        let context = self.context().task_ctx();
        if deals_batches(physical.as_ref()) {
            return explained(collect(physical, context), plan).await;
        }
        let partitions = explained(collect_partitioned(physical, context), plan).await?;
        Ok(partitions.into_iter().flatten().collect())
    }

    /// The plans of `plan` as text; with `analyze`, after running it, with metrics.
    pub async fn explain(&self, plan: &LogicalPlan, options: ExplainOptions) -> Result<String> {
        let mut text = String::new();
        if !options.optimized && !options.analyze {
            section(&mut text, "Logical plan", plan.display_indent());
            return Ok(text);
        }
        let optimized = self
            .context()
            .state()
            .optimize(plan)
            .map_err(|e| with_sources(e.into(), plan))?;
        section(
            &mut text,
            "Optimized logical plan",
            optimized.display_indent(),
        );
        let physical = self.physical_plan_on(plan, options.device).await?;
        if !options.analyze {
            section(
                &mut text,
                "Physical plan",
                // Not the verbose form, which lists each fused kernel's code under its operator:
                // `kernels` prints the code in a section of its own.
                displayable(physical.as_ref()).indent(false),
            );
            if options.kernels {
                self.kernel_sections(&mut text, &optimized, &physical);
            }
            return Ok(text);
        }
        let started = Instant::now();
        let batches = self.run_to_batches(Arc::clone(&physical), plan).await?;
        let elapsed = started.elapsed();
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        section(
            &mut text,
            "Physical plan with metrics",
            // Not the verbose form: that would put each fused kernel's code between an
            // operator and its metrics (`kernels` prints the code in its own section).
            datafusion::physical_plan::display::DisplayableExecutionPlan::with_metrics(
                physical.as_ref(),
            )
            .indent(false),
        );
        if options.kernels {
            self.kernel_sections(&mut text, &optimized, &physical);
        }
        let _ = writeln!(
            text,
            "\n== Summary ==\n{rows} rows in {:.3} s over {} partitions",
            elapsed.as_secs_f64(),
            self.target_partitions()
        );
        Ok(text)
    }
}

impl Session {
    /// The fused kernels' code, and why the filters and projections left to DataFusion
    /// were not fused.
    fn kernel_sections(
        &self,
        text: &mut String,
        optimized: &LogicalPlan,
        physical: &Arc<dyn ExecutionPlan>,
    ) {
        section(text, "Kernels", crate::jit::kernel_listings(physical));
        if self.jit() {
            section(
                text,
                "Not fused",
                corepy_planner::fusion::unfused_regions(optimized),
            );
        }
    }
}

/// Awaits planning or execution work for `plan`; its errors, and panics of the readers
/// beneath it, are explained with the files the plan reads.
async fn explained<T>(
    work: impl std::future::Future<Output = datafusion::common::Result<T>>,
    plan: &LogicalPlan,
) -> Result<T> {
    AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .map_err(panic_error)
        .and_then(|result| result.map_err(CorepyError::from))
        .map_err(|e| with_sources(e, plan))
}

fn section(text: &mut String, title: &str, body: impl std::fmt::Display) {
    if !text.is_empty() {
        text.push('\n');
    }
    let _ = writeln!(text, "== {title} ==\n{}", body.to_string().trim_end());
}

/// The local files a plan reads, with their formats.
pub fn source_files(plan: &LogicalPlan) -> Vec<(String, Option<FileKind>)> {
    let mut files = Vec::new();
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            if let Ok(provider) = source_as_provider(&scan.source) {
                if let Some(listing) = provider.downcast_ref::<ListingTable>() {
                    let extension = format!("file.{}", listing.options().format.get_ext());
                    let kind = FileKind::from_extension(Path::new(&extension));
                    files.extend(
                        listing
                            .table_paths()
                            .iter()
                            .map(|url| (source_name(url), kind)),
                    );
                }
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files.dedup_by(|a, b| a.0 == b.0);
    files
}

/// A table path as the user named it: a local path, or the URL of a remote file.
fn source_name(url: &datafusion::datasource::listing::ListingTableUrl) -> String {
    if url.scheme() == "file" {
        format!("/{}", url.prefix().as_ref())
    } else {
        url.as_str().to_string()
    }
}

/// Fills in the file a file-format error came from, which DataFusion's readers often omit;
/// and when a reader panicked, checks the plan's files again so that a file that was
/// corrupted after it was opened is reported as such.
fn with_sources(error: CorepyError, plan: &LogicalPlan) -> CorepyError {
    match error {
        CorepyError::Internal { ref message } if message.starts_with("panic") => source_files(plan)
            .into_iter()
            .filter_map(|(path, kind)| Some((path, kind?)))
            .filter(|(path, _)| Path::new(path).is_file())
            .find_map(|(path, kind)| check_file(Path::new(&path), kind).err())
            .unwrap_or(error),
        CorepyError::FileFormat { path, message } if path.is_empty() => {
            let paths: Vec<String> = source_files(plan).into_iter().map(|(p, _)| p).collect();
            let path = match paths.as_slice() {
                [] => String::new(),
                [one] => one.clone(),
                many => format!("one of {}", many.join(", ")),
            };
            CorepyError::FileFormat { path, message }
        }
        other => other,
    }
}
