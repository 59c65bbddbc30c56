//! `JitAggregateExec`: a fused stage and the partial aggregation above it, run as one
//! compiled kernel per partition. Each batch of the stage's input is filtered, computed
//! and folded into the partition's [`AggregateState`] (or, grouped, its [`GroupTable`],
//! whose memory counts against the session's pool) in one pass: no filtered batch, no
//! argument column is built. At the end the partition yields its groups (one row when
//! ungrouped) in DataFusion's partial-aggregate format, which DataFusion's final
//! aggregation consumes unchanged.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use corepy_codegen::aggregate::AggregateState;
use corepy_codegen::groups::GroupTable;
use corepy_codegen::ir::Op;
use corepy_codegen::jit::JitKernel;
use corepy_planner::fusion::StageInput;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, Partitioning, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{
    Boundedness, ChildrenPropertiesMode, EmissionType, ReplaceChildrenOptions,
};
use datafusion::physical_plan::metrics::{
    BaselineMetrics, Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet, Time,
};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PlanProperties,
};
use futures::{StreamExt, TryStreamExt};

use super::dense::new_table;
use super::dictionary::Dictionary;
use super::fallback::{Fallback, MAX_FOLDED_GROUPS};
use super::output;
use super::plan::FoldPlan;
use crate::jit::arrays::stage_input;
use crate::jit::arrays::InputBuffers;
use crate::jit::exec::kernel_error;

#[derive(Clone)]
pub struct JitAggregateExec {
    /// The fused stage's input.
    input: Arc<dyn ExecutionPlan>,
    plan: Arc<FoldPlan>,
    kernel: Arc<JitKernel>,
    /// Compile time, if this plan compiled the kernel (a cached one shows none).
    compiled_now: Option<Duration>,
    /// The stage's expressions, for EXPLAIN.
    stage: String,
    /// DataFusion's partial aggregation, for a partition that meets many groups (how
    /// many values a key has is known only at run time).
    fallback: Option<Fallback>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl fmt::Debug for JitAggregateExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JitAggregateExec({})", self.stage)
    }
}

impl JitAggregateExec {
    /// For each grouping key (the output's first columns, in order), the input column it
    /// is, when the kernel reads it unchanged: loaded as it is, not computed, not a
    /// dictionary id.
    pub fn key_input_columns(&self) -> Vec<Option<usize>> {
        let plan = &self.plan;
        plan.kernel
            .group_keys
            .iter()
            .zip(&plan.key_dictionaries)
            .map(
                |(&key, dictionary)| match (&plan.kernel.node(key).op, dictionary) {
                    (Op::Load(input), None) => match plan.inputs.get(*input)? {
                        StageInput::Column(column) => Some(*column),
                        StageInput::Tested(..) => None,
                    },
                    _ => None,
                },
            )
            .collect()
    }

    pub fn new(
        input: Arc<dyn ExecutionPlan>,
        plan: Arc<FoldPlan>,
        kernel: Arc<JitKernel>,
        compiled_now: Option<Duration>,
        stage: String,
        fallback: Option<Fallback>,
        schema: SchemaRef,
    ) -> Self {
        let partitions = input.output_partitioning().partition_count();
        let properties = PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            Partitioning::UnknownPartitioning(partitions),
            EmissionType::Final,
            Boundedness::Bounded,
        );
        JitAggregateExec {
            input,
            plan,
            kernel,
            compiled_now,
            stage,
            fallback,
            schema,
            properties: Arc::new(properties),
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }

    /// The kernel IR and Cranelift IR, for EXPLAIN.
    pub fn kernel_listing(&self) -> String {
        let mut out = format!("-- {}, aggr=[{}]\n", self.stage, self.plan.shown.join(", "));
        out.push_str(&corepy_codegen::pretty::pretty(
            &self.plan.kernel,
            &self.plan.input_names,
        ));
        out.push_str("-- Cranelift IR\n");
        out.push_str(self.kernel.clif());
        out
    }

    /// Folds one batch into `state`. When the group table would outgrow the memory the
    /// pool grants, its groups go out first as partial results (DataFusion's final
    /// aggregation merges groups that come in several pieces) and a new table starts; when
    /// even an empty table's room for the batch is not granted, the batch goes in slices.
    fn fold(
        &self,
        batch: &RecordBatch,
        state: &mut Folded,
        time: &Time,
        batch_size: usize,
    ) -> Result<Vec<RecordBatch>> {
        let (table, memory, dictionaries) = match state {
            Folded::All(state) => {
                self.fold_all(batch, state, time)?;
                return Ok(Vec::new());
            }
            Folded::Groups {
                table,
                memory,
                dictionaries,
            } => (table, memory, dictionaries),
        };
        let mut flushed = Vec::new();
        let mut slice = batch.num_rows().clamp(1, MAX_SLICE);
        let mut offset = 0;
        while offset < batch.num_rows() {
            let rows = slice.min(batch.num_rows() - offset);
            // The table makes room for each row of a call to start a group; the
            // dictionaries hold the strings met so far.
            let strings: usize = dictionaries.iter().map(Dictionary::bytes).sum();
            if memory.try_resize(table.bytes_for(rows) + strings).is_err() {
                if table.groups() > 0 {
                    let out = output::grouped_batches(
                        &self.plan,
                        table,
                        dictionaries,
                        &self.schema,
                        batch_size,
                    )?;
                    flushed.extend(out);
                    // The groups given out held the only ids: the strings go with them.
                    // (A table laid out by key is as large empty as full: a hashed one
                    // takes its place.)
                    *table = GroupTable::new(&self.plan.kernel);
                    dictionaries
                        .iter_mut()
                        .for_each(|d| *d = Dictionary::default());
                    continue;
                }
                if table.is_dense() {
                    *table = GroupTable::new(&self.plan.kernel);
                    continue;
                }
                if slice > MIN_SLICE {
                    slice = (slice / 2).max(MIN_SLICE);
                    continue;
                }
                // An empty table and the smallest slice: folded past the pool by at most
                // one such table (a few KiB), the least this operator needs to go on, as
                // other operators (a repartition's buffers) may hold the rest for a while.
            }
            self.fold_groups(&batch.slice(offset, rows), table, dictionaries, time)?;
            offset += rows;
        }
        Ok(flushed)
    }

    /// The kernel's input columns from a batch, string keys as their dictionary ids.
    fn kernel_inputs(
        &self,
        batch: &RecordBatch,
        dictionaries: &mut [Dictionary],
    ) -> Result<Vec<InputBuffers>> {
        let kernel = &self.plan.kernel;
        let mut inputs = Vec::with_capacity(kernel.inputs.len());
        for (k, (input, decl)) in self.plan.inputs.iter().zip(&kernel.inputs).enumerate() {
            let column = match self.plan.encoded.iter().position(|&e| e == k) {
                Some(d) => dictionaries[d].encode(batch.column(input.column()))?,
                None => stage_input(batch, input)?,
            };
            inputs.push(InputBuffers::new(&column, decl.ty));
        }
        Ok(inputs)
    }

    fn fold_all(&self, batch: &RecordBatch, state: &mut AggregateState, time: &Time) -> Result<()> {
        let inputs = self.kernel_inputs(batch, &mut [])?;
        let columns: Vec<_> = inputs.iter().map(InputBuffers::column).collect();
        let _timer = time.timer();
        self.kernel
            .run_aggregating(&columns, batch.num_rows(), state)
            .map_err(|e| self.run_error(e))
    }

    /// Folds a batch into `table` (whose memory for the batch's rows is granted).
    fn fold_groups(
        &self,
        batch: &RecordBatch,
        table: &mut GroupTable,
        dictionaries: &mut [Dictionary],
        time: &Time,
    ) -> Result<()> {
        let inputs = self.kernel_inputs(batch, dictionaries)?;
        let columns: Vec<_> = inputs.iter().map(InputBuffers::column).collect();
        table.reserve(batch.num_rows());
        let _timer = time.timer();
        self.kernel
            .run_grouping(&columns, batch.num_rows(), table)
            .map_err(|e| self.run_error(e))
    }

    /// The fallback, when a partition's groups have outgrown the fold.
    fn fallback_for(&self, state: &Folded) -> Option<&Fallback> {
        match state {
            Folded::Groups { table, .. } if table.groups() > self.group_limit(table) => {
                self.fallback.as_ref()
            }
            _ => None,
        }
    }

    /// Groups a partition folds into `table` before it goes back to DataFusion.
    fn group_limit(&self, table: &GroupTable) -> usize {
        match (&self.plan.dense, table.is_dense()) {
            (Some(dense), true) => dense.group_limit(),
            _ => MAX_FOLDED_GROUPS,
        }
    }

    /// The partition's partial-aggregate batches.
    fn finish(&self, state: &Folded, batch_size: usize) -> Result<Vec<RecordBatch>> {
        match state {
            Folded::All(state) => Ok(vec![output::ungrouped_batch(
                &self.plan,
                state,
                &self.schema,
            )?]),
            Folded::Groups {
                table,
                dictionaries,
                ..
            } => output::grouped_batches(&self.plan, table, dictionaries, &self.schema, batch_size),
        }
    }

    fn run_error(&self, error: corepy_codegen::abi::RunError) -> DataFusionError {
        if let corepy_codegen::abi::RunError::Failed(f) = &error {
            if f.node.index() >= self.plan.kernel.nodes.len() {
                // Only an integer sum fails among the aggregates.
                return corepy_planner::checked::sum_overflow();
            }
        }
        kernel_error(error, |node| self.plan.label(node))
    }
}

impl DisplayAs for JitAggregateExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "JitAggregateExec: mode=Partial, {}, gby=[{}], aggr=[{}], jit",
            self.stage,
            self.plan
                .keys
                .iter()
                .map(|f| f.name().as_str())
                .collect::<Vec<_>>()
                .join(", "),
            self.plan.shown.join(", ")
        )?;
        if let Some(dense) = &self.plan.dense {
            write!(f, ", groups laid out by key ({} values)", dense.range)?;
        }
        if let DisplayFormatType::Verbose = t {
            write!(f, "\n{}", self.kernel_listing())?;
        }
        Ok(())
    }
}

/// Fewest rows a grouped fold takes per call when memory is short.
const MIN_SLICE: usize = 64;

/// Most rows a grouped fold takes per call. The table makes room for every row of a call
/// to start a group, so one large batch (a million-row table in memory) would otherwise
/// reserve, and count against the pool, a table as large as itself.
const MAX_SLICE: usize = 8192;

/// What a partition folds into.
enum Folded {
    /// One state (no grouping keys).
    All(AggregateState),
    /// One state per group, and the memory the table holds.
    Groups {
        table: GroupTable,
        memory: MemoryReservation,
        /// One per string key column; started again with the table after an early flush.
        dictionaries: Vec<Dictionary>,
    },
}

/// Where a partition's stream stands.
enum Step {
    Folding(SendableRecordBatchStream, Folded),
    /// DataFusion's partial aggregation of the input left when the fold gave up.
    Falling(SendableRecordBatchStream),
    Done,
}

/// The counters of one partition.
struct Counters {
    baseline: BaselineMetrics,
    input_rows: Count,
    kernel_time: Time,
    /// 1 where the partition met too many groups and DataFusion aggregated the rest.
    fell_back: Count,
}

impl Counters {
    fn record(&self, batches: &[RecordBatch]) {
        let rows = batches.iter().map(RecordBatch::num_rows).sum();
        self.baseline.record_output(rows);
    }
}

impl ExecutionPlan for JitAggregateExec {
    fn name(&self) -> &'static str {
        "JitAggregateExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![false]
    }

    fn replace_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(JitAggregateExec::new(
            children.swap_remove(0),
            Arc::clone(&self.plan),
            Arc::clone(&self.kernel),
            self.compiled_now,
            self.stage.clone(),
            // The fallback reads whatever input is left to it, not this child.
            self.fallback.clone(),
            Arc::clone(&self.schema),
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
        let pool = Arc::clone(context.memory_pool());
        let input = self.input.execute(partition, Arc::clone(&context))?;
        let builder = || MetricBuilder::new(&self.metrics);
        let counters = Arc::new(Counters {
            baseline: BaselineMetrics::new(&self.metrics, partition),
            input_rows: builder().counter("input_rows", partition),
            kernel_time: builder().subset_time("kernel_time", partition),
            fell_back: builder().counter("fell_back_to_datafusion", partition),
        });
        if let (0, Some(t)) = (partition, self.compiled_now) {
            builder().counter("kernels_compiled", partition).add(1);
            builder()
                .subset_time("compile_time", partition)
                .add_duration(t);
        }
        let this = self.clone();
        let schema = Arc::clone(&self.schema);
        let kernel = &this.plan.kernel;
        let state = if kernel.group_keys.is_empty() {
            Folded::All(AggregateState::new(kernel))
        } else {
            let memory =
                MemoryConsumer::new(format!("JitAggregateExec[{partition}]")).register(&pool);
            let partitions = self.properties.partitioning.partition_count();
            let dense = (this.plan.dense).filter(|d| d.fit(kernel, pool.as_ref(), partitions));
            Folded::Groups {
                table: new_table(kernel, dense),
                memory,
                dictionaries: this
                    .plan
                    .encoded
                    .iter()
                    .map(|_| Dictionary::default())
                    .collect(),
            }
        };
        // Each step folds batches until the input ends (then the last groups go out), the
        // group table had to give its groups out early, or it met too many groups (then
        // they go out, and DataFusion aggregates the rest of the input).
        let start = Step::Folding(input, state);
        let folded = futures::stream::try_unfold(start, move |step| {
            let (this, counters) = (this.clone(), Arc::clone(&counters));
            let context = Arc::clone(&context);
            async move {
                let (mut input, mut state) = match step {
                    Step::Folding(input, state) => (input, state),
                    Step::Falling(mut rest) => {
                        let Some(batch) = rest.next().await else {
                            return Ok(None);
                        };
                        let batch = vec![batch?];
                        counters.record(&batch);
                        return Ok(Some((batch, Step::Falling(rest))));
                    }
                    Step::Done => return Ok(None),
                };
                while let Some(batch) = input.next().await {
                    let batch = batch?;
                    let _compute = counters.baseline.elapsed_compute().timer();
                    counters.input_rows.add(batch.num_rows());
                    let mut early =
                        this.fold(&batch, &mut state, &counters.kernel_time, batch_size)?;
                    if let Some(fallback) = this.fallback_for(&state) {
                        early.extend(this.finish(&state, batch_size)?);
                        counters.record(&early);
                        counters.fell_back.add(1);
                        let rest = fallback.run(input, context)?;
                        return Ok(Some((early, Step::Falling(rest))));
                    }
                    if !early.is_empty() {
                        counters.record(&early);
                        return Ok(Some((early, Step::Folding(input, state))));
                    }
                }
                let _compute = counters.baseline.elapsed_compute().timer();
                let last = this.finish(&state, batch_size)?;
                counters.record(&last);
                Ok::<_, DataFusionError>(Some((last, Step::Done)))
            }
        })
        .map_ok(|batches| futures::stream::iter(batches.into_iter().map(Ok)))
        .try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, folded)))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}
