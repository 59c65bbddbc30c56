//! `RowIndexExec`: the physical operator of the planner's `RowIndex` node. It reads its
//! input's partitions one after the other, in partition order, and appends to each batch
//! the rows' positions in that sequence (UInt64, from 0). For a scan that is the files'
//! order (files sorted by name, each file's rows in order; DataFusion splits files into
//! partitions contiguously); after a sort, the sort order.
//!
//! It emits a single partition and asks for no repartitioning below it, so nothing can
//! reorder rows before they are numbered; above it the numbers travel as data. An input
//! with an order of its own (a sort) is merged into one partition in that order first.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use corepy_planner::frame::RowIndex;
use datafusion::arrow::array::{ArrayRef, RecordBatch, UInt64Array};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::Result;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{LogicalPlan, UserDefinedLogicalNode};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::{
    Distribution, EquivalenceProperties, LexOrdering, OrderingRequirements, Partitioning,
    PhysicalExpr, PhysicalSortExpr,
};
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties,
    InputDistributionRequirements, PlanProperties,
};
use datafusion::physical_planner::{ExtensionPlanner, PhysicalPlanner};
use futures::{StreamExt, TryStreamExt};

/// Numbers the rows of its input, partition after partition.
#[derive(Debug)]
pub struct RowIndexExec {
    input: Arc<dyn ExecutionPlan>,
    name: String,
    offset: u64,
    /// The input's order when it has one (a sort): its partitions are then merged in that
    /// order before numbering, instead of read one after the other.
    input_order: Option<LexOrdering>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl RowIndexExec {
    pub fn new(
        input: Arc<dyn ExecutionPlan>,
        name: String,
        offset: u64,
        input_order: Option<LexOrdering>,
        schema: SchemaRef,
    ) -> Self {
        // The one output partition is in index order.
        let index = Arc::new(Column::new(&name, schema.fields().len() - 1));
        let ordering = LexOrdering::new(vec![PhysicalSortExpr::new_default(index)]);
        let orderings: Vec<LexOrdering> = ordering.into_iter().collect();
        let properties = PlanProperties::new(
            EquivalenceProperties::new_with_orderings(Arc::clone(&schema), orderings),
            Partitioning::UnknownPartitioning(1),
            input.pipeline_behavior(),
            input.boundedness(),
        );
        Self {
            input,
            name,
            offset,
            input_order,
            schema,
            properties: Arc::new(properties),
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }
}

impl DisplayAs for RowIndexExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "RowIndexExec: name={}, offset={}",
            self.name, self.offset
        )
    }
}

impl ExecutionPlan for RowIndexExec {
    fn name(&self) -> &str {
        "RowIndexExec"
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

    /// A repartition below would interleave rows before they are numbered.
    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }

    #[allow(deprecated)]
    fn required_input_distribution(&self) -> Vec<Distribution> {
        self.input_distribution_requirements().into_per_child()
    }

    fn input_distribution_requirements(&self) -> InputDistributionRequirements {
        let distribution = match self.input_order {
            Some(_) => Distribution::SinglePartition,
            None => Distribution::UnspecifiedDistribution,
        };
        InputDistributionRequirements::new(vec![distribution])
    }

    fn required_input_ordering(&self) -> Vec<Option<OrderingRequirements>> {
        vec![self.input_order.clone().map(OrderingRequirements::from)]
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(RowIndexExec::new(
            children.swap_remove(0),
            self.name.clone(),
            self.offset,
            self.input_order.clone(),
            Arc::clone(&self.schema),
        )))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let baseline = BaselineMetrics::new(&self.metrics, partition);
        let input = Arc::clone(&self.input);
        let partitions = input.output_partitioning().partition_count();
        // Partition after partition, each started only when the one before has ended.
        let batches = futures::stream::iter(0..partitions)
            .map(move |p| input.execute(p, Arc::clone(&context)))
            .try_flatten();
        let schema = Arc::clone(&self.schema);
        let mut next = self.offset;
        let numbered = batches.map(move |batch| {
            let batch = batch?;
            let rows = batch.num_rows() as u64;
            let index: ArrayRef = Arc::new(UInt64Array::from_iter_values(next..next + rows));
            next += rows;
            let mut columns = batch.columns().to_vec();
            columns.push(index);
            let batch = RecordBatch::try_new(Arc::clone(&schema), columns)?;
            baseline.record_output(batch.num_rows());
            Ok(batch)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            numbered,
        )))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

/// Plans `RowIndex` nodes as [`RowIndexExec`].
#[derive(Debug, Default)]
pub struct RowIndexPlanner;

#[async_trait]
impl ExtensionPlanner for RowIndexPlanner {
    async fn plan_extension(
        &self,
        _planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        _logical_inputs: &[&LogicalPlan],
        physical_inputs: &[Arc<dyn ExecutionPlan>],
        _session_state: &dyn Session,
        _planning_ctx: &PhysicalPlanningContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let Some(index) = node.as_any().downcast_ref::<RowIndex>() else {
            return Ok(None);
        };
        let schema: SchemaRef = Arc::new(index.schema.as_arrow().clone());
        let input = Arc::clone(&physical_inputs[0]);
        let input_order = input.output_ordering().cloned();
        Ok(Some(Arc::new(RowIndexExec::new(
            input,
            index.name.clone(),
            index.offset,
            input_order,
            schema,
        ))))
    }
}
