//! The operator the rule puts under both sides of a hash join, [`BloomExec`]: over the
//! build side (`BloomBuildExec` in plans) it records the keys as they stream into the join
//! and, at the end, publishes a [`BloomFilter`] of them; over the probe side
//! (`BloomProbeExec`) it drops the rows whose keys the filter says the build side lacks,
//! before the join hashes and looks them up.
//!
//! They meet through [`Published`]: one filter per build partition (a collected build side
//! is one partition for every probe partition; a partitioned join pairs partition `p` with
//! partition `p`). The join reads its whole build side before it polls the probe side, so
//! the filter is there when the first probe batch is; should it not be (or should the build
//! side have been too large, or failed), the probe passes its rows through unchanged —
//! the join alone then decides, as without the filter.

use std::collections::HashMap;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use datafusion::arrow::array::{ArrayRef, BooleanArray, RecordBatch};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Result, Statistics};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::metrics::{
    BaselineMetrics, Count, ExecutionPlanMetricsSet, Gauge, MetricBuilder, MetricsSet,
};
use datafusion::physical_plan::statistics::{ChildStats, StatisticsArgs};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use futures::{Stream, StreamExt};
use parking_lot::Mutex;

use super::filter::{key_words, BloomFilter};

/// The most build rows whose keys are recorded: past this the filter would no longer fit
/// a core's cache, and a lookup in it would cost about what the join's own does.
pub const MAX_BUILD_KEYS: usize = 4 << 20;

/// Probe rows looked up before deciding whether the filter pays.
const PROBE_SAMPLE_ROWS: u64 = 1 << 16;

/// The largest share of probe rows the filter may keep and still run: above it, the copy of
/// the kept rows costs about what the join saves on the few it drops.
const MAX_KEPT_SHARE: f64 = 0.6;

/// What a build partition left for its probe partitions.
#[derive(Debug, Clone)]
enum Slot {
    /// The build side is still being read.
    Pending,
    Ready(Arc<BloomFilter>),
    /// No filter: the build side was too large, or ended in an error.
    Absent,
}

/// The filters of one join, by build partition.
#[derive(Debug, Default)]
pub struct Published {
    slots: Mutex<HashMap<usize, Slot>>,
}

impl Published {
    fn set(&self, partition: usize, slot: Slot) {
        self.slots.lock().insert(partition, slot);
    }

    fn get(&self, partition: usize) -> Slot {
        self.slots
            .lock()
            .get(&partition)
            .cloned()
            .unwrap_or(Slot::Pending)
    }
}

fn show_keys(keys: &[Arc<dyn PhysicalExpr>]) -> String {
    let shown: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    shown.join(", ")
}

fn evaluate(keys: &[Arc<dyn PhysicalExpr>], batch: &RecordBatch) -> Result<Vec<ArrayRef>> {
    keys.iter()
        .map(|key| key.evaluate(batch)?.into_array(batch.num_rows()))
        .collect()
}

/// Which side of the join a [`BloomExec`] is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Records the join keys of the build side's rows, batches out unchanged.
    Build,
    /// Drops the probe rows whose keys the build side's filter lacks (and those with a
    /// NULL key, which match nothing). `collected`: every probe partition reads build
    /// partition 0's filter (a collected build side).
    Probe { collected: bool },
}

/// One side of a Bloom-filtered join (see the module's notes); shown as `BloomBuildExec`
/// or `BloomProbeExec`.
#[derive(Debug)]
pub struct BloomExec {
    input: Arc<dyn ExecutionPlan>,
    keys: Vec<Arc<dyn PhysicalExpr>>,
    published: Arc<Published>,
    role: Role,
    metrics: ExecutionPlanMetricsSet,
}

impl BloomExec {
    pub fn new(
        input: Arc<dyn ExecutionPlan>,
        keys: Vec<Arc<dyn PhysicalExpr>>,
        published: Arc<Published>,
        role: Role,
    ) -> Self {
        Self {
            input,
            keys,
            published,
            role,
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }

    pub fn role(&self) -> Role {
        self.role
    }

    fn build_stream(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        self.published.set(partition, Slot::Pending);
        let input = self.input.execute(partition, Arc::clone(&context))?;
        let memory = MemoryConsumer::new(format!("BloomBuildExec[{partition}]"))
            .register(context.memory_pool());
        let builder = || MetricBuilder::new(&self.metrics);
        Ok(Box::pin(BuildStream {
            input,
            keys: self.keys.clone(),
            partition,
            published: Arc::clone(&self.published),
            recorded: Some(Vec::new()),
            rows: Vec::new(),
            memory,
            baseline: BaselineMetrics::new(&self.metrics, partition),
            filter_bytes: builder().gauge("bloom_bytes", partition),
            keys_recorded: builder().counter("keys_recorded", partition),
        }))
    }

    fn probe_stream(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
        collected: bool,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, context)?;
        let builder = || MetricBuilder::new(&self.metrics);
        Ok(Box::pin(ProbeStream {
            input,
            keys: self.keys.clone(),
            published: Arc::clone(&self.published),
            build_partition: if collected { 0 } else { partition },
            filter: None,
            passing: false,
            rows: Vec::new(),
            checked: 0,
            kept: 0,
            baseline: BaselineMetrics::new(&self.metrics, partition),
            rows_in: builder().counter("input_rows", partition),
            dropped: builder().counter("rows_dropped", partition),
            passed_unfiltered: builder().counter("rows_passed_unfiltered", partition),
        }))
    }
}

impl DisplayAs for BloomExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}: keys=[{}]", self.name(), show_keys(&self.keys))
    }
}

impl ExecutionPlan for BloomExec {
    fn name(&self) -> &str {
        match self.role {
            Role::Build => "BloomBuildExec",
            Role::Probe { .. } => "BloomProbeExec",
        }
    }

    /// Passing or dropping rows keeps the input's partitioning, order and equivalences.
    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        for key in &self.keys {
            if f(key)? == TreeNodeRecursion::Stop {
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(Self::new(
            children.swap_remove(0),
            self.keys.clone(),
            Arc::clone(&self.published),
            self.role,
        )))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        match self.role {
            Role::Build => self.build_stream(partition, context),
            Role::Probe { collected } => self.probe_stream(partition, context, collected),
        }
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn child_stats_requests(&self, partition: Option<usize>) -> Vec<ChildStats> {
        vec![ChildStats::At(partition)]
    }

    /// The input's; inexact on the probe side: fewer rows, how many is known only once
    /// it runs.
    fn statistics_from_inputs(
        &self,
        input_stats: &[Arc<Statistics>],
        _args: &StatisticsArgs,
    ) -> Result<Arc<Statistics>> {
        Ok(match self.role {
            Role::Build => Arc::clone(&input_stats[0]),
            Role::Probe { .. } => Arc::new(input_stats[0].as_ref().clone().to_inexact()),
        })
    }
}

struct BuildStream {
    input: SendableRecordBatchStream,
    keys: Vec<Arc<dyn PhysicalExpr>>,
    partition: usize,
    published: Arc<Published>,
    /// The key words of the rows with no NULL key so far; None once too many (or once
    /// published).
    recorded: Option<Vec<u64>>,
    /// Scratch: one batch's words.
    rows: Vec<u64>,
    memory: MemoryReservation,
    baseline: BaselineMetrics,
    filter_bytes: Gauge,
    keys_recorded: Count,
}

impl BuildStream {
    fn record(&mut self, batch: &RecordBatch) -> Result<()> {
        let Some(recorded) = self.recorded.as_mut() else {
            return Ok(());
        };
        let elapsed = self.baseline.elapsed_compute().clone();
        let _timer = elapsed.timer();
        let keys = evaluate(&self.keys, batch)?;
        let valid = key_words(&keys, batch.num_rows(), &mut self.rows);
        let added = valid
            .as_ref()
            .map_or(self.rows.len(), |v| v.len() - v.null_count());
        // Too many keys, or no memory for them: no filter, and the words are let go.
        if recorded.len() + added > MAX_BUILD_KEYS || self.memory.try_grow(added * 8).is_err() {
            self.give_up();
            return Ok(());
        }
        match valid {
            None => recorded.extend_from_slice(&self.rows),
            Some(valid) => recorded.extend(valid.valid_indices().map(|i| self.rows[i])),
        }
        Ok(())
    }

    fn give_up(&mut self) {
        self.recorded = None;
        self.memory.free();
        self.published.set(self.partition, Slot::Absent);
    }

    fn publish(&mut self) {
        let Some(recorded) = self.recorded.take() else {
            return;
        };
        let elapsed = self.baseline.elapsed_compute().clone();
        let _timer = elapsed.timer();
        let bytes = BloomFilter::bytes_for(recorded.len());
        if self.memory.try_grow(bytes).is_err() {
            self.give_up();
            return;
        }
        let filter = BloomFilter::from_words(&recorded);
        drop(recorded);
        // The words go; the filter stays as long as the plan holds it.
        self.memory.resize(filter.bytes());
        self.filter_bytes.set(filter.bytes());
        self.keys_recorded.add(filter.keys());
        self.published
            .set(self.partition, Slot::Ready(Arc::new(filter)));
    }
}

impl Stream for BuildStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let next = ready!(self.input.poll_next_unpin(cx));
        let out = match next {
            Some(Ok(batch)) => match self.record(&batch) {
                Ok(()) => {
                    self.baseline.record_output(batch.num_rows());
                    Some(Ok(batch))
                }
                Err(error) => {
                    self.give_up();
                    Some(Err(error))
                }
            },
            Some(Err(error)) => {
                self.give_up();
                Some(Err(error))
            }
            None => {
                self.publish();
                None
            }
        };
        Poll::Ready(out)
    }
}

impl RecordBatchStream for BuildStream {
    fn schema(&self) -> SchemaRef {
        self.input.schema()
    }
}

struct ProbeStream {
    input: SendableRecordBatchStream,
    keys: Vec<Arc<dyn PhysicalExpr>>,
    published: Arc<Published>,
    build_partition: usize,
    filter: Option<Arc<BloomFilter>>,
    /// Set for good once the filter is known absent or not worth its cost.
    passing: bool,
    rows: Vec<u64>,
    checked: u64,
    kept: u64,
    baseline: BaselineMetrics,
    rows_in: Count,
    dropped: Count,
    passed_unfiltered: Count,
}

impl ProbeStream {
    /// The filter, once the build side has published one (an absent one sets `passing`).
    fn filter(&mut self) -> Option<Arc<BloomFilter>> {
        if self.filter.is_none() {
            match self.published.get(self.build_partition) {
                Slot::Ready(filter) => self.filter = Some(filter),
                Slot::Absent => self.passing = true,
                Slot::Pending => {}
            }
        }
        self.filter.clone()
    }

    /// The batch's rows the filter may match; None when it drops them all.
    fn filter_batch(&mut self, batch: RecordBatch) -> Result<Option<RecordBatch>> {
        let rows = batch.num_rows();
        self.rows_in.add(rows);
        let filter = if self.passing { None } else { self.filter() };
        let Some(filter) = filter else {
            self.passed_unfiltered.add(rows);
            return Ok(Some(batch));
        };
        let elapsed = self.baseline.elapsed_compute().clone();
        let _timer = elapsed.timer();
        let keys = evaluate(&self.keys, &batch)?;
        let valid = key_words(&keys, rows, &mut self.rows);
        let words = &self.rows;
        let mut keep = BooleanBuffer::collect_bool(rows, |i| filter.may_contain(words[i]));
        if let Some(valid) = valid {
            keep = &keep & valid.inner();
        }
        let kept = keep.count_set_bits();
        self.checked += rows as u64;
        self.kept += kept as u64;
        self.dropped.add(rows - kept);
        if self.checked >= PROBE_SAMPLE_ROWS
            && self.kept as f64 > MAX_KEPT_SHARE * self.checked as f64
        {
            self.passing = true;
        }
        Ok(match kept {
            0 => None,
            k if k == rows => Some(batch),
            _ => Some(filter_record_batch(&batch, &BooleanArray::new(keep, None))?),
        })
    }
}

impl Stream for ProbeStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let batch = match ready!(self.input.poll_next_unpin(cx)) {
                Some(Ok(batch)) => batch,
                other => return Poll::Ready(other),
            };
            match self.filter_batch(batch) {
                Ok(Some(batch)) => {
                    self.baseline.record_output(batch.num_rows());
                    return Poll::Ready(Some(Ok(batch)));
                }
                // Every row dropped: on to the next batch.
                Ok(None) => continue,
                Err(error) => return Poll::Ready(Some(Err(error))),
            }
        }
    }
}

impl RecordBatchStream for ProbeStream {
    fn schema(&self) -> SchemaRef {
        self.input.schema()
    }
}
