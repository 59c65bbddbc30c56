//! The state of a kernel's aggregates, which every renderer folds the same way: the caller
//! keeps one [`AggregateState`] per partition and passes it to each batch's run.
//!
//! Each aggregate owns [`SLOTS`] 64-bit slots: the rows it has counted (kept rows where
//! its argument is not NULL), then 16 bytes holding its value as an Arrow values buffer
//! holds one element of the argument's type (little-endian, low bytes first). A sum starts
//! at zero, a min at the greatest value of its type and a max at the least (so renderers
//! fold without testing for a first value); a value is NULL while no row was counted.
//!
//! After the aggregates' slots comes one more: rows that *every* aggregate counted. A
//! grouped kernel folds a chunk whose kept rows have no NULL key or argument without
//! testing a validity bit, and counts each such row there once instead of in each
//! aggregate's own slot (TPC-H Q1's eight aggregates: one increment a row, not eight, in
//! a loop bound by its stores). An aggregate's rows are its own count plus that one.

use std::cmp::Ordering;

use crate::abi::FailureKind;
use crate::interp::{read_value, write_value, V};
use crate::ir::{AggFunc, Aggregate, Kernel, ScalarType};
use crate::semantics::{decimal_parts, int_range};

/// Slots per aggregate: rows counted, then two holding the value.
pub const SLOTS: usize = 3;
/// Slot of the rows counted, within an aggregate's slots.
pub const ROWS: usize = 0;
/// First slot of the value.
pub const VALUE: usize = 1;

/// The 64-bit slots of `aggregates` aggregates: each one's [`SLOTS`], then the rows
/// counted by all of them at once.
pub fn slots_len(aggregates: usize) -> usize {
    SLOTS * aggregates + 1
}

/// The running state of every aggregate of one kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateState {
    slots: Vec<u64>,
}

impl AggregateState {
    /// The state before any row: no rows counted, each value at its starting point.
    pub fn new(kernel: &Kernel) -> Self {
        AggregateState {
            slots: initial_slots(kernel),
        }
    }

    /// Rows counted by aggregate `i` (its result, for a count).
    pub fn rows(&self, i: usize) -> u64 {
        rows_of(&self.slots, i)
    }

    /// The value of aggregate `i` of `kernel` (`None`: NULL, no row counted). A count has
    /// no value: see [`AggregateState::rows`].
    pub fn value(&self, kernel: &Kernel, i: usize) -> Option<V> {
        value_of(&self.slots, kernel, i)
    }

    /// The slots (see [`rows_of`] and [`value_of`]).
    pub fn slots(&self) -> &[u64] {
        &self.slots
    }

    /// The raw slots, which compiled kernels update in place.
    pub fn slots_mut(&mut self) -> &mut [u64] {
        &mut self.slots
    }

    /// The 16 bytes holding aggregate `i`'s value (meaningful once it counted a row).
    pub fn value_bytes(&self, i: usize) -> [u8; 16] {
        value_bytes_of(&self.slots, i)
    }

    /// Folds one kept row's argument (`None`: NULL) into aggregate `i`: the reference
    /// semantics the renderers follow. An integer sum that overflows fails.
    pub fn fold(&mut self, kernel: &Kernel, i: usize, v: Option<V>) -> Result<(), FailureKind> {
        fold_slots(&mut self.slots, kernel, i, v)
    }
}

/// The slots of every aggregate of `kernel` before any row.
pub fn initial_slots(kernel: &Kernel) -> Vec<u64> {
    let mut slots = vec![0; slots_len(kernel.aggregates.len())];
    for (i, a) in kernel.aggregates.iter().enumerate() {
        if let Some(ty) = a.value_type(kernel) {
            let start = match a.func {
                AggFunc::Min => greatest(ty),
                AggFunc::Max => least(ty),
                // The moments' second word (the sum of squared deviations) starts at 0.0
                // as the rest of the slots do.
                AggFunc::Sum | AggFunc::Count | AggFunc::Moments => zero(ty),
            };
            set_value(&mut slots, i, ty, start);
        }
    }
    slots
}

/// Rows counted by aggregate `i` of the aggregate slots `slots` (its own count and the
/// rows all counted).
pub fn rows_of(slots: &[u64], i: usize) -> u64 {
    slots[SLOTS * i + ROWS] + slots[slots.len() - 1]
}

/// The value of aggregate `i` in `slots` (`None`: no row counted, or a count).
pub fn value_of(slots: &[u64], kernel: &Kernel, i: usize) -> Option<V> {
    let ty = kernel.aggregates[i].value_type(kernel)?;
    (rows_of(slots, i) > 0).then(|| read_value(&value_bytes_of(slots, i), ty, 0))
}

/// The 16 bytes holding aggregate `i`'s value in `slots`.
pub fn value_bytes_of(slots: &[u64], i: usize) -> [u8; 16] {
    let lo = slots[SLOTS * i + VALUE];
    let hi = slots[SLOTS * i + VALUE + 1];
    ((lo as u128) | ((hi as u128) << 64)).to_le_bytes()
}

fn set_value(slots: &mut [u64], i: usize, ty: ScalarType, v: V) {
    let mut bytes = [0u8; 16];
    write_value(&mut bytes, ty, 0, v);
    let bits = u128::from_le_bytes(bytes);
    slots[SLOTS * i + VALUE] = bits as u64;
    slots[SLOTS * i + VALUE + 1] = (bits >> 64) as u64;
}

/// Folds one kept row's argument (`None`: NULL) into aggregate `i` of `slots`.
pub fn fold_slots(
    slots: &mut [u64],
    kernel: &Kernel,
    i: usize,
    v: Option<V>,
) -> Result<(), FailureKind> {
    let a: Aggregate = kernel.aggregates[i];
    let Some(v) = v else {
        return Ok(());
    };
    let Some(ty) = a.value_type(kernel) else {
        slots[SLOTS * i + ROWS] += 1;
        return Ok(());
    };
    if a.func == AggFunc::Moments {
        let V::F64(x) = v else {
            unreachable!("validated: moments of an f64")
        };
        let rows = rows_of(slots, i) + 1;
        let (mean, m2) = moments_of(slots, i);
        let (mean, m2) = welford(rows, mean, m2, x);
        slots[SLOTS * i + ROWS] += 1;
        slots[SLOTS * i + VALUE] = mean.to_bits();
        slots[SLOTS * i + VALUE + 1] = m2.to_bits();
        return Ok(());
    }
    let acc = read_value(&value_bytes_of(slots, i), ty, 0);
    let next = match a.func {
        AggFunc::Count | AggFunc::Moments => acc,
        AggFunc::Sum => add(ty, acc, v)?,
        AggFunc::Min => pick(acc, v, Ordering::Less),
        AggFunc::Max => pick(acc, v, Ordering::Greater),
    };
    slots[SLOTS * i + ROWS] += 1;
    set_value(slots, i, ty, next);
    Ok(())
}

/// The mean and the sum of squared deviations that moments aggregate `i` holds in `slots`.
pub fn moments_of(slots: &[u64], i: usize) -> (f64, f64) {
    (
        f64::from_bits(slots[SLOTS * i + VALUE]),
        f64::from_bits(slots[SLOTS * i + VALUE + 1]),
    )
}

/// One step of Welford's update with the `rows`-th value `x`, operation for operation as
/// DataFusion's variance does it (so the partial states agree bit for bit).
pub fn welford(rows: u64, mean: f64, m2: f64, x: f64) -> (f64, f64) {
    let delta = x - mean;
    let mean = delta / rows as f64 + mean;
    (mean, m2 + delta * (x - mean))
}

/// `acc + v` in a sum's type.
fn add(ty: ScalarType, acc: V, v: V) -> Result<V, FailureKind> {
    match (acc, v) {
        (V::F64(a), V::F64(b)) => Ok(V::F64(a + b)),
        (V::I(a), V::I(b)) if decimal_parts(ty).is_some() => Ok(V::I(a.wrapping_add(b))),
        (V::I(a), V::I(b)) => {
            let (lo, hi) = int_range(ty).expect("validated: an integer sum");
            let s = a + b;
            if s < lo || s > hi {
                Err(FailureKind::Overflow)
            } else {
                Ok(V::I(s))
            }
        }
        other => unreachable!("validated: a sum of {other:?}"),
    }
}

/// `v` where it is `wanted` of `acc` in total order, else `acc`.
fn pick(acc: V, v: V, wanted: Ordering) -> V {
    if total_order(v, acc) == wanted {
        v
    } else {
        acc
    }
}

/// IEEE total order for floats (Arrow's `min`/`max`), numeric order otherwise.
pub fn total_order(a: V, b: V) -> Ordering {
    match (a, b) {
        (V::F64(x), V::F64(y)) => x.total_cmp(&y),
        (V::F32(x), V::F32(y)) => x.total_cmp(&y),
        (V::I(x), V::I(y)) => x.cmp(&y),
        (V::B(x), V::B(y)) => x.cmp(&y),
        other => unreachable!("one type: {other:?}"),
    }
}

fn zero(ty: ScalarType) -> V {
    match ty {
        ScalarType::F64 => V::F64(0.0),
        ScalarType::F32 => V::F32(0.0),
        _ => V::I(0),
    }
}

/// The greatest value of `ty` in total order (a NaN with every payload bit, for floats).
fn greatest(ty: ScalarType) -> V {
    match ty {
        ScalarType::F64 => V::F64(f64::from_bits(u64::MAX >> 1)),
        ScalarType::F32 => V::F32(f32::from_bits(u32::MAX >> 1)),
        ScalarType::Decimal128 { .. } => V::I(i128::MAX),
        ty => V::I(int_range(ty).expect("an integer type").1),
    }
}

/// The least value of `ty` in total order.
fn least(ty: ScalarType) -> V {
    match ty {
        ScalarType::F64 => V::F64(f64::from_bits(u64::MAX)),
        ScalarType::F32 => V::F32(f32::from_bits(u32::MAX)),
        ScalarType::Decimal128 { .. } => V::I(i128::MIN),
        ty => V::I(int_range(ty).expect("an integer type").0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{AggFunc, Aggregate};

    fn kernel(ty: ScalarType, func: AggFunc) -> Kernel {
        let mut k = Kernel::rows();
        let x = k.input(ty);
        k.aggregates.push(Aggregate { func, arg: Some(x) });
        k
    }

    #[test]
    fn a_value_is_null_until_a_row_is_counted_and_nulls_are_not_counted() {
        let k = kernel(ScalarType::F64, AggFunc::Min);
        let mut s = AggregateState::new(&k);
        s.fold(&k, 0, None).unwrap();
        assert_eq!(s.rows(0), 0);
        assert_eq!(s.value(&k, 0), None);
        s.fold(&k, 0, Some(V::F64(2.5))).unwrap();
        assert_eq!(s.value(&k, 0), Some(V::F64(2.5)));
    }

    #[test]
    fn min_and_max_follow_total_order_like_arrow() {
        let k = kernel(ScalarType::F64, AggFunc::Max);
        let mut s = AggregateState::new(&k);
        for x in [1.0, f64::NAN, f64::INFINITY, -0.0] {
            s.fold(&k, 0, Some(V::F64(x))).unwrap();
        }
        assert!(matches!(s.value(&k, 0), Some(V::F64(x)) if x.is_nan()));
        let k = kernel(ScalarType::F64, AggFunc::Min);
        let mut s = AggregateState::new(&k);
        for x in [0.0, -0.0, f64::NAN] {
            s.fold(&k, 0, Some(V::F64(x))).unwrap();
        }
        assert!(matches!(s.value(&k, 0), Some(V::F64(x)) if x == 0.0 && x.is_sign_negative()));
    }

    #[test]
    fn an_integer_sum_that_overflows_fails_and_a_decimal_sum_wraps() {
        let k = kernel(ScalarType::I64, AggFunc::Sum);
        let mut s = AggregateState::new(&k);
        s.fold(&k, 0, Some(V::I(i64::MAX as i128))).unwrap();
        assert_eq!(s.fold(&k, 0, Some(V::I(1))), Err(FailureKind::Overflow));
        let dec = ScalarType::Decimal128 {
            precision: 38,
            scale: 0,
        };
        let k = kernel(dec, AggFunc::Sum);
        let mut s = AggregateState::new(&k);
        s.fold(&k, 0, Some(V::I(i128::MAX))).unwrap();
        s.fold(&k, 0, Some(V::I(1))).unwrap();
        assert_eq!(s.value(&k, 0), Some(V::I(i128::MIN)));
    }
}
