//! Why a region was not fused: kept as a value (not a discarded string) so that
//! `explain(kernels=True)` can say, for every filter and projection left to DataFusion, what
//! stopped it.

use std::fmt;
use std::fmt::Write;

use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::{Expr, LogicalPlan};

use super::lower::lower_stage;

/// The reason an expression, or a whole region, stays with DataFusion's operators.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NotFused {
    /// A type, operator or function the kernels do not compute.
    Unsupported(String),
    /// An operation that can fail, where DataFusion evaluates it on a data-dependent subset
    /// of the rows (the right side of AND/OR, the later values of an IN list): a kernel
    /// could not fail on exactly the same rows.
    FailsWhereSkipped(String),
    /// A constant DataFusion could not fold: it fails as a scalar, even over no rows.
    FailingConstant(String),
    /// DataFusion's own integer arithmetic, which wraps; corepy's checked form is fused.
    Wraps(String),
    /// Only columns and constants: nothing worth a kernel.
    NothingToCompute,
    /// Cranelift could not compile the kernel (the stage runs as DataFusion's operators).
    CompileFailed(String),
}

impl fmt::Display for NotFused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotFused::Unsupported(what) => write!(f, "not supported by kernels: {what}"),
            NotFused::FailsWhereSkipped(expr) => write!(
                f,
                "{expr} can fail where DataFusion may skip rows (AND/OR, IN lists)"
            ),
            NotFused::FailingConstant(expr) => {
                write!(f, "{expr} is a constant that fails when evaluated")
            }
            NotFused::Wraps(expr) => write!(f, "{expr} wraps on overflow"),
            NotFused::NothingToCompute => f.write_str("nothing to compute"),
            NotFused::CompileFailed(reason) => write!(f, "the kernel did not compile: {reason}"),
        }
    }
}

impl From<String> for NotFused {
    fn from(what: String) -> Self {
        NotFused::Unsupported(what)
    }
}

impl From<&str> for NotFused {
    fn from(what: &str) -> Self {
        NotFused::Unsupported(what.to_string())
    }
}

/// For each Filter and computing Projection that DataFusion still runs in `plan` (an
/// optimized plan), what kept it from being fused — for `explain(kernels=True)`.
pub fn unfused_regions(plan: &LogicalPlan) -> String {
    let mut out = String::new();
    let _ = plan.apply(|node| {
        let reason = match node {
            LogicalPlan::Filter(filter) => {
                let columns: Vec<Expr> = filter
                    .input
                    .schema()
                    .columns()
                    .into_iter()
                    .map(Expr::Column)
                    .collect();
                lower_stage(filter.input.schema(), Some(&filter.predicate), &columns).err()
            }
            LogicalPlan::Projection(projection) => {
                match lower_stage(projection.input.schema(), None, &projection.expr) {
                    Err(NotFused::NothingToCompute) | Ok(_) => None,
                    Err(reason) => Some(reason),
                }
            }
            _ => None,
        };
        if let Some(reason) = reason {
            let _ = writeln!(out, "{}\n  not fused: {reason}", node.display());
        }
        Ok(TreeNodeRecursion::Continue)
    });
    if out.is_empty() {
        out.push_str("(every filter and computing projection is fused)\n");
    }
    out
}
