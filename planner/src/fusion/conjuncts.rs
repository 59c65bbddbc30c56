//! A filter that does not lower whole (`l_shipmode IN ('MAIL', 'SHIP') AND l_commitdate <
//! l_receiptdate AND …`: the kernel IR has no strings) is split by its conjuncts: those
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

/// `filter` fused: one stage when its predicate lowers whole, else a Filter of the other
/// conjuncts over a stage of those that lower; `None` when none lowers.
///
/// A Filter over a stage that only filters (DataFusion pushes predicates it derives, such
/// as q19's quantity ranges from a join's OR, onto the stage in every optimizer pass) is
/// merged with it, conjuncts already there dropped, so stages do not pile up.
pub fn fuse_filter(filter: &Filter) -> Option<LogicalPlan> {
    let (input, mut conjuncts) = match filtering_stage(&filter.input) {
        Some(stage) => (stage.input.clone(), split_owned(stage.predicate.as_ref()?)),
        None => (filter.input.as_ref().clone(), Vec::new()),
    };
    for c in split_conjunction(&filter.predicate) {
        if !conjuncts.contains(c) {
            conjuncts.push(c.clone());
        }
    }
    let schema = Arc::clone(input.schema());
    let columns: Vec<Expr> = schema.columns().into_iter().map(col).collect();
    let whole = conjunction(conjuncts.iter().cloned())?;
    let fused = match FusedStage::try_new(
        input.clone(),
        Some(whole),
        columns.clone(),
        Arc::clone(&schema),
    ) {
        Ok(stage) => as_plan(stage),
        Err(_) => {
            let (lowering, rest): (Vec<Expr>, Vec<Expr>) = conjuncts.into_iter().partition(|c| {
                lower_stage(&schema, Some(c), &[]).is_ok_and(|lowered| lowered.labels.is_empty())
            });
            let stage = FusedStage::try_new(input, conjunction(lowering), columns, schema).ok()?;
            let rest = conjunction(rest)?;
            LogicalPlan::Filter(Filter::try_new(rest, Arc::new(as_plan(stage))).ok()?)
        }
    };
    // Unchanged (a later optimizer pass over a split already made): no rewrite.
    (fused != LogicalPlan::Filter(filter.clone())).then_some(fused)
}

/// The stage under a Filter when it filters and passes every column on unchanged.
fn filtering_stage(plan: &LogicalPlan) -> Option<&FusedStage> {
    let stage = FusedStage::of(plan)?;
    let columns = stage.input.schema().columns();
    let passes_all = stage.exprs.len() == columns.len()
        && stage
            .exprs
            .iter()
            .zip(&columns)
            .all(|(e, c)| matches!(e, Expr::Column(x) if x == c));
    (passes_all && stage.predicate.is_some()).then_some(stage)
}

fn split_owned(predicate: &Expr) -> Vec<Expr> {
    split_conjunction(predicate).into_iter().cloned().collect()
}

fn as_plan(stage: FusedStage) -> LogicalPlan {
    LogicalPlan::Extension(Extension {
        node: Arc::new(stage),
    })
}
