//! A filter that does not lower whole (`l_shipmode IN ('MAIL', 'SHIP') AND l_receiptdate
//! > l_commitdate AND …`: the kernel IR has no strings) is split by its conjuncts: those
//! that lower become a fused stage's filter, and a DataFusion Filter above the stage
//! tests the others on the rows the stage keeps, instead of on every row.
//!
//! A row passes `a AND b` exactly when it passes `a` and then `b`. A conjunct moves into
//! the kernel only if it cannot fail (no checked arithmetic, no guarded cast), so no row
//! the original filter would have passed without error fails now; the conjuncts left to
//! DataFusion see fewer rows, which can only spare errors, never add one.

use std::sync::Arc;

use datafusion::logical_expr::utils::{conjunction, split_conjunction};
use datafusion::logical_expr::{col, Expr, Extension, Filter, LogicalPlan};

use super::lower::lower_stage;
use super::stage::FusedStage;

/// `filter` as a Filter of its other conjuncts over a stage of those that lower, or
/// `None` when all or none of them lower.
pub fn fuse_conjuncts(filter: &Filter) -> Option<LogicalPlan> {
    let schema = filter.input.schema();
    let (fused, rest): (Vec<&Expr>, Vec<&Expr>) = split_conjunction(&filter.predicate)
        .into_iter()
        .partition(|c| {
            lower_stage(schema, Some(c), &[]).is_ok_and(|lowered| lowered.labels.is_empty())
        });
    if fused.is_empty() || rest.is_empty() {
        return None;
    }
    let columns: Vec<Expr> = schema.columns().into_iter().map(col).collect();
    let stage = FusedStage::try_new(
        filter.input.as_ref().clone(),
        conjunction(fused.into_iter().cloned()),
        columns,
        Arc::clone(schema),
    )
    .ok()?;
    let stage = LogicalPlan::Extension(Extension {
        node: Arc::new(stage),
    });
    let rest = conjunction(rest.into_iter().cloned())?;
    Filter::try_new(rest, Arc::new(stage))
        .ok()
        .map(LogicalPlan::Filter)
}
