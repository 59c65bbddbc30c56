//! [`GroupedCorr`]: DataFusion's `corr` with a grouped accumulator whose sums per group are
//! stored together.
//!
//! The state is DataFusion's grouped state — a count and the sums of `x`, `y`, `x·y`, `x²`,
//! `y²` — and each row adds to them exactly as DataFusion's does (`x * y`, `x * x`, `y * y`,
//! then one addition each), so partial states mix with DataFusion's and the answers are the
//! same bits. The final value follows DataFusion's rules: NaN when both sums are NaN, NULL
//! for fewer than two rows, one NaN sum or zero variance.

use std::mem::size_of;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, UInt64Array};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, FieldRef, Float64Type, UInt64Type};
use datafusion::common::Result;
use datafusion::functions_aggregate::correlation::corr_udaf;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Documentation, EmitTo, GroupsAccumulator,
    Signature,
};

/// DataFusion's `corr`, with [`Moments`] as its grouped accumulator.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct GroupedCorr {
    inner: Arc<AggregateUDF>,
}

impl Default for GroupedCorr {
    fn default() -> Self {
        Self { inner: corr_udaf() }
    }
}

impl GroupedCorr {
    /// The function, ready to register.
    pub fn udaf() -> AggregateUDF {
        AggregateUDF::new_from_impl(Self::default())
    }
}

impl AggregateUDFImpl for GroupedCorr {
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
        self.inner.accumulator(args)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        self.inner.state_fields(args)
    }

    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        self.inner.groups_accumulator_supported(args)
    }

    fn create_groups_accumulator(
        &self,
        _args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(Moments::default()))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }
}

/// One group's count and sums.
#[derive(Debug, Default, Clone, Copy)]
struct Sums {
    count: u64,
    x: f64,
    y: f64,
    xy: f64,
    xx: f64,
    yy: f64,
}

impl Sums {
    #[inline]
    fn add_row(&mut self, x: f64, y: f64) {
        self.count += 1;
        self.x += x;
        self.y += y;
        self.xy += x * y;
        self.xx += x * x;
        self.yy += y * y;
    }

    /// DataFusion's final value of `corr` from these sums; `None` is NULL.
    fn correlation(&self) -> Option<f64> {
        if self.x.is_nan() && self.y.is_nan() {
            return Some(f64::NAN);
        }
        if self.count < 2 || self.x.is_nan() || self.y.is_nan() {
            return None;
        }
        let mean_x = self.x / self.count as f64;
        let mean_y = self.y / self.count as f64;
        let numerator = self.xy - self.x * mean_y;
        let denominator = ((self.xx - self.x * mean_x) * (self.yy - self.y * mean_y)).sqrt();
        (denominator != 0.0).then(|| numerator / denominator)
    }
}

/// The grouped accumulator: one [`Sums`] per group.
#[derive(Debug, Default)]
struct Moments {
    groups: Vec<Sums>,
}

/// The rows of a batch that count: both arguments valid and the filter true.
fn counted_rows(
    x: &Float64Array,
    y: &Float64Array,
    filter: Option<&BooleanArray>,
) -> Option<NullBuffer> {
    let mut valid = NullBuffer::union(x.nulls(), y.nulls());
    if let Some(filter) = filter {
        let kept = match filter.nulls() {
            Some(nulls) => filter.values() & nulls.inner(),
            None => filter.values().clone(),
        };
        let kept = NullBuffer::new(kept);
        valid = NullBuffer::union(valid.as_ref(), Some(&kept));
    }
    valid
}

fn columns(values: &[ArrayRef]) -> (&Float64Array, &Float64Array) {
    (
        values[0].as_primitive::<Float64Type>(),
        values[1].as_primitive::<Float64Type>(),
    )
}

impl GroupsAccumulator for Moments {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.groups.resize(total_num_groups, Sums::default());
        let (x, y) = columns(values);
        let rows = group_indices
            .iter()
            .zip(x.values().iter().zip(y.values().iter()));
        match counted_rows(x, y, opt_filter) {
            None => {
                for (&group, (&x, &y)) in rows {
                    self.groups[group].add_row(x, y);
                }
            }
            Some(valid) => {
                for (row, (&group, (&x, &y))) in rows.enumerate() {
                    if valid.is_valid(row) {
                        self.groups[group].add_row(x, y);
                    }
                }
            }
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let groups = emit_to.take_needed(&mut self.groups);
        let values: Float64Array = groups.iter().map(Sums::correlation).collect();
        Ok(Arc::new(values))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        Ok(state_of(&emit_to.take_needed(&mut self.groups)))
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.groups.resize(total_num_groups, Sums::default());
        let counts = values[0].as_primitive::<UInt64Type>().values();
        let sums: Vec<&[f64]> = values[1..6]
            .iter()
            .map(|v| v.as_primitive::<Float64Type>().values().as_ref())
            .collect();
        for (row, &group) in group_indices.iter().enumerate() {
            let into = &mut self.groups[group];
            into.count += counts[row];
            into.x += sums[0][row];
            into.y += sums[1][row];
            into.xy += sums[2][row];
            into.xx += sums[3][row];
            into.yy += sums[4][row];
        }
        Ok(())
    }

    /// Each row as its own group's state (a row that does not count: count 0, sums 0).
    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let (x, y) = columns(values);
        let valid = counted_rows(x, y, opt_filter);
        let rows: Vec<Sums> = (0..x.len())
            .map(|row| {
                if !valid.as_ref().is_none_or(|v| v.is_valid(row)) {
                    return Sums::default();
                }
                let (x, y) = (x.value(row), y.value(row));
                Sums {
                    count: 1,
                    x,
                    y,
                    xy: x * y,
                    xx: x * x,
                    yy: y * y,
                }
            })
            .collect();
        Ok(state_of(&rows))
    }

    fn size(&self) -> usize {
        self.groups.capacity() * size_of::<Sums>()
    }
}

/// DataFusion's grouped state columns: the counts, then the five sums.
fn state_of(groups: &[Sums]) -> Vec<ArrayRef> {
    let sum = |f: fn(&Sums) -> f64| -> ArrayRef {
        Arc::new(Float64Array::from_iter_values(groups.iter().map(f)))
    };
    vec![
        Arc::new(UInt64Array::from_iter_values(
            groups.iter().map(|s| s.count),
        )),
        sum(|s| s.x),
        sum(|s| s.y),
        sum(|s| s.xy),
        sum(|s| s.xx),
        sum(|s| s.yy),
    ]
}
