//! Window expressions of the lazy API: Polars' `expr.over(partition_by, order_by=…)`, and the
//! order-dependent functions (`cum_sum`, `shift`, `diff`, `rank`, `rolling_mean`, …) as
//! DataFusion window functions.
//!
//! Order-dependent functions are built as window functions with an empty `OVER ()` and the
//! frame they need; `over` then gives every window function in an expression its partition
//! keys (in front of its own: `rank(method="max")` partitions by the ranked value too) and,
//! where it has none, its order; and turns plain aggregates into aggregates over the whole
//! partition, broadcast to each row (`col("x").sum().over("g")`). Polars takes a frame's row
//! order for granted; window functions here do not yet follow the frame's row order (the
//! hidden row index of `frame/row_index.rs`), so an order-dependent function without an
//! order is an error that says to add `order_by`.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, ScalarValue};
use datafusion::functions_aggregate::expr_fn as aggregates;
use datafusion::functions_window::expr_fn as windows;
use datafusion::logical_expr::expr::{
    AggregateFunction, NullTreatment, WindowFunction, WindowFunctionParams,
};
use datafusion::logical_expr::expr_rewriter::normalize_col;
use datafusion::logical_expr::utils::find_window_exprs;
use datafusion::logical_expr::{
    cast, lit, when, Expr, LogicalPlan, LogicalPlanBuilder, SortExpr, WindowFrame,
    WindowFrameBound, WindowFrameUnits, WindowFunctionDefinition,
};

use crate::error::{CorepyError, Result};
use crate::expr::describe;

/// The `OVER` clause of `expr.over(…)`.
#[derive(Debug, Clone, Default)]
pub struct Over {
    pub partition_by: Vec<Expr>,
    pub order_by: Vec<SortExpr>,
}

/// `expr.over(spec)`: see the module documentation.
pub fn over(expr: Expr, spec: &Over) -> Result<Expr> {
    if spec.partition_by.is_empty() && spec.order_by.is_empty() {
        return Err(CorepyError::invalid_argument(
            "over() needs partition_by, order_by, or both",
        ));
    }
    let mut found = false;
    let rewritten = expr.transform_down(|node| match node {
        Expr::WindowFunction(mut window) => {
            found = true;
            let params = &mut window.params;
            params
                .partition_by
                .splice(0..0, spec.partition_by.iter().cloned());
            if params.order_by.is_empty() {
                params.order_by = spec.order_by.clone();
            }
            Ok(Transformed::new(
                Expr::WindowFunction(window),
                true,
                TreeNodeRecursion::Jump,
            ))
        }
        Expr::AggregateFunction(aggregate) => {
            found = true;
            let window = aggregate_over_partition(aggregate, spec.partition_by.clone());
            Ok(Transformed::new(window, true, TreeNodeRecursion::Jump))
        }
        other => Ok(Transformed::no(other)),
    })?;
    if !found {
        return Err(CorepyError::invalid_argument(format!(
            "over() applies to aggregations and window functions, and `{}` has none; e.g. \
             col(\"x\").sum().over(\"g\") or col(\"x\").cum_sum().over(\"g\", order_by=\"t\")",
            describe(&rewritten.data)
        )));
    }
    Ok(rewritten.data)
}

/// `agg(…) OVER (PARTITION BY partition_by)`, over the whole partition.
fn aggregate_over_partition(aggregate: AggregateFunction, partition_by: Vec<Expr>) -> Expr {
    let params = aggregate.params;
    Expr::WindowFunction(Box::new(WindowFunction {
        fun: WindowFunctionDefinition::AggregateUDF(aggregate.func),
        params: WindowFunctionParams {
            args: params.args,
            partition_by,
            order_by: params.order_by,
            window_frame: WindowFrame::new(None),
            filter: params.filter,
            null_treatment: params.null_treatment,
            distinct: params.distinct,
        },
    }))
}

/// Every aggregate function in `expr` as a window function over `frame` of each row's
/// partition (time windows: `rolling`, and a group's earliest time in `group_by_dynamic`).
pub fn aggregates_over(
    expr: Expr,
    partition_by: &[Expr],
    order_by: &[SortExpr],
    frame: &WindowFrame,
) -> Result<Expr> {
    let rewritten = expr.transform_down(|node| match node {
        Expr::AggregateFunction(aggregate) => {
            let mut window = aggregate_over_partition(aggregate, partition_by.to_vec());
            if let Expr::WindowFunction(w) = &mut window {
                w.params.order_by = order_by.to_vec();
                w.params.window_frame = frame.clone();
            }
            Ok(Transformed::new(window, true, TreeNodeRecursion::Jump))
        }
        other => Ok(Transformed::no(other)),
    })?;
    Ok(rewritten.data)
}

/// An aggregate as a window function over `frame`, with an empty `OVER` for now.
fn aggregate_over_frame(aggregate: Expr, frame: WindowFrame) -> Result<Expr> {
    aggregates_over(aggregate, &[], &[], &frame)
}

pub(crate) fn rows(start: WindowFrameBound, end: WindowFrameBound) -> WindowFrame {
    WindowFrame::new_bounds(WindowFrameUnits::Rows, start, end)
}

pub(crate) fn unbounded_preceding() -> WindowFrameBound {
    WindowFrameBound::Preceding(ScalarValue::UInt64(None))
}

pub(crate) fn unbounded_following() -> WindowFrameBound {
    WindowFrameBound::Following(ScalarValue::UInt64(None))
}

/// `cum_sum`, `cum_min`, `cum_max`, `cum_count` (from the last row back when `reverse`).
/// As in Polars, a NULL row stays NULL (except for `cum_count`, which counts the non-null
/// values so far).
pub fn cumulative(function: &str, input: Expr, reverse: bool) -> Result<Expr> {
    let frame = if reverse {
        rows(WindowFrameBound::CurrentRow, unbounded_following())
    } else {
        rows(unbounded_preceding(), WindowFrameBound::CurrentRow)
    };
    let aggregate = match function {
        "cum_sum" => aggregates::sum(input.clone()),
        "cum_min" => aggregates::min(input.clone()),
        "cum_max" => aggregates::max(input.clone()),
        "cum_count" => return aggregate_over_frame(aggregates::count(input), frame),
        other => {
            return Err(CorepyError::invalid_argument(format!(
                "unknown cumulative function '{other}'; use cum_sum, cum_min, cum_max or \
                 cum_count"
            )))
        }
    };
    let running = aggregate_over_frame(aggregate, frame)?;
    Ok(when(input.is_null(), lit(ScalarValue::Null)).otherwise(running)?)
}

/// `rolling_mean`, `rolling_sum`, `rolling_min`, `rolling_max` over the current row and the
/// `window_size - 1` rows before it; NULL where the window holds fewer than `min_samples`
/// non-null values (Polars' default: `window_size`).
pub fn rolling(
    function: &str,
    input: Expr,
    window_size: u64,
    min_samples: Option<u64>,
) -> Result<Expr> {
    if window_size == 0 {
        return Err(CorepyError::invalid_argument(
            "a rolling window needs window_size >= 1",
        ));
    }
    let min_samples = min_samples.unwrap_or(window_size);
    let aggregate = match function {
        "rolling_mean" => aggregates::avg(input.clone()),
        "rolling_sum" => aggregates::sum(input.clone()),
        "rolling_min" => aggregates::min(input.clone()),
        "rolling_max" => aggregates::max(input.clone()),
        other => {
            return Err(CorepyError::invalid_argument(format!(
                "unknown rolling function '{other}'; use rolling_mean, rolling_sum, \
                 rolling_min or rolling_max"
            )))
        }
    };
    let frame = || {
        rows(
            WindowFrameBound::Preceding(ScalarValue::UInt64(Some(window_size - 1))),
            WindowFrameBound::CurrentRow,
        )
    };
    let value = aggregate_over_frame(aggregate, frame())?;
    let samples = aggregate_over_frame(aggregates::count(input), frame())?;
    let enough = samples.gt_eq(lit(min_samples as i64));
    Ok(when(enough, value).otherwise(lit(ScalarValue::Null))?)
}

/// Polars' `fill_null(strategy="forward" | "backward")`: each null replaced by the last
/// non-null value before it (after it, for `backward`) in the frame's row order, or within
/// a partition with `.over(…)`.
pub fn fill_null_strategy(input: Expr, strategy: &str) -> Result<Expr> {
    // Both look the same way, in ascending row order, so that DataFusion never reverses
    // one window to share the other's sort; the window function `first_value` takes a
    // frame that ends at the partition's end, which the aggregate cannot.
    let (mut nearest, frame) = match strategy {
        "forward" => (
            windows::last_value(input.clone()),
            rows(unbounded_preceding(), WindowFrameBound::CurrentRow),
        ),
        "backward" => (
            windows::first_value(input.clone()),
            rows(WindowFrameBound::CurrentRow, unbounded_following()),
        ),
        other => {
            return Err(CorepyError::invalid_argument(format!(
                "unknown fill_null strategy '{other}' for an order-dependent fill; use \
                 forward or backward"
            )))
        }
    };
    if let Expr::WindowFunction(w) = &mut nearest {
        w.params.null_treatment = Some(NullTreatment::IgnoreNulls);
        w.params.order_by = vec![crate::expr::in_row_order()];
        w.params.window_frame = frame;
    }
    Ok(datafusion::functions::expr_fn::coalesce(vec![
        input, nearest,
    ]))
}

/// Polars' `shift(n)`: the value `n` rows before (after, for a negative `n`), or `fill`.
pub fn shift(input: Expr, n: i64, fill: Option<ScalarValue>) -> Expr {
    if n >= 0 {
        windows::lag(input, Some(n), fill)
    } else {
        windows::lead(input, Some(-n), fill)
    }
}

/// Polars' `rank(method, descending)` of `input`'s values; NULL stays NULL and does not
/// take a rank. `average` gives Float64, the others integers.
pub fn rank(input: Expr, method: &str, descending: bool) -> Result<Expr> {
    let order = vec![input.clone().sort(!descending, false)];
    let ordered = |window: Expr| -> Expr {
        match window {
            Expr::WindowFunction(mut w) => {
                w.params.order_by = order.clone();
                Expr::WindowFunction(w)
            }
            other => other,
        }
    };
    let min = || ordered(windows::rank());
    let ties = || -> Result<Expr> {
        let count = aggregate_over_frame(aggregates::count(lit(1)), WindowFrame::new(None))?;
        Ok(match count {
            Expr::WindowFunction(mut w) => {
                w.params.partition_by = vec![input.clone()];
                Expr::WindowFunction(w)
            }
            other => other,
        })
    };
    let ranked = match method {
        "min" => min(),
        "dense" => ordered(windows::dense_rank()),
        "ordinal" => ordered(windows::row_number()),
        "max" => cast(min(), DataType::UInt64) + cast(ties()?, DataType::UInt64) - lit(1u64),
        "average" => {
            let low = cast(min(), DataType::Float64);
            let high = low.clone() + cast(ties()?, DataType::Float64) - lit(1.0);
            (low + high) / lit(2.0)
        }
        other => {
            return Err(CorepyError::invalid_argument(format!(
                "unknown rank method '{other}'; use average, min, max, dense or ordinal"
            )))
        }
    };
    Ok(when(input.is_null(), lit(ScalarValue::Null)).otherwise(ranked)?)
}

/// SQL's `row_number()`, 1 for the first row of each partition in the window's order.
pub fn row_number() -> Expr {
    windows::row_number()
}

/// Errors for window functions whose result depends on a row order they were not given.
pub fn check_ordered(expr: &Expr) -> Result<()> {
    let mut unordered = None;
    expr.apply(|node| {
        if let Expr::WindowFunction(w) = node {
            if w.params.order_by.is_empty() && needs_order(w) {
                unordered = Some(node.clone());
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    match unordered {
        None => Ok(()),
        Some(node) => Err(CorepyError::invalid_argument(format!(
            "`{}` depends on the order of rows, and window functions do not follow the \
             frame's row order yet: give one with .over(…, order_by=\"column\") \
             (with_row_index() makes a column in the frame's order)",
            describe(&node)
        ))),
    }
}

fn needs_order(window: &WindowFunction) -> bool {
    match &window.fun {
        WindowFunctionDefinition::WindowUDF(udf) => {
            matches!(
                udf.name(),
                "lag" | "lead" | "row_number" | "first_value" | "last_value"
            )
        }
        WindowFunctionDefinition::AggregateUDF(_) => {
            window.params.window_frame != WindowFrame::new(None)
        }
    }
}

/// Computes the window functions of `exprs` in Window nodes over `input`; returns the new
/// input and `exprs` with each window function replaced by the column that holds it.
pub fn plan_windows(input: LogicalPlan, exprs: Vec<Expr>) -> Result<(LogicalPlan, Vec<Expr>)> {
    let found = find_window_exprs(exprs.iter());
    if found.is_empty() {
        return Ok((input, exprs));
    }
    // Qualified as the Window node will name its columns.
    let exprs = exprs
        .into_iter()
        .map(|e| normalize_col(e, &input))
        .collect::<datafusion::common::Result<Vec<_>>>()?;
    let found = find_window_exprs(exprs.iter());
    for expr in &exprs {
        check_ordered(expr)?;
    }
    let plan = LogicalPlanBuilder::window_plan(input, found.clone())?;
    let exprs = exprs
        .into_iter()
        .map(|expr| {
            expr.transform_down(|node| {
                if found.contains(&node) {
                    let column = Expr::Column(Column::from_name(node.schema_name().to_string()));
                    Ok(Transformed::new(column, true, TreeNodeRecursion::Jump))
                } else {
                    Ok(Transformed::no(node))
                }
            })
            .map(|t| t.data)
        })
        .collect::<datafusion::common::Result<Vec<_>>>()?;
    Ok((plan, exprs))
}
