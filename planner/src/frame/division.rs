//! Polars' `/` and `//` in the lazy API. `/` is true division. DataFusion's `/` is SQL's, which truncates
//! when both operands are integers (`7 / 2 = 3`); a Polars user expects `3.5`. Frame
//! operations rewrite each integer ÷ integer into a Float64 division once the input schema
//! tells the operand types. `//` (built as DataFusion's `IntegerDivide`) rounds the
//! quotient down, toward −∞, as Python and Polars do: `-7 // 2 = -4`, `7.5 // 2 = 3.0`.
//! SQL text keeps SQL's meaning: it never passes through here.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::DFSchema;
use datafusion::functions::expr_fn::floor;
use datafusion::logical_expr::{cast, lit, when, BinaryExpr, Expr, ExprSchemable, Operator};

use crate::error::{CorepyError, Result};

/// `expr` with every division of two integers made a division of Float64s, and every
/// floor division spelled out.
pub fn true_division(expr: Expr, schema: &DFSchema) -> Result<Expr> {
    let rewritten = expr.transform_up(|node| match node {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::IntegerDivide,
            right,
        }) => floor_division(*left, *right, schema)
            .map(Transformed::yes)
            .map_err(CorepyError::into_datafusion),
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Divide,
            right,
        }) if is_integer(&left, schema) && is_integer(&right, schema) => {
            let (left, right) = (
                cast(*left, DataType::Float64),
                cast(*right, DataType::Float64),
            );
            Ok(Transformed::yes(left / right))
        }
        other => Ok(Transformed::no(other)),
    })?;
    Ok(rewritten.data)
}

/// `left // right`: for integers the truncated quotient, one less where the remainder is
/// not zero and its sign differs from the divisor's; otherwise `floor(left / right)`.
fn floor_division(left: Expr, right: Expr, schema: &DFSchema) -> Result<Expr> {
    if !(is_integer(&left, schema) && is_integer(&right, schema)) {
        return Ok(floor(left / right));
    }
    let quotient = left.clone() / right.clone();
    let quotient_type = quotient.get_type(schema)?;
    let remainder = left % right.clone();
    let rounds_down = remainder
        .clone()
        .not_eq(lit(0))
        .and(remainder.lt(lit(0)).not_eq(right.lt(lit(0))));
    let correction = when(rounds_down, lit(1)).otherwise(lit(0))?;
    Ok(quotient - cast(correction, quotient_type))
}

fn is_integer(expr: &Expr, schema: &DFSchema) -> bool {
    expr.get_type(schema).is_ok_and(|t| t.is_integer())
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::prelude::{col, lit};

    use super::*;

    fn schema() -> DFSchema {
        DFSchema::try_from(Schema::new(vec![
            Field::new("i", DataType::Int32, true),
            Field::new("f", DataType::Float64, true),
        ]))
        .unwrap()
    }

    #[test]
    fn integer_division_becomes_float_division() {
        let expr = true_division(col("i") / lit(2), &schema()).unwrap();
        assert_eq!(
            expr.to_string(),
            "CAST(i AS Float64) / CAST(Int32(2) AS Float64)"
        );
        assert_eq!(expr.get_type(&schema()).unwrap(), DataType::Float64);
    }

    #[test]
    fn other_divisions_are_left_alone() {
        let float = col("f") / lit(2);
        assert_eq!(true_division(float.clone(), &schema()).unwrap(), float);
        let nested = true_division((col("i") + lit(1)) / (col("i") / lit(3)), &schema()).unwrap();
        assert_eq!(nested.get_type(&schema()).unwrap(), DataType::Float64);
    }
}
