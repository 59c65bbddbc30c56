//! `SealDml`: the analyzer rule that seals `DELETE` and `UPDATE` statements (see the
//! module's docs), refusing the shapes whose meaning DataFusion's planner would not read
//! whole.

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::Result;
use datafusion::logical_expr::{DmlStatement, Expr, Extension, LogicalPlan, WriteOp};
use datafusion::optimizer::AnalyzerRule;

use super::sealed::SealedDml;
use crate::error::CorepyError;

/// Wraps every `DELETE` and `UPDATE` in a [`SealedDml`] after checking its shape. It must
/// run after type coercion (it is appended to DataFusion's analyzer rules).
#[derive(Debug, Default)]
pub struct SealDml;

impl AnalyzerRule for SealDml {
    fn name(&self) -> &str {
        "corepy_seal_dml"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        // Statements sit at the root, or under EXPLAIN / EXPLAIN ANALYZE.
        plan.transform_down(|node| match &node {
            LogicalPlan::Dml(dml) if changes_rows_in_place(dml) => {
                check_shape(dml).map_err(CorepyError::into_datafusion)?;
                let sealed = LogicalPlan::Extension(Extension {
                    node: Arc::new(SealedDml::new(node)),
                });
                Ok(Transformed::new(sealed, true, TreeNodeRecursion::Jump))
            }
            _ => Ok(Transformed::no(node)),
        })
        .map(|t| t.data)
    }
}

/// The statements whose input is read for its conditions rather than run.
fn changes_rows_in_place(dml: &DmlStatement) -> bool {
    matches!(dml.op, WriteOp::Delete | WriteOp::Update)
}

/// Accepts the shape that DataFusion's planner reads completely: for `UPDATE`, a
/// projection of the new values; then any filters; then a scan of the target table,
/// perhaps under an alias. Conditions and values must not hold subqueries (the planner
/// would plan them away into joins, which it does not read).
fn check_shape(dml: &DmlStatement) -> crate::Result<()> {
    let statement = match dml.op {
        WriteOp::Update => "UPDATE",
        _ => "DELETE",
    };
    let mut node = dml.input.as_ref();
    if dml.op == WriteOp::Update {
        let LogicalPlan::Projection(projection) = node else {
            return Err(unsupported(
                statement,
                dml,
                "its new values are not a projection",
            ));
        };
        if projection.expr.iter().any(has_subquery) {
            return Err(unsupported(statement, dml, "a subquery in SET"));
        }
        node = projection.input.as_ref();
    }
    loop {
        match node {
            LogicalPlan::Filter(filter) => {
                if has_subquery(&filter.predicate) {
                    return Err(unsupported(statement, dml, "a subquery in WHERE"));
                }
                node = filter.input.as_ref();
            }
            LogicalPlan::SubqueryAlias(alias) => node = alias.input.as_ref(),
            LogicalPlan::TableScan(scan) if scan.table_name.resolved_eq(&dml.table_name) => {
                return Ok(())
            }
            LogicalPlan::Join(_) => {
                return Err(unsupported(
                    statement,
                    dml,
                    "a join with another table (FROM)",
                ))
            }
            other => {
                let shown = other.display().to_string();
                let kind = shown.split(':').next().unwrap_or("plan");
                return Err(unsupported(
                    statement,
                    dml,
                    &format!("a {kind} in its input"),
                ));
            }
        }
    }
}

fn has_subquery(expr: &Expr) -> bool {
    expr.exists(|e| {
        Ok(matches!(
            e,
            Expr::Exists(_)
                | Expr::InSubquery(_)
                | Expr::ScalarSubquery(_)
                | Expr::SetComparison(_)
        ))
    })
    .unwrap_or(true)
}

fn unsupported(statement: &str, dml: &DmlStatement, what: &str) -> CorepyError {
    CorepyError::plan(format!(
        "{statement} on table '{}' with {what} is not supported: corepy cannot guarantee that \
         it would change only the rows the statement names, so nothing was changed",
        dml.table_name
    ))
}
