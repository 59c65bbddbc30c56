//! The interpreter's semantics on hand-picked values (DataFusion's behaviour, per case).

use super::scalar::{arith, cast, compare, unary, V};
use crate::abi::FailureKind;
use crate::ir::{BinaryOp, ScalarType, UnaryOp};

#[test]
fn integers_fail_on_overflow_and_bad_division() {
    let t = ScalarType::I64;
    let (min, max) = (V::I(i64::MIN as i128), V::I(i64::MAX as i128));
    // Overflow fails; the value where it is not raised is the wrapped one.
    let overflow = Some(FailureKind::Overflow);
    assert_eq!(
        arith(BinaryOp::Add, (t, t), t, max, V::I(1)),
        (min, overflow)
    );
    assert_eq!(
        arith(BinaryOp::Sub, (t, t), t, min, V::I(1)),
        (max, overflow)
    );
    assert_eq!(arith(BinaryOp::Add, (t, t), t, max, V::I(-1)).1, None);
    assert_eq!(unary(UnaryOp::Neg, t, min), (min, overflow));
    assert_eq!(
        unary(UnaryOp::Neg, t, max),
        (V::I(-(i64::MAX as i128)), None)
    );
    let u = ScalarType::U64;
    assert_eq!(
        arith(BinaryOp::Sub, (u, u), u, V::I(1), V::I(2)),
        (V::I(u64::MAX as i128), overflow)
    );
    assert_eq!(
        arith(
            BinaryOp::Mul,
            (u, u),
            u,
            V::I(u64::MAX as i128),
            V::I(u64::MAX as i128)
        ),
        (V::I(1), overflow)
    );
    assert_eq!(
        arith(BinaryOp::Div, (t, t), t, V::I(7), V::I(0)).1,
        Some(FailureKind::DivideByZero)
    );
    assert_eq!(
        arith(BinaryOp::Div, (t, t), t, min, V::I(-1)).1,
        Some(FailureKind::Overflow)
    );
    assert_eq!(
        arith(BinaryOp::Rem, (t, t), t, min, V::I(-1)),
        (V::I(0), None)
    );
    assert_eq!(
        arith(BinaryOp::Rem, (t, t), t, V::I(-7), V::I(2)),
        (V::I(-1), None)
    );
    let i8t = ScalarType::I8;
    assert_eq!(
        arith(BinaryOp::Mul, (i8t, i8t), i8t, V::I(100), V::I(3)),
        (V::I(44), overflow)
    );
    assert_eq!(
        arith(BinaryOp::Mul, (i8t, i8t), i8t, V::I(-16), V::I(8)),
        (V::I(-128), None)
    );
}

#[test]
fn abs_and_sqrt_fail_like_datafusion() {
    assert_eq!(
        unary(UnaryOp::Abs, ScalarType::I32, V::I(i32::MIN as i128)).1,
        Some(FailureKind::Overflow)
    );
    assert_eq!(
        unary(UnaryOp::Sqrt, ScalarType::F64, V::F64(-1.0)).1,
        Some(FailureKind::NegativeSqrt)
    );
    assert_eq!(unary(UnaryOp::Sqrt, ScalarType::F64, V::F64(-0.0)).1, None);
    assert_eq!(
        unary(UnaryOp::Round, ScalarType::F64, V::F64(-2.5)).0,
        V::F64(-3.0)
    );
}

#[test]
fn float_comparisons_use_total_order_with_sql_zero() {
    let (nan, zero, neg_zero) = (V::F64(f64::NAN), V::F64(0.0), V::F64(-0.0));
    assert!(compare(BinaryOp::Eq, nan, nan));
    assert!(compare(BinaryOp::Gt, nan, V::F64(f64::INFINITY)));
    assert!(compare(BinaryOp::Eq, neg_zero, zero));
    assert!(!compare(BinaryOp::TotalEq, neg_zero, zero));
    assert!(compare(BinaryOp::TotalLtEq, neg_zero, zero));
}

#[test]
fn casts_fail_out_of_range() {
    assert_eq!(
        cast(ScalarType::F64, ScalarType::I32, V::F64(-2.9)),
        (V::I(-2), None)
    );
    assert_eq!(
        cast(ScalarType::F64, ScalarType::I64, V::F64(f64::NAN)).1,
        Some(FailureKind::Overflow)
    );
    assert_eq!(
        cast(ScalarType::F64, ScalarType::I64, V::F64(9.3e18)).1,
        Some(FailureKind::Overflow)
    );
    assert_eq!(
        cast(ScalarType::I64, ScalarType::U8, V::I(-1)).1,
        Some(FailureKind::Overflow)
    );
    assert_eq!(
        cast(ScalarType::I64, ScalarType::I8, V::I(127)),
        (V::I(127), None)
    );
    assert_eq!(
        cast(ScalarType::F64, ScalarType::F32, V::F64(1e300)),
        (V::F32(f32::INFINITY), None)
    );
}

fn dec(precision: u8, scale: i8) -> ScalarType {
    ScalarType::Decimal128 { precision, scale }
}

#[test]
fn decimal_arithmetic_rescales_and_fails_on_i128_overflow() {
    // 1.50 + 2.125 = 3.625 at scale 3 (Arrow: precision max(3-2, 4-3) + 3 + 1 = 5).
    let (a, b) = (dec(3, 2), dec(4, 3));
    let sum = crate::semantics::decimal_result(BinaryOp::Add, a, b).unwrap();
    assert_eq!(sum, dec(5, 3));
    assert_eq!(
        arith(BinaryOp::Add, (a, b), sum, V::I(150), V::I(2125)),
        (V::I(3625), None)
    );
    // 1.50 * 2.125 = 3.18750 at scale 5.
    let product = crate::semantics::decimal_result(BinaryOp::Mul, a, b).unwrap();
    assert_eq!(product, dec(8, 5));
    assert_eq!(
        arith(BinaryOp::Mul, (a, b), product, V::I(150), V::I(2125)),
        (V::I(318750), None)
    );
    // The precision is not checked, i128 overflow is.
    let big = dec(38, 0);
    let r = crate::semantics::decimal_result(BinaryOp::Add, big, big).unwrap();
    assert_eq!(
        arith(BinaryOp::Add, (big, big), r, V::I(i128::MAX), V::I(1)).1,
        Some(FailureKind::Overflow)
    );
    let r = crate::semantics::decimal_result(BinaryOp::Mul, big, big).unwrap();
    assert_eq!(
        arith(BinaryOp::Mul, (big, big), r, V::I(1 << 64), V::I(1 << 64)).1,
        Some(FailureKind::Overflow)
    );
    assert_eq!(
        arith(BinaryOp::Mul, (big, big), r, V::I(10i128.pow(37)), V::I(9)),
        (V::I(9 * 10i128.pow(37)), None)
    );
    assert_eq!(
        crate::semantics::decimal_result(BinaryOp::Div, big, big),
        None
    );
}

#[test]
fn casts_to_decimals_check_the_precision_unless_every_value_fits() {
    // Int32 to Decimal(12, 2) always fits; to Decimal(5, 2) fails above 999.99.
    assert_eq!(
        cast(ScalarType::I32, dec(12, 2), V::I(i32::MAX as i128)),
        (V::I(i32::MAX as i128 * 100), None)
    );
    assert_eq!(
        cast(ScalarType::I32, dec(5, 2), V::I(999)),
        (V::I(99900), None)
    );
    assert_eq!(
        cast(ScalarType::I32, dec(5, 2), V::I(1000)).1,
        Some(FailureKind::Overflow)
    );
    // Decimal(5, 2) to Decimal(7, 4) cannot fail (not even for a value past its own
    // precision: Arrow does not look); to Decimal(6, 4) it can.
    assert_eq!(
        cast(dec(5, 2), dec(7, 4), V::I(10_000_000)),
        (V::I(1_000_000_000), None)
    );
    assert_eq!(
        cast(dec(5, 2), dec(6, 4), V::I(10_000)).1,
        Some(FailureKind::Overflow)
    );
    assert_eq!(
        cast(dec(5, 2), dec(6, 4), V::I(9_999)),
        (V::I(999_900), None)
    );
    // To floats: divided by 10^scale.
    assert_eq!(
        cast(dec(5, 2), ScalarType::F64, V::I(-125)),
        (V::F64(-1.25), None)
    );
    assert_eq!(
        cast(dec(5, 2), ScalarType::F32, V::I(-125)),
        (V::F32(-1.25), None)
    );
}

#[test]
fn decimal_negation_fails_on_min_like_datafusion() {
    assert_eq!(
        unary(UnaryOp::Neg, dec(38, 0), V::I(i128::MIN)),
        (V::I(i128::MIN), Some(FailureKind::Overflow))
    );
    assert_eq!(
        unary(UnaryOp::Neg, dec(5, 2), V::I(-150)),
        (V::I(150), None)
    );
    assert!(compare(BinaryOp::Lt, V::I(-5), V::I(3)));
}

#[test]
fn kernels_outside_the_row_abi_are_refused_not_run_wrongly() {
    use crate::abi::{ColumnIn, ColumnOut, RunError};
    use crate::ir::{Dim, Domain, Kernel, Layout, Op};
    let mut kernel = Kernel::rows();
    let a = kernel.input(ScalarType::I64);
    let doubled = kernel.push(Op::Binary(BinaryOp::Add, a, a), ScalarType::I64);
    kernel.outputs.push(doubled);
    let values = [0u8; 8 * 4];
    let run = |kernel: &Kernel| {
        let mut out = vec![0u8; 8 * 64];
        let mut validity = vec![0u8; 8];
        let mut outputs = [ColumnOut::new(&mut out, &mut validity)];
        let inputs = [ColumnIn {
            values: &values,
            validity: None,
        }];
        super::run(kernel, &inputs, 4, &mut outputs, None)
    };
    assert!(run(&kernel).is_ok());

    let mut grid = kernel.clone();
    grid.domain = Domain {
        dims: vec![Dim::Fixed(2), Dim::Fixed(2)],
    };
    assert!(matches!(run(&grid), Err(RunError::BadBuffers(m)) if m.contains("domain")));

    let mut strided = kernel.clone();
    strided.inputs[0].layout = Layout::Strided(vec![2]);
    assert!(matches!(run(&strided), Err(RunError::BadBuffers(m)) if m.contains("strided")));
}
