//! `CheckOverflow`: the analyzer rule that makes integer overflow an error. It runs after
//! type coercion, when every operand has its final type, and replaces integer `+ − ×`,
//! negation and `sum` with their checked forms (see the module's docs).

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result};
use datafusion::functions_aggregate::sum::Sum;
use datafusion::logical_expr::expr::{AggregateFunction, WindowFunction};
use datafusion::logical_expr::utils::merge_schema;
use datafusion::logical_expr::{
    BinaryExpr, Expr, ExprSchemable, LogicalPlan, Operator, WindowFunctionDefinition,
};
use datafusion::optimizer::AnalyzerRule;

use super::arithmetic::{CheckedArithmetic, CheckedOp};
use super::sum::CheckedSum;

/// Replaces wrapping integer arithmetic with checked arithmetic, everywhere in a plan
/// (subqueries included).
#[derive(Debug, Default)]
pub struct CheckOverflow;

impl AnalyzerRule for CheckOverflow {
    fn name(&self) -> &str {
        "corepy_check_overflow"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|node| {
            // Expressions are typed against the node's inputs (a scan's, against itself).
            let inputs = node.inputs();
            let schema = if inputs.is_empty() {
                node.schema().as_ref().clone()
            } else {
                merge_schema(&inputs)
            };
            node.map_expressions(|e| e.transform_up(|e| checked(e, &schema)))
        })
        .map(|t| t.data)
    }
}

/// `expr` with its top operation checked, if it is integer arithmetic.
fn checked(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let integer = |e: &Expr| -> Option<datafusion::arrow::datatypes::DataType> {
        e.get_type(schema).ok().filter(|t| t.is_integer())
    };
    let rewritten = match &expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let op = match op {
                Operator::Plus => CheckedOp::Add,
                Operator::Minus => CheckedOp::Sub,
                Operator::Multiply => CheckedOp::Mul,
                _ => return Ok(Transformed::no(expr)),
            };
            match (integer(left), integer(right)) {
                (Some(lt), Some(rt)) if lt == rt => Some(CheckedArithmetic::call(
                    op,
                    lt,
                    crate::expr::describe(&expr),
                    vec![left.as_ref().clone(), right.as_ref().clone()],
                )),
                _ => None,
            }
        }
        Expr::Negative(inner) => integer(inner).filter(|t| t.is_signed_integer()).map(|t| {
            let shown = crate::expr::describe(&expr);
            CheckedArithmetic::call(CheckedOp::Neg, t, shown, vec![inner.as_ref().clone()])
        }),
        Expr::AggregateFunction(aggregate) if sums_integers(aggregate, schema) => {
            let mut aggregate = aggregate.clone();
            aggregate.func = CheckedSum::udaf();
            Some(Expr::AggregateFunction(aggregate))
        }
        Expr::WindowFunction(window) => checked_window_sum(window, schema),
        _ => None,
    };
    Ok(match rewritten {
        Some(e) => Transformed::yes(e),
        None => Transformed::no(expr),
    })
}

/// DataFusion's own `sum` over an integer argument.
fn sums_integers(aggregate: &AggregateFunction, schema: &DFSchema) -> bool {
    aggregate.func.inner().downcast_ref::<Sum>().is_some()
        && is_integer_argument(&aggregate.params.args, schema)
}

fn is_integer_argument(args: &[Expr], schema: &DFSchema) -> bool {
    matches!(args, [arg] if arg.get_type(schema).is_ok_and(|t| t.is_integer()))
}

fn checked_window_sum(window: &WindowFunction, schema: &DFSchema) -> Option<Expr> {
    let WindowFunctionDefinition::AggregateUDF(function) = &window.fun else {
        return None;
    };
    if function.inner().downcast_ref::<Sum>().is_none()
        || !is_integer_argument(&window.params.args, schema)
    {
        return None;
    }
    let mut window = window.clone();
    window.fun = WindowFunctionDefinition::AggregateUDF(CheckedSum::udaf());
    Some(Expr::WindowFunction(Box::new(window)))
}
