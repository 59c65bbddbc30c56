//! Scalar subqueries over the filtered relation, with and without the rewrite.

use std::sync::Arc;

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::SessionContext;

use super::{JoinedAggregateAsWindow, ScalarSubqueryAsWindow, ScalarSubqueryOverGroups};

fn context(rewrite: bool) -> SessionContext {
    let mut builder = SessionStateBuilder::new().with_default_features();
    if rewrite {
        builder = builder
            .with_optimizer_rule(Arc::new(ScalarSubqueryAsWindow))
            .with_optimizer_rule(Arc::new(ScalarSubqueryOverGroups))
            .with_optimizer_rule(Arc::new(JoinedAggregateAsWindow));
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
        // The rows alone: no borders, no header (an empty answer may come with or without
        // an empty batch, which prints a header).
        let text = pretty_format_batches(&batches).unwrap().to_string();
        let mut lines: Vec<&str> = text
            .lines()
            .filter(|line| !line.starts_with('+'))
            .skip(1)
            .collect();
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

/// Joins with a one-row aggregate of the same relation (the lazy API's cross join), and
/// whether the rewrite takes them over.
const JOINED: &[(&str, bool)] = &[
    (
        "SELECT s, total FROM revenue, (SELECT max(total) AS best FROM revenue) b \
         WHERE total = best",
        true,
    ),
    (
        "SELECT s, b.* FROM (SELECT max(total) * 0.5 AS half, min(q) AS mq FROM revenue) b \
         CROSS JOIN revenue WHERE total > half AND q >= mq",
        true,
    ),
    (
        "SELECT s, q, n FROM revenue CROSS JOIN (SELECT count(*) AS n FROM revenue) c",
        true,
    ),
    (
        "SELECT r.s FROM revenue r JOIN (SELECT sum(q) AS t FROM revenue) u ON r.q * 4 >= u.t",
        true,
    ),
    // Over the groups of an aggregation of the same rows (q11's lazy form).
    (
        "SELECT g.l_suppkey, v FROM (SELECT l_suppkey, sum(l_qty) AS v FROM lineitem \
         GROUP BY l_suppkey) g, (SELECT sum(l_qty) * 0.2 AS t FROM lineitem) w WHERE v > t",
        true,
    ),
    (
        "SELECT g.l_suppkey, n, m FROM (SELECT l_suppkey, count(*) AS n, max(l_price) AS m \
         FROM lineitem GROUP BY l_suppkey) g, (SELECT count(*) AS c, max(l_price) AS top \
         FROM lineitem) w WHERE n * 4 >= c OR m = top",
        true,
    ),
    // A sum of floats summed in another order may differ in its last bits.
    (
        "SELECT g.l_suppkey FROM (SELECT l_suppkey, sum(l_price) AS v FROM lineitem \
         GROUP BY l_suppkey) g, (SELECT sum(l_price) * 0.2 AS t FROM lineitem) w WHERE v > t",
        false,
    ),
    // Over a filtered copy: another relation.
    (
        "SELECT s FROM revenue, (SELECT max(total) AS best FROM revenue WHERE s > 2) b \
         WHERE total = best",
        false,
    ),
    // An outer join keeps rows without a partner: not this shape.
    (
        "SELECT s, best FROM revenue LEFT JOIN (SELECT max(total) AS best FROM revenue) b \
         ON total = best",
        false,
    ),
    (
        "SELECT s FROM revenue, (SELECT max(DISTINCT total) AS best FROM revenue) b \
         WHERE total = best",
        false,
    ),
];

#[test]
fn a_join_with_a_one_row_aggregate_of_the_relation_is_a_window_over_it() {
    for (sql, rewritten) in JOINED {
        let sql = format!("{REVENUE}{sql}");
        for values in [ROWS, "", "(1, NULL, NULL)", "(NULL, 1.0, 1)"] {
            let (plan, got) = run(&sql, values, true);
            let (_, want) = run(&sql, values, false);
            assert_eq!(got, want, "{sql} over {values:?}\n{plan}");
            assert_eq!(plan.contains("WindowAggr"), *rewritten, "{sql}\n{plan}");
            let scans = plan.matches("TableScan: lineitem").count();
            assert_eq!(scans == 1, *rewritten, "{sql}\n{plan}");
        }
    }
    let (_, rows) = run(&format!("{REVENUE}{}", JOINED[0].0), ROWS, true);
    assert_eq!(rows.matches("| 15.0  |").count(), 4, "{rows}");
}

/// HAVING clauses over the same relation's whole aggregate (TPC-H q11's shape), with the
/// number of them the rewrite takes over.
const HAVING: &[(&str, bool)] = &[
    (
        "SELECT l_suppkey, sum(l_qty) AS v FROM lineitem GROUP BY l_suppkey \
         HAVING sum(l_qty) > (SELECT sum(l_qty) * 0.2 FROM lineitem)",
        true,
    ),
    (
        "SELECT l_suppkey, count(*) AS n FROM lineitem GROUP BY l_suppkey \
         HAVING count(*) * 4 >= (SELECT count(*) FROM lineitem)",
        true,
    ),
    (
        "SELECT l_suppkey, max(l_price) AS m FROM lineitem GROUP BY l_suppkey \
         HAVING max(l_price) = (SELECT max(l_price) FROM lineitem)",
        true,
    ),
    (
        "SELECT l_suppkey, min(l_qty) AS m, sum(l_qty) AS s FROM lineitem GROUP BY l_suppkey \
         HAVING min(l_qty) <= (SELECT min(l_qty) FROM lineitem) + 1",
        true,
    ),
    (
        "SELECT l_suppkey, count(l_price) AS n FROM lineitem GROUP BY l_suppkey \
         HAVING count(l_price) > (SELECT count(l_price) / 5 FROM lineitem)",
        true,
    ),
    // A join, whose copy in the subquery reads fewer columns (q11's shape).
    (
        "SELECT a.l_suppkey, sum(b.l_qty) AS v FROM lineitem a JOIN lineitem b \
         ON a.l_suppkey = b.l_suppkey GROUP BY a.l_suppkey \
         HAVING sum(b.l_qty) > (SELECT sum(b.l_qty) * 0.3 FROM lineitem a JOIN lineitem b \
         ON a.l_suppkey = b.l_suppkey)",
        true,
    ),
    // A sum of floats summed in another order may differ in its last bits: not rewritten.
    (
        "SELECT l_suppkey FROM lineitem GROUP BY l_suppkey \
         HAVING sum(l_price) > (SELECT sum(l_price) * 0.2 FROM lineitem)",
        false,
    ),
    // An average is not an average of averages.
    (
        "SELECT l_suppkey FROM lineitem GROUP BY l_suppkey \
         HAVING avg(l_qty) > (SELECT avg(l_qty) FROM lineitem)",
        false,
    ),
    // The subquery reads fewer rows than the groups do.
    (
        "SELECT l_suppkey FROM lineitem GROUP BY l_suppkey \
         HAVING sum(l_qty) > (SELECT sum(l_qty) * 0.2 FROM lineitem WHERE l_qty > 2)",
        false,
    ),
    // The outer query's rows are filtered before grouping.
    (
        "SELECT l_suppkey FROM lineitem WHERE l_qty > 2 GROUP BY l_suppkey \
         HAVING sum(l_qty) > (SELECT sum(l_qty) * 0.2 FROM lineitem)",
        false,
    ),
    // Another aggregate than any of the groups'.
    (
        "SELECT l_suppkey FROM lineitem GROUP BY l_suppkey \
         HAVING sum(l_qty) > (SELECT max(l_qty) FROM lineitem)",
        false,
    ),
    (
        "SELECT l_suppkey FROM lineitem GROUP BY l_suppkey \
         HAVING sum(DISTINCT l_qty) > (SELECT sum(DISTINCT l_qty) FROM lineitem) / 3",
        false,
    ),
];

#[test]
fn a_having_over_the_whole_aggregate_takes_it_from_the_groups() {
    for (sql, rewritten) in HAVING {
        for values in [
            ROWS,
            "",
            "(1, NULL, NULL)",
            "(NULL, 1.0, 1)",
            "(2, 3.0, NULL)",
        ] {
            let (plan, got) = run(sql, values, true);
            let (_, want) = run(sql, values, false);
            assert_eq!(got, want, "{sql} over {values:?}\n{plan}");
            let windowed = plan.contains("WindowAggr") && !plan.contains("Subquery:");
            assert_eq!(windowed, *rewritten, "{sql}\n{plan}");
            if *rewritten {
                // One read of the relation (the self join reads lineitem twice, once).
                let scans = plan.matches("TableScan: lineitem").count();
                assert_eq!(scans, if sql.contains("JOIN") { 2 } else { 1 }, "{plan}");
            }
        }
    }
}

#[test]
fn a_decimal_sum_of_sums_keeps_the_subquery_type() {
    let sql = "SELECT s, v FROM (SELECT l_suppkey AS s, sum(CAST(l_qty AS DECIMAL(15, 2))) AS v \
               FROM lineitem GROUP BY l_suppkey \
               HAVING sum(CAST(l_qty AS DECIMAL(15, 2))) > \
                 (SELECT sum(CAST(l_qty AS DECIMAL(15, 2))) * 0.25 FROM lineitem))";
    let (plan, got) = run(sql, ROWS, true);
    assert!(plan.contains("WindowAggr"), "{plan}");
    let (_, want) = run(sql, ROWS, false);
    assert_eq!(got, want);
    // The total is 24 (the NULL skipped): only supplier 5's 7 is above a quarter of it.
    assert!(got.contains("| 5 | 7.00 |"), "{got}");
}

/// Which optimizer rules a run adds to DataFusion's.
#[derive(Clone, Copy, PartialEq)]
enum Rules {
    None,
    /// `CorrelatedAggregateAsWindow` alone.
    Alone,
    /// All of corepy's, with the fusion rules that rewrite the subquery's aggregation
    /// before DataFusion unnests it: planned only (fused stages run in the engine, whose
    /// tests compare the answers).
    All,
}

/// The optimized plan and sorted rows of `sql` over `lineitem` (`ROWS`) and `part` (with a
/// duplicated key, a NULL key and a key no line has).
fn run_correlated(sql: &str, rules: Rules) -> (String, String) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let mut builder = SessionStateBuilder::new().with_default_features();
        match rules {
            Rules::None => {}
            Rules::Alone => {
                builder = builder.with_optimizer_rule(Arc::new(super::CorrelatedAggregateAsWindow))
            }
            Rules::All => {
                for rule in crate::rules::optimizer_rules(true) {
                    builder = builder.with_optimizer_rule(rule);
                }
            }
        }
        let ctx = SessionContext::new_with_state(builder.build());
        for statement in [
            "CREATE TABLE lineitem (l_suppkey BIGINT, l_price DOUBLE, l_qty BIGINT)".to_string(),
            format!("INSERT INTO lineitem VALUES {ROWS}"),
            "CREATE TABLE part (p_partkey BIGINT, p_brand VARCHAR)".to_string(),
            "INSERT INTO part VALUES (1, 'a'), (1, 'a'), (2, 'a'), (3, 'b'), (NULL, 'a'), \
             (5, 'a'), (6, 'a'), (4, 'a')"
                .to_string(),
            // Part 1 has two cheapest offers (3.0), part 3 an offer of unknown cost, supplier
            // 10 two rows, and some keys are NULL or match nothing.
            "CREATE TABLE partsupp (ps_partkey BIGINT, ps_suppkey BIGINT, ps_cost DOUBLE)"
                .to_string(),
            "INSERT INTO partsupp VALUES (1, 10, 5.0), (1, 11, 3.0), (1, 12, 3.0), (1, 13, 3.0), \
             (2, 10, 7.0), (2, 12, 1.0), (3, 11, NULL), (3, 13, 4.0), (NULL, 10, 0.5), \
             (4, 13, 2.0), (5, 10, 9.0), (5, 11, 9.0), (5, NULL, 8.0), (7, 11, 1.0)"
                .to_string(),
            "CREATE TABLE supplier (s_suppkey BIGINT, s_nation VARCHAR)".to_string(),
            "INSERT INTO supplier VALUES (10, 'x'), (11, 'x'), (12, 'y'), (13, 'x'), (10, 'x'), \
             (NULL, 'x')"
                .to_string(),
        ] {
            ctx.sql(&statement).await.unwrap().collect().await.unwrap();
        }
        let frame = ctx.sql(sql).await.expect("plans");
        let optimized = frame.clone().into_optimized_plan().expect("optimizes");
        let plan = optimized.display_indent().to_string();
        if rules == Rules::All {
            return (plan, String::new());
        }
        let batches = frame.collect().await.expect("runs");
        let text = pretty_format_batches(&batches).unwrap().to_string();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort_unstable();
        (plan, lines.join("\n"))
    })
}

/// Correlated subqueries over the relation the outer query joins on the correlation key,
/// and whether the rewrite takes them.
const CORRELATED: &[(&str, bool)] = &[
    // TPC-H q17's shape.
    (
        "SELECT sum(l_price) AS s FROM lineitem, part WHERE p_partkey = l_suppkey \
         AND p_brand = 'a' AND l_qty < (SELECT 0.9 * avg(l_qty) FROM lineitem \
         WHERE l_suppkey = p_partkey)",
        true,
    ),
    (
        "SELECT l_suppkey, l_qty, p_brand FROM lineitem JOIN part ON l_suppkey = p_partkey \
         WHERE l_qty = (SELECT max(l_qty) FROM lineitem WHERE l_suppkey = p_partkey)",
        true,
    ),
    (
        "SELECT l_suppkey, l_price FROM part JOIN lineitem ON p_partkey = l_suppkey \
         WHERE l_price <= (SELECT min(l_price) + 1 FROM lineitem WHERE l_suppkey = p_partkey)",
        true,
    ),
    // DataFusion joins the subquery with an inner join when its value is kept.
    (
        "SELECT l_suppkey, l_qty, m FROM lineitem JOIN part ON l_suppkey = p_partkey \
         JOIN (SELECT l_suppkey AS k, max(l_qty) AS m FROM lineitem GROUP BY l_suppkey) s \
         ON s.k = p_partkey WHERE l_qty * 2 > m",
        true,
    ),
    (
        "SELECT l_suppkey, l_qty, m FROM lineitem JOIN part ON l_suppkey = p_partkey \
         JOIN (SELECT l_suppkey AS k, min(l_qty) AS m FROM lineitem GROUP BY l_suppkey) s \
         ON s.k = p_partkey",
        true,
    ),
    // The subquery aggregates a column the outer query does not read: not rewritten (the
    // outer scan would have to read it too).
    (
        "SELECT l_suppkey, l_qty, m FROM lineitem JOIN part ON l_suppkey = p_partkey \
         JOIN (SELECT l_suppkey AS k, min(l_price) AS m FROM lineitem GROUP BY l_suppkey) s \
         ON s.k = p_partkey",
        false,
    ),
    // Sums and counts change with the duplicated part key: not rewritten.
    (
        "SELECT l_suppkey, l_qty FROM lineitem, part WHERE p_partkey = l_suppkey \
         AND l_qty * 2 > (SELECT sum(l_qty) FROM lineitem WHERE l_suppkey = p_partkey)",
        false,
    ),
    (
        "SELECT l_suppkey, l_qty FROM lineitem, part WHERE p_partkey = l_suppkey \
         AND l_qty < (SELECT count(*) FROM lineitem WHERE l_suppkey = p_partkey)",
        false,
    ),
    // The subquery reads fewer rows than the outer join does.
    (
        "SELECT l_suppkey, l_qty FROM lineitem, part WHERE p_partkey = l_suppkey \
         AND l_qty < (SELECT avg(l_qty) FROM lineitem WHERE l_suppkey = p_partkey \
         AND l_qty > 1)",
        false,
    ),
    // The outer query reads fewer lines than the subquery does.
    (
        "SELECT l_suppkey, l_qty FROM lineitem, part WHERE p_partkey = l_suppkey \
         AND l_price > 5 AND l_qty <= (SELECT avg(l_qty) FROM lineitem \
         WHERE l_suppkey = p_partkey)",
        false,
    ),
    // Another copy of the table (an alias): not recognised as the same rows.
    (
        "SELECT l1.l_suppkey, l1.l_qty FROM lineitem l1, part WHERE p_partkey = l1.l_suppkey \
         AND l1.l_qty <= (SELECT avg(l2.l_qty) FROM lineitem l2 \
         WHERE l2.l_suppkey = l1.l_suppkey)",
        false,
    ),
    // Correlated on another column than the join's key.
    (
        "SELECT l_suppkey, l_qty FROM lineitem, part WHERE p_partkey = l_suppkey \
         AND l_qty <= (SELECT avg(l_qty) FROM lineitem WHERE l_qty = p_partkey)",
        false,
    ),
];

#[test]
fn a_correlated_average_over_the_joined_relation_becomes_a_window_per_key() {
    for (sql, rewritten) in CORRELATED {
        let (plain_plan, want) = run_correlated(sql, Rules::None);
        for rules in [Rules::Alone, Rules::All] {
            let (plan, got) = run_correlated(sql, rules);
            if rules == Rules::Alone {
                assert_eq!(got, want, "{sql}\n{plan}\n{plain_plan}");
            }
            assert_eq!(plan.contains("WindowAggr"), *rewritten, "{sql}\n{plan}");
            let scans = plan.matches("TableScan: lineitem").count();
            match (*rewritten, rules) {
                (true, _) => assert_eq!(scans, 1, "{sql}\n{plan}"),
                (false, Rules::Alone) => assert_eq!(scans, 2, "{sql}\n{plan}"),
                // The semi-join rules may add a key set read from a filtered lineitem.
                (false, _) => assert!(scans >= 2, "{sql}\n{plan}"),
            }
        }
    }
    // The q17 shape, by hand: keys 1 (avg 1.5, duplicated part row) and 2 (avg 3) and 5
    // (avg 7); 4's only line has a NULL price. Lines below 0.9 × their key's average:
    // (1, 10.0, 1) twice (two part rows).
    let (_, rows) = run_correlated(CORRELATED[0].0, Rules::Alone);
    assert!(rows.contains("| 20.0 |"), "{rows}");
}

/// TPC-H q2's shape: the outer query joins the subquery's tables and one more, in an order
/// where no join is "the subquery's relation ⋈ its partner"; and whether the rewrite
/// takes each.
const SPREAD_OVER_THE_REGION: &[(&str, bool)] = &[
    (
        "SELECT p_partkey, ps_suppkey, ps_cost FROM part, supplier, partsupp \
         WHERE p_partkey = ps_partkey AND s_suppkey = ps_suppkey AND s_nation = 'x' \
         AND p_brand = 'a' AND ps_cost = (SELECT min(ps_cost) FROM partsupp, supplier \
         WHERE p_partkey = ps_partkey AND s_suppkey = ps_suppkey AND s_nation = 'x')",
        true,
    ),
    (
        "SELECT p_partkey, p_brand, ps_cost FROM partsupp, part, supplier \
         WHERE ps_suppkey = s_suppkey AND ps_partkey = p_partkey \
         AND ps_cost >= (SELECT max(ps_cost) - 1 FROM supplier, partsupp \
         WHERE s_suppkey = ps_suppkey AND ps_partkey = p_partkey)",
        true,
    ),
    // The subquery keeps every nation's offers, the outer query only x's.
    (
        "SELECT p_partkey, ps_suppkey, ps_cost FROM part, supplier, partsupp \
         WHERE p_partkey = ps_partkey AND s_suppkey = ps_suppkey AND s_nation = 'x' \
         AND ps_cost = (SELECT min(ps_cost) FROM partsupp, supplier \
         WHERE p_partkey = ps_partkey AND s_suppkey = ps_suppkey)",
        false,
    ),
    // A second condition between the partner and the subquery's tables: an equality (no
    // rows here) or another comparison.
    (
        "SELECT p_partkey, ps_suppkey, ps_cost FROM part, supplier, partsupp \
         WHERE p_partkey = ps_partkey AND s_suppkey = ps_suppkey AND p_brand = s_nation \
         AND ps_cost = (SELECT min(ps_cost) FROM partsupp, supplier \
         WHERE p_partkey = ps_partkey AND s_suppkey = ps_suppkey)",
        false,
    ),
    (
        "SELECT p_partkey, ps_suppkey, ps_cost FROM part, supplier, partsupp \
         WHERE p_partkey = ps_partkey AND s_suppkey = ps_suppkey AND p_partkey + 9 < s_suppkey \
         AND ps_cost = (SELECT min(ps_cost) FROM partsupp, supplier \
         WHERE p_partkey = ps_partkey AND s_suppkey = ps_suppkey)",
        false,
    ),
    // The subquery joins a table the outer query does not.
    (
        "SELECT p_partkey, ps_suppkey, ps_cost FROM part, partsupp \
         WHERE p_partkey = ps_partkey AND ps_cost = (SELECT min(ps_cost) \
         FROM partsupp, supplier WHERE p_partkey = ps_partkey AND s_suppkey = ps_suppkey)",
        false,
    ),
    // The subquery's tables joined on another column than the outer query's.
    (
        "SELECT p_partkey, ps_suppkey, ps_cost FROM part, supplier, partsupp \
         WHERE p_partkey = ps_partkey AND s_suppkey = ps_suppkey \
         AND ps_cost = (SELECT min(ps_cost) FROM partsupp, supplier \
         WHERE p_partkey = ps_partkey AND s_suppkey = ps_partkey)",
        false,
    ),
    // A sum changes with the partner's duplicated rows.
    (
        "SELECT p_partkey, ps_suppkey, ps_cost FROM part, supplier, partsupp \
         WHERE p_partkey = ps_partkey AND s_suppkey = ps_suppkey \
         AND ps_cost * 3 > (SELECT sum(ps_cost) FROM partsupp, supplier \
         WHERE p_partkey = ps_partkey AND s_suppkey = ps_suppkey)",
        false,
    ),
];

#[test]
fn a_correlated_minimum_over_tables_spread_in_the_join_becomes_a_window_per_key() {
    for (sql, rewritten) in SPREAD_OVER_THE_REGION {
        let (plain_plan, want) = run_correlated(sql, Rules::None);
        // Rows to compare (a header and borders around them).
        assert!(!rewritten || want.lines().count() > 5, "{sql}\n{want}");
        for rules in [Rules::Alone, Rules::All] {
            let (plan, got) = run_correlated(sql, rules);
            if rules == Rules::Alone {
                assert_eq!(got, want, "{sql}\n{plan}\n{plain_plan}");
            }
            assert_eq!(plan.contains("WindowAggr"), *rewritten, "{sql}\n{plan}");
            let scans = plan.matches("TableScan: partsupp").count();
            assert_eq!(scans == 1, *rewritten, "{sql}\n{plan}");
        }
    }
    // By hand: part 1 (two rows) has three cheapest offers at 3.0, but 12's nation is y;
    // part 2's cheapest (1.0) is from y too, so its x offer (7.0) is the cheapest of x's.
    let (_, rows) = run_correlated(SPREAD_OVER_THE_REGION[0].0, Rules::Alone);
    assert_eq!(rows.matches("| 3.0 ").count(), 4, "{rows}");
    assert!(rows.contains("| 7.0 "), "{rows}");
}
