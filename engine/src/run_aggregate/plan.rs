//! Which partial aggregations merge runs, and into which state columns.
//!
//! Merged: `count`, `sum` and `avg` of decimals, `min` and `max` of integers, decimals,
//! dates and timestamps, without DISTINCT or ORDER BY, grouped by one or more
//! keys of integer, decimal, date, timestamp, boolean or string types. These are exactly
//! the aggregates whose partial states merge to the same answer in any order (wrapping
//! decimal sums, as DataFusion's, are associative), so a group that comes in many runs
//! gets the answer it gets from DataFusion. Float keys (is `-0.0` the group of `0.0`?),
//! float and integer sums (rounding, and corepy's overflow check) stay with DataFusion.
//! A `FILTER (WHERE p)` aggregate takes the rows where `p` is true (not false, not NULL),
//! as DataFusion's: its argument is NULL on the others, which every state above skips.

use std::sync::Arc;

use corepy_planner::fusion::is_string;
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::{ExecutionPlan, InputOrderMode};

/// What one aggregate keeps per run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunFunc {
    /// The values that are not NULL (state: Int64, never NULL).
    Count,
    /// The wrapping sum of a decimal (state: the sum, NULL where no value).
    Sum,
    /// The count and the sum of a decimal (state: UInt64 and the sum, both NULL where no
    /// value, as DataFusion's grouped `avg` keeps them).
    Avg,
    /// The least value (state: the value, NULL where none).
    Min,
    /// The greatest value (state: the value, NULL where none).
    Max,
}

/// One aggregate of a run-merging partial aggregation.
#[derive(Debug, Clone)]
pub struct RunAggregate {
    pub func: RunFunc,
    pub argument: Arc<dyn PhysicalExpr>,
    /// Its `FILTER (WHERE …)` condition, if any: rows where it is not true are skipped.
    pub filter: Option<Arc<dyn PhysicalExpr>>,
    /// Its state columns' fields, as DataFusion's partial aggregation gives them.
    pub state: Vec<FieldRef>,
    /// As DataFusion shows it, for EXPLAIN.
    pub shown: String,
}

/// A partial aggregation that merges runs of equal keys.
#[derive(Debug, Clone)]
pub struct RunPlan {
    pub keys: Vec<Arc<dyn PhysicalExpr>>,
    /// The keys' names, for EXPLAIN.
    pub key_names: Vec<String>,
    pub aggregates: Vec<RunAggregate>,
}

/// The run-merging form of `aggregate` (a partial aggregation), or why it has none.
pub fn plan_runs(aggregate: &AggregateExec) -> Result<RunPlan, String> {
    if *aggregate.mode() != AggregateMode::Partial {
        return Err("only a partial aggregation merges runs".into());
    }
    let group = aggregate.group_expr();
    if !group.is_single() || group.expr().is_empty() {
        return Err("grouping sets and ungrouped aggregations do not merge runs".into());
    }
    if aggregate.limit_options().is_some() {
        return Err("an aggregation with a limit does not merge runs".into());
    }
    if *aggregate.input_order_mode() != InputOrderMode::Linear {
        // Over ordered input DataFusion streams its groups already.
        return Err("an aggregation over ordered input does not merge runs".into());
    }
    let input_schema = aggregate.input().schema();
    let schema = aggregate.schema();
    let mut keys = Vec::new();
    let mut key_names = Vec::new();
    for (key, name) in group.expr() {
        let ty = key.data_type(&input_schema).map_err(|e| e.to_string())?;
        if !key_type(&ty) {
            return Err(format!("a grouping key of type {ty}"));
        }
        keys.push(Arc::clone(key));
        key_names.push(name.clone());
    }
    let mut aggregates = Vec::new();
    let mut column = keys.len();
    for (expr, filter) in aggregate.aggr_expr().iter().zip(aggregate.filter_expr()) {
        if let Some(filter) = filter {
            let ty = filter.data_type(&input_schema).map_err(|e| e.to_string())?;
            if ty != DataType::Boolean {
                return Err(format!("{}: a FILTER of type {ty}", expr.name()));
            }
        }
        if expr.is_distinct() || !expr.order_bys().is_empty() || expr.ignore_nulls() {
            return Err(format!(
                "{}: DISTINCT, ORDER BY or IGNORE NULLS",
                expr.name()
            ));
        }
        let [argument] = expr
            .expressions()
            .try_into()
            .map_err(|_| "not one argument")?;
        let ty = argument
            .data_type(&input_schema)
            .map_err(|e| e.to_string())?;
        let decimal = matches!(ty, DataType::Decimal128(..));
        let func = match expr.fun().name() {
            "count" => RunFunc::Count,
            "sum" if decimal => RunFunc::Sum,
            "avg" if decimal => RunFunc::Avg,
            "min" if ordered_type(&ty) => RunFunc::Min,
            "max" if ordered_type(&ty) => RunFunc::Max,
            name => return Err(format!("{name} of {ty}")),
        };
        let state = expr.state_fields().map_err(|e| e.to_string())?;
        if !state_fits(func, &ty, &state) {
            return Err(format!("{}: an unexpected partial state", expr.name()));
        }
        for field in &state {
            // The partial aggregation's own schema is what the final one reads.
            match schema.fields().get(column) {
                Some(f) if f.data_type() == field.data_type() => column += 1,
                _ => return Err("the partial state's columns do not match its schema".into()),
            }
        }
        let shown = match filter {
            Some(filter) => format!("{} FILTER (WHERE {filter})", expr.name()),
            None => expr.name().to_string(),
        };
        aggregates.push(RunAggregate {
            func,
            argument,
            filter: filter.clone(),
            state,
            shown,
        });
    }
    if column != schema.fields().len() {
        return Err("the partial state's columns do not match its schema".into());
    }
    Ok(RunPlan {
        keys,
        key_names,
        aggregates,
    })
}

/// Keys compared for equality bit by bit, as DataFusion groups them: no floats.
fn key_type(ty: &DataType) -> bool {
    ordered_type(ty) || *ty == DataType::Boolean || is_string(ty)
}

/// Types whose `min` and `max` runs merge (integers, in total order, as DataFusion's).
pub fn ordered_type(ty: &DataType) -> bool {
    use DataType::*;
    matches!(
        ty,
        Int8 | Int16
            | Int32
            | Int64
            | UInt8
            | UInt16
            | UInt32
            | UInt64
            | Decimal128(..)
            | Date32
            | Date64
            | Timestamp(..)
    )
}

/// Whether DataFusion's state of `func` over `argument` is the one [`RunFunc`] describes.
fn state_fits(func: RunFunc, argument: &DataType, state: &[FieldRef]) -> bool {
    let types: Vec<&DataType> = state.iter().map(|f| f.data_type()).collect();
    let same_scale = |t: &DataType| match (t, argument) {
        (DataType::Decimal128(_, a), DataType::Decimal128(_, b)) => a == b,
        _ => false,
    };
    match (func, types.as_slice()) {
        (RunFunc::Count, [DataType::Int64]) => true,
        (RunFunc::Sum, [sum]) => same_scale(sum),
        (RunFunc::Avg, [DataType::UInt64, sum]) => same_scale(sum),
        (RunFunc::Min | RunFunc::Max, [value]) => *value == argument,
        _ => false,
    }
}
