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
    column_names(plan)
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
            aggregate("max", col("a"), None).unwrap(),
            aggregate("mean", col("b"), None).unwrap().alias("avg_b"),
        ],
    )
    .unwrap();
    assert_eq!(names(&plan), ["s", "a", "avg_b"]);
    assert_eq!(
        plan_text(&plan),
        "Aggregate: groupBy=[[t.s]], aggr=[[max(t.a) AS a, avg(t.b) AS avg_b]]\n  TableScan: t"
    );
}

#[test]
fn expressions_over_aggregates_compute_each_aggregate_once() {
    let mean = binary(
        aggregate("sum", col("a"), None).unwrap(),
        "/",
        aggregate("count", col("a"), None).unwrap(),
    )
    .unwrap();
    let plan = group_by(
        scan(),
        vec![col("s")],
        vec![
            mean.alias("m"),
            aggregate("sum", col("a"), None).unwrap().alias("total"),
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
    let plan = select(scan(), vec![aggregate("max", col("b"), None).unwrap()]).unwrap();
    assert!(matches!(plan, LogicalPlan::Aggregate(_)));
    let error = select(
        scan(),
        vec![aggregate("max", col("b"), None).unwrap(), col("a")],
    )
    .unwrap_err();
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
fn limit_takes_rows_in_the_source_order() {
    let plan = limit(scan(), 5, Some(10)).unwrap();
    assert_eq!(
        plan_text(&plan),
        "Projection: t.a, t.b, t.s\n  Limit: skip=5, fetch=10\n    Sort: __corepy_row ASC NULLS FIRST\n      RowIndex: __corepy_row from 0\n        TableScan: t"
    );
}

#[test]
fn limit_of_a_sorted_frame_keeps_the_sort() {
    let key = SortKey {
        expr: col("a"),
        descending: false,
        nulls_last: false,
    };
    let plan = limit(sort(scan(), vec![key]).unwrap(), 0, Some(3)).unwrap();
    assert_eq!(
        plan_text(&plan),
        "Limit: skip=0, fetch=3\n  Sort: t.a ASC NULLS FIRST\n    TableScan: t"
    );
}

fn other() -> LogicalPlan {
    let schema = Schema::new(vec![
        Field::new("b", DataType::Int32, true),
        Field::new("a", DataType::Int64, true),
        Field::new("y", DataType::Boolean, true),
    ]);
    table_scan(Some("u"), &schema, None)
        .unwrap()
        .build()
        .unwrap()
}

fn join_on(
    how: &str,
    left_on: &str,
    right_on: &str,
    coalesce: Option<bool>,
) -> Result<LogicalPlan> {
    join(
        scan(),
        other(),
        JoinSpec {
            how: How::parse(how)?,
            left_on: vec![col(left_on)],
            right_on: vec![col(right_on)],
            suffix: "_right".into(),
            coalesce,
            nulls_equal: false,
        },
    )
}

#[test]
fn join_outputs_follow_polars_names_and_key_coalescing() {
    let names_of = |how, coalesce| names(&join_on(how, "a", "a", coalesce).unwrap());
    assert_eq!(names_of("inner", None), ["a", "b", "s", "b_right", "y"]);
    assert_eq!(names_of("left", None), ["a", "b", "s", "b_right", "y"]);
    assert_eq!(names_of("right", None), ["b", "s", "b_right", "a", "y"]);
    assert_eq!(
        names_of("full", None),
        ["a", "b", "s", "b_right", "a_right", "y"]
    );
    assert_eq!(
        names_of("full", Some(true)),
        ["a", "b", "s", "b_right", "y"]
    );
    assert_eq!(
        names_of("inner", Some(false)),
        ["a", "b", "s", "b_right", "a_right", "y"]
    );
    assert_eq!(names_of("semi", None), ["a", "b", "s"]);
    assert_eq!(names_of("anti", None), ["a", "b", "s"]);
    // A right join on differently named keys drops the left key, so `b` is free again.
    let right = join_on("right", "b", "a", None).unwrap();
    assert_eq!(names(&right), ["a", "s", "b", "a_right", "y"]);
}

#[test]
fn a_full_join_asked_to_coalesce_takes_either_key() {
    let plan = join_on("full", "a", "a", Some(true)).unwrap();
    let text = plan_text(&plan);
    assert!(
        text.starts_with("Projection: coalesce(__corepy_left.a, __corepy_right.a) AS a,"),
        "{text}"
    );
    assert!(
        text.contains("Full Join:  Filter")
            || text.contains("Full Join: __corepy_left.a = __corepy_right.a"),
        "{text}"
    );
}

#[test]
fn join_keys_are_checked_on_their_own_side() {
    let error = join_on("inner", "a", "aa", None).unwrap_err();
    assert!(
        matches!(&error, CorepyError::ColumnNotFound { column, .. } if column == "aa"),
        "{error:?}"
    );
    let error = join_on("inner", "s", "a", None).unwrap_err();
    assert_eq!(
        error.to_string(),
        "join keys cannot be compared: `s` (Utf8) on the left with `a` (Int64) on the right; \
         cast one of them"
    );
    let error = join_on("sideways", "a", "a", None).unwrap_err();
    assert!(error.to_string().contains("semi, anti, cross"), "{error}");
}

#[test]
fn a_cross_join_takes_no_keys() {
    let cross = |left_on: Vec<Expr>| {
        join(
            scan(),
            other(),
            JoinSpec {
                how: How::Cross,
                right_on: left_on.clone(),
                left_on,
                suffix: "_r".into(),
                coalesce: None,
                nulls_equal: false,
            },
        )
    };
    let plan = cross(vec![]).unwrap();
    assert_eq!(names(&plan), ["a", "b", "s", "b_r", "a_r", "y"]);
    assert!(cross(vec![col("a")]).is_err());
}

#[test]
fn unique_plans_distinct_rows_or_one_row_per_subset() {
    let all = unique(scan(), vec![]).unwrap();
    assert_eq!(plan_text(&all), "Distinct:\n  TableScan: t");
    let some = unique(scan(), vec![col("s")]).unwrap();
    assert_eq!(names(&some), ["a", "b", "s"]);
    assert!(
        plan_text(&some).starts_with("DistinctOn: on_expr=[[t.s]]"),
        "{}",
        plan_text(&some)
    );
    assert!(matches!(
        unique(scan(), vec![col("nope")]),
        Err(CorepyError::ColumnNotFound { .. })
    ));
}

#[test]
fn the_lazy_api_divides_integers_as_polars_does() {
    let plan = select(scan(), vec![col("a") / lit(2)]).unwrap();
    assert_eq!(plan.schema().field(0).data_type(), &DataType::Float64);
    let filtered = filter(scan(), (col("a") / lit(2)).gt(lit(1))).unwrap();
    assert!(plan_text(&filtered).contains("CAST(t.a AS Float64) / CAST(Int32(2) AS Float64)"));
}
