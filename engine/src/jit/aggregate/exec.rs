//! `JitAggregateExec`: a fused stage and the partial aggregation above it, run as one
//! compiled kernel per partition. Each batch of the stage's input is filtered, computed
//! and folded into the partition's [`AggregateState`] in one pass (no filtered batch, no
//! argument column is built); at the end the partition yields one row in DataFusion's
//! partial-aggregate format, which DataFusion's final aggregation consumes unchanged.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use corepy_codegen::aggregate::AggregateState;
use corepy_codegen::jit::JitKernel;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
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
use futures::StreamExt;

use super::plan::FoldPlan;
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
    pub fn new(
        input: Arc<dyn ExecutionPlan>,
        plan: Arc<FoldPlan>,
        kernel: Arc<JitKernel>,
        compiled_now: Option<Duration>,
        stage: String,
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

    /// Folds one batch into `state`.
    fn fold(&self, batch: &RecordBatch, state: &mut AggregateState, time: &Time) -> Result<()> {
        let kernel = &self.plan.kernel;
        let inputs: Vec<InputBuffers> = self
            .plan
            .inputs
            .iter()
            .zip(&kernel.inputs)
            .map(|(i, decl)| InputBuffers::new(batch.column(*i), decl.ty))
            .collect();
        let columns: Vec<_> = inputs.iter().map(InputBuffers::column).collect();
        let _timer = time.timer();
        self.kernel
            .run_aggregating(&columns, batch.num_rows(), state)
            .map_err(|e| self.run_error(e))
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
            "JitAggregateExec: mode=Partial, {}, aggr=[{}], jit",
            self.stage,
            self.plan.shown.join(", ")
        )?;
        if let DisplayFormatType::Verbose = t {
            write!(f, "\n{}", self.kernel_listing())?;
        }
        Ok(())
    }
}

/// The counters of one partition.
struct Counters {
    baseline: BaselineMetrics,
    input_rows: Count,
    kernel_time: Time,
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
        let mut input = self.input.execute(partition, context)?;
        let builder = || MetricBuilder::new(&self.metrics);
        let counters = Counters {
            baseline: BaselineMetrics::new(&self.metrics, partition),
            input_rows: builder().counter("input_rows", partition),
            kernel_time: builder().subset_time("kernel_time", partition),
        };
        if let (0, Some(t)) = (partition, self.compiled_now) {
            builder().counter("kernels_compiled", partition).add(1);
            builder()
                .subset_time("compile_time", partition)
                .add_duration(t);
        }
        let this = self.clone();
        let schema = Arc::clone(&self.schema);
        let folded = futures::stream::once(async move {
            let mut state = AggregateState::new(&this.plan.kernel);
            while let Some(batch) = input.next().await {
                let batch = batch?;
                let _compute = counters.baseline.elapsed_compute().timer();
                counters.input_rows.add(batch.num_rows());
                this.fold(&batch, &mut state, &counters.kernel_time)?;
            }
            let arrays = this.plan.state_arrays(&state)?;
            counters.baseline.record_output(1);
            Ok(RecordBatch::try_new(Arc::clone(&this.schema), arrays)?)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, folded)))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}
