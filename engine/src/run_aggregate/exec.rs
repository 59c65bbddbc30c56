//! `RunAggregateExec`: a partial aggregation that merges each run of rows with equal keys
//! into one partial state, with no hash table, when its input comes clustered by them.
//!
//! A partition first reads a probe of [`PROBE_ROWS`] rows. It merges runs only where the
//! probe had at most one run per two rows ([`clustered`]) and the runs mostly different
//! keys: then a hash table would have found few repeats beyond the runs, and its groups
//! would be as many as the runs. Otherwise, or when the rows read later stop being clustered,
//! the partition goes back to DataFusion's partial aggregation for the rest of its input
//! (the probe's batches first); a probe that has plainly more than three runs in four rows
//! after its first thousand rows stops there, so that input which is not clustered pays
//! for one batch's runs and nothing more. DataFusion's final aggregation merges a group
//! that comes in several pieces (runs across batches, partitions, or both ways).

use std::collections::hash_map::RandomState;
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::hash_utils::create_hashes_with_hasher;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::execution_plan::{ChildrenPropertiesMode, ReplaceChildrenOptions};
use datafusion::physical_plan::metrics::{
    BaselineMetrics, Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet,
};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use futures::{StreamExt, TryStreamExt};

use super::fold::Evaluated;
use super::plan::RunPlan;
use crate::jit::aggregate::Fallback;

/// Rows a partition reads before it decides how to aggregate.
pub const PROBE_ROWS: usize = 65_536;

/// Rows from which a probe or a batch with more than three runs in four rows is taken
/// as not clustered (fewer, a join's or filter's leftovers, say too little).
const CHECKED_FROM: usize = 1024;

/// Whether `rows` in `runs` still look clustered: at most three runs in four rows.
fn dense(rows: usize, runs: usize) -> bool {
    runs * 4 <= rows * 3
}

/// Whether `runs` over `rows` with `distinct` keys among the runs are worth merging: at
/// most one run per two rows, and more than half of the runs a key of their own.
pub fn clustered(rows: usize, runs: usize, distinct: usize) -> bool {
    rows > 0 && runs * 2 <= rows && distinct * 2 > runs
}

#[derive(Clone)]
pub struct RunAggregateExec {
    input: Arc<dyn ExecutionPlan>,
    plan: Arc<RunPlan>,
    /// DataFusion's partial aggregation, for input that is not clustered.
    fallback: Fallback,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl fmt::Debug for RunAggregateExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RunAggregateExec({:?})", self.plan.key_names)
    }
}

impl RunAggregateExec {
    /// `properties` are the replaced partial aggregation's: the same rows go to the same
    /// partitions, as partial states of the same schema.
    pub fn new(
        input: Arc<dyn ExecutionPlan>,
        plan: Arc<RunPlan>,
        fallback: Fallback,
        properties: Arc<PlanProperties>,
    ) -> Self {
        RunAggregateExec {
            input,
            plan,
            fallback,
            schema: Arc::clone(properties.eq_properties.schema()),
            properties,
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }
}

impl RunAggregateExec {
    /// The group keys, over the input's columns (the output's first columns, in order).
    pub fn keys(&self) -> &[Arc<dyn PhysicalExpr>] {
        &self.plan.keys
    }
}

impl DisplayAs for RunAggregateExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let shown: Vec<&str> = self
            .plan
            .aggregates
            .iter()
            .map(|a| a.shown.as_str())
            .collect();
        write!(
            f,
            "RunAggregateExec: mode=Partial, gby=[{}], aggr=[{}], runs merged while clustered",
            self.plan.key_names.join(", "),
            shown.join(", ")
        )
    }
}

/// The counters of one partition.
struct Counters {
    baseline: BaselineMetrics,
    input_rows: Count,
    /// 1 where the partition's input was not clustered and DataFusion aggregated it.
    fell_back: Count,
}

/// A partition's first rows, read before it decides.
struct Probe {
    input: SendableRecordBatchStream,
    batches: Vec<RecordBatch>,
    /// Each batch's runs' states, given out if the partition merges runs.
    states: Vec<RecordBatch>,
    rows: usize,
    runs: usize,
    /// Hashes of the runs' keys.
    keys: HashSet<u64>,
    memory: MemoryReservation,
}

/// Rows read and runs found since the last check of their density.
#[derive(Default)]
struct Window {
    rows: usize,
    runs: usize,
}

/// Where a partition's stream stands.
enum Step {
    Probing(Probe),
    /// Merging runs; the rows and runs since density was last checked.
    Merging(SendableRecordBatchStream, Window),
    /// DataFusion's partial aggregation of the input left.
    Falling(SendableRecordBatchStream),
    Done,
}

impl RunAggregateExec {
    /// Reads the probe, then starts merging or falls back.
    async fn probe(
        &self,
        mut probe: Probe,
        counters: &Counters,
        context: Arc<TaskContext>,
    ) -> Result<(Vec<RecordBatch>, Step)> {
        let hasher = RandomState::new();
        while probe.rows < PROBE_ROWS {
            let Some(batch) = probe.input.next().await else {
                break;
            };
            let batch = batch?;
            let _compute = counters.baseline.elapsed_compute().timer();
            counters.input_rows.add(batch.num_rows());
            let evaluated = Evaluated::of(&self.plan, &batch)?;
            let runs = evaluated.runs()?;
            probe.rows += batch.num_rows();
            probe.runs += runs.len();
            if probe.rows >= CHECKED_FROM && !dense(probe.rows, probe.runs) {
                // Plainly not clustered: no more probing, and no states for it.
                probe.batches.push(batch);
                let rest = self.fall_back(probe.batches, probe.input, counters, context)?;
                return Ok((Vec::new(), Step::Falling(rest)));
            }
            let states = evaluated.states(&self.plan, &runs, &self.schema)?;
            let mut hashes = vec![0; states.num_rows()];
            let keys = &states.columns()[..self.plan.keys.len()];
            create_hashes_with_hasher(keys, &hasher, &mut hashes)?;
            probe.keys.extend(hashes);
            let bytes = batch.get_array_memory_size() + states.get_array_memory_size();
            let granted = probe.memory.try_grow(bytes).is_ok();
            probe.batches.push(batch);
            probe.states.push(states);
            if !granted {
                // Decided on what was read: the probe holds no more than the pool grants.
                break;
            }
        }
        if probe.rows == 0 {
            return Ok((Vec::new(), Step::Done));
        }
        if clustered(probe.rows, probe.runs, probe.keys.len()) {
            let out = self.coalesce(probe.states)?;
            counters
                .baseline
                .record_output(out.iter().map(|b| b.num_rows()).sum());
            return Ok((out, Step::Merging(probe.input, Window::default())));
        }
        let rest = self.fall_back(probe.batches, probe.input, counters, context)?;
        Ok((Vec::new(), Step::Falling(rest)))
    }

    /// Merges the runs of batches until a batch's worth of states (or the input's end);
    /// falls back when the rows since the last check (at least [`CHECKED_FROM`]) are not
    /// clustered.
    async fn merge(
        &self,
        mut input: SendableRecordBatchStream,
        mut window: Window,
        counters: &Counters,
        context: Arc<TaskContext>,
        batch_size: usize,
    ) -> Result<(Vec<RecordBatch>, Step)> {
        let mut states = Vec::new();
        let mut rows = 0;
        let next = loop {
            if rows >= batch_size {
                break Step::Merging(input, window);
            }
            let Some(batch) = input.next().await else {
                break Step::Done;
            };
            let batch = batch?;
            let _compute = counters.baseline.elapsed_compute().timer();
            counters.input_rows.add(batch.num_rows());
            let evaluated = Evaluated::of(&self.plan, &batch)?;
            let runs = evaluated.runs()?;
            window.rows += batch.num_rows();
            window.runs += runs.len();
            if window.rows >= CHECKED_FROM {
                if !dense(window.rows, window.runs) {
                    // No longer clustered: DataFusion aggregates this batch and the rest.
                    let rest = self.fall_back(vec![batch], input, counters, context)?;
                    break Step::Falling(rest);
                }
                window = Window::default();
            }
            rows += runs.len();
            states.push(evaluated.states(&self.plan, &runs, &self.schema)?);
        };
        let out = self.coalesce(states)?;
        counters
            .baseline
            .record_output(out.iter().map(|b| b.num_rows()).sum());
        Ok((out, next))
    }

    /// DataFusion's partial aggregation of `read` (batches already read) and then `rest`.
    fn fall_back(
        &self,
        read: Vec<RecordBatch>,
        rest: SendableRecordBatchStream,
        counters: &Counters,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        counters.fell_back.add(1);
        let schema = rest.schema();
        let replay = futures::stream::iter(read.into_iter().map(Ok)).chain(rest);
        let input = Box::pin(RecordBatchStreamAdapter::new(schema, replay));
        self.fallback.run(input, context)
    }

    /// The states as one batch (many small ones cost their readers per batch).
    fn coalesce(&self, states: Vec<RecordBatch>) -> Result<Vec<RecordBatch>> {
        Ok(match states.len() {
            0 | 1 => states,
            _ => vec![concat_batches(&self.schema, &states)?],
        })
    }
}

impl ExecutionPlan for RunAggregateExec {
    fn name(&self) -> &'static str {
        "RunAggregateExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        let arguments = self.plan.aggregates.iter().map(|a| &a.argument);
        let filters = self
            .plan
            .aggregates
            .iter()
            .filter_map(|a| a.filter.as_ref());
        let mut recursion = TreeNodeRecursion::Continue;
        for expr in self.plan.keys.iter().chain(arguments).chain(filters) {
            recursion = f(expr)?;
            if recursion == TreeNodeRecursion::Stop {
                break;
            }
        }
        Ok(recursion)
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![false]
    }

    fn replace_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(RunAggregateExec::new(
            children.swap_remove(0),
            Arc::clone(&self.plan),
            // The fallback reads whatever input is left to it, not this child.
            self.fallback.clone(),
            Arc::clone(&self.properties),
        )))
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let batch_size = context.session_config().batch_size();
        let input = self.input.execute(partition, Arc::clone(&context))?;
        // Fused: the probe, the merging and the fallback may each ask after the end.
        let input: SendableRecordBatchStream =
            Box::pin(RecordBatchStreamAdapter::new(input.schema(), input.fuse()));
        let builder = || MetricBuilder::new(&self.metrics);
        let counters = Arc::new(Counters {
            baseline: BaselineMetrics::new(&self.metrics, partition),
            input_rows: builder().counter("input_rows", partition),
            fell_back: builder().counter("fell_back_to_datafusion", partition),
        });
        let memory = MemoryConsumer::new(format!("RunAggregateExec[{partition}]"))
            .register(context.memory_pool());
        let start = Step::Probing(Probe {
            input,
            batches: Vec::new(),
            states: Vec::new(),
            rows: 0,
            runs: 0,
            keys: HashSet::new(),
            memory,
        });
        let this = self.clone();
        let merged = futures::stream::try_unfold(start, move |step| {
            let (this, counters) = (this.clone(), Arc::clone(&counters));
            let context = Arc::clone(&context);
            async move {
                let (out, next) = match step {
                    Step::Probing(probe) => this.probe(probe, &counters, context).await?,
                    Step::Merging(input, window) => {
                        this.merge(input, window, &counters, context, batch_size)
                            .await?
                    }
                    Step::Falling(mut rest) => match rest.next().await {
                        None => return Ok(None),
                        Some(batch) => {
                            let batch = batch?;
                            counters.baseline.record_output(batch.num_rows());
                            (vec![batch], Step::Falling(rest))
                        }
                    },
                    Step::Done => return Ok(None),
                };
                Ok::<_, DataFusionError>(Some((out, next)))
            }
        })
        .map_ok(|batches| futures::stream::iter(batches.into_iter().map(Ok)))
        .try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            merged,
        )))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}
