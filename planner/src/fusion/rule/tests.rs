//! Plans before and after the fusion rule.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::logical_expr::{col, lit, table_scan, LogicalPlan};
use datafusion::optimizer::{Optimizer, OptimizerContext};
use datafusion::prelude::{sqrt, upper};

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
fn plain_column_projections_and_decimals_stay_with_datafusion() {
    let plan = scan()
        .project(vec![col("a"), col("s")])
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(fused(plan), "Projection: t.a, t.s\n  TableScan: t");
    let plan = scan()
        .project(vec![(col("d") + col("d")).alias("dd")])
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(fused(plan), "Projection: t.d + t.d AS dd\n  TableScan: t");
}
