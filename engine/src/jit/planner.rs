//! Plans `FusedStage` nodes as `JitExec` operators, compiling (or reusing) their kernels.

use std::sync::Arc;

use async_trait::async_trait;
use corepy_planner::fusion::FusedStage;
use datafusion::catalog::Session;
use datafusion::common::{DataFusionError, Result};

use crate::gpu::GpuOptions;
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{LogicalPlan, UserDefinedLogicalNode};
use datafusion::physical_expr::projection::ProjectionExpr;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{ExtensionPlanner, PhysicalPlanner};

use super::cache::kernel_cache;
use super::exec::{Evaluator, JitExec};

#[derive(Debug, Default)]
pub struct FusedStagePlanner;

#[async_trait]
impl ExtensionPlanner for FusedStagePlanner {
    async fn plan_extension(
        &self,
        planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        _logical_inputs: &[&LogicalPlan],
        physical_inputs: &[Arc<dyn ExecutionPlan>],
        session_state: &dyn Session,
        planning_ctx: &PhysicalPlanningContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let Some(stage) = node.as_any().downcast_ref::<FusedStage>() else {
            return Ok(None);
        };
        let Some(lowered) = &stage.lowered else {
            return datafusion_operators(
                planner,
                stage,
                &physical_inputs[0],
                session_state,
                planning_ctx,
            )
            .map(Some);
        };
        let evaluator = match kernel_cache().get_or_compile(&lowered.kernel) {
            Ok(cached) => Evaluator::Jit {
                kernel: cached.kernel,
                compiled_now: cached.compiled_now,
            },
            Err(reason) => Evaluator::DataFusion { reason },
        };
        let description = stage_description(stage);
        let predicate = stage
            .predicate
            .as_ref()
            .map(|p| {
                planner.create_physical_expr(p, stage.input.schema(), session_state, planning_ctx)
            })
            .transpose()?;
        let outputs = stage
            .exprs
            .iter()
            .zip(stage.schema.fields())
            .map(|(e, field)| {
                let expr = planner.create_physical_expr(
                    e,
                    stage.input.schema(),
                    session_state,
                    planning_ctx,
                )?;
                Ok((expr, field.name().clone()))
            })
            .collect::<Result<Vec<_>>>()?;
        // Where the stage runs: the query's device settings (see `crate::gpu`).
        let options = session_state
            .config()
            .get_extension::<GpuOptions>()
            .map(|o| *o)
            .unwrap_or_default();
        let batch_rows = session_state.config().batch_size();
        let placed = crate::gpu::stage::place(
            &lowered.kernel,
            &format!("stage `{description}`"),
            options,
            || crate::gpu::stage::row_stage_cost(&lowered.kernel, batch_rows),
        )
        .map_err(|e| DataFusionError::External(Box::new(e)))?;
        Ok(Some(Arc::new(
            JitExec::new(
                Arc::clone(&physical_inputs[0]),
                Arc::clone(lowered),
                description,
                evaluator,
                Arc::new(stage.schema.as_arrow().clone()),
                predicate,
                outputs,
            )
            .placed(placed, options.fallback),
        )))
    }
}

fn stage_description(stage: &FusedStage) -> String {
    let exprs: Vec<String> = stage.exprs.iter().map(|e| e.to_string()).collect();
    match &stage.predicate {
        Some(p) => format!("filter={p}, exprs=[{}]", exprs.join(", ")),
        None => format!("exprs=[{}]", exprs.join(", ")),
    }
}

/// DataFusion's own Filter and Projection for a stage that no longer lowers.
fn datafusion_operators(
    planner: &dyn PhysicalPlanner,
    stage: &FusedStage,
    input: &Arc<dyn ExecutionPlan>,
    session_state: &dyn Session,
    planning_ctx: &PhysicalPlanningContext,
) -> Result<Arc<dyn ExecutionPlan>> {
    let schema = stage.input.schema();
    let mut plan = Arc::clone(input);
    if let Some(predicate) = &stage.predicate {
        let predicate =
            planner.create_physical_expr(predicate, schema, session_state, planning_ctx)?;
        plan = Arc::new(FilterExec::try_new(predicate, plan)?);
    }
    let exprs = stage
        .exprs
        .iter()
        .zip(stage.schema.fields())
        .map(|(e, field)| {
            let expr = planner.create_physical_expr(e, schema, session_state, planning_ctx)?;
            Ok(ProjectionExpr::new(expr, field.name().clone()))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Arc::new(ProjectionExec::try_new(exprs, plan)?))
}
