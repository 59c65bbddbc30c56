//! Facts about types that every renderer must agree on: value ranges and which casts can
//! fail. They mirror DataFusion's evaluation (Arrow's kernels with `safe = false` casts).

use crate::ir::{BinaryOp, ScalarType};

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

/// The casts a kernel computes: between integers and floats; an integer or a decimal to a
/// decimal of the same or a larger scale (Arrow's upscaling: a multiplication); a decimal to
/// a float. Not computed: a decimal to a smaller scale or to an integer (a rounding
/// division, which is a call on i128), a float to a decimal.
pub fn is_castable(from: ScalarType, to: ScalarType) -> bool {
    match (decimal_parts(from), decimal_parts(to)) {
        (None, None) => from.is_numeric() && to.is_numeric(),
        (Some((_, s1)), Some((_, s2))) => 0 <= s1 && s1 <= s2,
        (None, Some((_, s))) => from.is_numeric() && !from.is_float() && s >= 0,
        (Some((_, s)), None) => to.is_float() && s >= 0,
    }
}

/// Whether `CAST(from AS to)` can fail on some value: a float to any integer (NaN, ±inf,
/// out of range), an integer to an integer type that does not hold all its values, an
/// integer or decimal to a decimal whose precision may not hold the value times
/// 10^(scale increase) — Arrow checks then, unless every value of the declared precision
/// fits (it does not check the input against its own precision).
pub fn cast_can_fail(from: ScalarType, to: ScalarType) -> bool {
    if from.is_float() {
        return !to.is_float();
    }
    match (decimal_parts(from), decimal_parts(to)) {
        (Some(_), None) => return false,
        (Some((p1, s1)), Some((p2, s2))) => {
            return !(s1 == s2 && p1 <= p2 || p1 as i32 + (s2 - s1) as i32 <= p2 as i32)
        }
        _ => {}
    }
    if let Some(bound) = upscale_bound(from, to) {
        let (flo, fhi) = int_range(from).expect("an integer");
        return flo < -bound || fhi > bound;
    }
    match (int_range(from), int_range(to)) {
        (Some((flo, fhi)), Some((tlo, thi))) => flo < tlo || fhi > thi,
        _ => false,
    }
}

/// The precision and scale of a decimal type.
pub fn decimal_parts(ty: ScalarType) -> Option<(u8, i8)> {
    match ty {
        ScalarType::Decimal128 { precision, scale } => Some((precision, scale)),
        _ => None,
    }
}

/// 10^k (k ≤ 38).
pub fn pow10(k: u32) -> i128 {
    10i128.pow(k)
}

/// For a cast to a decimal that multiplies by 10^k and then checks the precision: the
/// largest magnitude of the input that passes, `(10^p - 1) / 10^k`. A larger one fails,
/// by overflowing i128 or by exceeding the precision (both are errors).
pub fn upscale_bound(from: ScalarType, to: ScalarType) -> Option<i128> {
    let (p, s) = decimal_parts(to)?;
    let k = s as i32 - decimal_parts(from).map_or(0, |(_, s1)| s1 as i32);
    Some((pow10(p as u32) - 1) / pow10(k as u32))
}

/// The type of decimal `a op b` as Arrow computes it (Hive's rules): + and − at the larger
/// scale with one more integer digit, × at the sum of the scales; `None` for what kernels
/// do not compute (÷ and %, negative scales, a scale past 38).
pub fn decimal_result(op: BinaryOp, a: ScalarType, b: ScalarType) -> Option<ScalarType> {
    let (p1, s1) = decimal_parts(a)?;
    let (p2, s2) = decimal_parts(b)?;
    if s1 < 0 || s2 < 0 {
        return None;
    }
    let (precision, scale) = match op {
        BinaryOp::Add | BinaryOp::Sub => {
            let scale = s1.max(s2) as i32;
            let digits = (p1 as i32 - s1 as i32).max(p2 as i32 - s2 as i32);
            ((scale + digits + 1).min(38), scale)
        }
        BinaryOp::Mul => {
            let scale = s1 as i32 + s2 as i32;
            if scale > 38 {
                return None;
            }
            ((p1 as i32 + p2 as i32 + 1).min(38), scale)
        }
        _ => return None,
    };
    Some(ScalarType::Decimal128 {
        precision: precision as u8,
        scale: scale as i8,
    })
}
