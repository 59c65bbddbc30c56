//! A stage over a stage that computes its inputs becomes one stage. DataFusion's
//! common-subexpression rule puts a Projection of `l_extendedprice * (1 - l_discount)`
//! under TPC-H q1's aggregation, and the aggregate arguments computed from it make a second
//! stage above the first: two passes, and every row of the first written out in between.
//!
//! The merged stage computes the upper expressions with the lower ones substituted for the
//! columns they produce, on the rows the lower filter keeps, which is where the upper
//! stage computed them; the lowering computes an expression used twice once.

use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::Result;
use datafusion::logical_expr::{Expr, Extension, LogicalPlan};

use super::stage::FusedStage;

/// The merge of `upper` (a stage without a filter) and the stage under it, or `None`.
pub fn merge_stacked(upper: &FusedStage) -> Option<LogicalPlan> {
    if upper.predicate.is_some() {
        return None;
    }
    let lower = FusedStage::of(&upper.input)?;
    let mut exprs = Vec::with_capacity(upper.exprs.len());
    for (i, expr) in upper.exprs.iter().enumerate() {
        let substituted = substitute(expr, lower).ok()?;
        let (qualifier, field) = upper.schema.qualified_field(i);
        exprs.push(match &substituted {
            Expr::Column(c) if c.name == *field.name() && c.relation.as_ref() == qualifier => {
                substituted
            }
            _ => substituted
                .unalias()
                .alias_qualified(qualifier.cloned(), field.name()),
        });
    }
    let merged = FusedStage::try_new(
        lower.input.clone(),
        lower.predicate.clone(),
        exprs,
        Arc::clone(&upper.schema),
    )
    .ok()?;
    Some(LogicalPlan::Extension(Extension {
        node: Arc::new(merged),
    }))
}

/// `expr` with each column of the lower stage replaced by the expression that computes it.
fn substitute(expr: &Expr, lower: &FusedStage) -> Result<Expr> {
    expr.clone()
        .transform_up(|e| {
            let Expr::Column(c) = &e else {
                return Ok(Transformed::no(e));
            };
            let index = lower.schema.index_of_column(c)?;
            Ok(Transformed::yes(lower.exprs[index].clone().unalias()))
        })
        .map(|t| t.data)
}
