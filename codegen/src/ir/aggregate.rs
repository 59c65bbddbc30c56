//! Aggregates a row kernel folds over the rows it keeps: the sink that lets a fused
//! filter/projection region end in a partial aggregation instead of writing columns.

use super::{Kernel, ScalarType, ValueId};

/// How an aggregate combines its argument over the kept rows where the argument is not
/// NULL (every kept row, for `count(*)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggFunc {
    /// The number of rows.
    Count,
    /// The total, in the argument's type: i64 and u64 fail on overflow (corepy's checked
    /// `sum`), f64 adds in row order, decimals wrap as DataFusion's `sum` does (an i128
    /// that wraps is far beyond any decimal's precision).
    Sum,
    /// The smallest value; floats in IEEE total order (-0.0 < 0.0, NaN above +inf), as
    /// Arrow's `min`.
    Min,
    /// The largest value, in the same order.
    Max,
    /// The running mean and sum of squared deviations of an f64 (Welford's update, step
    /// for step as DataFusion's `var`, `var_pop`, `stddev` and `stddev_pop` update their
    /// partial state): the value's 16 bytes hold the mean, then the sum.
    Moments,
}

impl AggFunc {
    pub fn name(self) -> &'static str {
        match self {
            AggFunc::Count => "count",
            AggFunc::Sum => "sum",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
            AggFunc::Moments => "moments",
        }
    }
}

/// One aggregate: a function and its argument (`None`: `count(*)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Aggregate {
    pub func: AggFunc,
    pub arg: Option<ValueId>,
}

impl Aggregate {
    /// The same aggregate over renamed nodes.
    pub fn remap(&self, m: impl Fn(ValueId) -> ValueId) -> Self {
        Aggregate {
            func: self.func,
            arg: self.arg.map(m),
        }
    }

    /// The type of the value the state holds (`None` for a count, which holds only rows).
    pub fn value_type(&self, kernel: &Kernel) -> Option<ScalarType> {
        match self.func {
            AggFunc::Count => None,
            _ => self.arg.map(|a| kernel.ty(a)),
        }
    }
}

/// Whether `sum` is folded in `ty` (DataFusion's sum widens its argument to one of these
/// before it adds).
pub fn summable(ty: ScalarType) -> bool {
    matches!(
        ty,
        ScalarType::I64 | ScalarType::U64 | ScalarType::F64 | ScalarType::Decimal128 { .. }
    )
}

/// Whether `min` and `max` are folded over `ty`.
pub fn ordered(ty: ScalarType) -> bool {
    ty != ScalarType::Bool
}

/// Whether `ty` is a grouping key: a value of at most 64 bits compared bit for bit
/// (integers, booleans, dates, timestamps, durations; floats and decimals are not yet).
pub fn groupable(ty: ScalarType) -> bool {
    !ty.is_float() && !matches!(ty, ScalarType::Decimal128 { .. })
}

/// Most grouping keys a kernel folds by.
pub const MAX_GROUP_KEYS: usize = 4;

/// Checks the aggregates of a kernel (called by [`Kernel::validate`]).
pub(super) fn validate(kernel: &Kernel) -> Result<(), String> {
    if kernel.aggregates.is_empty() && kernel.group_keys.is_empty() {
        return Ok(());
    }
    if kernel.group_keys.len() > MAX_GROUP_KEYS {
        return Err(format!(
            "{} grouping keys: at most {MAX_GROUP_KEYS} are folded",
            kernel.group_keys.len()
        ));
    }
    for (i, key) in kernel.group_keys.iter().enumerate() {
        if key.index() >= kernel.nodes.len() {
            return Err(format!("key {i}: {key} does not exist"));
        }
        if !groupable(kernel.ty(*key)) {
            return Err(format!(
                "key {i}: {} is not a grouping key yet",
                kernel.ty(*key)
            ));
        }
    }
    if !kernel.domain.is_rows() {
        return Err("aggregates need a one-dimensional row domain".into());
    }
    if !kernel.outputs.is_empty() {
        return Err("a kernel with aggregates writes no outputs".into());
    }
    for (i, a) in kernel.aggregates.iter().enumerate() {
        let Some(arg) = a.arg else {
            if a.func == AggFunc::Count {
                continue;
            }
            return Err(format!(
                "aggregate {i}: {} needs an argument",
                a.func.name()
            ));
        };
        if arg.index() >= kernel.nodes.len() {
            return Err(format!("aggregate {i}: {arg} does not exist"));
        }
        let ty = kernel.ty(arg);
        let fits = match a.func {
            AggFunc::Count => true,
            AggFunc::Sum => summable(ty),
            AggFunc::Min | AggFunc::Max => ordered(ty),
            AggFunc::Moments => ty == ScalarType::F64,
        };
        if !fits {
            return Err(format!(
                "aggregate {i}: {} of {ty} is not folded in a kernel",
                a.func.name()
            ));
        }
    }
    Ok(())
}
