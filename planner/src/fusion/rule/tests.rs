//! Plans before and after the fusion rule.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{col, lit, table_scan, when, LogicalPlan};
use datafusion::optimizer::{Optimizer, OptimizerContext};
use datafusion::prelude::{power, sqrt, upper};

use super::FuseRowWise;

fn scan() -> datafusion::logical_expr::LogicalPlanBuilder {
    let schema = Schema::new(vec![
        Field::new("a", DataType::Float64, true),
        Field::new("b", DataType::Float64, true),
        Field::new("s", DataType::Utf8, true),
        Field::new("d", DataType::Decimal128(15, 2), true),
    ]);
    table_scan(Some("t"), &schema, None).expect("scan")
}

fn fused(plan: LogicalPlan) -> String {
    let optimizer = Optimizer::with_rules(vec![Arc::new(FuseRowWise)]);
    let plan = optimizer
        .optimize(plan, &OptimizerContext::new(), |_, _| {})
        .expect("optimizes");
    let text = plan.display_indent().to_string();
    text
}

#[test]
fn projection_over_filter_becomes_one_stage() {
    let plan = scan()
        .filter(col("a").gt(lit(1.0)))
        .unwrap()
        .project(vec![(col("a") * col("b") + lit(2.0)).alias("x"), col("s")])
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        fused(plan),
        "FusedStage: filter=t.a > Float64(1), exprs=[t.a * t.b + Float64(2) AS x, t.s]\
         \n  TableScan: t"
    );
}

#[test]
fn an_unsupported_projection_leaves_the_filter_fused_alone() {
    let plan = scan()
        .filter(sqrt(col("a")).lt(lit(3.0)))
        .unwrap()
        .project(vec![upper(col("s")).alias("u")])
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        fused(plan),
        "Projection: upper(t.s) AS u\
         \n  FusedStage: filter=sqrt(t.a) < Float64(3), exprs=[t.a, t.b, t.s, t.d]\
         \n    TableScan: t"
    );
}

#[test]
fn plain_column_projections_and_decimal_division_stay_with_datafusion() {
    let plan = scan()
        .project(vec![col("a"), col("s")])
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(fused(plan), "Projection: t.a, t.s\n  TableScan: t");
    let plan = scan()
        .project(vec![(col("d") / col("d")).alias("q")])
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(fused(plan), "Projection: t.d / t.d AS q\n  TableScan: t");
}

#[test]
fn decimal_arithmetic_and_comparisons_are_fused() {
    let plan = scan()
        .filter(col("d").gt(lit(ScalarValue::Decimal128(Some(150), 15, 2))))
        .unwrap()
        .project(vec![(col("d") * col("d") + col("d")).alias("dd")])
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        fused(plan),
        "FusedStage: filter=t.d > Decimal128(1.50,15,2), exprs=[t.d * t.d + t.d AS dd]\n  TableScan: t"
    );
}

#[test]
fn supported_expressions_beside_an_unsupported_one_are_fused_below_it() {
    let plan = scan()
        .filter(col("a").gt(lit(1.0)))
        .unwrap()
        .project(vec![
            upper(col("s")).alias("u"),
            (col("a") * col("b") + lit(1.0)).alias("x"),
        ])
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        fused(plan),
        "Projection: upper(t.s) AS u, __corepy_fused_0 AS x\
         \n  FusedStage: filter=t.a > Float64(1), exprs=[t.a * t.b + Float64(1) AS __corepy_fused_0, t.s]\
         \n    TableScan: t"
    );
}

#[test]
fn supported_sub_expressions_of_an_unsupported_one_are_fused() {
    let plan = scan()
        .project(vec![power(
            col("a") * col("b") + lit(1.0),
            col("a") - lit(2.0),
        )
        .alias("p")])
        .unwrap()
        .build()
        .unwrap();
    // `a * b + 1` pays (two operations); `a - 2` alone does not.
    assert_eq!(
        fused(plan),
        "Projection: power(__corepy_fused_0, t.a - Float64(2)) AS p\
         \n  FusedStage: exprs=[t.a * t.b + Float64(1) AS __corepy_fused_0, t.a]\
         \n    TableScan: t"
    );
}

#[test]
fn sub_expressions_datafusion_evaluates_lazily_are_not_fused() {
    let plan = scan()
        .project(vec![when(
            upper(col("s")).eq(lit("x")),
            col("a") * col("b") + lit(1.0),
        )
        .otherwise(lit(0.0))
        .unwrap()
        .alias("c")])
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        fused(plan),
        "Projection: CASE WHEN upper(t.s) = Utf8(\"x\") THEN t.a * t.b + Float64(1) ELSE Float64(0) END AS c\
         \n  TableScan: t"
    );
}

#[test]
fn a_filter_with_a_string_test_fuses_its_other_conjuncts_below_it() {
    let plan = scan()
        .filter(
            col("a")
                .gt(lit(1.0))
                .and(upper(col("s")).eq(lit("X")))
                .and(col("b").lt(col("a") * lit(2.0))),
        )
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        fused(plan),
        "Filter: upper(t.s) = Utf8(\"X\")\
         \n  FusedStage: filter=t.a > Float64(1) AND t.b < t.a * Float64(2), exprs=[t.a, t.b, t.s, t.d]\
         \n    TableScan: t"
    );
    // Nothing to split: one conjunct, or none that lowers.
    let plan = scan()
        .filter(upper(col("s")).eq(lit("X")))
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        fused(plan),
        "Filter: upper(t.s) = Utf8(\"X\")\n  TableScan: t"
    );
}

#[test]
fn tests_on_string_columns_join_the_kernel_and_their_strings_stay_behind() {
    // TPC-H Q19's shape: string tests and a numeric range in one filter, then a projection
    // of numbers only.
    let plan = scan()
        .filter(
            col("s")
                .in_list(vec![lit("AIR"), lit("AIR REG")], false)
                .and(col("s").not_eq(lit("MAIL")))
                .and(col("s").like(lit("A%")))
                .and(col("a").gt(lit(1.0))),
        )
        .unwrap()
        .project(vec![col("a"), col("b")])
        .unwrap()
        .build()
        .unwrap();
    let text = fused(plan);
    assert!(
        text.starts_with("FusedStage: filter=t.s IN ([Utf8(\"AIR\"), Utf8(\"AIR REG\")])"),
        "{text}"
    );
    assert!(text.ends_with("exprs=[t.a, t.b]\n  TableScan: t"), "{text}");
    // A pattern with `_` stays with DataFusion; the rest still fuses below it.
    let plan = scan()
        .filter(col("s").like(lit("A_R")).and(col("a").gt(lit(1.0))))
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        fused(plan),
        "Filter: t.s LIKE Utf8(\"A_R\")\
         \n  FusedStage: filter=t.a > Float64(1), exprs=[t.a, t.b, t.s, t.d]\
         \n    TableScan: t"
    );
}

#[test]
fn a_filter_pushed_onto_a_filtering_stage_merges_with_it() {
    let optimizer = Optimizer::with_rules(vec![Arc::new(FuseRowWise)]);
    let optimize = |plan| {
        optimizer
            .optimize(plan, &OptimizerContext::new(), |_, _| {})
            .expect("optimizes")
    };
    let stage = optimize(
        scan()
            .filter(col("a").gt(lit(1.0)))
            .unwrap()
            .build()
            .unwrap(),
    );
    // DataFusion pushes a predicate it derived (and one the stage has) onto the stage.
    let pushed = datafusion::logical_expr::LogicalPlanBuilder::from(stage)
        .filter(col("a").gt(lit(1.0)).and(col("b").lt(lit(2.0))))
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        optimize(pushed).display_indent().to_string(),
        "FusedStage: filter=t.a > Float64(1) AND t.b < Float64(2), exprs=[t.a, t.b, t.s, t.d]\
         \n  TableScan: t"
    );
}

#[test]
fn a_stage_over_a_stage_that_computes_its_inputs_becomes_one() {
    let optimizer = Optimizer::with_rules(vec![Arc::new(FuseRowWise)]);
    let optimize = |plan| {
        optimizer
            .optimize(plan, &OptimizerContext::new(), |_, _| {})
            .expect("optimizes")
    };
    let lower = optimize(
        scan()
            .filter(col("a").gt(lit(1.0)))
            .unwrap()
            .project(vec![(col("a") * col("b")).alias("c"), col("s")])
            .unwrap()
            .build()
            .unwrap(),
    );
    let upper = datafusion::logical_expr::LogicalPlanBuilder::from(lower)
        .project(vec![(col("c") + lit(1.0)).alias("y"), col("c"), col("s")])
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        optimize(upper).display_indent().to_string(),
        "FusedStage: filter=t.a > Float64(1), exprs=[t.a * t.b + Float64(1) AS y, t.a * t.b AS c, t.s]\
         \n  TableScan: t"
    );
}
