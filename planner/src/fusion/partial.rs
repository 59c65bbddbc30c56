//! Partial fusion: a projection that does not lower whole (one of its expressions calls a
//! string function, say) still has its supported parts fused. The stage computes every
//! expression that lowers, and the supported sub-expressions of the others; a DataFusion
//! Projection above it computes the rest from the stage's columns.
//!
//! A sub-expression is taken only where DataFusion evaluates it on every row the projection
//! sees — not under CASE, AND/OR, IN or a short-circuiting function, where DataFusion skips
//! rows (and so skips their errors) — and only where it pays: two operations or more, since
//! DataFusion runs a single operation as one vectorized kernel already.

use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, DFSchemaRef};
use datafusion::logical_expr::{col, Expr, Extension, LogicalPlan, Operator, Projection};

use super::lower::lower_stage;
use super::stage::FusedStage;

/// Prefix of the stage's columns that hold fused sub-expressions.
const FUSED_PREFIX: &str = "__corepy_fused_";

/// `Projection(exprs)` over `input` (and `predicate`, when a Filter sits between them) as a
/// DataFusion Projection over a [`FusedStage`], or `None` when no part of it is worth fusing.
pub fn fuse_partially(
    input: &LogicalPlan,
    predicate: Option<&Expr>,
    exprs: &[Expr],
    schema: &DFSchemaRef,
) -> Option<LogicalPlan> {
    let mut parts = Parts {
        fused: Vec::new(),
        names: Vec::new(),
        taken: input
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect(),
    };
    let mut outer = Vec::with_capacity(exprs.len());
    for (i, expr) in exprs.iter().enumerate() {
        let (qualifier, field) = schema.qualified_field(i);
        let rewritten = match expr {
            Expr::Column(_) => expr.clone(),
            _ if lowers(input, expr) => parts.take(expr),
            _ => parts.take_inside(input, expr),
        };
        let same_name = matches!(&rewritten, Expr::Column(c) if c.name == *field.name());
        outer.push(if same_name {
            rewritten
        } else {
            rewritten
                .unalias()
                .alias_qualified(qualifier.cloned(), field.name())
        });
    }
    if parts.fused.is_empty() {
        return None;
    }
    let mut stage_exprs = parts.fused;
    for expr in &outer {
        for c in expr.column_refs() {
            let column = Expr::Column(c.clone());
            if !parts.names.contains(&c.name) && !stage_exprs.contains(&column) {
                stage_exprs.push(column);
            }
        }
    }
    let stage = stage_over(input, predicate, stage_exprs)?;
    let projection =
        Projection::try_new_with_schema(outer, Arc::new(stage), Arc::clone(schema)).ok()?;
    Some(LogicalPlan::Projection(projection))
}

/// The stage computing `exprs` over `input`, filtered by `predicate` — in the stage when
/// the predicate lowers, else by DataFusion's Filter below it.
fn stage_over(
    input: &LogicalPlan,
    predicate: Option<&Expr>,
    exprs: Vec<Expr>,
) -> Option<LogicalPlan> {
    let extension = |stage: FusedStage| {
        LogicalPlan::Extension(Extension {
            node: Arc::new(stage),
        })
    };
    let schema_over = |plan: &LogicalPlan| {
        datafusion::logical_expr::LogicalPlanBuilder::from(plan.clone())
            .project(exprs.clone())
            .ok()
            .map(|p| Arc::clone(p.schema()))
    };
    if let Some(p) = predicate {
        let schema = schema_over(input)?;
        if let Ok(stage) =
            FusedStage::try_new(input.clone(), Some(p.clone()), exprs.clone(), schema)
        {
            return Some(extension(stage));
        }
        let filtered = datafusion::logical_expr::LogicalPlanBuilder::from(input.clone())
            .filter(p.clone())
            .ok()?
            .build()
            .ok()?;
        let schema = schema_over(&filtered)?;
        return FusedStage::try_new(filtered, None, exprs, schema)
            .ok()
            .map(extension);
    }
    let schema = schema_over(input)?;
    FusedStage::try_new(input.clone(), None, exprs, schema)
        .ok()
        .map(extension)
}

/// The expressions the stage computes, each under its own column name.
struct Parts {
    fused: Vec<Expr>,
    /// The names of `fused`, in order.
    names: Vec<String>,
    /// Names in use: the input's columns (which may hold an earlier stage's fused columns)
    /// and `names`.
    taken: std::collections::HashSet<String>,
}

impl Parts {
    /// Moves `expr` into the stage; returns the column that holds it.
    fn take(&mut self, expr: &Expr) -> Expr {
        let expr = expr.clone().unalias();
        let index = match self.fused.iter().position(|f| f.clone().unalias() == expr) {
            Some(same) => same,
            None => {
                let name = (0..)
                    .map(|n| format!("{FUSED_PREFIX}{n}"))
                    .find(|name| !self.taken.contains(name))
                    .expect("a free name");
                self.taken.insert(name.clone());
                self.fused.push(expr.alias(name.as_str()));
                self.names.push(name);
                self.fused.len() - 1
            }
        };
        col(Column::from_name(self.names[index].clone()))
    }

    /// `expr` with its largest fusable sub-expressions in eager positions moved to the stage.
    fn take_inside(&mut self, input: &LogicalPlan, expr: &Expr) -> Expr {
        expr.clone()
            .transform_down(|e| {
                if is_lazy(&e) {
                    return Ok(Transformed::new(e, false, TreeNodeRecursion::Jump));
                }
                if operations(&e) >= 2 && lowers(input, &e) {
                    let column = self.take(&e);
                    return Ok(Transformed::new(column, true, TreeNodeRecursion::Jump));
                }
                Ok(Transformed::no(e))
            })
            .map(|t| t.data)
            .unwrap_or_else(|_| expr.clone())
    }
}

/// Whether DataFusion may evaluate the operands of `expr` on some rows only.
fn is_lazy(expr: &Expr) -> bool {
    match expr {
        // IN skips the values after the first once a batch is all matched.
        Expr::Case(_) | Expr::InList(_) => true,
        Expr::BinaryExpr(b) => matches!(b.op, Operator::And | Operator::Or),
        Expr::ScalarFunction(f) => f.func.short_circuits(),
        _ => false,
    }
}

/// Operations in `expr` (columns, literals and aliases are not).
fn operations(expr: &Expr) -> usize {
    let mut n = 0;
    let _ = expr.apply(|e| {
        if !matches!(e, Expr::Column(_) | Expr::Literal(..) | Expr::Alias(_)) {
            n += 1;
        }
        Ok(TreeNodeRecursion::Continue)
    });
    n
}

fn lowers(input: &LogicalPlan, expr: &Expr) -> bool {
    lower_stage(input.schema(), None, std::slice::from_ref(expr)).is_ok()
}
