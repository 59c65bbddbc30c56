//! Integer overflow is an error, never a wrap — in SQL and in the lazy API, fused or not,
//! as in DuckDB and PostgreSQL.
//!
//! DataFusion wraps integer `+ − ×`, negation and `sum` around on overflow
//! (`9223372036854775807 + 1` is `-9223372036854775808`). corepy's analyzer rule
//! [`CheckOverflow`] replaces them, once types are known and before any optimization, with
//! [`CheckedArithmetic`] and [`CheckedSum`], which fail with an overflow error naming the
//! expression. They keep the operators' names, types and ordering properties, so plans
//! and column names read as before (EXPLAIN shows `checked_add(a, b)` where `a + b` was).
//! The JIT lowers the checked functions to guarded operations with the same failure rows.
//!
//! An integer `sum` keeps its type (Int64 for signed, UInt64 for unsigned integers) and
//! fails when the total leaves it, where DuckDB widens to a 128-bit integer: cast the
//! argument to a decimal to sum past 2^63. Casts already fail on values out of range
//! (DataFusion's `CAST` is checked; `TRY_CAST` gives NULL), as does `abs(MIN)`.

mod arithmetic;
mod rule;
mod sum;

pub use arithmetic::{as_written, CheckedArithmetic, CheckedOp};
pub use rule::CheckOverflow;
pub use sum::{sum_overflow, CheckedSum};

#[cfg(test)]
mod tests;
