//! Facts about types that every renderer must agree on: value ranges and which casts can
//! fail. They mirror DataFusion's evaluation (Arrow's kernels with `safe = false` casts).

use crate::ir::ScalarType;

/// The range of an integer-backed type, as i128.
pub fn int_range(ty: ScalarType) -> Option<(i128, i128)> {
    Some(match ty {
        ScalarType::I8 => (i8::MIN as i128, i8::MAX as i128),
        ScalarType::I16 => (i16::MIN as i128, i16::MAX as i128),
        ScalarType::I32 | ScalarType::Date32 => (i32::MIN as i128, i32::MAX as i128),
        ScalarType::I64 | ScalarType::Timestamp | ScalarType::Duration => {
            (i64::MIN as i128, i64::MAX as i128)
        }
        ScalarType::U8 => (0, u8::MAX as i128),
        ScalarType::U16 => (0, u16::MAX as i128),
        ScalarType::U32 => (0, u32::MAX as i128),
        ScalarType::U64 => (0, u64::MAX as i128),
        ScalarType::Decimal128 { precision, .. } => {
            let max = 10i128.pow(precision.min(38) as u32) - 1;
            (-max, max)
        }
        ScalarType::Bool | ScalarType::F32 | ScalarType::F64 => return None,
    })
}

/// Whether an integer constant is a value of `ty`.
pub fn int_fits(value: i128, ty: ScalarType) -> bool {
    int_range(ty).is_some_and(|(lo, hi)| lo <= value && value <= hi)
}

/// The types CAST converts between inside a kernel: integers and floats.
pub fn is_castable(ty: ScalarType) -> bool {
    ty.is_numeric()
}

/// Whether `CAST(from AS to)` can fail on some value: a float to any integer (NaN, ±inf,
/// out of range) or an integer to an integer type that does not hold all its values.
pub fn cast_can_fail(from: ScalarType, to: ScalarType) -> bool {
    if from.is_float() {
        return !to.is_float();
    }
    match (int_range(from), int_range(to)) {
        (Some((flo, fhi)), Some((tlo, thi))) => flo < tlo || fhi > thi,
        _ => false,
    }
}
