//! A batch's runs of equal keys, and each run's partial state: one row per run, in
//! DataFusion's partial-aggregate format (the keys, then each aggregate's state columns).

use std::ops::Range;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, ArrowPrimitiveType, AsArray, BooleanArray, Int64Array, PrimitiveArray,
    RecordBatch, UInt32Array, UInt64Array,
};
use datafusion::arrow::compute::{nullif, partition, take};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Date64Type, Decimal128Type, Int16Type, Int32Type, Int64Type, Int8Type,
    SchemaRef, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use datafusion::common::{internal_err, Result};
use datafusion::logical_expr::ColumnarValue;

use super::plan::{RunAggregate, RunFunc, RunPlan};

/// The key columns and the aggregates' arguments of a batch.
pub struct Evaluated {
    pub keys: Vec<ArrayRef>,
    arguments: Vec<ColumnarValue>,
    rows: usize,
}

impl Evaluated {
    pub fn of(plan: &RunPlan, batch: &RecordBatch) -> Result<Evaluated> {
        let rows = batch.num_rows();
        let keys = plan
            .keys
            .iter()
            .map(|k| k.evaluate(batch)?.into_array(rows))
            .collect::<Result<Vec<_>>>()?;
        let arguments = plan
            .aggregates
            .iter()
            .map(|a| filtered_argument(a, batch))
            .collect::<Result<Vec<_>>>()?;
        Ok(Evaluated {
            keys,
            arguments,
            rows,
        })
    }

    /// The runs of rows with equal keys (NULL equal to NULL, as in a group), in order.
    pub fn runs(&self) -> Result<Vec<Range<usize>>> {
        if self.rows == 0 {
            return Ok(Vec::new());
        }
        Ok(partition(&self.keys)?.ranges())
    }

    /// One row per run: its keys and each aggregate's state.
    pub fn states(
        &self,
        plan: &RunPlan,
        runs: &[Range<usize>],
        schema: &SchemaRef,
    ) -> Result<RecordBatch> {
        let starts = UInt32Array::from_iter_values(runs.iter().map(|r| r.start as u32));
        let mut columns = Vec::with_capacity(schema.fields().len());
        for key in &self.keys {
            columns.push(take(key.as_ref(), &starts, None)?);
        }
        for (aggregate, argument) in plan.aggregates.iter().zip(&self.arguments) {
            let argument = argument.clone().into_array(self.rows)?;
            let state_type = |i: usize| aggregate.state[i].data_type().clone();
            match aggregate.func {
                RunFunc::Count => columns.push(Arc::new(counts(&argument, runs))),
                RunFunc::Sum => columns.push(decimal_sums(&argument, runs, state_type(0))?),
                RunFunc::Avg => {
                    let counts = counts(&argument, runs);
                    let seen = counts
                        .iter()
                        .map(|c| c.filter(|&c| c > 0).map(|c| c as u64));
                    columns.push(Arc::new(seen.collect::<UInt64Array>()));
                    columns.push(decimal_sums(&argument, runs, state_type(1))?);
                }
                RunFunc::Min => columns.push(extreme(&argument, runs, false)?),
                RunFunc::Max => columns.push(extreme(&argument, runs, true)?),
            }
        }
        Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
    }
}

/// An aggregate's argument over `batch`, NULL on the rows its `FILTER` does not take
/// (false or NULL), so that the states below skip them as they skip NULLs.
fn filtered_argument(aggregate: &RunAggregate, batch: &RecordBatch) -> Result<ColumnarValue> {
    let argument = aggregate.argument.evaluate(batch)?;
    let Some(filter) = &aggregate.filter else {
        return Ok(argument);
    };
    let rows = batch.num_rows();
    let taken = filter.evaluate(batch)?.into_array(rows)?;
    let Some(taken) = taken.as_boolean_opt() else {
        return internal_err!("a FILTER of type {}", taken.data_type());
    };
    let true_rows = match taken.nulls() {
        Some(nulls) => taken.values() & nulls.inner(),
        None => taken.values().clone(),
    };
    let skipped = BooleanArray::new(!&true_rows, None);
    let argument = argument.into_array(rows)?;
    Ok(ColumnarValue::Array(nullif(&argument, &skipped)?))
}

/// The values that are not NULL in each run.
fn counts(values: &ArrayRef, runs: &[Range<usize>]) -> Int64Array {
    let nulls = values.logical_nulls().filter(|n| n.null_count() > 0);
    Int64Array::from_iter_values(runs.iter().map(|r| {
        let missing = nulls
            .as_ref()
            .map_or(0, |n| n.slice(r.start, r.len()).null_count());
        (r.len() - missing) as i64
    }))
}

/// Each run's wrapping sum of a decimal column (as DataFusion's `sum`), NULL where the run
/// has no value; typed as the state (a wider precision, the same scale).
fn decimal_sums(values: &ArrayRef, runs: &[Range<usize>], state: DataType) -> Result<ArrayRef> {
    let Some(values) = values.as_primitive_opt::<Decimal128Type>() else {
        return internal_err!("a decimal sum over {}", values.data_type());
    };
    let sums = fold(values, runs, |a, b| a.wrapping_add(b));
    Ok(Arc::new(sums.with_data_type(state)))
}

/// Each run's least (or greatest) value, NULL where the run has no value.
fn extreme(values: &ArrayRef, runs: &[Range<usize>], greatest: bool) -> Result<ArrayRef> {
    macro_rules! of {
        ($t:ty) => {{
            let typed = values.as_primitive::<$t>();
            let out = match greatest {
                true => fold(typed, runs, |a, b| a.max(b)),
                false => fold(typed, runs, |a, b| a.min(b)),
            };
            Arc::new(out.with_data_type(values.data_type().clone())) as ArrayRef
        }};
    }
    Ok(match values.data_type() {
        DataType::Int8 => of!(Int8Type),
        DataType::Int16 => of!(Int16Type),
        DataType::Int32 => of!(Int32Type),
        DataType::Int64 => of!(Int64Type),
        DataType::UInt8 => of!(UInt8Type),
        DataType::UInt16 => of!(UInt16Type),
        DataType::UInt32 => of!(UInt32Type),
        DataType::UInt64 => of!(UInt64Type),
        DataType::Decimal128(..) => of!(Decimal128Type),
        DataType::Date32 => of!(Date32Type),
        DataType::Date64 => of!(Date64Type),
        DataType::Timestamp(TimeUnit::Second, _) => of!(TimestampSecondType),
        DataType::Timestamp(TimeUnit::Millisecond, _) => of!(TimestampMillisecondType),
        DataType::Timestamp(TimeUnit::Microsecond, _) => of!(TimestampMicrosecondType),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => of!(TimestampNanosecondType),
        other => return internal_err!("min or max of {other} over runs"),
    })
}

/// Each run's values combined by `f` in order, NULLs skipped; NULL where a run has none.
fn fold<T: ArrowPrimitiveType>(
    values: &PrimitiveArray<T>,
    runs: &[Range<usize>],
    f: impl Fn(T::Native, T::Native) -> T::Native,
) -> PrimitiveArray<T> {
    let data = values.values();
    match values.nulls().filter(|n| n.null_count() > 0) {
        None => PrimitiveArray::from_iter_values(runs.iter().map(|r| {
            let run = &data[r.clone()];
            run[1..].iter().fold(run[0], |a, &b| f(a, b))
        })),
        Some(nulls) => runs
            .iter()
            .map(|r| {
                r.clone()
                    .filter(|&i| nulls.is_valid(i))
                    .map(|i| data[i])
                    .reduce(&f)
            })
            .collect(),
    }
}
