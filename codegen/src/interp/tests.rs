//! The interpreter's semantics on hand-picked values (DataFusion's behaviour, per case).

use super::scalar::{arith, cast, compare, unary, V};
use crate::abi::FailureKind;
use crate::ir::{BinaryOp, ScalarType, UnaryOp};

#[test]
fn integers_wrap_on_add_and_fail_on_bad_division() {
    let t = ScalarType::I64;
    let (min, max) = (V::I(i64::MIN as i128), V::I(i64::MAX as i128));
    assert_eq!(arith(BinaryOp::Add, t, max, V::I(1)), (min, None));
    assert_eq!(
        arith(BinaryOp::Div, t, V::I(7), V::I(0)).1,
        Some(FailureKind::DivideByZero)
    );
    assert_eq!(
        arith(BinaryOp::Div, t, min, V::I(-1)).1,
        Some(FailureKind::Overflow)
    );
    assert_eq!(arith(BinaryOp::Rem, t, min, V::I(-1)), (V::I(0), None));
    assert_eq!(arith(BinaryOp::Rem, t, V::I(-7), V::I(2)), (V::I(-1), None));
    let i8t = ScalarType::I8;
    assert_eq!(
        arith(BinaryOp::Mul, i8t, V::I(100), V::I(3)),
        (V::I(44), None)
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
