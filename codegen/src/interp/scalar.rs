//! One element at a time: the reference semantics of every operation.
//!
//! Each function states DataFusion's behaviour for one value. Where an operation fails
//! (division by zero, a cast out of range) it also returns the value that renderers
//! produce on rows where the failure is not raised (unguarded rows), so that every
//! renderer agrees bit for bit there too: division by a bad divisor divides by 1, a failed
//! float-to-integer cast gives 0, a failed integer cast and an overflowing integer + − ×
//! or negation keep the low bits.

use std::cmp::Ordering;

use crate::abi::FailureKind;
use crate::ir::{BinaryOp, ScalarType, UnaryOp};
use crate::semantics::{cast_can_fail, decimal_parts, int_range, pow10};

/// One non-NULL element. Integers of every width (and integer-backed types) are held as
/// i128 and wrapped to their type after each operation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum V {
    B(bool),
    I(i128),
    F32(f32),
    F64(f64),
}

impl V {
    pub fn bool(self) -> bool {
        matches!(self, V::B(true))
    }

    fn int(self) -> i128 {
        match self {
            V::I(v) => v,
            V::B(b) => b as i128,
            other => unreachable!("validated: integer expected, got {other:?}"),
        }
    }
}

/// `value` reduced to the bits of `ty`, as two's complement wrapping does.
pub fn wrap(value: i128, ty: ScalarType) -> i128 {
    let bits = ty.bits();
    if bits >= 128 {
        return value;
    }
    let low = value & ((1i128 << bits) - 1);
    if ty.is_unsigned_int() || low < (1i128 << (bits - 1)) {
        low
    } else {
        low - (1i128 << bits)
    }
}

/// Unary operations. `abs` of a signed integer's MIN fails (and wraps to MIN unguarded);
/// `sqrt` of a negative number fails (and is NaN unguarded).
pub fn unary(op: UnaryOp, ty: ScalarType, a: V) -> (V, Option<FailureKind>) {
    match (op, a) {
        (UnaryOp::IsNan, V::F64(x)) => (V::B(x.is_nan()), None),
        (UnaryOp::IsNan, V::F32(x)) => (V::B(x.is_nan()), None),
        (UnaryOp::IsNan, _) => (V::B(false), None),
        (UnaryOp::BitNot, V::I(v)) => (V::I(wrap(!v, ty)), None),
        (UnaryOp::Not, V::B(b)) => (V::B(!b), None),
        // Arrow's "wrapping" negation checks decimals: -MIN fails.
        (UnaryOp::Neg, V::I(v)) if decimal_parts(ty).is_some() => (
            V::I(v.wrapping_neg()),
            (v == i128::MIN).then_some(FailureKind::Overflow),
        ),
        // corepy checks integer negation: -MIN fails (`planner/src/checked`).
        (UnaryOp::Neg, V::I(v)) => {
            let min = int_range(ty).map_or(0, |(lo, _)| lo);
            let checked = ty.is_integer() && ty.is_signed_int();
            let failure = (checked && v == min).then_some(FailureKind::Overflow);
            (V::I(wrap(v.wrapping_neg(), ty)), failure)
        }
        (UnaryOp::Abs, V::I(v)) => {
            let min = int_range(ty).map_or(0, |(lo, _)| lo);
            let failure = (ty.is_signed_int() && v == min).then_some(FailureKind::Overflow);
            (V::I(wrap(v.abs(), ty)), failure)
        }
        // corepy's own exp and tanh, in the value's precision (the JIT emits the same).
        (UnaryOp::Exp, V::F64(x)) => (V::F64(crate::math::exp_f64(x)), None),
        (UnaryOp::Exp, V::F32(x)) => (V::F32(crate::math::exp_f32(x)), None),
        (UnaryOp::Tanh, V::F64(x)) => (V::F64(crate::math::tanh_f64(x)), None),
        (UnaryOp::Tanh, V::F32(x)) => (V::F32(crate::math::tanh_f32(x)), None),
        (op, V::F64(x)) => (V::F64(float_unary(op, x)), sqrt_failure(op, x)),
        (op, V::F32(x)) => {
            let r = float_unary(op, x as f64) as f32;
            (V::F32(r), sqrt_failure(op, x as f64))
        }
        (op, a) => unreachable!("validated: {op:?} on {a:?}"),
    }
}

fn sqrt_failure(op: UnaryOp, x: f64) -> Option<FailureKind> {
    (op == UnaryOp::Sqrt && x < 0.0).then_some(FailureKind::NegativeSqrt)
}

/// Rounding, roots and signs on a float. f32 goes through f64, which is exact for all of
/// these (they are correctly rounded and f64 holds every f32).
fn float_unary(op: UnaryOp, x: f64) -> f64 {
    match op {
        UnaryOp::Neg => -x,
        UnaryOp::Abs => x.abs(),
        UnaryOp::Sqrt => x.sqrt(),
        UnaryOp::Floor => x.floor(),
        UnaryOp::Ceil => x.ceil(),
        UnaryOp::Round => x.round(),
        UnaryOp::Ln => x.ln(),
        UnaryOp::Sin => x.sin(),
        UnaryOp::Cos => x.cos(),
        other => unreachable!("validated: {other:?} on a float"),
    }
}

/// Arithmetic on operands of types `operands`, giving a `ty`. Integer + − × fail when the
/// result leaves `ty` (corepy's checked arithmetic; DataFusion's own operators wrap); ÷ and
/// % fail on a zero divisor and `MIN / -1`.
/// Decimals: see [`decimal_arith`].
pub fn arith(
    op: BinaryOp,
    operands: (ScalarType, ScalarType),
    ty: ScalarType,
    a: V,
    b: V,
) -> (V, Option<FailureKind>) {
    if let (Some((_, s1)), Some((_, s2)), Some((_, s))) = (
        decimal_parts(operands.0),
        decimal_parts(operands.1),
        decimal_parts(ty),
    ) {
        let (v, failure) = decimal_arith(op, (s1, s2), s, a.int(), b.int());
        return (V::I(v), failure);
    }
    if matches!(op, BinaryOp::Pow | BinaryOp::Max | BinaryOp::Min) || op.is_tensor_only() {
        return (numpy_arith(op, ty, a, b), None);
    }
    match (a, b) {
        (V::F64(x), V::F64(y)) => (V::F64(float_arith(op, x, y)), None),
        (V::F32(x), V::F32(y)) => (V::F32(float_arith(op, x, y)), None),
        (a, b) => {
            let (x, y) = (a.int(), b.int());
            let (result, failure) = int_arith(op, ty, x, y);
            (V::I(wrap(result, ty)), failure)
        }
    }
}

/// NumPy's `power`, `maximum` and `minimum` (see [`BinaryOp`]); they never fail.
fn numpy_arith(op: BinaryOp, ty: ScalarType, a: V, b: V) -> V {
    let pick = |a_wins: bool| if a_wins { a } else { b };
    match (op, a, b) {
        (BinaryOp::Pow, V::F64(x), V::F64(y)) => V::F64(x.powf(y)),
        // f32 through f64: the result rounded once (f64 holds every f32 product exactly
        // enough that this is NumPy's result up to an ulp).
        (BinaryOp::Pow, V::F32(x), V::F32(y)) => V::F32((x as f64).powf(y as f64) as f32),
        (BinaryOp::Pow, a, b) => V::I(int_pow(a.int(), b.int(), ty)),
        (BinaryOp::Max | BinaryOp::Min, V::F64(x), V::F64(y)) => {
            pick(float_extreme_is_first(op, x, y, x.is_sign_negative()))
        }
        (BinaryOp::Max | BinaryOp::Min, V::F32(x), V::F32(y)) => pick(float_extreme_is_first(
            op,
            x as f64,
            y as f64,
            x.is_sign_negative(),
        )),
        (BinaryOp::Max, a, b) => pick(a.int() >= b.int()),
        (BinaryOp::Min, a, b) => pick(a.int() <= b.int()),
        (BinaryOp::FloorDiv | BinaryOp::FloorMod, V::F64(x), V::F64(y)) => {
            let (div, modulus) = crate::math::divmod_f64(x, y);
            V::F64(if op == BinaryOp::FloorDiv {
                div
            } else {
                modulus
            })
        }
        (BinaryOp::FloorDiv | BinaryOp::FloorMod, V::F32(x), V::F32(y)) => {
            let (div, modulus) = crate::math::divmod_f32(x, y);
            V::F32(if op == BinaryOp::FloorDiv {
                div
            } else {
                modulus
            })
        }
        (BinaryOp::FloorDiv | BinaryOp::FloorMod, a, b) => {
            let (div, modulus) = crate::math::divmod_int(a.int(), b.int());
            V::I(wrap(
                if op == BinaryOp::FloorDiv {
                    div
                } else {
                    modulus
                },
                ty,
            ))
        }
        (BinaryOp::BitAnd, V::B(x), V::B(y)) => V::B(x & y),
        (BinaryOp::BitOr, V::B(x), V::B(y)) => V::B(x | y),
        (BinaryOp::BitXor, V::B(x), V::B(y)) => V::B(x ^ y),
        (BinaryOp::BitAnd, a, b) => V::I(wrap(a.int() & b.int(), ty)),
        (BinaryOp::BitOr, a, b) => V::I(wrap(a.int() | b.int(), ty)),
        (BinaryOp::BitXor, a, b) => V::I(wrap(a.int() ^ b.int(), ty)),
        (other, a, b) => unreachable!("validated: {other:?} on {a:?}, {b:?}"),
    }
}

/// Whether `x` is the float `maximum` (`minimum`) of `x` and `y`: a NaN wins (the first),
/// and -0.0 is below 0.0 (IEEE 754-2019's maximum, branch-free in hardware); `x_negative`
/// is `x`'s sign.
fn float_extreme_is_first(op: BinaryOp, x: f64, y: f64, x_negative: bool) -> bool {
    if x.is_nan() || y.is_nan() {
        return x.is_nan();
    }
    if x == y {
        // Equal: only the zeros' signs differ.
        return (op == BinaryOp::Max) != x_negative;
    }
    (op == BinaryOp::Max) == (x > y)
}

/// `base ** exp` wrapped to `ty` by squaring; a negative exponent gives the power truncated
/// toward zero (`1 / base^n`: 0 unless the base is 1 or -1).
pub fn int_pow(base: i128, exp: i128, ty: ScalarType) -> i128 {
    if exp < 0 {
        return match base {
            1 => 1,
            -1 => wrap(if exp % 2 == 0 { 1 } else { -1 }, ty),
            _ => 0,
        };
    }
    let (mut result, mut base, mut exp) = (1i128, wrap(base, ty), exp as u128);
    while exp > 0 {
        if exp & 1 == 1 {
            result = wrap(result.wrapping_mul(base), ty);
        }
        base = wrap(base.wrapping_mul(base), ty);
        exp >>= 1;
    }
    result
}

/// IEEE arithmetic in the operands' own precision (f32 or f64).
fn float_arith<F>(op: BinaryOp, x: F, y: F) -> F
where
    F: std::ops::Add<Output = F>
        + std::ops::Sub<Output = F>
        + std::ops::Mul<Output = F>
        + std::ops::Div<Output = F>
        + std::ops::Rem<Output = F>,
{
    match op {
        BinaryOp::Add => x + y,
        BinaryOp::Sub => x - y,
        BinaryOp::Mul => x * y,
        BinaryOp::Div => x / y,
        BinaryOp::Rem => x % y,
        other => unreachable!("validated: {other:?} is not arithmetic"),
    }
}

/// Decimal + − × as Arrow computes them (also for DataFusion's "wrapping" operators):
/// both operands rescaled to the result's scale (`x * 10^(s - s1)`), then added or
/// multiplied, failing where any step overflows i128. The precision is not checked. Where a
/// failure is not raised, the wrapped result.
pub fn decimal_arith(
    op: BinaryOp,
    (s1, s2): (i8, i8),
    s: i8,
    x: i128,
    y: i128,
) -> (i128, Option<FailureKind>) {
    let (v, overflow) = match op {
        BinaryOp::Add | BinaryOp::Sub => {
            let (x, ox) = x.overflowing_mul(pow10((s - s1) as u32));
            let (y, oy) = y.overflowing_mul(pow10((s - s2) as u32));
            let (v, o) = if op == BinaryOp::Add {
                x.overflowing_add(y)
            } else {
                x.overflowing_sub(y)
            };
            (v, ox || oy || o)
        }
        BinaryOp::Mul => x.overflowing_mul(y),
        other => unreachable!("validated: decimal {other:?}"),
    };
    (v, overflow.then_some(FailureKind::Overflow))
}

fn int_arith(op: BinaryOp, ty: ScalarType, x: i128, y: i128) -> (i128, Option<FailureKind>) {
    match op {
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul => {
            let (result, wrapped) = match op {
                BinaryOp::Add => x.overflowing_add(y),
                BinaryOp::Sub => x.overflowing_sub(y),
                _ => x.overflowing_mul(y),
            };
            let fits = !wrapped && crate::semantics::int_fits(result, ty);
            (result, (!fits).then_some(FailureKind::Overflow))
        }
        BinaryOp::Div | BinaryOp::Rem => {
            let min = int_range(ty).map_or(0, |(lo, _)| lo);
            let failure = if y == 0 {
                Some(FailureKind::DivideByZero)
            } else if op == BinaryOp::Div && ty.is_signed_int() && x == min && y == -1 {
                Some(FailureKind::Overflow)
            } else {
                None
            };
            // A failed division divides by 1; `MIN % -1` is 0 in DataFusion (as `x % 1`).
            let y = if failure.is_some() || (op == BinaryOp::Rem && y == -1) {
                1
            } else {
                y
            };
            let result = if op == BinaryOp::Div { x / y } else { x % y };
            (result, failure)
        }
        other => unreachable!("validated: {other:?} is not arithmetic"),
    }
}

/// Comparison of two non-NULL values of one type. Floats compare in IEEE total order, as
/// Arrow's kernels do (NaN equal to itself and above +inf, a negative NaN below -inf); SQL
/// comparisons first turn -0.0 into 0.0 as DataFusion does, the `Total*` ones do not.
pub fn compare(op: BinaryOp, a: V, b: V) -> bool {
    if let Some(result) = ieee_compare(op, a, b) {
        return result;
    }
    let sql = !matches!(
        op,
        BinaryOp::TotalEq | BinaryOp::TotalLtEq | BinaryOp::TotalGtEq
    );
    let zero64 = |x: f64| if sql && x == 0.0 { 0.0 } else { x };
    let zero32 = |x: f32| if sql && x == 0.0 { 0.0 } else { x };
    let ordering = match (a, b) {
        (V::F64(x), V::F64(y)) => zero64(x).total_cmp(&zero64(y)),
        (V::F32(x), V::F32(y)) => zero32(x).total_cmp(&zero32(y)),
        (V::B(x), V::B(y)) => x.cmp(&y),
        (a, b) => a.int().cmp(&b.int()),
    };
    match op {
        BinaryOp::Eq | BinaryOp::TotalEq => ordering == Ordering::Equal,
        BinaryOp::NotEq => ordering != Ordering::Equal,
        BinaryOp::Lt => ordering == Ordering::Less,
        BinaryOp::LtEq | BinaryOp::TotalLtEq => ordering != Ordering::Greater,
        BinaryOp::Gt => ordering == Ordering::Greater,
        BinaryOp::GtEq | BinaryOp::TotalGtEq => ordering != Ordering::Less,
        other => unreachable!("validated: {other:?} is not a comparison"),
    }
}

/// The `Ieee*` comparisons (NumPy's): NaN unordered, `-0.0 == 0.0`; `None` for the others.
fn ieee_compare(op: BinaryOp, a: V, b: V) -> Option<bool> {
    let ordering = match (a, b) {
        (V::F64(x), V::F64(y)) => x.partial_cmp(&y),
        (V::F32(x), V::F32(y)) => x.partial_cmp(&y),
        (V::B(x), V::B(y)) => Some(x.cmp(&y)),
        (a, b) => Some(a.int().cmp(&b.int())),
    };
    let is = |wanted: &[Ordering]| ordering.is_some_and(|o| wanted.contains(&o));
    Some(match op {
        BinaryOp::IeeeEq => is(&[Ordering::Equal]),
        BinaryOp::IeeeNotEq => !is(&[Ordering::Equal]),
        BinaryOp::IeeeLt => is(&[Ordering::Less]),
        BinaryOp::IeeeLtEq => is(&[Ordering::Less, Ordering::Equal]),
        BinaryOp::IeeeGt => is(&[Ordering::Greater]),
        BinaryOp::IeeeGtEq => is(&[Ordering::Greater, Ordering::Equal]),
        _ => return None,
    })
}

/// Numeric CAST with DataFusion's default options: a float truncates toward zero and
/// fails when NaN, infinite or out of range; an integer fails when out of range.
pub fn cast(from: ScalarType, to: ScalarType, a: V) -> (V, Option<FailureKind>) {
    if let Some((_, scale)) = decimal_parts(from) {
        if let Some(f) = decimal_to_float(a.int(), scale, to) {
            return (f, None);
        }
    }
    if let Some((precision, scale)) = decimal_parts(to) {
        return to_decimal(from, precision, scale, a.int());
    }
    match (a, to) {
        (V::F64(x), ScalarType::F64) => (V::F64(x), None),
        (V::F64(x), ScalarType::F32) => (V::F32(x as f32), None),
        (V::F32(x), ScalarType::F64) => (V::F64(x as f64), None),
        (V::F32(x), ScalarType::F32) => (V::F32(x), None),
        (V::F64(x), to) => float_to_int(x, to),
        (V::F32(x), to) => float_to_int(x as f64, to),
        (a, ScalarType::F64) => (V::F64(int_to_f64(a.int(), from)), None),
        (a, ScalarType::F32) => (V::F32(int_to_f32(a.int(), from)), None),
        (a, to) => {
            let v = a.int();
            let (lo, hi) = int_range(to).expect("validated: integer target");
            let failure = (v < lo || v > hi).then_some(FailureKind::Overflow);
            (V::I(wrap(v, to)), failure)
        }
    }
}

/// A decimal to a float: Arrow's `(x as f64) / 10^scale` (then to f32 if asked).
fn decimal_to_float(x: i128, scale: i8, to: ScalarType) -> Option<V> {
    let f = x as f64 / 10f64.powi(scale as i32);
    match to {
        ScalarType::F64 => Some(V::F64(f)),
        ScalarType::F32 => Some(V::F32(f as f32)),
        _ => None,
    }
}

/// An integer or decimal to a decimal of the same or a larger scale, as Arrow's cast:
/// multiplied by 10^(scale increase); then, unless every value of the source's declared
/// precision fits, checked for overflow and against the target precision. Where a failure
/// is not raised, the wrapped product.
fn to_decimal(from: ScalarType, precision: u8, scale: i8, x: i128) -> (V, Option<FailureKind>) {
    let from_scale = decimal_parts(from).map_or(0, |(_, s)| s);
    let to = ScalarType::Decimal128 { precision, scale };
    let (v, overflow) = x.overflowing_mul(pow10((scale - from_scale) as u32));
    if !cast_can_fail(from, to) {
        return (V::I(v), None);
    }
    let max = pow10(precision as u32) - 1;
    let failure = (overflow || v > max || v < -max).then_some(FailureKind::Overflow);
    (V::I(v), failure)
}

fn float_to_int(x: f64, to: ScalarType) -> (V, Option<FailureKind>) {
    let (lo, hi) = int_range(to).expect("validated: integer target");
    let t = x.trunc();
    if t.is_finite() && t >= lo as f64 && t <= hi as f64 && (t as i128) >= lo && (t as i128) <= hi {
        (V::I(t as i128), None)
    } else {
        (V::I(0), Some(FailureKind::Overflow))
    }
}

/// Rust's `as` conversion (round to nearest even), from the value's own width.
fn int_to_f64(v: i128, from: ScalarType) -> f64 {
    if from.is_unsigned_int() {
        v as u64 as f64
    } else {
        v as i64 as f64
    }
}

fn int_to_f32(v: i128, from: ScalarType) -> f32 {
    if from.is_unsigned_int() {
        v as u64 as f32
    } else {
        v as i64 as f32
    }
}

/// Reads element `row` of a values buffer.
pub fn read(values: &[u8], ty: ScalarType, row: usize) -> V {
    if ty == ScalarType::Bool {
        return V::B(crate::abi::get_bit(values, row));
    }
    let width = ty.byte_width();
    let bytes = &values[row * width..(row + 1) * width];
    let mut raw = [0u8; 16];
    raw[..width].copy_from_slice(bytes);
    let bits = u128::from_le_bytes(raw);
    match ty {
        ScalarType::F64 => V::F64(f64::from_bits(bits as u64)),
        ScalarType::F32 => V::F32(f32::from_bits(bits as u32)),
        ty => V::I(wrap(bits as i128, ty)),
    }
}

/// Writes element `row` of an output (booleans: sets the bit when true; `None`, a NULL,
/// writes zeros so that every element of the values buffer is written).
pub fn write(out: &mut crate::abi::ColumnOut<'_>, ty: ScalarType, row: usize, v: Option<V>) {
    let width = ty.byte_width();
    let bits: u128 = match v {
        Some(V::B(true)) => return out.set_value_bit(row),
        Some(V::B(false)) => return,
        None if ty == ScalarType::Bool => return,
        None => 0,
        Some(V::F64(x)) => x.to_bits() as u128,
        Some(V::F32(x)) => x.to_bits() as u128,
        Some(V::I(i)) => i as u128,
    };
    out.write_values(row * width, &bits.to_le_bytes()[..width]);
}

/// Writes element `row` of a plain values buffer (booleans: sets the bit when true).
pub fn write_slice(values: &mut [u8], ty: ScalarType, row: usize, v: V) {
    let mut out = crate::abi::ColumnOut::new(values, &mut []);
    write(&mut out, ty, row, Some(v));
}
