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
//!
//! The pieces: this file (the operator and its planner), `heaps.rs` (a partition's groups
//! and heaps, fed batch by batch), `candidates.rs` (the rows kept and their keys) and
//! `emit.rs` (the result, group by group).

mod candidates;
mod emit;
mod heaps;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use corepy_planner::top_per_group::TopPerGroup;
use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::stats::Precision;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{ColumnStatistics, DataFusionError, Result, Statistics};
use datafusion::execution::memory_pool::MemoryConsumer;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{LogicalPlan, UserDefinedLogicalNode};
use datafusion::physical_expr::{
    Distribution, EquivalenceProperties, PhysicalExpr, PhysicalSortExpr,
};
use datafusion::physical_plan::execution_plan::CardinalityEffect;
use datafusion::physical_plan::execution_plan::EmissionType;
use datafusion::physical_plan::metrics::{
    BaselineMetrics, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet,
};
use datafusion::physical_plan::statistics::{ChildStats, StatisticsArgs};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties,
    InputDistributionRequirements, PlanProperties,
};
use datafusion::physical_planner::{ExtensionPlanner, PhysicalPlanner};
use futures::{StreamExt, TryStreamExt};

use emit::Emit;
use heaps::Heaps;

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
            let batches = emit.batches(heaps, reservation);
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
