//! `sum` over integers that fails on overflow instead of wrapping (DataFusion's wraps).
//!
//! [`CheckedSum`] is DataFusion's `sum` (same name, signature, return type — Int64 for
//! signed, UInt64 for unsigned integers — and state) with checked accumulators: grouped,
//! ungrouped, distinct and sliding (window frames). [`super::CheckOverflow`] puts it in
//! place of `sum` where the argument is an integer.

use std::collections::HashSet;
use std::hash::Hash;
use std::mem::size_of;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, ArrowPrimitiveType, AsArray, BooleanArray, BooleanBufferBuilder,
    PrimitiveArray,
};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{ArrowNativeTypeOp, DataType, FieldRef, Int64Type, UInt64Type};
use datafusion::arrow::error::ArrowError;
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::functions_aggregate::sum::sum_udaf;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::AggregateOrderSensitivity;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Documentation, EmitTo, GroupsAccumulator,
    ReversedUDAF, SetMonotonicity, Signature, StatisticsArgs,
};

/// DataFusion's `sum`, with accumulators that fail on integer overflow.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CheckedSum {
    inner: Arc<AggregateUDF>,
}

impl Default for CheckedSum {
    fn default() -> Self {
        Self { inner: sum_udaf() }
    }
}

impl CheckedSum {
    /// The function, ready to call.
    pub fn udaf() -> Arc<AggregateUDF> {
        Arc::new(AggregateUDF::new_from_impl(Self::default()))
    }
}

/// The error of a checked integer sum that overflows (the JIT's folded sums raise it too).
pub fn sum_overflow() -> DataFusionError {
    DataFusionError::ArrowError(
        Box::new(ArrowError::ArithmeticOverflow(
            "integer overflow in sum(): the total does not fit its type (cast the argument \
             to a decimal or a float to sum it)"
                .into(),
        )),
        None,
    )
}

/// Dispatches on the sum's integer type; `None` for the types DataFusion's sum keeps.
macro_rules! on_integer_type {
    ($data_type:expr, $make:ident) => {
        match $data_type {
            DataType::Int64 => Some($make!(Int64Type)),
            DataType::UInt64 => Some($make!(UInt64Type)),
            _ => None,
        }
    };
}

impl AggregateUDFImpl for CheckedSum {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let distinct = args.is_distinct;
        macro_rules! make {
            ($t:ty) => {
                if distinct {
                    Box::new(DistinctSum::<$t>::default()) as Box<dyn Accumulator>
                } else {
                    Box::new(RunningSum::<$t>::default()) as Box<dyn Accumulator>
                }
            };
        }
        match on_integer_type!(args.return_field.data_type(), make) {
            Some(accumulator) => Ok(accumulator),
            None => self.inner.accumulator(args),
        }
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        self.inner.state_fields(args)
    }

    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        self.inner.groups_accumulator_supported(args)
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        macro_rules! make {
            ($t:ty) => {
                Box::new(GroupSums::<$t>::default()) as Box<dyn GroupsAccumulator>
            };
        }
        match on_integer_type!(args.return_field.data_type(), make) {
            Some(accumulator) => Ok(accumulator),
            None => self.inner.create_groups_accumulator(args),
        }
    }

    fn create_sliding_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        if args.is_distinct {
            // A distinct sum over a sliding frame keeps counts per value; DataFusion's
            // wraps, so corepy refuses it rather than answer wrongly.
            if matches!(
                args.return_field.data_type(),
                DataType::Int64 | DataType::UInt64
            ) {
                return Err(DataFusionError::NotImplemented(
                    "sum(DISTINCT …) of integers over a sliding window frame".into(),
                ));
            }
            return self.inner.create_sliding_accumulator(args);
        }
        macro_rules! make {
            ($t:ty) => {
                Box::new(RunningSum::<$t>::default()) as Box<dyn Accumulator>
            };
        }
        match on_integer_type!(args.return_field.data_type(), make) {
            Some(accumulator) => Ok(accumulator),
            None => self.inner.create_sliding_accumulator(args),
        }
    }

    fn reverse_expr(&self) -> ReversedUDAF {
        ReversedUDAF::Identical
    }

    fn order_sensitivity(&self) -> AggregateOrderSensitivity {
        AggregateOrderSensitivity::Insensitive
    }

    fn set_monotonicity(&self, data_type: &DataType) -> SetMonotonicity {
        self.inner.inner().set_monotonicity(data_type)
    }

    fn value_from_stats(&self, statistics_args: &StatisticsArgs) -> Option<ScalarValue> {
        self.inner.inner().value_from_stats(statistics_args)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }
}

/// Adds the non-null values of `array` to `sum`, failing on overflow.
fn add_all<T: ArrowPrimitiveType>(sum: &mut T::Native, array: &PrimitiveArray<T>) -> Result<()> {
    for value in array.iter().flatten() {
        *sum = sum.add_checked(value).map_err(|_| sum_overflow())?;
    }
    Ok(())
}

/// One running total (no GROUP BY, and window frames: values leave by subtraction).
struct RunningSum<T: ArrowPrimitiveType> {
    sum: T::Native,
    /// Values in the total; the sum of none is NULL.
    count: u64,
}

impl<T: ArrowPrimitiveType> Default for RunningSum<T> {
    fn default() -> Self {
        Self {
            sum: T::Native::ZERO,
            count: 0,
        }
    }
}

/// Accumulators show their type in DataFusion's debug output.
macro_rules! debug_as_type {
    ($name:ident) => {
        impl<T: ArrowPrimitiveType> std::fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($name), T::DATA_TYPE)
            }
        }
    };
}

debug_as_type!(RunningSum);
debug_as_type!(DistinctSum);
debug_as_type!(GroupSums);

impl<T: ArrowPrimitiveType> RunningSum<T> {
    fn value(&self) -> Result<ScalarValue> {
        let value = (self.count > 0).then_some(self.sum);
        ScalarValue::new_primitive::<T>(value, &T::DATA_TYPE)
    }
}

impl<T: ArrowPrimitiveType + Send + Sync> Accumulator for RunningSum<T> {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let array = values[0].as_primitive::<T>();
        add_all(&mut self.sum, array)?;
        self.count += (array.len() - array.null_count()) as u64;
        Ok(())
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let array = values[0].as_primitive::<T>();
        for value in array.iter().flatten() {
            self.sum = self.sum.sub_checked(value).map_err(|_| sum_overflow())?;
        }
        self.count -= (array.len() - array.null_count()) as u64;
        Ok(())
    }

    fn supports_retract_batch(&self) -> bool {
        true
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.update_batch(states)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.value()?])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        self.value()
    }

    fn size(&self) -> usize {
        size_of::<Self>()
    }
}

/// `sum(DISTINCT x)`: the distinct values, added when the result is asked for.
struct DistinctSum<T: ArrowPrimitiveType> {
    values: HashSet<T::Native>,
}

impl<T: ArrowPrimitiveType> Default for DistinctSum<T> {
    fn default() -> Self {
        Self {
            values: HashSet::new(),
        }
    }
}

impl<T> Accumulator for DistinctSum<T>
where
    T: ArrowPrimitiveType + Send + Sync,
    T::Native: Eq + Hash,
{
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.values
            .extend(values[0].as_primitive::<T>().iter().flatten());
        Ok(())
    }

    /// The state is a list of the distinct values, as DataFusion's distinct sum keeps it.
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        for list in states[0].as_list::<i32>().iter().flatten() {
            self.values
                .extend(list.as_primitive::<T>().iter().flatten());
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let values = self
            .values
            .iter()
            .map(|v| ScalarValue::new_primitive::<T>(Some(*v), &T::DATA_TYPE))
            .collect::<Result<Vec<_>>>()?;
        Ok(vec![ScalarValue::List(ScalarValue::new_list_nullable(
            &values,
            &T::DATA_TYPE,
        ))])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.values.is_empty() {
            return ScalarValue::new_primitive::<T>(None, &T::DATA_TYPE);
        }
        let mut sum = T::Native::ZERO;
        for value in &self.values {
            sum = sum.add_checked(*value).map_err(|_| sum_overflow())?;
        }
        ScalarValue::new_primitive::<T>(Some(sum), &T::DATA_TYPE)
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.values.capacity() * size_of::<T::Native>()
    }
}

/// A total per group (GROUP BY), NULL for a group that saw no value.
struct GroupSums<T: ArrowPrimitiveType> {
    sums: Vec<T::Native>,
    seen: BooleanBufferBuilder,
}

impl<T: ArrowPrimitiveType> Default for GroupSums<T> {
    fn default() -> Self {
        Self {
            sums: Vec::new(),
            seen: BooleanBufferBuilder::new(0),
        }
    }
}

impl<T: ArrowPrimitiveType + Send + Sync> GroupSums<T> {
    fn add(
        &mut self,
        values: &ArrayRef,
        group_indices: &[usize],
        filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.sums.resize(total_num_groups, T::Native::ZERO);
        if self.seen.len() < total_num_groups {
            self.seen
                .append_n(total_num_groups - self.seen.len(), false);
        }
        let values = values.as_primitive::<T>();
        for (row, &group) in group_indices.iter().enumerate() {
            let kept = filter.is_none_or(|f| f.is_valid(row) && f.value(row));
            if kept && values.is_valid(row) {
                let sum = &mut self.sums[group];
                *sum = sum
                    .add_checked(values.value(row))
                    .map_err(|_| sum_overflow())?;
                self.seen.set_bit(group, true);
            }
        }
        Ok(())
    }

    fn emit(&mut self, emit_to: EmitTo) -> ArrayRef {
        let sums = emit_to.take_needed(&mut self.sums);
        let seen = self.seen.finish();
        let (taken, rest) = match emit_to {
            EmitTo::All => (seen, None),
            EmitTo::First(n) => (seen.slice(0, n), Some(seen.slice(n, seen.len() - n))),
        };
        if let Some(rest) = rest {
            self.seen.append_buffer(&rest);
        }
        Arc::new(PrimitiveArray::<T>::new(
            sums.into(),
            Some(NullBuffer::new(taken)),
        ))
    }
}

impl<T: ArrowPrimitiveType + Send + Sync> GroupsAccumulator for GroupSums<T> {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.add(&values[0], group_indices, opt_filter, total_num_groups)
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.add(&values[0], group_indices, None, total_num_groups)
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        Ok(self.emit(emit_to))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        Ok(vec![self.emit(emit_to)])
    }

    /// Each row is its own partial sum (filtered rows count as NULL).
    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let values = values[0].as_primitive::<T>();
        let nulls = match opt_filter {
            None => values.nulls().cloned(),
            Some(filter) => {
                let kept = filter.values() & filter.nulls().map_or(filter.values(), |n| n.inner());
                NullBuffer::union(values.nulls(), Some(&NullBuffer::new(kept)))
            }
        };
        let state = PrimitiveArray::<T>::new(values.values().clone(), nulls);
        Ok(vec![Arc::new(state)])
    }

    fn size(&self) -> usize {
        self.sums.capacity() * size_of::<T::Native>() + self.seen.capacity() / 8
    }
}
