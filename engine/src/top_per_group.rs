//! `TopPerGroupExec`: the physical operator of the planner's `TopPerGroup` node. Each
//! partition keeps, for every group of its partition keys, the `k` best rows by the order
//! keys in a heap, in one pass over its input; at the end it emits them group by group,
//! numbered `1..` in order, as `row_number()` would number them.
//!
//! It asks for its input hash-partitioned on the partition keys (one partition when there
//! are none), as DataFusion's window does, so every group is whole in one partition.
//!
//! - Groups are interned by DataFusion's `GroupValues`, the hash table its aggregation uses.
//! - Order keys are compared as Arrow's row format, which orders bytes as the `ORDER BY`
//!   orders values (direction, `NULLS FIRST`/`LAST`, NaN after every number as DataFusion
//!   sorts it). Equal keys keep the row that came first.
//! - A row that enters a heap is copied out of its batch at the end of that batch, so the
//!   operator holds the candidates, not its input. Candidates pushed out of their heap are
//!   garbage; once they outnumber the live ones, the live ones are copied into one batch.
//! - Its memory (candidates, heaps, the group table) is reserved from the session's pool;
//!   a query that needs more than the pool has fails with DataFusion's resources error.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use corepy_planner::top_per_group::TopPerGroup;
use datafusion::arrow::array::{ArrayRef, AsArray, RecordBatch, UInt32Array, UInt64Array};
use datafusion::arrow::compute::{interleave_record_batch, take_record_batch, SortOptions};
use datafusion::arrow::datatypes::{
    DataType, Field, Float16Type, Float32Type, Float64Type, Schema, SchemaRef, UInt16Type,
    UInt32Type, UInt64Type,
};
use datafusion::arrow::row::{RowConverter, Rows, SortField};
use datafusion::catalog::Session;
use datafusion::common::stats::Precision;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{internal_err, ColumnStatistics, DataFusionError, Result, Statistics};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{LogicalPlan, UserDefinedLogicalNode};
use datafusion::physical_expr::{
    Distribution, EquivalenceProperties, PhysicalExpr, PhysicalSortExpr,
};
use datafusion::physical_plan::aggregates::group_values::{new_group_values, GroupValues};
use datafusion::physical_plan::aggregates::order::GroupOrdering;
use datafusion::physical_plan::execution_plan::CardinalityEffect;
use datafusion::physical_plan::execution_plan::EmissionType;
use datafusion::physical_plan::metrics::{
    BaselineMetrics, Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet, RecordOutput,
};
use datafusion::physical_plan::statistics::{ChildStats, StatisticsArgs};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties,
    InputDistributionRequirements, PlanProperties,
};
use datafusion::physical_planner::{ExtensionPlanner, PhysicalPlanner};
use futures::{StreamExt, TryStreamExt};

/// The `k` first rows of each group of `partition_by` in the order of `order_by`, each with
/// its number (UInt64, from 1) as a last column.
#[derive(Debug)]
pub struct TopPerGroupExec {
    input: Arc<dyn ExecutionPlan>,
    partition_by: Vec<Arc<dyn PhysicalExpr>>,
    order_by: Vec<PhysicalSortExpr>,
    k: usize,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl TopPerGroupExec {
    /// `schema` is the input's columns and the number's.
    pub fn new(
        input: Arc<dyn ExecutionPlan>,
        partition_by: Vec<Arc<dyn PhysicalExpr>>,
        order_by: Vec<PhysicalSortExpr>,
        k: usize,
        schema: SchemaRef,
    ) -> Self {
        // Rows stay in the partition they came from, so the input's partitioning (on its
        // columns, which keep their positions) still holds; the order does not.
        let properties = PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            input.output_partitioning().clone(),
            EmissionType::Final,
            input.boundedness(),
        );
        Self {
            input,
            partition_by,
            order_by,
            k,
            schema,
            properties: Arc::new(properties),
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }
}

impl DisplayAs for TopPerGroupExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let keys: Vec<String> = self.partition_by.iter().map(|e| e.to_string()).collect();
        let order: Vec<String> = self.order_by.iter().map(|e| e.to_string()).collect();
        write!(
            f,
            "TopPerGroupExec: k={}, partition_by=[{}], order_by=[{}]",
            self.k,
            keys.join(", "),
            order.join(", ")
        )
    }
}

impl ExecutionPlan for TopPerGroupExec {
    fn name(&self) -> &str {
        "TopPerGroupExec"
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
        let order = self.order_by.iter().map(|sort| &sort.expr);
        for expr in self.partition_by.iter().chain(order) {
            if f(expr)? == TreeNodeRecursion::Stop {
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    }

    #[allow(deprecated)]
    fn required_input_distribution(&self) -> Vec<Distribution> {
        self.input_distribution_requirements().into_per_child()
    }

    fn input_distribution_requirements(&self) -> InputDistributionRequirements {
        let distribution = if self.partition_by.is_empty() {
            Distribution::SinglePartition
        } else {
            Distribution::KeyPartitioned(self.partition_by.clone())
        };
        InputDistributionRequirements::new(vec![distribution])
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(TopPerGroupExec::new(
            children.swap_remove(0),
            self.partition_by.clone(),
            self.order_by.clone(),
            self.k,
            Arc::clone(&self.schema),
        )))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let mut input = self.input.execute(partition, Arc::clone(&context))?;
        let mut heaps = Heaps::try_new(self, &self.input.schema())?;
        let reservation = MemoryConsumer::new(format!("TopPerGroupExec[{partition}]"))
            .register(context.memory_pool());
        let baseline = BaselineMetrics::new(&self.metrics, partition);
        let groups = MetricBuilder::new(&self.metrics).counter("groups", partition);
        let emit = Emit {
            schema: Arc::clone(&self.schema),
            batch_size: context.session_config().batch_size(),
            baseline: baseline.clone(),
            groups,
        };
        let ranked = async move {
            while let Some(batch) = input.next().await {
                let batch = batch?;
                let _timer = baseline.elapsed_compute().timer();
                heaps.insert(&batch)?;
                reservation.try_resize(heaps.size())?;
            }
            let batches = emit.batches(heaps, reservation)?;
            Ok::<_, DataFusionError>(futures::stream::iter(batches))
        };
        let stream = futures::stream::once(ranked).try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            stream,
        )))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn child_stats_requests(&self, partition: Option<usize>) -> Vec<ChildStats> {
        vec![ChildStats::At(partition)]
    }

    /// At most the input's rows (`k` without partition keys), with the input's columns'
    /// statistics as bounds; nothing known of the number.
    fn statistics_from_inputs(
        &self,
        input_stats: &[Arc<Statistics>],
        _args: &StatisticsArgs,
    ) -> Result<Arc<Statistics>> {
        let input = input_stats[0].as_ref().clone().to_inexact();
        let num_rows = if self.partition_by.is_empty() {
            input.num_rows.min(&Precision::Inexact(self.k))
        } else {
            input.num_rows
        };
        let mut column_statistics = input.column_statistics;
        column_statistics.push(ColumnStatistics::new_unknown());
        Ok(Arc::new(Statistics {
            num_rows,
            total_byte_size: Precision::Absent,
            column_statistics,
        }))
    }

    fn cardinality_effect(&self) -> CardinalityEffect {
        CardinalityEffect::LowerEqual
    }
}

/// The order keys of the candidates, in Arrow's row format: bytes that compare as the
/// `ORDER BY` orders rows.
enum Keys {
    /// Keys of one fixed length of at most 15 bytes (one or two numeric or temporal
    /// columns), each packed big-endian into the high bytes of a `u128`, so that keys
    /// compare as integers. The low byte stays 0, which leaves `u128::MAX` above every key.
    Packed { len: usize, keys: Vec<u128> },
    /// Any other keys, back to back; candidate `c`'s ends at `ends[c]`.
    Bytes { data: Vec<u8>, ends: Vec<usize> },
}

impl Keys {
    /// Packed keys when every key is `len` bytes long and `len` fits, bytes otherwise.
    fn for_length(len: Option<usize>) -> Self {
        match len {
            Some(len) if len < 16 => Keys::Packed {
                len,
                keys: Vec::new(),
            },
            _ => Keys::Bytes {
                data: Vec::new(),
                ends: Vec::new(),
            },
        }
    }

    fn emptied(&self) -> Self {
        match self {
            Keys::Packed { len, .. } => Keys::for_length(Some(*len)),
            Keys::Bytes { .. } => Keys::for_length(None),
        }
    }

    fn bytes<'a>(data: &'a [u8], ends: &[usize], id: usize) -> &'a [u8] {
        let start = if id == 0 { 0 } else { ends[id - 1] };
        &data[start..ends[id]]
    }

    fn cmp(&self, a: u32, b: u32) -> std::cmp::Ordering {
        let (a, b) = (a as usize, b as usize);
        match self {
            Keys::Packed { keys, .. } => keys[a].cmp(&keys[b]),
            Keys::Bytes { data, ends } => {
                Self::bytes(data, ends, a).cmp(Self::bytes(data, ends, b))
            }
        }
    }

    /// Appends candidate `id`'s key of `other` (of the same kind).
    fn push_from(&mut self, other: &Keys, id: u32) {
        match (self, other) {
            (Keys::Packed { keys, .. }, Keys::Packed { keys: from, .. }) => {
                keys.push(from[id as usize])
            }
            (
                Keys::Bytes { data, ends },
                Keys::Bytes {
                    data: from,
                    ends: from_ends,
                },
            ) => {
                data.extend_from_slice(Self::bytes(from, from_ends, id as usize));
                ends.push(data.len());
            }
            _ => unreachable!("keys of one kind per operator"),
        }
    }

    fn size(&self) -> usize {
        match self {
            Keys::Packed { keys, .. } => keys.capacity() * 16,
            Keys::Bytes { data, ends } => data.capacity() + ends.capacity() * 8,
        }
    }
}

/// `key` (row-format bytes, shorter than 16) packed as [`Keys::Packed`] says.
fn packed(key: &[u8]) -> u128 {
    let mut bytes = [0u8; 16];
    bytes[..key.len()].copy_from_slice(key);
    u128::from_be_bytes(bytes)
}

/// Rows that entered a heap: their columns, copied out of their batches, and their order
/// keys. A candidate's id is its place in arrival order.
struct Candidates {
    batches: Vec<RecordBatch>,
    batch_bytes: usize,
    keys: Keys,
    /// Candidate `c` is row `places[c].1` of `batches[places[c].0]`.
    places: Vec<(usize, usize)>,
    /// Candidates pushed out of their heap.
    dead: usize,
}

impl Candidates {
    fn new(keys: Keys) -> Self {
        Self {
            batches: Vec::new(),
            batch_bytes: 0,
            keys,
            places: Vec::new(),
            dead: 0,
        }
    }

    /// A new candidate at `place`; the caller appends its key.
    fn push(&mut self, place: (usize, usize)) -> Result<u32> {
        let id = u32::try_from(self.places.len()).map_err(|_| {
            DataFusionError::ResourcesExhausted(
                "TopPerGroupExec: more than 2^32 rows kept in one partition".into(),
            )
        })?;
        self.places.push(place);
        Ok(id)
    }

    fn size(&self) -> usize {
        self.batch_bytes + self.keys.size() + self.places.capacity() * 16
    }
}

/// One partition's state: the group table, a heap of at most `k` candidate ids per group
/// (the one ranking last on top), and the candidates.
struct Heaps {
    partition_by: Vec<Arc<dyn PhysicalExpr>>,
    order_by: Vec<Arc<dyn PhysicalExpr>>,
    /// `None` without partition keys: every row is in group 0.
    groups: Option<Box<dyn GroupValues>>,
    /// `None` without order keys: every key is empty, so the first rows stay.
    order_keys: Option<RowConverter>,
    k: usize,
    heaps: Vec<Vec<u32>>,
    /// With packed keys, the key a row must be below to enter each group's heap: its top's
    /// when the heap is full, `u128::MAX` until then.
    bars: Vec<u128>,
    candidates: Candidates,
    group_ids: Vec<usize>,
    packed_keys: Vec<u128>,
}

impl Heaps {
    fn try_new(exec: &TopPerGroupExec, input: &Schema) -> Result<Self> {
        let groups = if exec.partition_by.is_empty() {
            None
        } else {
            let fields = exec
                .partition_by
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    Ok(Field::new(
                        format!("k{i}"),
                        key_type(&e.data_type(input)?),
                        e.nullable(input)?,
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            Some(new_group_values(
                Arc::new(Schema::new(fields)),
                &GroupOrdering::None,
            )?)
        };
        let types = exec
            .order_by
            .iter()
            .map(|sort| Ok((sort.expr.data_type(input)?, sort.options)))
            .collect::<Result<Vec<_>>>()?;
        // Arrow's row format writes a fixed-width value as a validity byte and its bytes.
        let fixed_length: Option<usize> = types
            .iter()
            .map(|(data_type, _)| data_type.primitive_width().map(|width| width + 1))
            .sum();
        let order_keys = if types.is_empty() {
            None
        } else {
            let fields = types
                .into_iter()
                .map(|(data_type, options)| SortField::new_with_options(data_type, options))
                .collect();
            Some(RowConverter::new(fields)?)
        };
        let groups_now = if exec.partition_by.is_empty() { 1 } else { 0 };
        Ok(Self {
            partition_by: exec.partition_by.clone(),
            order_by: exec
                .order_by
                .iter()
                .map(|sort| Arc::clone(&sort.expr))
                .collect(),
            groups,
            order_keys,
            k: exec.k,
            heaps: vec![Vec::new(); groups_now],
            bars: vec![u128::MAX; groups_now],
            candidates: Candidates::new(Keys::for_length(fixed_length)),
            group_ids: Vec::new(),
            packed_keys: Vec::new(),
        })
    }

    fn insert(&mut self, batch: &RecordBatch) -> Result<()> {
        let rows = batch.num_rows();
        if rows == 0 || self.k == 0 {
            return Ok(());
        }
        self.group_ids.clear();
        match &mut self.groups {
            Some(groups) => {
                let keys = evaluate(&self.partition_by, batch)?;
                let keys: Vec<ArrayRef> = keys.iter().map(as_key).collect::<Result<_>>()?;
                groups.intern(&keys, &mut self.group_ids)?;
                self.heaps.resize_with(groups.len(), Vec::new);
                self.bars.resize(groups.len(), u128::MAX);
            }
            None => self.group_ids.resize(rows, 0),
        }
        let order: Option<Rows> = match &self.order_keys {
            Some(converter) => Some(converter.convert_columns(&evaluate(&self.order_by, batch)?)?),
            None => None,
        };
        let taken = match self.candidates.keys {
            Keys::Packed { len, .. } => {
                self.packed_keys.clear();
                match &order {
                    Some(order) => {
                        for row in order.iter() {
                            let key = row.data();
                            if key.len() != len {
                                return internal_err!(
                                    "TopPerGroupExec: a key of {} bytes, not {len}",
                                    key.len()
                                );
                            }
                            self.packed_keys.push(packed(key));
                        }
                    }
                    None => self.packed_keys.resize(rows, 0),
                }
                self.insert_packed()?
            }
            Keys::Bytes { .. } => self.insert_bytes(order.as_ref())?,
        };
        let candidates = &mut self.candidates;
        if !taken.is_empty() {
            let kept = take_record_batch(batch, &UInt32Array::from(taken))?;
            candidates.batch_bytes += kept.get_array_memory_size();
            candidates.batches.push(kept);
        }
        let live = candidates.places.len() - candidates.dead;
        if candidates.dead > live.max(1 << 16) {
            self.compact()?;
        }
        Ok(())
    }

    /// Offers each row of the batch to its group's heap; the rows that entered.
    fn insert_packed(&mut self) -> Result<Vec<u32>> {
        let batch_no = self.candidates.batches.len();
        let mut taken: Vec<u32> = Vec::new();
        let candidates = &mut self.candidates;
        let Keys::Packed { keys, .. } = &mut candidates.keys else {
            return internal_err!("TopPerGroupExec: packed keys expected");
        };
        for (row, (&group, &key)) in self.group_ids.iter().zip(&self.packed_keys).enumerate() {
            // Most rows stop here: one comparison with their group's bar.
            if key >= self.bars[group] {
                continue;
            }
            let place = (batch_no, taken.len());
            taken.push(row as u32);
            let id = candidates.places.len();
            candidates.places.push(place);
            keys.push(key);
            let heap = &mut self.heaps[group];
            let id = u32::try_from(id).map_err(|_| too_many_rows())?;
            if heap.len() < self.k {
                heap.push(id);
                sift_up(heap, |a, b| (keys[a as usize], a) > (keys[b as usize], b));
            } else {
                candidates.dead += 1;
                heap[0] = id;
                sift_down(heap, |a, b| (keys[a as usize], a) > (keys[b as usize], b));
            }
            if heap.len() == self.k {
                self.bars[group] = keys[heap[0] as usize];
            }
        }
        Ok(taken)
    }

    /// [`Self::insert_packed`] for keys compared as bytes.
    fn insert_bytes(&mut self, order: Option<&Rows>) -> Result<Vec<u32>> {
        let batch_no = self.candidates.batches.len();
        let mut taken: Vec<u32> = Vec::new();
        let candidates = &mut self.candidates;
        let Keys::Bytes { data, ends } = &mut candidates.keys else {
            return internal_err!("TopPerGroupExec: byte keys expected");
        };
        for (row, &group) in self.group_ids.iter().enumerate() {
            let key: &[u8] = order.map_or(&[], |rows| rows.row(row).data());
            let heap = &mut self.heaps[group];
            let full = heap.len() == self.k;
            if full && key >= Keys::bytes(data, ends, heap[0] as usize) {
                continue;
            }
            let place = (batch_no, taken.len());
            taken.push(row as u32);
            let id = u32::try_from(candidates.places.len()).map_err(|_| too_many_rows())?;
            candidates.places.push(place);
            data.extend_from_slice(key);
            ends.push(data.len());
            let after = |a: u32, b: u32| {
                (Keys::bytes(data, ends, a as usize), a) > (Keys::bytes(data, ends, b as usize), b)
            };
            if full {
                candidates.dead += 1;
                heap[0] = id;
                sift_down(heap, after);
            } else {
                heap.push(id);
                sift_up(heap, after);
            }
        }
        Ok(taken)
    }

    /// Copies the live candidates into one batch and numbers them again, in the same order.
    fn compact(&mut self) -> Result<()> {
        let emptied = Candidates::new(self.candidates.keys.emptied());
        let old = std::mem::replace(&mut self.candidates, emptied);
        let mut live: Vec<u32> = self.heaps.iter().flatten().copied().collect();
        live.sort_unstable();
        let mut renumbered = vec![u32::MAX; old.places.len()];
        let mut places = Vec::with_capacity(live.len());
        for (new, &id) in live.iter().enumerate() {
            renumbered[id as usize] = new as u32;
            places.push(old.places[id as usize]);
            self.candidates.push((0, new))?;
            self.candidates.keys.push_from(&old.keys, id);
        }
        let batches: Vec<&RecordBatch> = old.batches.iter().collect();
        if !live.is_empty() {
            let batch = interleave_record_batch(&batches, &places)?;
            self.candidates.batch_bytes = batch.get_array_memory_size();
            self.candidates.batches.push(batch);
        }
        for id in self.heaps.iter_mut().flatten() {
            *id = renumbered[*id as usize];
        }
        Ok(())
    }

    fn size(&self) -> usize {
        let live = self.candidates.places.len() - self.candidates.dead;
        let heaps = self.heaps.capacity() * 24 + self.bars.capacity() * 16 + live * 4;
        let groups = self.groups.as_ref().map_or(0, |g| g.size());
        let buffers = self.group_ids.capacity() * 8 + self.packed_keys.capacity() * 16;
        self.candidates.size() + heaps + groups + buffers
    }
}

fn too_many_rows() -> DataFusionError {
    DataFusionError::ResourcesExhausted(
        "TopPerGroupExec: more than 2^32 rows kept in one partition".into(),
    )
}

/// The type a partition key is grouped as: floats as their bits. The window sorts floats
/// in IEEE total order, where `-0.0` and `0.0` are two partitions and so are NaNs of
/// different bits; DataFusion's float group table would merge them.
fn key_type(data_type: &DataType) -> DataType {
    match data_type {
        DataType::Float16 => DataType::UInt16,
        DataType::Float32 => DataType::UInt32,
        DataType::Float64 => DataType::UInt64,
        other => other.clone(),
    }
}

/// `key` as [`key_type`] says: floats reinterpreted as unsigned integers of their bits.
fn as_key(key: &ArrayRef) -> Result<ArrayRef> {
    let bits: ArrayRef = match key.data_type() {
        DataType::Float16 => {
            let floats = key.as_primitive::<Float16Type>();
            Arc::new(floats.unary::<_, UInt16Type>(|v| v.to_bits()))
        }
        DataType::Float32 => {
            let floats = key.as_primitive::<Float32Type>();
            Arc::new(floats.unary::<_, UInt32Type>(f32::to_bits))
        }
        DataType::Float64 => {
            let floats = key.as_primitive::<Float64Type>();
            Arc::new(floats.unary::<_, UInt64Type>(f64::to_bits))
        }
        _ => Arc::clone(key),
    };
    Ok(bits)
}

fn evaluate(exprs: &[Arc<dyn PhysicalExpr>], batch: &RecordBatch) -> Result<Vec<ArrayRef>> {
    exprs
        .iter()
        .map(|e| e.evaluate(batch)?.into_array(batch.num_rows()))
        .collect()
}

/// Restores the heap order after a push at the end; `after(a, b)`: `a` ranks after `b`,
/// and the one ranking last is on top.
fn sift_up(heap: &mut [u32], after: impl Fn(u32, u32) -> bool) {
    let mut at = heap.len() - 1;
    while at > 0 {
        let parent = (at - 1) / 2;
        if !after(heap[at], heap[parent]) {
            break;
        }
        heap.swap(at, parent);
        at = parent;
    }
}

/// Restores the heap order after the top was replaced.
fn sift_down(heap: &mut [u32], after: impl Fn(u32, u32) -> bool) {
    let mut at = 0;
    loop {
        let mut last = at;
        for child in [2 * at + 1, 2 * at + 2] {
            if child < heap.len() && after(heap[child], heap[last]) {
                last = child;
            }
        }
        if last == at {
            return;
        }
        heap.swap(at, last);
        at = last;
    }
}

/// How the heaps are emitted: into batches of about `batch_size` rows (whole groups).
struct Emit {
    schema: SchemaRef,
    batch_size: usize,
    baseline: BaselineMetrics,
    groups: Count,
}

impl Emit {
    /// The output batches, built as they are read; the memory stays reserved until then.
    fn batches(self, heaps: Heaps, reservation: MemoryReservation) -> Result<Ranked> {
        self.groups.add(heaps.heaps.len());
        Ok(Ranked {
            emit: self,
            heaps: heaps.heaps.into_iter(),
            candidates: heaps.candidates,
            _reservation: reservation,
        })
    }
}

/// The heaps group by group, each in rank order with its numbers.
struct Ranked {
    emit: Emit,
    heaps: std::vec::IntoIter<Vec<u32>>,
    candidates: Candidates,
    _reservation: MemoryReservation,
}

impl Iterator for Ranked {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Result<RecordBatch>> {
        let _timer = self.emit.baseline.elapsed_compute().timer();
        let candidates = &self.candidates;
        let mut places = Vec::new();
        let mut numbers = Vec::new();
        while places.len() < self.emit.batch_size {
            let Some(mut heap) = self.heaps.next() else {
                break;
            };
            heap.sort_unstable_by(|&a, &b| candidates.keys.cmp(a, b).then(a.cmp(&b)));
            for (id, number) in heap.into_iter().zip(1u64..) {
                places.push(candidates.places[id as usize]);
                numbers.push(number);
            }
        }
        if places.is_empty() {
            return None;
        }
        Some(self.batch(&places, numbers))
    }
}

impl Ranked {
    fn batch(&self, places: &[(usize, usize)], numbers: Vec<u64>) -> Result<RecordBatch> {
        let sources: Vec<&RecordBatch> = self.candidates.batches.iter().collect();
        let rows = interleave_record_batch(&sources, places)?;
        let mut columns = rows.columns().to_vec();
        columns.push(Arc::new(UInt64Array::from(numbers)));
        let batch = RecordBatch::try_new(Arc::clone(&self.emit.schema), columns)?;
        Ok(batch.record_output(&self.emit.baseline))
    }
}

/// Plans `TopPerGroup` nodes as [`TopPerGroupExec`].
#[derive(Debug, Default)]
pub struct TopPerGroupPlanner;

#[async_trait]
impl ExtensionPlanner for TopPerGroupPlanner {
    async fn plan_extension(
        &self,
        planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        logical_inputs: &[&LogicalPlan],
        physical_inputs: &[Arc<dyn ExecutionPlan>],
        session_state: &dyn Session,
        planning_ctx: &PhysicalPlanningContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let Some(top) = node.as_any().downcast_ref::<TopPerGroup>() else {
            return Ok(None);
        };
        let input_schema = logical_inputs[0].schema();
        let physical =
            |expr| planner.create_physical_expr(expr, input_schema, session_state, planning_ctx);
        let partition_by = top
            .partition_by
            .iter()
            .map(physical)
            .collect::<Result<Vec<_>>>()?;
        let order_by = top
            .order_by
            .iter()
            .map(|sort| {
                let options = SortOptions {
                    descending: !sort.asc,
                    nulls_first: sort.nulls_first,
                };
                Ok(PhysicalSortExpr::new(physical(&sort.expr)?, options))
            })
            .collect::<Result<Vec<_>>>()?;
        // A bound past the memory of any machine keeps every row; so does `usize::MAX`.
        let k = usize::try_from(top.k).unwrap_or(usize::MAX);
        Ok(Some(Arc::new(TopPerGroupExec::new(
            Arc::clone(&physical_inputs[0]),
            partition_by,
            order_by,
            k,
            Arc::new(top.schema.as_arrow().clone()),
        ))))
    }
}
