use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::logical_expr::{table_scan, LogicalPlan};
use datafusion::prelude::col;

use super::*;
use crate::expr::aggregate;
use crate::frame::column_names;

fn scan() -> LogicalPlan {
    let schema = Schema::new(vec![
        Field::new("g", DataType::Utf8, true),
        Field::new("t", DataType::Timestamp(TimeUnit::Millisecond, None), true),
        Field::new("x", DataType::Float64, true),
    ]);
    table_scan(Some("q"), &schema, None)
        .unwrap()
        .build()
        .unwrap()
}

fn seconds(n: i64) -> Span {
    Span::Calendar {
        months: 0,
        days: 0,
        nanoseconds: n * 1_000_000_000,
    }
}

fn mean_x() -> Vec<Expr> {
    vec![aggregate("mean", col("x"), None).unwrap()]
}

fn rolling_spec(period: Span) -> RollingSpec {
    RollingSpec {
        index_column: None,
        period,
        offset: None,
        closed: Closed::Right,
        group_by: vec![col("g")],
    }
}

#[test]
fn rolling_finds_the_single_temporal_column_and_frames_ticks() {
    let plan = rolling(scan(), rolling_spec(seconds(1)), mean_x()).unwrap();
    assert_eq!(column_names(&plan), ["g", "t", "x"]);
    let text = plan.display_indent().to_string();
    // (t - 1 s, t] in milliseconds: 999 ms before the row up to the row.
    assert!(
        text.contains("RANGE BETWEEN 999 PRECEDING AND CURRENT ROW"),
        "{text}"
    );
}

#[test]
fn a_period_finer_than_the_index_unit_is_an_error() {
    let micro = Span::Calendar {
        months: 0,
        days: 0,
        nanoseconds: 1_000,
    };
    let error = rolling(scan(), rolling_spec(micro), mean_x()).unwrap_err();
    assert!(error.to_string().contains("whole number"), "{error}");
}

#[test]
fn a_string_index_is_a_schema_error() {
    let mut spec = rolling_spec(seconds(1));
    spec.index_column = Some("g".into());
    let error = rolling(scan(), spec, mean_x()).unwrap_err();
    assert!(matches!(error, CorepyError::Schema { .. }), "{error:?}");
    assert!(error.to_string().contains("must be a date"), "{error}");
}

#[test]
fn row_wise_expressions_are_refused() {
    let error = rolling(scan(), rolling_spec(seconds(1)), vec![col("x")]).unwrap_err();
    assert!(error.to_string().contains("row-wise"), "{error}");
}

#[test]
fn dynamic_windows_output_keys_bounds_label_and_aggregations() {
    let spec = DynamicSpec {
        index_column: Some("t".into()),
        every: seconds(10),
        period: Some(seconds(25)),
        offset: None,
        closed: Closed::Left,
        label: Label::Left,
        include_boundaries: true,
        group_by: vec![col("g")],
    };
    let plan = group_by_dynamic(scan(), spec, mean_x()).unwrap();
    assert_eq!(
        column_names(&plan),
        ["g", "_lower_boundary", "_upper_boundary", "t", "x"]
    );
    // Windows of 25 s every 10 s: a row lies in up to three of them.
    let text = plan.display_indent().to_string();
    assert!(text.contains("Unnest"), "{text}");
}

#[test]
fn grid_counts_overlapping_windows_and_folds_closed_ends() {
    let index = Index {
        name: "i".into(),
        data_type: DataType::Int64,
        tick_nanos: None,
    };
    let spec = |every, period, closed| DynamicSpec {
        index_column: None,
        every: Span::Index(every),
        period: Some(Span::Index(period)),
        offset: None,
        closed,
        label: Label::Left,
        include_boundaries: false,
        group_by: vec![],
    };
    let grid = dynamic::Grid::new(&spec(10, 10, Closed::Left), &index).unwrap();
    assert_eq!(
        (grid.windows_per_row(), grid.may_start_before_first_row()),
        (1, false)
    );
    let both = dynamic::Grid::new(&spec(10, 10, Closed::Both), &index).unwrap();
    assert_eq!(
        (both.windows_per_row(), both.may_start_before_first_row()),
        (2, true)
    );
    let right = dynamic::Grid::new(&spec(10, 10, Closed::Right), &index).unwrap();
    assert_eq!(
        (right.windows_per_row(), right.may_start_before_first_row()),
        (1, false)
    );
    assert!(dynamic::Grid::new(&spec(10, 1, Closed::None), &index).is_err());
}
