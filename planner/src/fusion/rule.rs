//! The fusion rule: replaces maximal Filter/Projection regions whose expressions the
//! kernel IR computes with a [`FusedStage`]. It runs after DataFusion's own rules, so it
//! sees predicates and projections already pushed down.
//!
//! A Projection over a Filter becomes one stage (the filter's selection compacts the
//! projected columns in the same pass); a Projection or a Filter alone becomes a stage of
//! its own. A region with an expression the IR cannot compute exactly as DataFusion does
//! stays with DataFusion, but its supported parts are still fused (see [`super::partial`]);
//! when nothing of the projection is worth fusing, the filter below it is fused on its own,
//! or, when it does not lower whole, its conjuncts that do (see [`super::conjuncts`]). A
//! stage over a stage merges with it (see [`super::stacked`]).

use std::sync::Arc;

use datafusion::common::tree_node::Transformed;
use datafusion::common::Result;
use datafusion::logical_expr::{Extension, LogicalPlan};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

use super::conjuncts::fuse_filter;
use super::partial::fuse_partially;
use super::stacked::merge_stacked;
use super::stage::FusedStage;

#[derive(Debug, Default)]
pub struct FuseRowWise;

impl OptimizerRule for FuseRowWise {
    fn name(&self) -> &str {
        "corepy_fuse_row_wise"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        // Top-down, so that a Projection sees its Filter before the Filter is fused alone.
        Some(ApplyOrder::TopDown)
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        Ok(match fuse(&plan) {
            Some(fused) => Transformed::yes(fused),
            None => Transformed::no(plan),
        })
    }
}

fn stage(stage: FusedStage) -> LogicalPlan {
    LogicalPlan::Extension(Extension {
        node: Arc::new(stage),
    })
}

fn fuse(plan: &LogicalPlan) -> Option<LogicalPlan> {
    match plan {
        LogicalPlan::Projection(p) => {
            let schema = Arc::clone(&p.schema);
            if let LogicalPlan::Filter(f) = p.input.as_ref() {
                let both = FusedStage::try_new(
                    f.input.as_ref().clone(),
                    Some(f.predicate.clone()),
                    p.expr.clone(),
                    Arc::clone(&schema),
                );
                if let Ok(fused) = both {
                    return Some(stage(fused));
                }
                if let Some(partly) = fuse_partially(&f.input, Some(&f.predicate), &p.expr, &schema)
                {
                    return Some(partly);
                }
            }
            FusedStage::try_new(p.input.as_ref().clone(), None, p.expr.clone(), schema)
                .ok()
                .map(stage)
                .or_else(|| fuse_partially(&p.input, None, &p.expr, &p.schema))
        }
        LogicalPlan::Filter(f) => fuse_filter(f),
        LogicalPlan::Extension(_) => FusedStage::of(plan).and_then(merge_stacked),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
