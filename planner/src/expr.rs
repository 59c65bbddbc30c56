//! Expression construction for the lazy API, and the checks that turn DataFusion's late,
//! generic failures into early errors that name the expression.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use datafusion::arrow::compute::can_cast_types;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, DFSchema, ScalarValue};
use datafusion::functions::expr_fn::coalesce;
use datafusion::functions_aggregate::expr_fn;
use datafusion::logical_expr::utils::find_aggregate_exprs;
use datafusion::logical_expr::{
    binary_expr, cast, lit, when, Expr, ExprFunctionExt, ExprSchemable, Operator, ScalarUDF,
};
use datafusion::sql::unparser::Unparser;

use crate::error::{CorepyError, Result};

/// The binary operators of the lazy API, by the names the bindings use.
pub fn binary(left: Expr, operator: &str, right: Expr) -> Result<Expr> {
    let operator = match operator {
        "+" => Operator::Plus,
        "-" => Operator::Minus,
        "*" => Operator::Multiply,
        "/" => Operator::Divide,
        "%" => Operator::Modulo,
        // Spelled out once the operand types are known (`frame/division.rs`).
        "//" => Operator::IntegerDivide,
        "==" => Operator::Eq,
        "!=" => Operator::NotEq,
        "<" => Operator::Lt,
        "<=" => Operator::LtEq,
        ">" => Operator::Gt,
        ">=" => Operator::GtEq,
        "&" => Operator::And,
        "|" => Operator::Or,
        other => {
            return Err(CorepyError::invalid_argument(format!(
                "unknown binary operator '{other}'"
            )))
        }
    };
    Ok(binary_expr(left, operator, right))
}

/// The aggregations of `group_by().agg()` and of aggregating selects, by Polars' names,
/// over the rows `filter` keeps (every row when `None`), as `agg(x) FILTER (WHERE filter)`.
///
/// Where Polars and SQL differ, Polars is followed: the sum of no values (or only NULLs) is
/// 0, not NULL; `n_unique` counts NULL as a value, `any`
/// and `all` skip NULLs and answer `false` / `true` for a group of NULLs only, `len` counts
/// rows, NULLs included.
pub fn aggregate(function: &str, input: Expr, filter: Option<Expr>) -> Result<Expr> {
    let filtered = |aggregate: Expr| -> Result<Expr> {
        Ok(match &filter {
            None => aggregate,
            Some(predicate) => aggregate.filter(predicate.clone()).build()?,
        })
    };
    Ok(match function {
        "sum" => coalesce(vec![filtered(expr_fn::sum(input))?, lit(0)]),
        "mean" | "avg" => filtered(expr_fn::avg(input))?,
        "min" => filtered(expr_fn::min(input))?,
        "max" => filtered(expr_fn::max(input))?,
        "count" => filtered(expr_fn::count(input))?,
        // `x IS NULL` is never null, so this counts every row; naming the column keeps
        // the result named after it (`col("a").len()` is `a`, as in Polars).
        "len" => filtered(expr_fn::count(input.is_null()))?,
        "median" => filtered(expr_fn::median(input))?,
        "std" => filtered(expr_fn::stddev(input))?,
        "std_pop" => filtered(expr_fn::stddev_pop(input))?,
        "var" => filtered(expr_fn::var_sample(input))?,
        "var_pop" => filtered(expr_fn::var_pop(input))?,
        "n_unique" => {
            let has_null = filtered(expr_fn::bool_or(input.clone().is_null()))?;
            let null_counts = cast(coalesce(vec![has_null, lit(false)]), DataType::Int64);
            filtered(expr_fn::count_distinct(input))? + null_counts
        }
        // The frame's row order: the planner adds the row index they sort by.
        "first" => filtered(expr_fn::first_value(input, vec![in_row_order()]))?,
        "last" => filtered(expr_fn::last_value(input, vec![in_row_order()]))?,
        "any" => coalesce(vec![filtered(expr_fn::bool_or(input))?, lit(false)]),
        "all" => coalesce(vec![filtered(expr_fn::bool_and(input))?, lit(true)]),
        other => {
            return Err(CorepyError::invalid_argument(format!(
                "unknown aggregation '{other}'; use one of {}",
                AGGREGATIONS.join(", ")
            )))
        }
    })
}

/// Polars' `quantile(q, interpolation)` of the non-null values (among the rows `filter`
/// keeps): the values sorted, then the one at position `q·(n − 1)` rounded half away from
/// zero (`nearest`, Polars' default), rounded down (`lower`) or up (`higher`), or the two
/// values around it averaged (`midpoint`) or interpolated (`linear`). Float64; NULL when
/// there are no values.
pub fn quantile(input: Expr, q: f64, interpolation: &str, filter: Option<Expr>) -> Result<Expr> {
    if !(0.0..=1.0).contains(&q) {
        return Err(CorepyError::invalid_argument(format!(
            "quantile() takes q between 0 and 1, got {q}"
        )));
    }
    let rows = |aggregate: Expr, extra: Option<Expr>| -> Result<Expr> {
        let predicate = match (&filter, extra) {
            (None, None) => return Ok(aggregate),
            (Some(p), None) => p.clone(),
            (None, Some(e)) => e,
            (Some(p), Some(e)) => p.clone().and(e),
        };
        Ok(aggregate.filter(predicate).build()?)
    };
    let values = rows(
        expr_fn::array_agg(input.clone()),
        Some(input.clone().is_not_null()),
    )?;
    let sorted = call("array_sort", vec![values])?;
    let count = rows(expr_fn::count(input), None)?;
    let position = lit(q) * cast(count - lit(1i64), DataType::Float64);
    let at = |rounding: &str| -> Result<Expr> {
        let index = cast(call(rounding, vec![position.clone()])?, DataType::Int64) + lit(1i64);
        Ok(cast(
            call("array_element", vec![sorted.clone(), index])?,
            DataType::Float64,
        ))
    };
    Ok(match interpolation {
        "nearest" => at("round")?,
        "lower" => at("floor")?,
        "higher" => at("ceil")?,
        "midpoint" => (at("floor")? + at("ceil")?) / lit(2.0),
        "linear" => {
            let low = at("floor")?;
            let fraction = position.clone() - call("floor", vec![position.clone()])?;
            low.clone() + fraction * (at("ceil")? - low)
        }
        other => {
            return Err(CorepyError::invalid_argument(format!(
                "unknown interpolation '{other}'; use nearest, lower, higher, midpoint or linear"
            )))
        }
    })
}

/// Polars' `pl.corr(a, b)`: Pearson's correlation of the rows where both are non-null
/// (among those `filter` keeps), by corepy's grouped `corr`. NULL where there is no such
/// row (Polars 2.2 and SQL). Where DataFusion's `corr` is NULL otherwise — one row, a
/// constant column, NaN in one column only — Polars answers NaN, and so does this.
pub fn corr(a: Expr, b: Expr, filter: Option<Expr>) -> Result<Expr> {
    let pair = a.clone().is_not_null().and(b.clone().is_not_null());
    let (call, counted) = (
        Arc::new(crate::aggregates::GroupedCorr::udaf()).call(vec![a, b]),
        expr_fn::count(lit(1i64)),
    );
    let (call, pairs) = match filter {
        None => (call, counted.filter(pair).build()?),
        Some(predicate) => (
            call.filter(predicate.clone()).build()?,
            counted.filter(pair.and(predicate)).build()?,
        ),
    };
    Ok(when(pairs.eq(lit(0i64)), lit(ScalarValue::Float64(None)))
        .otherwise(coalesce(vec![call, lit(f64::NAN)]))?)
}

/// The names [`aggregate`] accepts.
pub const AGGREGATIONS: [&str; 16] = [
    "sum", "mean", "min", "max", "count", "len", "median", "std", "std_pop", "var", "var_pop",
    "n_unique", "first", "last", "any", "all",
];

/// Ascending row order, by the frame's row index.
pub fn in_row_order() -> datafusion::logical_expr::SortExpr {
    datafusion::logical_expr::ident(crate::frame::ROW).sort(true, true)
}

/// A call of DataFusion's scalar function `name` (`lower`, `regexp_replace`, `date_part`,
/// …): the building block of the `.str` and `.dt` namespaces.
pub fn call(name: &str, args: Vec<Expr>) -> Result<Expr> {
    static FUNCTIONS: OnceLock<HashMap<String, Arc<ScalarUDF>>> = OnceLock::new();
    let functions = FUNCTIONS.get_or_init(|| {
        let mut all = datafusion::functions::all_default_functions();
        all.extend(datafusion::functions_nested::all_default_nested_functions());
        all.into_iter()
            .flat_map(|f| {
                let names: Vec<String> = std::iter::once(f.name().to_string())
                    .chain(f.aliases().iter().cloned())
                    .collect();
                names.into_iter().map(move |n| (n, Arc::clone(&f)))
            })
            .collect()
    });
    match functions.get(name) {
        Some(function) => Ok(function.call(args)),
        None => Err(CorepyError::plan(format!("unknown function '{name}'"))),
    }
}

/// `CAST(input AS data_type)`.
pub fn cast_to(input: Expr, data_type: DataType) -> Expr {
    cast(input, data_type)
}

/// True when `expr` contains an aggregate function.
pub fn is_aggregate(expr: &Expr) -> bool {
    !find_aggregate_exprs(std::iter::once(expr)).is_empty()
}

/// How an expression is shown to users: as SQL, with only the parentheses it needs
/// (`price * (1 - discount) > 100`), falling back to DataFusion's own display.
pub fn describe(expr: &Expr) -> String {
    let expr = &unqualified(&crate::checked::as_written(expr));
    Unparser::new(&crate::shown_sql::ShownDialect)
        .with_pretty(true)
        .expr_to_sql(expr)
        .map(|sql| sql.to_string())
        .unwrap_or_else(|_| expr.to_string())
}

/// `expr` with its columns named without their table (`a`, not `memory_0.a`): the lazy
/// API's tables have generated names a user never wrote.
fn unqualified(expr: &Expr) -> Expr {
    expr.clone()
        .transform_up(|e| match e {
            Expr::Column(c) if c.relation.is_some() => Ok(Transformed::yes(Expr::Column(
                Column::new_unqualified(c.name),
            ))),
            other => Ok(Transformed::no(other)),
        })
        .map_or_else(|_| expr.clone(), |t| t.data)
}

/// The type `expr` produces over `schema`, or an error that names the expression.
///
/// Checks what DataFusion would otherwise only find when the query runs: unknown columns,
/// operands of incompatible types and casts Arrow cannot perform.
pub fn check_type(expr: &Expr, schema: &DFSchema) -> Result<DataType> {
    let data_type = expr
        .get_type(schema)
        .map_err(|error| in_expression(expr, error.into()))?;
    check_casts(expr, schema)?;
    Ok(data_type)
}

fn check_casts(expr: &Expr, schema: &DFSchema) -> Result<()> {
    let mut problem = None;
    let _ = expr.apply(|node| {
        let (inner, target) = match node {
            Expr::Cast(c) => (&c.expr, c.field.data_type()),
            Expr::TryCast(c) => (&c.expr, c.field.data_type()),
            _ => return Ok(TreeNodeRecursion::Continue),
        };
        if let Ok(source) = inner.get_type(schema) {
            if !can_cast_types(&source, target) {
                problem = Some(CorepyError::schema(format!(
                    "cannot cast `{}` from {source} to {target}",
                    describe(inner)
                )));
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    problem.map_or(Ok(()), Err)
}

/// Adds the failing expression to schema errors; other errors pass unchanged.
pub fn in_expression(expr: &Expr, error: CorepyError) -> CorepyError {
    match error {
        CorepyError::Schema { message } | CorepyError::Plan { message } => {
            CorepyError::schema(format!(
                "type mismatch in expression `{}`: {message}",
                describe(expr)
            ))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::prelude::{col, lit};

    fn schema() -> DFSchema {
        DFSchema::try_from(Schema::new(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("s", DataType::Utf8, true),
        ]))
        .unwrap()
    }

    #[test]
    fn arithmetic_type_is_inferred() {
        let expr = binary(col("a"), "*", lit(2.5)).unwrap();
        assert_eq!(check_type(&expr, &schema()).unwrap(), DataType::Float64);
    }

    #[test]
    fn adding_a_string_to_a_number_names_the_expression() {
        let expr = binary(col("s"), "+", lit(1)).unwrap();
        let error = check_type(&expr, &schema()).unwrap_err();
        assert!(matches!(error, CorepyError::Schema { .. }), "{error:?}");
        assert!(error.to_string().contains("`s + 1`"), "{error}");
    }

    #[test]
    fn unknown_column_is_reported_with_suggestions() {
        let error = check_type(&col("aa"), &schema()).unwrap_err();
        assert!(
            matches!(error, CorepyError::ColumnNotFound { ref candidates, .. } if candidates == &vec!["a".to_string()]),
            "{error:?}"
        );
    }

    #[test]
    fn impossible_cast_is_rejected() {
        let floats =
            DFSchema::try_from(Schema::new(vec![Field::new("f", DataType::Float64, true)]))
                .unwrap();
        let error = check_type(&cast_to(col("f"), DataType::Date32), &floats).unwrap_err();
        assert_eq!(error.to_string(), "cannot cast `f` from Float64 to Date32");
        let expr = cast_to(col("a"), DataType::Struct(Vec::<Field>::new().into()));
        assert!(matches!(
            check_type(&expr, &schema()),
            Err(CorepyError::Schema { .. })
        ));
    }

    #[test]
    fn descriptions_keep_needed_parentheses_only() {
        let expr = binary(col("p") * (lit(1) - col("d")), ">", lit(100)).unwrap();
        assert_eq!(describe(&expr), "p * (1 - d) > 100");
        assert_eq!(
            describe(&cast_to(col("a"), DataType::Float64)),
            "CAST(a AS DOUBLE)"
        );
    }

    #[test]
    fn aggregates_are_recognised() {
        assert!(is_aggregate(
            &(aggregate("sum", col("a"), None).unwrap() / lit(2))
        ));
        assert!(!is_aggregate(&col("a")));
        for name in AGGREGATIONS {
            let filtered = aggregate(name, col("a"), Some(col("a").gt(lit(1)))).unwrap();
            assert!(is_aggregate(&filtered), "{name}");
            assert!(
                filtered.to_string().contains("FILTER"),
                "{name}: {filtered}"
            );
        }
        let error = aggregate("median2", col("a"), None).unwrap_err();
        assert!(error.to_string().contains("n_unique"), "{error}");
    }
}
