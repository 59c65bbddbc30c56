//! Scalar values read as numbers, for rules that reason about literals and statistics.

use datafusion::common::ScalarValue;

/// The value of a non-null integer scalar, widened to `i128` (every Arrow integer fits).
pub fn integer_value(value: &ScalarValue) -> Option<i128> {
    use ScalarValue::*;
    match value {
        Int8(v) => v.map(i128::from),
        Int16(v) => v.map(i128::from),
        Int32(v) => v.map(i128::from),
        Int64(v) => v.map(i128::from),
        UInt8(v) => v.map(i128::from),
        UInt16(v) => v.map(i128::from),
        UInt32(v) => v.map(i128::from),
        UInt64(v) => v.map(i128::from),
        _ => None,
    }
}
