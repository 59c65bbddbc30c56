//! Polars keeps the type of what it truncates (`col("d").dt.truncate("1mo")` of a date is a
//! date, of a microsecond timestamp a microsecond timestamp); DataFusion's `date_trunc` and
//! `date_bin` answer nanosecond timestamps for some inputs. Frame operations cast the result
//! back to the input's type once the input schema tells it.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::DFSchema;
use datafusion::logical_expr::{cast, Expr, ExprSchemable};

use crate::error::Result;

/// `expr` with each truncation cast back to the type of the value it truncates.
pub fn truncation_keeps_type(expr: Expr, schema: &DFSchema) -> Result<Expr> {
    let rewritten = expr.transform_up(|node| {
        let source_type = match &node {
            Expr::ScalarFunction(f) if matches!(f.name(), "date_trunc" | "date_bin") => f
                .args
                .get(1)
                .and_then(|source| source.get_type(schema).ok())
                .filter(|t| matches!(t, DataType::Date32 | DataType::Timestamp(_, _))),
            _ => None,
        };
        Ok(match source_type {
            Some(t) if node.get_type(schema).is_ok_and(|result| result != t) => {
                Transformed::yes(cast(node, t))
            }
            _ => Transformed::no(node),
        })
    })?;
    Ok(rewritten.data)
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::{Field, Schema, TimeUnit};
    use datafusion::functions::expr_fn::date_trunc;
    use datafusion::prelude::{col, lit};

    use super::*;

    #[test]
    fn a_truncated_date_is_a_date_and_a_timestamp_keeps_its_unit() {
        let schema = DFSchema::try_from(Schema::new(vec![
            Field::new("d", DataType::Date32, true),
            Field::new("t", DataType::Timestamp(TimeUnit::Microsecond, None), true),
        ]))
        .unwrap();
        let date = truncation_keeps_type(date_trunc(lit("month"), col("d")), &schema).unwrap();
        assert_eq!(date.get_type(&schema).unwrap(), DataType::Date32);
        let stamp = truncation_keeps_type(date_trunc(lit("month"), col("t")), &schema).unwrap();
        assert_eq!(
            stamp.get_type(&schema).unwrap(),
            DataType::Timestamp(TimeUnit::Microsecond, None)
        );
    }
}
