//! `JitExec`: runs a fused stage's compiled kernel on every batch of every partition.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use corepy_codegen::abi::{bitmap_bytes, padded_rows, ColumnOut, FailureKind, RunError};
use corepy_codegen::interp;
use corepy_codegen::jit::JitKernel;
use corepy_planner::fusion::{is_string, Lowered, StageOutput};
use datafusion::arrow::array::{ArrayRef, BooleanArray, RecordBatch, RecordBatchOptions};
use datafusion::arrow::buffer::{BooleanBuffer, MutableBuffer};
use datafusion::arrow::compute::filter;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::Statistics;
use datafusion::common::{DataFusionError, Result};
use datafusion::config::ConfigOptions;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::projection::{ProjectionExpr, ProjectionMapping};
use datafusion::physical_expr::utils::collect_columns;
use datafusion::physical_expr::{conjunction, split_conjunction};
use datafusion::physical_expr::{EquivalenceProperties, Partitioning, PhysicalExpr};
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::execution_plan::{ChildrenPropertiesMode, ReplaceChildrenOptions};
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::filter_pushdown::{
    ChildFilterDescription, FilterDescription, FilterPushdownPhase,
};
use datafusion::physical_plan::metrics::{
    BaselineMetrics, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet,
};
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::statistics::{ChildStats, StatisticsArgs};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PlanProperties,
};

use corepy_planner::fusion::NotFused;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::TryStreamExt;

use super::arrays::{stage_input, InputBuffers, OutputBuffers};
use super::stream::{JitStream, PartitionMetrics};
use crate::gpu::stage::Placed;
use crate::gpu::{Fallback, Gpu, GpuRunError};
use corepy_codegen::abi::ColumnIn;
use corepy_codegen::ptx::PtxModule;

/// How the stage's kernel is evaluated.
#[derive(Clone)]
pub enum Evaluator {
    /// Compiled by Cranelift; `compiled_now` is the compile time if this plan compiled it.
    Jit {
        kernel: Arc<JitKernel>,
        compiled_now: Option<Duration>,
    },
    /// The kernel did not compile: the stage runs as DataFusion's own Filter and
    /// Projection, and EXPLAIN says why. (Never the row-at-a-time interpreter.)
    DataFusion { reason: NotFused },
    /// Interpreted: the reference the tests compare kernels with, never chosen by a plan.
    Interpreter,
    /// The stage's PTX run on corepy's PTX emulator (for tests: never chosen by a plan).
    PtxEmulator { module: Arc<PtxModule> },
    /// On a GPU, through the stage's PTX module; `cpu` (the compiled kernel) takes a batch
    /// the device fails on (out of memory, a launch failure), per `fallback`.
    Gpu {
        gpu: Arc<Gpu>,
        module: Arc<PtxModule>,
        cpu: Box<Evaluator>,
        fallback: Fallback,
    },
}

#[derive(Clone)]
pub struct JitExec {
    input: Arc<dyn ExecutionPlan>,
    lowered: Arc<Lowered>,
    /// The stage's expressions, for EXPLAIN.
    description: String,
    evaluator: Evaluator,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
    /// The stage's predicate as DataFusion's expression, offered to the input for pruning
    /// (a Parquet scan skips row groups and pages with it); the kernel filters regardless.
    predicate: Option<Arc<dyn PhysicalExpr>>,
    /// The stage's outputs as DataFusion expressions over the input, with their names:
    /// orderings and partitionings carry through them as through a projection.
    outputs: Vec<(Arc<dyn PhysicalExpr>, String)>,
    /// The device the stage runs on and why (and its PTX when the GPU was asked for).
    placed: Arc<Placed>,
    /// The DataFusion Filter and Projection whose statistics the stage reports, built once.
    statistics_model: Arc<OnceLock<StatisticsModel>>,
}

/// A stage's estimates are those of the DataFusion operators it replaces: a Filter with its
/// predicate, then a Projection of its outputs. Their estimates depend only on the input's
/// schema and statistics, so they sit on an empty input of that schema: building them over
/// the real input would derive its orderings and equivalences on every statistics request
/// (13% of planning time on the TPC-H queries, where the planner asks many times per plan).
///
/// The conjuncts that test strings get a Filter of their own above the others, as they had
/// when they stayed with DataFusion: a Filter estimates a predicate it cannot analyse (a
/// string test) as keeping a fifth of the rows, so one Filter over all of q12's conjuncts
/// kept a fifth where the dates alone, analysed, then a fifth of those, keep far fewer —
/// and the join above stopped broadcasting q12's filtered lines.
struct StatisticsModel {
    filters: Vec<Arc<FilterExec>>,
    projection: Arc<ProjectionExec>,
}

impl StatisticsModel {
    fn new(
        input_schema: SchemaRef,
        predicate: Option<&Arc<dyn PhysicalExpr>>,
        outputs: &[(Arc<dyn PhysicalExpr>, String)],
    ) -> Result<Self> {
        let mut plan: Arc<dyn ExecutionPlan> = Arc::new(EmptyExec::new(Arc::clone(&input_schema)));
        let (strings, others): (Vec<_>, Vec<_>) = predicate
            .map(|p| {
                split_conjunction(p)
                    .into_iter()
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
            .into_iter()
            .partition(|conjunct| {
                collect_columns(conjunct)
                    .iter()
                    .any(|c| is_string(input_schema.field(c.index()).data_type()))
            });
        let mut filters = Vec::new();
        for group in [others, strings] {
            if !group.is_empty() {
                let predicate = conjunction(group);
                let filter = Arc::new(FilterExec::try_new(predicate, plan)?);
                plan = Arc::clone(&filter) as Arc<dyn ExecutionPlan>;
                filters.push(filter);
            }
        }
        let exprs = outputs
            .iter()
            .map(|(e, name)| ProjectionExpr::new(Arc::clone(e), name.clone()))
            .collect::<Vec<_>>();
        let projection = Arc::new(ProjectionExec::try_new(exprs, plan)?);
        Ok(StatisticsModel {
            filters,
            projection,
        })
    }

    fn statistics(&self, input: Arc<Statistics>, args: &StatisticsArgs) -> Result<Arc<Statistics>> {
        let mut filtered = input;
        for filter in &self.filters {
            filtered = filter.statistics_from_inputs(&[filtered], args)?;
        }
        self.projection.statistics_from_inputs(&[filtered], args)
    }
}

impl fmt::Debug for JitExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JitExec({})", self.description)
    }
}

impl JitExec {
    /// The outputs that are an input column passed through under its own name (a filter
    /// over them means the same over the input; DataFusion remaps such filters by name).
    fn passed_through_outputs(&self) -> HashSet<usize> {
        let input_schema = self.input.schema();
        self.outputs
            .iter()
            .enumerate()
            .filter(|(_, (expr, name))| {
                expr.downcast_ref::<Column>().is_some_and(|c| {
                    c.name() == name && input_schema.index_of(name).ok() == Some(c.index())
                })
            })
            .map(|(i, _)| i)
            .collect()
    }

    pub fn new(
        input: Arc<dyn ExecutionPlan>,
        lowered: Arc<Lowered>,
        description: String,
        evaluator: Evaluator,
        schema: SchemaRef,
        predicate: Option<Arc<dyn PhysicalExpr>>,
        outputs: Vec<(Arc<dyn PhysicalExpr>, String)>,
    ) -> Self {
        let (equivalences, partitioning) = project_properties(&input, &outputs, &schema);
        let properties = PlanProperties::new(
            equivalences,
            partitioning,
            input.pipeline_behavior(),
            input.boundedness(),
        );
        JitExec {
            input,
            lowered,
            description,
            evaluator,
            schema,
            properties: Arc::new(properties),
            metrics: ExecutionPlanMetricsSet::new(),
            predicate,
            outputs,
            placed: Arc::new(Placed::default()),
            statistics_model: Arc::new(OnceLock::new()),
        }
    }

    /// A stage that passes every column of `input` on and computes nothing: what an
    /// aggregation straight over a scan folds through (`aggregate/rule.rs`), which then
    /// reads `input` itself. Never planned on its own; were it run, DataFusion would pass
    /// the columns on.
    pub fn passing_on(input: Arc<dyn ExecutionPlan>) -> Self {
        let schema = input.schema();
        let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let lowered = Lowered {
            kernel: corepy_codegen::ir::Kernel::rows(),
            inputs: Vec::new(),
            input_names: Vec::new(),
            outputs: (0..names.len()).map(StageOutput::Pass).collect(),
            labels: Vec::new(),
        };
        let outputs = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                (
                    Arc::new(Column::new(name, i)) as Arc<dyn PhysicalExpr>,
                    name.clone(),
                )
            })
            .collect();
        JitExec::new(
            input,
            Arc::new(lowered),
            format!("exprs=[{}]", names.join(", ")),
            Evaluator::DataFusion {
                reason: NotFused::NothingToCompute,
            },
            schema,
            None,
            outputs,
        )
    }

    /// The stage placed on a device: on a GPU, its kernel runs there (`fallback` says what
    /// a device failure does); elsewhere the placement is only shown.
    pub fn placed(mut self, mut placed: Placed, fallback: Fallback) -> Self {
        if let (Some(gpu), Some(module)) = (&placed.gpu, &placed.module) {
            if let Evaluator::Jit { .. } = self.evaluator {
                self.evaluator = Evaluator::Gpu {
                    gpu: Arc::clone(gpu),
                    module: Arc::clone(module),
                    cpu: Box::new(self.evaluator.clone()),
                    fallback,
                };
            } else {
                // A GPU stage needs the compiled CPU kernel to fall back on: without it the
                // stage stays with DataFusion's operators, and EXPLAIN must not say GPU.
                placed.gpu = None;
                placed.device = crate::gpu::Device::Cpu;
                placed.why =
                    "device=cpu (not compiled for the CPU, which a GPU stage falls back on)".into();
            }
        }
        self.placed = Arc::new(placed);
        self
    }

    /// The same stage evaluated by the interpreter (the reference, for tests).
    pub fn interpreted(&self) -> Self {
        let mut stage = self.clone();
        stage.evaluator = Evaluator::Interpreter;
        stage.metrics = ExecutionPlanMetricsSet::new();
        stage
    }

    /// The stage's kernel rendered to PTX (or why it is not).
    pub fn ptx(&self) -> Result<Arc<PtxModule>, String> {
        crate::gpu::modules::ptx_module(&self.lowered.kernel)
    }

    /// The same stage with its PTX run on the PTX emulator (the tests' fourth evaluator);
    /// `None` when the kernel is not rendered to PTX.
    pub fn emulated(&self) -> Option<Self> {
        let module = self.ptx().ok()?;
        let mut stage = self.clone();
        stage.evaluator = Evaluator::PtxEmulator { module };
        stage.metrics = ExecutionPlanMetricsSet::new();
        Some(stage)
    }

    /// The same stage as if its kernel had not compiled: DataFusion's operators run it.
    pub fn unfused(&self, reason: NotFused) -> Self {
        let mut stage = self.clone();
        stage.evaluator = Evaluator::DataFusion { reason };
        stage.metrics = ExecutionPlanMetricsSet::new();
        stage
    }

    /// Whether the kernel runs compiled (not interpreted).
    pub fn is_compiled(&self) -> bool {
        matches!(
            self.evaluator,
            Evaluator::Jit { .. } | Evaluator::Gpu { .. }
        )
    }

    /// The kernel IR and, when compiled, the Cranelift IR, for EXPLAIN.
    pub fn kernel_listing(&self) -> String {
        let mut out = format!("-- {}\n", self.description);
        out.push_str(&corepy_codegen::pretty::pretty(
            &self.lowered.kernel,
            &self.lowered.input_names,
        ));
        match &self.evaluator {
            Evaluator::Jit { kernel, .. } => {
                out.push_str("-- Cranelift IR\n");
                out.push_str(kernel.clif());
            }
            Evaluator::DataFusion { reason } => {
                out.push_str(&format!(
                    "-- not compiled ({reason}): runs as DataFusion's operators\n"
                ));
            }
            Evaluator::Interpreter => out.push_str("-- interpreted (the reference, for tests)\n"),
            Evaluator::PtxEmulator { .. } => out.push_str("-- PTX on the emulator (for tests)\n"),
            Evaluator::Gpu { cpu, .. } => {
                if let Evaluator::Jit { kernel, .. } = cpu.as_ref() {
                    out.push_str("-- Cranelift IR (the CPU fallback)\n");
                    out.push_str(kernel.clif());
                }
            }
        }
        if let Some(module) = &self.placed.module {
            out.push_str(&format!(
                "-- PTX ({}; {})\n",
                self.placed.device, self.placed.why
            ));
            out.push_str(&module.text);
        }
        out
    }
}

impl DisplayAs for JitExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let how = match &self.evaluator {
            Evaluator::Jit { .. } => "jit".to_string(),
            Evaluator::DataFusion { reason } => {
                format!(
                    "not compiled ({reason}), runs as DataFusion's FilterExec and ProjectionExec"
                )
            }
            Evaluator::Interpreter => "interpreter".to_string(),
            Evaluator::Gpu { .. } => "ptx".to_string(),
            Evaluator::PtxEmulator { .. } => "ptx emulator".to_string(),
        };
        write!(f, "{}: {}, {how}", self.name(), self.description)?;
        if self.placed.module.is_some() || self.placed.gpu.is_some() {
            write!(f, ", {}", self.placed.why)?;
        }
        if let DisplayFormatType::Verbose = t {
            write!(f, "\n{}", self.kernel_listing())?;
        }
        Ok(())
    }
}

/// The orderings, equivalences and partitioning of the input, carried through the stage's
/// outputs as a projection carries them (a filter keeps them all).
fn project_properties(
    input: &Arc<dyn ExecutionPlan>,
    outputs: &[(Arc<dyn PhysicalExpr>, String)],
    schema: &SchemaRef,
) -> (EquivalenceProperties, Partitioning) {
    let partitions = input.output_partitioning().partition_count();
    match ProjectionMapping::try_new(outputs.iter().cloned(), &input.schema()) {
        Ok(mapping) => {
            let input_eq = input.equivalence_properties();
            (
                input_eq.project(&mapping, Arc::clone(schema)),
                input.output_partitioning().project(&mapping, input_eq),
            )
        }
        Err(_) => (
            EquivalenceProperties::new(Arc::clone(schema)),
            Partitioning::UnknownPartitioning(partitions),
        ),
    }
}

impl ExecutionPlan for JitExec {
    /// `GpuExec` for a stage that runs on a GPU.
    fn name(&self) -> &'static str {
        match self.evaluator {
            Evaluator::Gpu { .. } => "GpuExec",
            _ => "JitExec",
        }
    }

    /// What DataFusion's Filter and Projection would estimate for the same stage: join
    /// selection and other statistics-driven choices see a fused stage as they would see the
    /// operators it replaces (a selective filter makes a small build side).
    fn child_stats_requests(&self, partition: Option<usize>) -> Vec<ChildStats> {
        vec![ChildStats::At(partition)]
    }

    fn statistics_from_inputs(
        &self,
        input_stats: &[Arc<Statistics>],
        args: &StatisticsArgs,
    ) -> Result<Arc<Statistics>> {
        let model = match self.statistics_model.get() {
            Some(model) => model,
            None => {
                let model = StatisticsModel::new(
                    self.input.schema(),
                    self.predicate.as_ref(),
                    &self.outputs,
                )?;
                self.statistics_model.get_or_init(|| model)
            }
        };
        model.statistics(Arc::clone(&input_stats[0]), args)
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

    /// True only for a stage whose outputs are its input's columns in place (a pure
    /// filter). DataFusion pushes a sort requirement through an order-maintaining operator
    /// it does not know *unchanged*, column indices and all; through a stage that computes
    /// or reorders columns that would sort by the wrong column. The stage's output
    /// orderings are still reported (`project_properties`), so no sort is added needlessly.
    fn maintains_input_order(&self) -> Vec<bool> {
        let input_width = self.input.schema().fields().len();
        let in_place = self.outputs.len() == input_width
            && self.outputs.iter().enumerate().all(|(i, (expr, _))| {
                expr.downcast_ref::<Column>()
                    .is_some_and(|c| c.index() == i)
            });
        vec![in_place]
    }

    fn replace_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = children.swap_remove(0);
        // The statistics model depends on the input's schema only: kept when it is the same.
        let same_schema = input.schema() == self.input.schema();
        let mut stage = JitExec::new(
            input,
            Arc::clone(&self.lowered),
            self.description.clone(),
            self.evaluator.clone(),
            Arc::clone(&self.schema),
            self.predicate.clone(),
            self.outputs.clone(),
        );
        stage.placed = Arc::clone(&self.placed);
        if same_schema {
            stage.statistics_model = Arc::clone(&self.statistics_model);
        }
        Ok(Arc::new(stage))
    }

    fn gather_filters_for_pushdown(
        &self,
        phase: FilterPushdownPhase,
        parent_filters: Vec<Arc<dyn PhysicalExpr>>,
        _config: &ConfigOptions,
    ) -> Result<FilterDescription> {
        // Filters from above name this stage's outputs, not its input's columns. After the
        // plan is built (`Post`: a hash join's or TopK's dynamic filter) those over outputs
        // that pass an input column through unchanged go down, as through a projection: a
        // scan below prunes with them, or filters its rows by them (`late_materialization`).
        // Others stay above, and so do the static filters of the `Pre` phase: below the
        // stage they would meet rows its predicate removes (a filter that divides could
        // fail there).
        let mut child = match phase {
            FilterPushdownPhase::Post => ChildFilterDescription::from_child_with_allowed_indices(
                &parent_filters,
                self.passed_through_outputs(),
                &self.input,
            )?,
            FilterPushdownPhase::Pre => ChildFilterDescription::all_unsupported(&parent_filters),
        };
        if let (FilterPushdownPhase::Pre, Some(predicate)) = (phase, &self.predicate) {
            child = child
                .with_self_filters(split_conjunction(predicate).into_iter().cloned().collect());
        }
        Ok(FilterDescription::new().with_child(child))
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
        if let Evaluator::DataFusion { .. } = &self.evaluator {
            return self.execute_unfused(partition, context);
        }
        let batch_size = context.session_config().batch_size();
        let input = self.input.execute(partition, context)?;
        let on_gpu = matches!(self.evaluator, Evaluator::Gpu { .. });
        let builder = || MetricBuilder::new(&self.metrics);
        let metrics = PartitionMetrics {
            baseline: BaselineMetrics::new(&self.metrics, partition),
            input_rows: builder().counter("input_rows", partition),
            kernel_time: builder().subset_time("kernel_time", partition),
            // Shown only for GPU stages (a zero counter would clutter every CPU stage).
            to_device_bytes: if on_gpu {
                builder().counter("bytes_to_device", partition)
            } else {
                Default::default()
            },
            to_host_bytes: if on_gpu {
                builder().counter("bytes_to_host", partition)
            } else {
                Default::default()
            },
            copy_time: if on_gpu {
                builder().subset_time("copy_time", partition)
            } else {
                Default::default()
            },
        };
        if partition == 0 {
            // Reported once per plan: a kernel found in the cache shows 0 compiled.
            let compiled = MetricBuilder::new(&self.metrics).counter("kernels_compiled", partition);
            let compile = MetricBuilder::new(&self.metrics).subset_time("compile_time", partition);
            let compiled_evaluator = match &self.evaluator {
                Evaluator::Gpu { cpu, .. } => cpu.as_ref(),
                other => other,
            };
            if let Evaluator::Jit {
                compiled_now: Some(t),
                ..
            } = compiled_evaluator
            {
                compiled.add(1);
                compile.add_duration(*t);
            }
        }
        let stage = Arc::new(self.clone());
        Ok(Box::pin(JitStream::new(stage, input, metrics, batch_size)))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

impl JitExec {
    /// DataFusion's Filter and Projection for this stage, over its input.
    fn datafusion_operators(&self) -> Result<Arc<dyn ExecutionPlan>> {
        let mut plan = Arc::clone(&self.input);
        if let Some(predicate) = &self.predicate {
            plan = Arc::new(FilterExec::try_new(Arc::clone(predicate), plan)?);
        }
        let exprs = self
            .outputs
            .iter()
            .map(|(e, name)| ProjectionExpr::new(Arc::clone(e), name.clone()));
        Ok(Arc::new(ProjectionExec::try_new(exprs, plan)?))
    }

    /// A stage whose kernel did not compile, run by DataFusion's operators; its output
    /// rows and time still show under this operator in EXPLAIN ANALYZE.
    fn execute_unfused(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let baseline = BaselineMetrics::new(&self.metrics, partition);
        let stream = self.datafusion_operators()?.execute(partition, context)?;
        let schema = stream.schema();
        let observed = stream.inspect_ok(move |batch| {
            baseline.record_output(batch.num_rows());
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, observed)))
    }

    /// Whether the stage filters rows (and so gathers its output into full batches).
    pub(super) fn filters(&self) -> bool {
        self.predicate.is_some()
    }

    pub(super) fn schema_ref(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    /// Runs the kernel on one batch and assembles the output batch.
    pub(super) fn process(
        &self,
        batch: &RecordBatch,
        metrics: &PartitionMetrics,
    ) -> Result<RecordBatch> {
        self.process_with(&self.evaluator, batch, metrics)
    }

    fn process_with(
        &self,
        evaluator: &Evaluator,
        batch: &RecordBatch,
        metrics: &PartitionMetrics,
    ) -> Result<RecordBatch> {
        let kernel = &self.lowered.kernel;
        let rows = batch.num_rows();
        let inputs: Vec<InputBuffers> = self
            .lowered
            .inputs
            .iter()
            .zip(&kernel.inputs)
            .map(|(input, decl)| Ok(InputBuffers::new(&stage_input(batch, input)?, decl.ty)))
            .collect::<Result<_>>()?;
        let columns: Vec<_> = inputs.iter().map(InputBuffers::column).collect();
        let mut buffers: Vec<OutputBuffers> = kernel
            .outputs
            .iter()
            .map(|o| OutputBuffers::new(kernel.ty(*o), rows))
            .collect();
        let mut selection = kernel
            .selection
            .map(|_| MutableBuffer::from_len_zeroed(bitmap_bytes(padded_rows(rows))));
        let written = {
            let mut outs: Vec<ColumnOut<'_>> =
                buffers.iter_mut().map(OutputBuffers::column).collect();
            let sel = selection.as_mut().map(|s| s.as_slice_mut());
            match self.run_kernel(evaluator, &columns, rows, &mut outs, sel, metrics)? {
                Some(written) => written,
                // The device failed on this batch: the CPU evaluator runs it afresh.
                None => {
                    let Evaluator::Gpu { cpu, .. } = evaluator else {
                        unreachable!("only a GPU run defers to the CPU")
                    };
                    return self.process_with(cpu, batch, metrics);
                }
            }
        };
        let mask =
            selection.map(|s| BooleanArray::new(BooleanBuffer::new(s.into(), 0, rows), None));
        let mut computed: Vec<Option<ArrayRef>> = Vec::with_capacity(buffers.len());
        let kernel_fields: Vec<usize> = self
            .lowered
            .outputs
            .iter()
            .enumerate()
            .filter_map(|(f, o)| matches!(o, StageOutput::Kernel(_)).then_some(f))
            .collect();
        for (buffer, field) in buffers.into_iter().zip(&kernel_fields) {
            let dt = self.schema.field(*field).data_type();
            computed.push(Some(buffer.into_array(dt, written)?));
        }
        let arrays = self
            .lowered
            .outputs
            .iter()
            .map(|o| match o {
                StageOutput::Pass(i) => match &mask {
                    Some(m) => Ok(filter(batch.column(*i), m)?),
                    None => Ok(Arc::clone(batch.column(*i))),
                },
                StageOutput::Kernel(j) => Ok(computed[*j].take().expect("each kernel output once")),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(RecordBatch::try_new_with_options(
            Arc::clone(&self.schema),
            arrays,
            &RecordBatchOptions::new().with_row_count(Some(written)),
        )?)
    }

    /// Runs `evaluator` on one batch's buffers: the rows written, or `None` when a GPU
    /// failed and its fallback policy says to run the batch on the CPU instead.
    fn run_kernel(
        &self,
        evaluator: &Evaluator,
        columns: &[ColumnIn<'_>],
        rows: usize,
        outs: &mut [ColumnOut<'_>],
        sel: Option<&mut [u8]>,
        metrics: &PartitionMetrics,
    ) -> Result<Option<usize>> {
        let kernel = &self.lowered.kernel;
        let result = match evaluator {
            Evaluator::Jit { kernel: k, .. } => {
                let _timer = metrics.kernel_time.timer();
                k.run(columns, rows, outs, sel)
            }
            Evaluator::Interpreter => {
                let _timer = metrics.kernel_time.timer();
                interp::run(kernel, columns, rows, outs, sel)
            }
            Evaluator::PtxEmulator { module } => {
                corepy_codegen::ptx::emulator::run_rows(kernel, module, columns, rows, outs, sel)
            }
            Evaluator::Gpu {
                gpu,
                module,
                fallback,
                ..
            } => {
                return match gpu.run_rows(kernel, module, columns, rows, outs, sel) {
                    Ok((written, moved)) => {
                        metrics.kernel_time.add_duration(moved.kernel_time);
                        metrics.copy_time.add_duration(moved.copy_time);
                        metrics.to_device_bytes.add(moved.to_device_bytes);
                        metrics.to_host_bytes.add(moved.to_host_bytes);
                        Ok(Some(written))
                    }
                    Err(GpuRunError::Kernel(e)) => Err(self.run_error(e)),
                    Err(GpuRunError::Device(why)) => {
                        let stage = format!("stage `{}`", self.description);
                        crate::gpu::stage::fall_back(*fallback, &stage, &why, None)
                            .map_err(|e| DataFusionError::External(Box::new(e)))?;
                        Ok(None)
                    }
                };
            }
            Evaluator::DataFusion { .. } => {
                unreachable!("a stage that did not compile runs DataFusion's operators")
            }
        };
        result.map(Some).map_err(|e| self.run_error(e))
    }

    /// A kernel failure as DataFusion's error, naming the expression (and so its columns).
    fn run_error(&self, error: RunError) -> DataFusionError {
        kernel_error(error, |node| self.lowered.label(node))
    }

    /// The stage's input (what a folded aggregation reads instead of the stage).
    pub fn stage_input(&self) -> &Arc<dyn ExecutionPlan> {
        &self.input
    }

    /// The stage's kernel and how its columns map to the input's.
    pub fn lowered(&self) -> &Arc<Lowered> {
        &self.lowered
    }

    /// The stage's expressions, as EXPLAIN shows them.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Whether the stage runs as a kernel compiled for the CPU (not on a GPU, not
    /// interpreted, not as DataFusion's operators).
    pub fn runs_compiled_on_cpu(&self) -> bool {
        matches!(self.evaluator, Evaluator::Jit { .. })
    }
}

/// A kernel failure as DataFusion's error, naming the expression `label` gives for the
/// failing node (and so its columns).
pub(crate) fn kernel_error<'a>(
    error: RunError,
    label: impl Fn(corepy_codegen::ir::ValueId) -> Option<&'a str>,
) -> DataFusionError {
    match error {
        RunError::Failed(f) => {
            let what = match f.kind {
                FailureKind::DivideByZero => "division by zero",
                FailureKind::Overflow => "arithmetic overflow",
                FailureKind::NegativeSqrt => "square root of a negative number",
            };
            let expr = label(f.node).unwrap_or("a fused expression");
            DataFusionError::Execution(format!("{what} in `{expr}` (row {} of a batch)", f.row))
        }
        RunError::BadBuffers(m) => DataFusionError::Internal(format!("fused kernel: {m}")),
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::common::stats::Precision;
    use datafusion::datasource::MemTable;
    use datafusion::physical_plan::statistics::StatisticsContext;

    use super::*;
    use crate::{Session, SessionOptions};

    /// The rows a plan's root is estimated to produce, with the JIT on or off.
    fn estimated_rows(jit: bool, sql: &str) -> (Precision<usize>, String) {
        let session = Session::new(SessionOptions {
            target_partitions: Some(1),
            jit: Some(jit),
            ..Default::default()
        })
        .expect("session");
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
        let values = Int64Array::from_iter_values(0..1000);
        let batch = RecordBatch::try_new(Arc::clone(&schema), vec![Arc::new(values)]).unwrap();
        let table = MemTable::try_new(schema, vec![vec![batch]]).unwrap();
        session.register_table("t", Arc::new(table)).unwrap();
        let context = session.context().clone();
        let sql = sql.to_string();
        let plan = crate::runtime::block_on(async move {
            let df = context.sql(&sql).await?;
            Ok(df.create_physical_plan().await?)
        })
        .unwrap();
        let stats = StatisticsContext::new()
            .compute(plan.as_ref(), &StatisticsArgs::new())
            .unwrap();
        (stats.num_rows, plan.name().to_string())
    }

    #[test]
    fn a_fused_filter_is_estimated_as_datafusion_estimates_its_filter() {
        let sql = "SELECT a * 2 AS b FROM t WHERE a > 900";
        let (fused, root) = estimated_rows(true, sql);
        assert_eq!(root, "JitExec");
        let (plain, _) = estimated_rows(false, sql);
        assert_eq!(fused, plain);
        assert_ne!(
            fused,
            Precision::Absent,
            "the input's statistics reach the stage"
        );
    }

    #[test]
    fn a_stage_that_did_not_compile_runs_as_datafusion_operators_and_says_so() {
        let session = Session::new(SessionOptions {
            target_partitions: Some(2),
            ..Default::default()
        })
        .expect("session");
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
        let values = Int64Array::from_iter((0..1000).map(|v| (v % 7 != 0).then_some(v)));
        let batch = RecordBatch::try_new(Arc::clone(&schema), vec![Arc::new(values)]).unwrap();
        let table = MemTable::try_new(schema, vec![vec![batch]]).unwrap();
        session.register_table("t", Arc::new(table)).unwrap();
        let context = session.context().clone();
        let results = crate::runtime::block_on(async move {
            let df = context
                .sql("SELECT a * 3 AS b FROM t WHERE a > 900")
                .await?;
            let plan = df.create_physical_plan().await?;
            let fused = datafusion::physical_plan::collect(Arc::clone(&plan), context.task_ctx());
            let fused = fused.await?;
            let jit = plan
                .downcast_ref::<JitExec>()
                .expect("a fused stage at the root");
            let reason = NotFused::CompileFailed("injected".into());
            let unfused: Arc<dyn ExecutionPlan> = Arc::new(jit.unfused(reason));
            let shown = datafusion::physical_plan::displayable(unfused.as_ref())
                .one_line()
                .to_string();
            let plain =
                datafusion::physical_plan::collect(Arc::clone(&unfused), context.task_ctx());
            let plain = plain.await?;
            let rows = unfused.metrics().and_then(|m| m.output_rows());
            Ok::<_, corepy_planner::CorepyError>((fused, plain, shown, rows))
        })
        .unwrap();
        let (fused, plain, shown, rows) = results;
        let total = |b: &[RecordBatch]| b.iter().map(RecordBatch::num_rows).sum::<usize>();
        assert_eq!(total(&fused), total(&plain));
        assert_eq!(total(&plain), 85);
        let sorted_values = |b: &[RecordBatch]| {
            let all = datafusion::arrow::compute::concat_batches(&b[0].schema(), b).unwrap();
            let column = all.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
            let mut values = column.values().to_vec();
            values.sort_unstable();
            values
        };
        let (a, b) = (sorted_values(&fused), sorted_values(&plain));
        assert_eq!(a, b);
        assert!(
            shown.contains("not compiled (the kernel did not compile: injected)"),
            "{shown}"
        );
        assert_eq!(rows, Some(85), "its rows show in EXPLAIN ANALYZE");
    }
}
