//! Scalar subqueries over the filtered relation, with and without the rewrite.

use std::sync::Arc;

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::SessionContext;

use super::ScalarSubqueryAsWindow;

fn context(rewrite: bool) -> SessionContext {
    let mut builder = SessionStateBuilder::new().with_default_features();
    if rewrite {
        builder = builder.with_optimizer_rule(Arc::new(ScalarSubqueryAsWindow));
    }
    SessionContext::new_with_state(builder.build())
}

/// The optimized plan and the sorted rows of `sql` over `lineitem` filled by `values`.
fn run(sql: &str, values: &str, rewrite: bool) -> (String, String) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let ctx = context(rewrite);
        let create = "CREATE TABLE lineitem (l_suppkey BIGINT, l_price DOUBLE, l_qty BIGINT)";
        ctx.sql(create).await.unwrap().collect().await.unwrap();
        if !values.is_empty() {
            let insert = format!("INSERT INTO lineitem VALUES {values}");
            ctx.sql(&insert).await.unwrap().collect().await.unwrap();
        }
        let frame = ctx.sql(sql).await.expect("plans");
        let optimized = frame.clone().into_optimized_plan().expect("optimizes");
        let plan = optimized.display_indent().to_string();
        let batches = frame.collect().await.expect("runs");
        let text = pretty_format_batches(&batches).unwrap().to_string();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort_unstable();
        (plan, lines.join("\n"))
    })
}

const REVENUE: &str = "WITH revenue AS (SELECT l_suppkey AS s, sum(l_price) AS total, \
     sum(l_qty) AS q FROM lineitem GROUP BY l_suppkey) ";

const ROWS: &str = "(1, 10.0, 1), (1, 5.0, 2), (2, 15.0, 3), (3, 2.0, NULL), (NULL, 15.0, 5), \
     (4, NULL, 6), (5, 15.0, 7)";

#[test]
fn a_maximum_of_the_filtered_relation_becomes_a_window_over_it() {
    let sql = format!(
        "{REVENUE}SELECT s, total FROM revenue WHERE total = (SELECT max(total) FROM revenue)"
    );
    let (plan, rows) = run(&sql, ROWS, true);
    assert!(plan.contains("WindowAggr"), "{plan}");
    assert!(!plan.contains("Subquery:"), "{plan}");
    assert_eq!(plan.matches("TableScan: lineitem").count(), 1, "{plan}");
    let (_, want) = run(&sql, ROWS, false);
    assert_eq!(rows, want);
    // Four suppliers (one of them NULL) share the largest total.
    assert_eq!(rows.matches("| 15.0  |").count(), 4, "{rows}");
}

/// Filters whose answers the rewrite keeps (the first three rewritten, the rest not).
const KEPT: &[&str] = &[
    "SELECT s FROM revenue WHERE total > (SELECT avg(total) * 0.5 FROM revenue)",
    "SELECT s FROM revenue WHERE q = (SELECT count(*) FROM revenue)",
    "SELECT s FROM revenue WHERE q >= (SELECT sum(q) FROM revenue) / 4",
    // The outer `s > 1` goes below the aggregation (filter pushdown): another relation.
    "SELECT s FROM revenue WHERE q < (SELECT min(q) FROM revenue) + 3 AND s > 1",
    // Over a filtered relation: another relation, not rewritten.
    "SELECT s FROM revenue WHERE total = (SELECT max(total) FROM revenue WHERE s > 2)",
    // Correlated: not rewritten.
    "SELECT s FROM revenue r1 WHERE total = (SELECT max(total) FROM revenue r2 WHERE r2.s = r1.s)",
    "SELECT s FROM revenue WHERE total = (SELECT max(DISTINCT total) FROM revenue)",
];

#[test]
fn answers_are_the_same_with_and_without_the_rewrite() {
    let mut windows = 0;
    for sql in KEPT {
        let sql = format!("{REVENUE}{sql}");
        for values in [ROWS, "", "(1, NULL, NULL)", "(NULL, 1.0, 1)"] {
            let (plan, got) = run(&sql, values, true);
            let (_, want) = run(&sql, values, false);
            assert_eq!(got, want, "{sql} over {values:?}\n{plan}");
            windows += usize::from(plan.contains("WindowAggr"));
        }
    }
    assert_eq!(windows, 3 * 4);
}
