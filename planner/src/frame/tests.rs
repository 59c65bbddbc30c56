use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::logical_expr::{table_scan, LogicalPlan};
use datafusion::prelude::{col, lit};

use super::*;
use crate::expr::{aggregate, binary};

fn scan() -> LogicalPlan {
    let schema = Schema::new(vec![
        Field::new("a", DataType::Int64, true),
        Field::new("b", DataType::Float64, true),
        Field::new("s", DataType::Utf8, true),
    ]);
    table_scan(Some("t"), &schema, None)
        .unwrap()
        .build()
        .unwrap()
}

fn plan_text(plan: &LogicalPlan) -> String {
    plan.display_indent().to_string()
}

fn names(plan: &LogicalPlan) -> Vec<String> {
    plan.schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

#[test]
fn select_names_results_after_their_left_most_column() {
    let plan = select(scan(), vec![col("a") + lit(1), col("b").alias("x")]).unwrap();
    assert_eq!(names(&plan), ["a", "x"]);
    assert_eq!(
        plan_text(&plan),
        "Projection: t.a + Int32(1) AS a, t.b AS x\n  TableScan: t"
    );
}

#[test]
fn with_columns_replaces_in_place_and_appends_new_ones() {
    let plan = with_columns(
        scan(),
        vec![col("b") * lit(2.0), (col("a") + lit(1)).alias("c")],
    )
    .unwrap();
    assert_eq!(names(&plan), ["a", "b", "s", "c"]);
}

#[test]
fn filter_requires_a_boolean_predicate() {
    let error = filter(scan(), col("a") + lit(1)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "filter predicate `a + 1` has type Int64, expected Boolean"
    );
    let plan = filter(scan(), col("a").gt(lit(1))).unwrap();
    assert_eq!(plan_text(&plan), "Filter: t.a > Int32(1)\n  TableScan: t");
}

#[test]
fn unknown_column_in_select_is_a_column_error() {
    let error = select(scan(), vec![col("bb")]).unwrap_err();
    assert!(
        matches!(error, CorepyError::ColumnNotFound { ref column, ref candidates, .. }
            if column == "bb" && candidates.contains(&"b".to_string())),
        "{error:?}"
    );
}

#[test]
fn duplicate_output_names_point_at_alias() {
    let error = select(scan(), vec![col("a"), col("a") + lit(1)]).unwrap_err();
    assert!(
        error.to_string().contains("duplicate output column 'a'"),
        "{error}"
    );
}

#[test]
fn group_by_outputs_keys_then_aggregations() {
    let plan = group_by(
        scan(),
        vec![col("s")],
        vec![
            aggregate("sum", col("a")).unwrap(),
            aggregate("mean", col("b")).unwrap().alias("avg_b"),
        ],
    )
    .unwrap();
    assert_eq!(names(&plan), ["s", "a", "avg_b"]);
    assert_eq!(
        plan_text(&plan),
        "Aggregate: groupBy=[[t.s]], aggr=[[sum(t.a) AS a, avg(t.b) AS avg_b]]\n  TableScan: t"
    );
}

#[test]
fn expressions_over_aggregates_compute_each_aggregate_once() {
    let mean = binary(
        aggregate("sum", col("a")).unwrap(),
        "/",
        aggregate("count", col("a")).unwrap(),
    )
    .unwrap();
    let plan = group_by(
        scan(),
        vec![col("s")],
        vec![
            mean.alias("m"),
            aggregate("sum", col("a")).unwrap().alias("total"),
        ],
    )
    .unwrap();
    assert_eq!(names(&plan), ["s", "m", "total"]);
    let text = plan_text(&plan);
    assert_eq!(text.matches("sum(t.a)").count(), 1, "{text}");
}

#[test]
fn row_wise_expression_in_agg_is_rejected() {
    let error = group_by(scan(), vec![col("s")], vec![col("a")]).unwrap_err();
    assert!(error.to_string().contains("`a` is row-wise"), "{error}");
}

#[test]
fn select_of_only_aggregations_reduces_to_one_row() {
    let plan = select(scan(), vec![aggregate("max", col("b")).unwrap()]).unwrap();
    assert!(matches!(plan, LogicalPlan::Aggregate(_)));
    let error = select(scan(), vec![aggregate("max", col("b")).unwrap(), col("a")]).unwrap_err();
    assert!(matches!(error, CorepyError::InvalidArgument { .. }));
}

#[test]
fn sort_direction_and_null_placement_are_kept() {
    let plan = sort(
        scan(),
        vec![SortKey {
            expr: col("a"),
            descending: true,
            nulls_last: true,
        }],
    )
    .unwrap();
    assert_eq!(
        plan_text(&plan),
        "Sort: t.a DESC NULLS LAST\n  TableScan: t"
    );
}

#[test]
fn limit_with_offset() {
    let plan = limit(scan(), 5, Some(10)).unwrap();
    assert_eq!(plan_text(&plan), "Limit: skip=5, fetch=10\n  TableScan: t");
}
