//! Which filters over a `row_number()` window become a `TopPerGroup`, and which do not.
//! (The rows it returns are compared with DataFusion's window in `engine`'s tests.)

use std::sync::Arc;

use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::SessionContext;

use super::WindowTopAsTopPerGroup;

fn optimized(sql: &str) -> String {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
        .block_on(async {
            let state = SessionStateBuilder::new()
                .with_default_features()
                .with_optimizer_rule(Arc::new(WindowTopAsTopPerGroup))
                .build();
            let ctx = SessionContext::new_with_state(state);
            ctx.sql("CREATE TABLE t (g INT, s VARCHAR, v DOUBLE, w BIGINT)")
                .await
                .expect("creates")
                .collect()
                .await
                .expect("runs");
            let plan = ctx.state().create_logical_plan(sql).await.expect("plans");
            let plan = ctx.state().optimize(&plan).expect("optimizes");
            let text = plan.display_indent().to_string();
            text
        })
}

/// `SELECT * FROM (… row_number() … AS n FROM t) WHERE <filter>`
fn numbered(window: &str, filter: &str) -> String {
    optimized(&format!(
        "SELECT g, v FROM (SELECT g, v, w, {window} AS n FROM t) WHERE {filter}"
    ))
}

const ROW_NUMBER: &str = "row_number() OVER (PARTITION BY g ORDER BY v DESC)";

/// The `k` of the plan's `TopPerGroup`, `None` when the window stayed.
fn k_of(plan: &str) -> Option<u64> {
    let k = k_with_windows(plan)?;
    assert!(
        !plan.contains("WindowAggr"),
        "both the window and the top in\n{plan}"
    );
    Some(k)
}

/// [`k_of`] in a plan that keeps other windows below the top.
fn k_with_windows(plan: &str) -> Option<u64> {
    let at = plan.find("TopPerGroup: k=")? + "TopPerGroup: k=".len();
    let digits: String = plan[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some(digits.parse().expect("a number"))
}

#[test]
fn the_top_rows_of_each_group_replace_the_window() {
    let plan = numbered(ROW_NUMBER, "n <= 2");
    let expected = "TopPerGroup: k=2, partition_by=[t.g], order_by=[t.v DESC NULLS FIRST]";
    assert!(plan.contains(expected), "{plan}");
    // The filter stays above it, unchanged.
    assert!(plan.contains("Filter: row_number()"), "{plan}");
}

#[test]
fn every_form_of_an_upper_bound_gives_its_k() {
    for (filter, k) in [
        ("n <= 2", 2),
        ("n < 3", 2),
        ("n = 1", 1),
        ("3 >= n", 3),
        ("3 > n", 2),
        ("1 = n", 1),
        ("n BETWEEN 2 AND 4", 4),
        ("n <= 5 AND n <= 3", 3),
        ("n <= 2 AND v > 0.5", 2),
        ("NOT (n > 2)", 2),
        ("CAST(n AS BIGINT) <= 2", 2),
        ("n <= 0", 0),
        ("n < 0", 0),
        ("n <= CAST(2 AS TINYINT)", 2),
    ] {
        assert_eq!(k_of(&numbered(ROW_NUMBER, filter)), Some(k), "{filter}");
    }
}

#[test]
fn the_lazy_apis_ordinal_rank_is_bounded_too() {
    // `rank("ordinal")` is NULL where the ordered value is; a branch of NULL keeps the bound.
    let window = format!("CASE WHEN v IS NULL THEN NULL ELSE {ROW_NUMBER} END");
    assert_eq!(k_of(&numbered(&window, "n <= 2")), Some(2));
}

#[test]
fn filters_that_do_not_bound_the_number_keep_the_window() {
    for filter in [
        "n > 2",
        "n >= 2",
        "n <> 1",
        "n <= 2 OR v > 0.5",
        "n NOT BETWEEN 1 AND 2",
        "n <= w",
        "CAST(n AS DOUBLE) <= 2.5",
        "CAST(n AS VARCHAR) <= '2'",
        "n + 0 <= 2",
        "CASE WHEN v > 0 THEN 1 ELSE n END <= 2",
        "n IS NOT NULL",
        // A conjunct that may fail must still see every row.
        "n <= 2 AND 10 / w > 1",
        "n <= 2 AND CAST(v AS BIGINT) > 0",
        "n <= 2 AND w + 1 > 0",
    ] {
        let plan = numbered(ROW_NUMBER, filter);
        assert_eq!(k_of(&plan), None, "{filter}:\n{plan}");
    }
}

#[test]
fn other_window_functions_keep_the_window() {
    for window in [
        "rank() OVER (PARTITION BY g ORDER BY v DESC)",
        "dense_rank() OVER (PARTITION BY g ORDER BY v DESC)",
        "count(*) OVER (PARTITION BY g ORDER BY v DESC)",
        "ntile(2) OVER (PARTITION BY g ORDER BY v DESC)",
        // A key evaluated twice (by the repartition and by the operator) must not vary.
        "row_number() OVER (PARTITION BY g ORDER BY random())",
    ] {
        let plan = numbered(window, "n <= 2");
        assert_eq!(k_of(&plan), None, "{window}:\n{plan}");
    }
}

#[test]
fn a_window_computing_more_than_the_number_keeps_the_window() {
    let plan = optimized(&format!(
        "SELECT g, v FROM (SELECT g, v, {ROW_NUMBER} AS n, \
         sum(v) OVER (PARTITION BY g ORDER BY v DESC) AS total FROM t) \
         WHERE n <= 2 AND total > 1"
    ));
    assert_eq!(k_of(&plan), None, "{plan}");
}

#[test]
fn numbers_without_partition_or_order_are_bounded() {
    let whole = numbered("row_number() OVER (ORDER BY v)", "n <= 3");
    assert!(
        whole.contains("TopPerGroup: k=3, partition_by=[], order_by=[t.v"),
        "{whole}"
    );
    let unordered = numbered("row_number() OVER (PARTITION BY s, g)", "n <= 1");
    assert!(
        unordered.contains("TopPerGroup: k=1, partition_by=[t.s, t.g], order_by=[]"),
        "{unordered}"
    );
}

#[test]
fn a_window_below_another_window_is_replaced_when_the_filter_is_over_it() {
    // The lower window still sees every row; only the top one is bounded.
    let plan = optimized(&format!(
        "SELECT * FROM (SELECT g, v, total, {ROW_NUMBER} AS n FROM \
         (SELECT g, v, sum(v) OVER (PARTITION BY s) AS total FROM t)) WHERE n <= 2"
    ));
    assert_eq!(k_with_windows(&plan), Some(2), "{plan}");
    assert!(
        plan.contains("WindowAggr: windowExpr=[[sum(t.v) PARTITION BY [t.s]"),
        "{plan}"
    );
}
