//! Aggregations over joins, with and without the first step below the joins: the same rows,
//! and the plans the rule takes.

use std::sync::Arc;

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::SessionContext;

use super::{AggregateBelowJoin, FIRST_STEP};

// The q18 rule (`having_subquery.rs`) is tested with all of corepy's rules, which move the
// semi join onto the orders first.

#[derive(Clone, Copy, PartialEq)]
enum Rules {
    None,
    Alone,
    /// corepy's rules after DataFusion's (the analyzer's checked sums too).
    All,
}

/// Customer 1 twice (two rows with one key), a NULL customer key, an order of no customer
/// and one with no lines, lines of no order, NULL prices (order 13's only), a NaN price.
const TABLES: &[&str] = &[
    "CREATE TABLE customer (c_custkey BIGINT, c_name VARCHAR, c_nationkey BIGINT)",
    "INSERT INTO customer VALUES (1, 'ann', 1), (1, 'ann', 1), (2, 'bob', 2), (3, 'cy', 1), \
     (4, 'di', NULL), (NULL, 'ed', 2), (5, 'flo', 3)",
    "CREATE TABLE nation (n_nationkey BIGINT, n_name VARCHAR)",
    "INSERT INTO nation VALUES (1, 'x'), (2, 'y'), (3, 'z'), (1, 'x2')",
    "CREATE TABLE orders (o_orderkey BIGINT, o_custkey BIGINT, o_year BIGINT)",
    "INSERT INTO orders VALUES (10, 1, 1994), (11, 1, 1995), (12, 2, 1994), (13, 3, 1994), \
     (14, NULL, 1994), (15, 9, 1994), (16, 4, 1994), (17, 5, 1994), (18, 2, 1994)",
    "CREATE TABLE lineitem (l_orderkey BIGINT, l_price DOUBLE, l_disc DOUBLE, l_qty BIGINT, \
     l_flag VARCHAR, l_dec DECIMAL(12, 2), l_wide DECIMAL(38, 2))",
    "INSERT INTO lineitem VALUES \
     (10, 10.0, 0.1, 1, 'R', 1.50, 1.50), (10, 20.0, 0.0, 2, 'N', 2.25, 2.25), \
     (11, 5.0, 0.5, 3, 'R', 3.00, 3.00), (12, 7.0, 0.0, 4, 'R', 4.10, 4.10), \
     (12, 1.0, 0.0, 5, 'R', NULL, NULL), (13, NULL, 0.0, 6, 'R', 6.00, 6.00), \
     (14, 3.0, 0.0, 7, 'R', 7.00, 7.00), (15, 4.0, 0.0, 8, 'R', 8.00, 8.00), \
     (16, 'NaN', 0.0, 9, 'R', 9.00, 9.00), (17, 2.0, 0.2, NULL, 'R', 1.00, 1.00), \
     (99, 6.0, 0.0, 10, 'R', 2.00, 2.00), (NULL, 1.0, 0.0, 11, 'R', 3.00, 3.00), \
     (18, 8.0, 0.0, 12, 'N', 4.00, 4.00)",
];

/// The optimized plan and the sorted rows of `sql`.
fn run(sql: &str, rules: Rules) -> (String, String) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let mut builder = SessionStateBuilder::new().with_default_features();
        match rules {
            Rules::None => {}
            Rules::Alone => builder = builder.with_optimizer_rule(Arc::new(AggregateBelowJoin)),
            Rules::All => {
                for rule in crate::rules::analyzer_rules() {
                    builder = builder.with_analyzer_rule(rule);
                }
                for rule in crate::rules::optimizer_rules(false) {
                    builder = builder.with_optimizer_rule(rule);
                }
            }
        }
        let ctx = SessionContext::new_with_state(builder.build());
        for statement in TABLES {
            ctx.sql(statement).await.unwrap().collect().await.unwrap();
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

/// Aggregations over joins, and whether the rule takes each.
const AGGREGATIONS: &[(&str, bool)] = &[
    // TPC-H q10's shape: the lines of filtered orders summed per customer key first.
    (
        "SELECT c_custkey, c_name, n_name, sum(l_price * (1 - l_disc)) AS revenue \
         FROM customer, orders, lineitem, nation WHERE c_custkey = o_custkey \
         AND l_orderkey = o_orderkey AND o_year = 1994 AND l_flag = 'R' \
         AND c_nationkey = n_nationkey GROUP BY c_custkey, c_name, n_name",
        true,
    ),
    // Counts, minimums and maximums; only the lines are read, so they alone go first.
    (
        "SELECT c_name, count(*) AS n, count(l_price) AS priced, min(l_price) AS lo, \
         max(l_qty) AS hi, sum(l_qty) AS q, sum(l_wide) AS w FROM customer \
         JOIN orders ON c_custkey = o_custkey JOIN lineitem ON l_orderkey = o_orderkey \
         GROUP BY c_name",
        true,
    ),
    // The lines of R summed per order, the orders then met by customers and nations (a
    // group column of the orders, which are not filtered, is the second step's).
    (
        "SELECT o_year, n_name, sum(l_qty) AS q, max(l_price) AS m FROM lineitem JOIN orders \
         ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey \
         JOIN nation ON c_nationkey = n_nationkey WHERE l_flag = 'R' GROUP BY o_year, n_name",
        true,
    ),
    // Not taken where the pay-off is unlikely: no groups; a group column of the first step's
    // tables; no text among the groups.
    (
        "SELECT sum(l_price) AS total, count(*) AS n FROM lineitem \
         JOIN orders ON l_orderkey = o_orderkey",
        false,
    ),
    (
        "SELECT l_flag, n_name, sum(l_qty) AS q FROM lineitem JOIN orders \
         ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey \
         JOIN nation ON c_nationkey = n_nationkey GROUP BY l_flag, n_name",
        false,
    ),
    (
        "SELECT c_custkey, c_nationkey, sum(l_qty) AS q FROM customer \
         JOIN orders ON c_custkey = o_custkey JOIN lineitem ON l_orderkey = o_orderkey \
         GROUP BY c_custkey, c_nationkey",
        false,
    ),
    // A decimal sum whose two steps would widen its type.
    (
        "SELECT c_name, sum(l_dec) AS d FROM customer JOIN orders ON c_custkey = o_custkey \
         JOIN lineitem ON l_orderkey = o_orderkey GROUP BY c_name",
        false,
    ),
    // A volatile argument.
    (
        "SELECT c_name, sum(l_price * (random() + 1)) > 0 AS d FROM customer \
         JOIN orders ON c_custkey = o_custkey JOIN lineitem ON l_orderkey = o_orderkey \
         GROUP BY c_name",
        false,
    ),
    (
        "SELECT c_name, sum(DISTINCT l_qty) AS d FROM customer \
         JOIN orders ON c_custkey = o_custkey JOIN lineitem ON l_orderkey = o_orderkey \
         GROUP BY c_name",
        false,
    ),
    (
        "SELECT c_name, avg(l_price) AS a FROM customer JOIN orders ON c_custkey = o_custkey \
         JOIN lineitem ON l_orderkey = o_orderkey GROUP BY c_name",
        false,
    ),
    // Every table filters: nothing is left to join after the first step.
    (
        "SELECT c_name, sum(l_price) AS s FROM customer JOIN orders ON c_custkey = o_custkey \
         JOIN lineitem ON l_orderkey = o_orderkey WHERE c_nationkey = 1 AND o_year = 1994 \
         AND l_flag = 'R' GROUP BY c_name",
        false,
    ),
    // Two conditions join the orders to the customers.
    (
        "SELECT c_name, sum(o_year) AS s FROM orders JOIN customer \
         ON o_custkey = c_custkey AND o_orderkey = c_nationkey + 9 WHERE o_year > 0 \
         GROUP BY c_name",
        false,
    ),
    (
        "SELECT c_name, sum(l_qty) AS s FROM orders JOIN customer ON o_custkey = c_custkey \
         JOIN lineitem ON l_orderkey = o_orderkey AND l_qty < c_nationkey + 5 GROUP BY c_name",
        false,
    ),
    (
        "SELECT upper(c_name) AS u, sum(l_qty) AS s FROM customer \
         JOIN orders ON c_custkey = o_custkey JOIN lineitem ON l_orderkey = o_orderkey \
         GROUP BY upper(c_name)",
        false,
    ),
    (
        "SELECT c_name, sum(l_qty) AS s FROM customer \
         LEFT JOIN orders ON c_custkey = o_custkey JOIN lineitem ON l_orderkey = o_orderkey \
         GROUP BY c_name",
        false,
    ),
];

#[test]
fn an_aggregation_over_joins_sums_first_below_the_tables_it_does_not_read() {
    for (sql, rewritten) in AGGREGATIONS {
        let (plain_plan, want) = run(sql, Rules::None);
        assert!(!rewritten || want.lines().count() > 4, "{sql}\n{want}");
        for rules in [Rules::Alone, Rules::All] {
            let (plan, got) = run(sql, rules);
            assert_eq!(got, want, "{sql}\n{plan}\n{plain_plan}");
            assert_eq!(plan.contains(FIRST_STEP), *rewritten, "{sql}\n{plan}");
            // The first step happens once, and a second pass finds nothing more to do.
            let steps = plan.matches("Aggregate:").count();
            let plain_steps = plain_plan.matches("Aggregate:").count();
            assert_eq!(
                steps,
                plain_steps + usize::from(*rewritten),
                "{sql}\n{plan}"
            );
        }
    }
}

#[test]
fn the_first_step_groups_by_the_key_that_meets_the_other_tables() {
    let (plan, rows) = run(AGGREGATIONS[0].0, Rules::Alone);
    let first = plan
        .lines()
        .find(|l| l.contains(&format!("AS {FIRST_STEP}")))
        .unwrap_or_else(|| panic!("{plan}"));
    assert!(first.contains("groupBy=[[orders.o_custkey]]"), "{plan}");
    // By hand: ann's two rows, each met by nations x and x2, have order 10's R line (9.0)
    // twice per group; bob has order 12's 7.0 + 1.0; cy's only line has no price (NULL);
    // di has no nation; flo 2.0 × 0.8.
    assert_eq!(rows.matches("| 18.0 ").count(), 2, "{rows}");
    assert_eq!(rows.matches("| 8.0 ").count(), 1, "{rows}");
    assert_eq!(rows.matches("| 1.6 ").count(), 1, "{rows}");
    assert!(!rows.contains("| di "), "{rows}");
}

/// TPC-H q18's shape, and whether the HAVING subquery's aggregation takes the outer sums.
const HAVING: &[(&str, bool)] = &[
    (
        "SELECT c_name, o_orderkey, sum(l_qty) AS q FROM customer, orders, lineitem \
         WHERE o_orderkey IN (SELECT l_orderkey FROM lineitem GROUP BY l_orderkey \
         HAVING sum(l_qty) > 5) AND c_custkey = o_custkey AND o_orderkey = l_orderkey \
         GROUP BY c_name, o_orderkey",
        true,
    ),
    (
        "SELECT c_name, o_orderkey, o_year, count(*) AS n, max(l_price) AS hi, \
         min(l_price) AS lo, sum(l_price) AS s, sum(l_dec) AS d FROM customer, orders, lineitem \
         WHERE o_orderkey IN (SELECT l_orderkey FROM lineitem GROUP BY l_orderkey \
         HAVING count(*) >= 1 AND sum(l_price) > 2) AND c_custkey = o_custkey \
         AND o_orderkey = l_orderkey GROUP BY c_name, o_orderkey, o_year",
        true,
    ),
    // The subquery reads fewer lines than the outer query.
    (
        "SELECT c_name, o_orderkey, sum(l_qty) AS q FROM customer, orders, lineitem \
         WHERE o_orderkey IN (SELECT l_orderkey FROM lineitem WHERE l_flag = 'R' \
         GROUP BY l_orderkey HAVING sum(l_qty) > 5) AND c_custkey = o_custkey \
         AND o_orderkey = l_orderkey GROUP BY c_name, o_orderkey",
        false,
    ),
    // The outer query reads fewer lines than the subquery.
    (
        "SELECT c_name, o_orderkey, sum(l_qty) AS q FROM customer, orders, lineitem \
         WHERE o_orderkey IN (SELECT l_orderkey FROM lineitem GROUP BY l_orderkey \
         HAVING sum(l_qty) > 5) AND c_custkey = o_custkey AND o_orderkey = l_orderkey \
         AND l_flag = 'R' GROUP BY c_name, o_orderkey",
        false,
    ),
    // The lines join the orders on another column than the subquery's key.
    (
        "SELECT c_name, o_orderkey, sum(l_qty) AS q FROM customer, orders, lineitem \
         WHERE o_orderkey IN (SELECT l_orderkey FROM lineitem GROUP BY l_orderkey \
         HAVING sum(l_qty) > 5) AND c_custkey = o_custkey AND o_custkey = l_orderkey \
         GROUP BY c_name, o_orderkey",
        false,
    ),
    (
        "SELECT c_name, o_orderkey, sum(l_qty) AS q FROM customer, orders, lineitem \
         WHERE o_orderkey NOT IN (SELECT l_orderkey FROM lineitem WHERE l_orderkey \
         IS NOT NULL GROUP BY l_orderkey HAVING sum(l_qty) > 5) AND c_custkey = o_custkey \
         AND o_orderkey = l_orderkey GROUP BY c_name, o_orderkey",
        false,
    ),
    // A group column of the lines.
    (
        "SELECT c_name, l_flag, sum(l_qty) AS q FROM customer, orders, lineitem \
         WHERE o_orderkey IN (SELECT l_orderkey FROM lineitem GROUP BY l_orderkey \
         HAVING sum(l_qty) > 5) AND c_custkey = o_custkey AND o_orderkey = l_orderkey \
         GROUP BY c_name, l_flag",
        false,
    ),
];

#[test]
fn a_having_subquery_aggregation_also_sums_for_the_outer_query() {
    for (sql, rewritten) in HAVING {
        let (plain_plan, want) = run(sql, Rules::None);
        assert!(!rewritten || want.lines().count() > 5, "{sql}\n{want}");
        let (plan, got) = run(sql, Rules::All);
        assert_eq!(got, want, "{sql}\n{plan}\n{plain_plan}");
        let scans = plan.matches("TableScan: lineitem").count();
        assert_eq!(scans == 1, *rewritten, "{sql}\n{plan}");
    }
}

#[test]
fn a_count_over_no_rows_stays_zero_and_not_nullable() {
    // No groups and no order passing the HAVING: the count is 0 (a sum of no counts would
    // be NULL), the sum NULL; the count's field stays non-nullable.
    let sql = "SELECT count(*) AS n, count(l_price) AS c, sum(l_qty) AS q FROM orders, lineitem \
               WHERE o_orderkey IN (SELECT l_orderkey FROM lineitem GROUP BY l_orderkey \
               HAVING sum(l_qty) > 1000) AND o_orderkey = l_orderkey";
    let (plain_plan, want) = run(sql, Rules::None);
    let (plan, got) = run(sql, Rules::All);
    assert_eq!(plan.matches("TableScan: lineitem").count(), 1, "{plan}");
    assert_eq!(got, want, "{plan}\n{plain_plan}");
    assert!(want.contains("| 0 | 0 |"), "{want}");
    assert!(plan.contains("ELSE Int64(0) END AS n"), "{plan}");
}
