//! The kernels that expressions lower to.

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::DFSchema;
use datafusion::logical_expr::{col, lit, when, Expr};

use crate::checked::{CheckedArithmetic, CheckedOp};

use super::lower_stage;
use corepy_codegen::pretty::pretty;

/// corepy's checked integer `a op b`, as the analyzer writes it.
fn checked(op: CheckedOp, a: Expr, b: Expr) -> Expr {
    CheckedArithmetic::call(op, DataType::Int64, "a op b".into(), vec![a, b])
}

fn schema() -> DFSchema {
    let schema = Schema::new(vec![
        Field::new("a", DataType::Int64, true),
        Field::new("b", DataType::Int64, true),
    ]);
    DFSchema::try_from_qualified_schema("t", &schema).expect("schema")
}

#[test]
fn a_case_branch_guards_its_division() {
    let expr = when(col("b").not_eq(lit(0i64)), col("a") / col("b"))
        .otherwise(lit(0i64))
        .unwrap();
    let lowered = lower_stage(&schema(), None, &[expr]).expect("lowers");
    let text = pretty(&lowered.kernel, &lowered.input_names);
    let div = text
        .lines()
        .find(|l| l.contains("= div"))
        .expect("a division");
    assert!(div.contains("guard"), "{text}");
    assert!(
        !text.contains("= not %"),
        "unused guard nodes are pruned:\n{text}"
    );
    assert_eq!(lowered.labels.len(), 1);
    assert!(
        lowered.labels[0].1.contains("a / ") && lowered.labels[0].1.contains("b"),
        "{:?}",
        lowered.labels
    );
}

#[test]
fn a_division_under_or_is_refused() {
    let expr = col("a")
        .gt(lit(0i64))
        .or((col("a") / col("b")).gt(lit(1i64)));
    let reason = lower_stage(&schema(), Some(&expr), &[col("a")])
        .unwrap_err()
        .to_string();
    assert!(reason.contains("AND/OR"), "{reason}");
}

#[test]
fn common_subexpressions_are_computed_once() {
    let sum = || checked(CheckedOp::Add, col("a"), col("b"));
    let e = checked(CheckedOp::Mul, sum(), sum());
    let lowered = lower_stage(&schema(), None, &[e]).expect("lowers");
    let adds = lowered
        .kernel
        .nodes
        .iter()
        .filter(|n| format!("{:?}", n.op).starts_with("Binary(Add"))
        .count();
    assert_eq!(adds, 1);
}

#[test]
fn case_on_a_base_is_left_to_datafusion() {
    let expr = datafusion::logical_expr::case(col("a"))
        .when(lit(1i64), col("b"))
        .otherwise(lit(0i64))
        .unwrap();
    let reason = lower_stage(&schema(), None, &[expr])
        .unwrap_err()
        .to_string();
    assert!(reason.contains("base"), "{reason}");
}

#[test]
fn in_lists_are_equalities_in_three_valued_logic() {
    let expr = col("a").in_list(vec![lit(1i64), lit(5i64), col("b")], true);
    let lowered = lower_stage(&schema(), Some(&expr), &[col("a")]).expect("lowers");
    let text = pretty(&lowered.kernel, &lowered.input_names);
    assert_eq!(text.matches("= eq").count(), 3, "{text}");
    assert_eq!(text.matches("= or").count(), 2, "{text}");
    assert!(text.contains("= not"), "{text}");
}

#[test]
fn wrapping_integer_arithmetic_is_left_to_datafusion() {
    // DataFusion's own integer `+` wraps; only corepy's checked form is fused.
    let reason = lower_stage(&schema(), None, &[col("a") + col("b")])
        .unwrap_err()
        .to_string();
    assert!(reason.contains("wraps on overflow"), "{reason}");
    let reason = lower_stage(&schema(), None, &[-col("a")])
        .unwrap_err()
        .to_string();
    assert!(reason.contains("wraps on overflow"), "{reason}");
}

#[test]
fn checked_integer_arithmetic_lowers_to_guarded_operations() {
    let e = checked(CheckedOp::Mul, col("a"), lit(4i64));
    let lowered = lower_stage(&schema(), Some(&col("b").gt(lit(0i64))), &[e]).expect("lowers");
    let mul = lowered
        .kernel
        .nodes
        .iter()
        .find(|n| format!("{:?}", n.op).starts_with("Binary(Mul"))
        .expect("a multiplication");
    assert!(mul.can_fail(&lowered.kernel));
    assert!(
        mul.guard.is_some(),
        "fails only on the rows the filter keeps"
    );
}

#[test]
fn a_string_test_is_one_boolean_input_however_often_it_appears() {
    let schema = Schema::new(vec![
        Field::new("a", DataType::Int64, true),
        Field::new("s", DataType::Utf8View, true),
    ]);
    let schema = DFSchema::try_from_qualified_schema("t", &schema).expect("schema");
    let mode = col("s").in_list(vec![lit("AIR"), lit("MAIL")], false);
    let predicate = mode.clone().and(col("a").gt(lit(1i64)));
    let output = when(!mode, col("a")).otherwise(lit(0i64)).unwrap();
    let lowered = lower_stage(&schema, Some(&predicate), &[output]).expect("lowers");
    assert_eq!(
        lowered.inputs,
        vec![
            super::StageInput::Tested(
                1,
                super::StringTest::OneOf(vec!["AIR".into(), "MAIL".into()])
            ),
            super::StageInput::Column(0),
        ]
    );
    assert_eq!(lowered.input_names[0], "s IN ('AIR', 'MAIL')");
    // A string column itself, or a test the kernels do not model, is not lowered.
    assert!(lower_stage(&schema, None, &[col("s")]).is_err());
    let ordered = col("s").gt(lit("M"));
    assert!(lower_stage(&schema, Some(&ordered), &[col("a")]).is_err());
}
