//! The output name of an expression.
//!
//! DataFusion names `a + 1` "a + Int64(1)"; users of dataframe libraries expect the result of
//! `col("a") + 1` to be called `a`, so that `with_columns(col("a") * 2)` replaces `a`. corepy
//! follows Polars: an unaliased expression takes the name of its left-most column, and an
//! expression without columns is called "literal".

use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::Expr;

/// The name a frame gives to the column `expr` produces.
pub fn output_name(expr: &Expr) -> String {
    if let Expr::Alias(alias) = expr {
        return alias.name.clone();
    }
    let mut name = None;
    // The closure never fails, so neither does the walk.
    let _ = expr.apply(|node| {
        if let Expr::Column(column) = node {
            name = Some(column.name.clone());
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    name.unwrap_or_else(|| "literal".to_string())
}

/// `expr` with its output name made explicit: bare columns and aliases stay as they are,
/// everything else is aliased to [`output_name`].
pub fn named(expr: Expr) -> Expr {
    match expr {
        Expr::Alias(_) | Expr::Column(_) => expr,
        other => {
            let name = output_name(&other);
            other.alias(name)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::{col, lit};

    #[test]
    fn left_most_column_names_the_result() {
        assert_eq!(output_name(&(lit(1) + col("b") * col("a"))), "b");
    }

    #[test]
    fn alias_wins() {
        assert_eq!(output_name(&(col("a") + lit(1)).alias("x")), "x");
    }

    #[test]
    fn literal_only_expressions_are_called_literal() {
        assert_eq!(output_name(&(lit(1) + lit(2))), "literal");
    }

    #[test]
    fn columns_are_left_unaliased() {
        assert_eq!(named(col("a")), col("a"));
        assert_eq!(named(col("a") + lit(1)), (col("a") + lit(1)).alias("a"));
    }
}
