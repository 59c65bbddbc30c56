//! Plans with and without the semi-join reductions, and the rows they return.

use std::sync::Arc;

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::execution::SessionStateBuilder;
use datafusion::logical_expr::LogicalPlan;
use datafusion::optimizer::OptimizerRule;
use datafusion::prelude::SessionContext;

use super::{
    PushDimensionKeysDown, PushJoinKeysIntoAggregate, PushKeysAcrossJoin, PushSemiJoinDown,
};

const TABLES: &[&str] = &[
    "CREATE TABLE part (p_partkey BIGINT, p_brand VARCHAR, p_size INT)",
    "CREATE TABLE lineitem (l_orderkey BIGINT, l_partkey BIGINT, l_suppkey BIGINT, \
     l_quantity DOUBLE, l_price DOUBLE)",
    "CREATE TABLE orders (o_orderkey BIGINT, o_custkey BIGINT, o_total DOUBLE)",
    "CREATE TABLE customer (c_custkey BIGINT, c_name VARCHAR)",
    "CREATE TABLE supplier (s_suppkey BIGINT, s_nationkey BIGINT, s_acctbal DOUBLE)",
    "CREATE TABLE nation (n_nationkey BIGINT, n_name VARCHAR)",
];

fn context(reduce: bool) -> SessionContext {
    let mut builder = SessionStateBuilder::new().with_default_features();
    if reduce {
        let rules: [Arc<dyn OptimizerRule + Send + Sync>; 4] = [
            Arc::new(PushJoinKeysIntoAggregate),
            Arc::new(PushDimensionKeysDown),
            Arc::new(PushKeysAcrossJoin),
            Arc::new(PushSemiJoinDown),
        ];
        for rule in rules {
            builder = builder.with_optimizer_rule(rule);
        }
    }
    SessionContext::new_with_state(builder.build())
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
        .block_on(future)
}

async fn create_tables(ctx: &SessionContext, inserts: &[String]) {
    for statement in TABLES
        .iter()
        .map(|s| s.to_string())
        .chain(inserts.iter().cloned())
    {
        ctx.sql(&statement)
            .await
            .expect("creates")
            .collect()
            .await
            .expect("runs");
    }
}

/// The optimized plan of `sql` over the tables of the first data set, with or without the
/// reductions (the dimension rule compares table sizes).
fn optimized(sql: &str, reduce: bool) -> String {
    block_on(async {
        let ctx = context(reduce);
        create_tables(&ctx, &inserts(0)).await;
        let plan = ctx.state().create_logical_plan(sql).await.expect("plans");
        let plan: LogicalPlan = ctx.state().optimize(&plan).expect("optimizes");
        let text = plan.display_indent().to_string();
        text
    })
}

/// The rows `sql` returns over the tables filled by `inserts`, sorted, as text.
fn rows(sql: &str, inserts: &[String], reduce: bool) -> String {
    block_on(async {
        let ctx = context(reduce);
        create_tables(&ctx, inserts).await;
        let batches = ctx
            .sql(sql)
            .await
            .expect("plans")
            .collect()
            .await
            .expect("runs");
        let text = pretty_format_batches(&batches)
            .expect("formats")
            .to_string();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort_unstable();
        lines.join("\n")
    })
}

const Q17: &str = "SELECT sum(l_price) FROM lineitem, part \
     WHERE p_partkey = l_partkey AND p_brand = 'B23' \
     AND l_quantity < (SELECT 0.2 * avg(l_quantity) FROM lineitem WHERE l_partkey = p_partkey)";

const Q18: &str = "SELECT c_name, o_orderkey, sum(l_quantity) FROM customer, orders, lineitem \
     WHERE o_orderkey IN (SELECT l_orderkey FROM lineitem GROUP BY l_orderkey \
                          HAVING sum(l_quantity) > 30) \
     AND c_custkey = o_custkey AND o_orderkey = l_orderkey \
     GROUP BY c_name, o_orderkey";

#[test]
fn a_correlated_average_is_taken_over_the_outer_querys_parts_only() {
    let plan = optimized(Q17, true);
    assert_eq!(
        plan,
        "Aggregate: groupBy=[[]], aggr=[[sum(lineitem.l_price)]]\
         \n  Projection: lineitem.l_price\
         \n    LeftSemi Join: part.p_partkey = __scalar_sq_1.l_partkey Filter: lineitem.l_quantity < __scalar_sq_1.Float64(0.2) * avg(lineitem.l_quantity)\
         \n      Projection: lineitem.l_quantity, lineitem.l_price, part.p_partkey\
         \n        Inner Join: lineitem.l_partkey = part.p_partkey\
         \n          TableScan: lineitem projection=[l_partkey, l_quantity, l_price]\
         \n          Projection: part.p_partkey\
         \n            Filter: part.p_brand = Utf8View(\"B23\")\
         \n              TableScan: part projection=[p_partkey, p_brand]\
         \n      SubqueryAlias: __scalar_sq_1\
         \n        Projection: Float64(0.2) * avg(lineitem.l_quantity), lineitem.l_partkey\
         \n          Aggregate: groupBy=[[lineitem.l_partkey]], aggr=[[avg(lineitem.l_quantity)]]\
         \n            LeftSemi Join: lineitem.l_partkey = __corepy_keys.p_partkey\
         \n              TableScan: lineitem projection=[l_partkey, l_quantity]\
         \n              SubqueryAlias: __corepy_keys\
         \n                Projection: part.p_partkey\
         \n                  Filter: part.p_brand = Utf8View(\"B23\")\
         \n                    TableScan: part projection=[p_partkey, p_brand]"
    );
}

#[test]
fn an_in_having_subquery_filters_the_orders_before_they_meet_the_lines() {
    let plan = optimized(Q18, true);
    assert_eq!(
        plan,
        "Aggregate: groupBy=[[customer.c_name, orders.o_orderkey]], aggr=[[sum(lineitem.l_quantity)]]\
         \n  Projection: customer.c_name, orders.o_orderkey, lineitem.l_quantity\
         \n    Inner Join: orders.o_orderkey = lineitem.l_orderkey\
         \n      Projection: customer.c_name, orders.o_orderkey\
         \n        Inner Join: customer.c_custkey = orders.o_custkey\
         \n          TableScan: customer projection=[c_custkey, c_name]\
         \n          LeftSemi Join: orders.o_orderkey = __correlated_sq_1.l_orderkey\
         \n            TableScan: orders projection=[o_orderkey, o_custkey]\
         \n            SubqueryAlias: __correlated_sq_1\
         \n              Projection: lineitem.l_orderkey\
         \n                Filter: sum(lineitem.l_quantity) > Float64(30)\
         \n                  Aggregate: groupBy=[[lineitem.l_orderkey]], aggr=[[sum(lineitem.l_quantity)]]\
         \n                    TableScan: lineitem projection=[l_orderkey, l_quantity]\
         \n      TableScan: lineitem projection=[l_orderkey, l_quantity]"
    );
}

const Q7: &str = "SELECT n_name, sum(l_price) FROM supplier, lineitem, nation \
     WHERE s_suppkey = l_suppkey AND s_nationkey = n_nationkey AND n_name = 'FRANCE' \
     GROUP BY n_name";

#[test]
fn a_filtered_nation_reduces_the_suppliers_before_they_meet_the_lines() {
    let plan = optimized(Q7, true);
    assert_eq!(
        plan,
        "Aggregate: groupBy=[[nation.n_name]], aggr=[[sum(lineitem.l_price)]]\
         \n  Projection: lineitem.l_price, nation.n_name\
         \n    Inner Join: supplier.s_nationkey = nation.n_nationkey\
         \n      Projection: supplier.s_nationkey, lineitem.l_price\
         \n        Inner Join: supplier.s_suppkey = lineitem.l_suppkey\
         \n          LeftSemi Join: supplier.s_nationkey = __corepy_keys.n_nationkey\
         \n            TableScan: supplier projection=[s_suppkey, s_nationkey]\
         \n            SubqueryAlias: __corepy_keys\
         \n              Projection: nation.n_nationkey\
         \n                Filter: nation.n_name = Utf8View(\"FRANCE\")\
         \n                  TableScan: nation projection=[n_nationkey, n_name]\
         \n          TableScan: lineitem projection=[l_suppkey, l_price]\
         \n      Filter: nation.n_name = Utf8View(\"FRANCE\")\
         \n        TableScan: nation projection=[n_nationkey, n_name]"
    );
}

/// TPC-H q9's shape as the lazy suite writes it: the lines of some parts, kept by a semi
/// join, then joined with a table keyed by part (here the lines again: too small to be
/// reduced by `part`, so the answers are compared, not the plan).
const Q9_LAZY: &str = "SELECT a.l_orderkey, b.l_price FROM (SELECT l_orderkey, l_partkey \
     FROM lineitem WHERE l_partkey IN (SELECT p_partkey FROM part WHERE p_brand = 'B2')) a \
     JOIN lineitem b ON a.l_partkey = b.l_partkey AND a.l_orderkey = b.l_orderkey";

/// The same shape where the sizes call for the reduction: the lines whose supplier key is
/// one of the few nations named 'FRANCE', joined with the many suppliers.
const KEYS_ACROSS: &str = "SELECT a.l_orderkey, s.s_acctbal FROM (SELECT l_orderkey, \
     l_suppkey FROM lineitem WHERE l_suppkey IN \
     (SELECT n_nationkey FROM nation WHERE n_name = 'FRANCE')) a \
     JOIN supplier s ON a.l_suppkey = s.s_suppkey";

#[test]
fn the_keys_a_semi_join_keeps_reduce_the_other_side_of_the_next_join() {
    let plan = optimized(KEYS_ACROSS, true);
    assert_eq!(
        plan,
        "Projection: a.l_orderkey, s.s_acctbal\
         \n  Inner Join: a.l_suppkey = s.s_suppkey\
         \n    SubqueryAlias: a\
         \n      LeftSemi Join: lineitem.l_suppkey = __correlated_sq_1.n_nationkey\
         \n        TableScan: lineitem projection=[l_orderkey, l_suppkey]\
         \n        SubqueryAlias: __correlated_sq_1\
         \n          Projection: nation.n_nationkey\
         \n            Filter: nation.n_name = Utf8View(\"FRANCE\")\
         \n              TableScan: nation projection=[n_nationkey, n_name]\
         \n    LeftSemi Join: s.s_suppkey = __corepy_keys.n_nationkey\
         \n      SubqueryAlias: s\
         \n        TableScan: supplier projection=[s_suppkey, s_acctbal]\
         \n      SubqueryAlias: __corepy_keys\
         \n        SubqueryAlias: __correlated_sq_1\
         \n          Projection: nation.n_nationkey\
         \n            Filter: nation.n_name = Utf8View(\"FRANCE\")\
         \n              TableScan: nation projection=[n_nationkey, n_name]"
    );
}

/// Queries the rules must leave as DataFusion plans them.
const UNCHANGED: &[&str] = &[
    // TPC-H q3's shape: the order keys come from the filtered orders themselves, and the
    // join with them is the reduction (no second semi join of the lines with them).
    "SELECT l_price FROM customer, orders, lineitem WHERE c_custkey = o_custkey \
     AND o_orderkey = l_orderkey AND o_total > 50 AND c_name = 'a'",
    // No filter on the outer side: every key may occur, reducing would only cost a pass.
    "SELECT p_partkey FROM part WHERE p_size < \
     (SELECT count(*) FROM lineitem WHERE l_partkey = p_partkey)",
    // The grouped side's unmatched rows are in the answer.
    "SELECT g.k, g.n FROM (SELECT p_partkey FROM part WHERE p_brand = 'B1') p \
     RIGHT JOIN (SELECT l_partkey AS k, count(*) AS n FROM lineitem GROUP BY l_partkey) g \
     ON p.p_partkey = g.k",
    "SELECT g.k, g.n FROM (SELECT p_partkey FROM part WHERE p_brand = 'B1') p \
     FULL JOIN (SELECT l_partkey AS k, count(*) AS n FROM lineitem GROUP BY l_partkey) g \
     ON p.p_partkey = g.k",
    // NOT IN reads the subquery's NULLs.
    "SELECT p_partkey FROM part WHERE p_brand = 'B1' AND p_partkey NOT IN \
     (SELECT l_partkey FROM lineitem GROUP BY l_partkey HAVING count(*) > 1)",
    // Grouped by an expression of the key, not the key.
    "SELECT p.p_partkey FROM part p JOIN (SELECT l_partkey + 1 AS k, count(*) AS n \
     FROM lineitem GROUP BY l_partkey + 1) g ON p.p_partkey = g.k WHERE p.p_brand = 'B1'",
    // The filtered table is larger than the one it would reduce.
    "SELECT count(*) FROM customer, orders, supplier WHERE c_custkey = o_custkey \
     AND c_custkey = s_suppkey AND s_acctbal > 3",
    // A semi join against a relation not known to be small stays above the joins.
    "SELECT o_orderkey FROM orders, customer WHERE c_custkey = o_custkey \
     AND o_orderkey IN (SELECT l_orderkey FROM lineitem)",
];

#[test]
fn plans_the_rules_cannot_improve_stay_as_they_are() {
    for sql in UNCHANGED {
        assert_eq!(optimized(sql, true), optimized(sql, false), "{sql}");
    }
}

#[test]
fn a_key_set_is_added_once_however_many_passes_run() {
    let plan = optimized(Q17, true);
    assert_eq!(plan.matches("__corepy_keys").count(), 2, "{plan}");
}

/// Queries whose answers the rules must keep: TPC-H's shapes and their edges (joins of
/// every kind with a grouped side, NULL keys, keys of no group, several keys).
const KEPT: &[&str] = &[
    Q17,
    Q18,
    Q7,
    Q9_LAZY,
    KEYS_ACROSS,
    "SELECT a.l_orderkey, o_total FROM (SELECT l_orderkey FROM lineitem, part \
     WHERE l_partkey = p_partkey AND p_brand = 'B1') a JOIN orders ON a.l_orderkey = o_orderkey",
    "SELECT b.l_price FROM lineitem b JOIN (SELECT l_partkey FROM lineitem \
     WHERE l_partkey IN (SELECT p_partkey FROM part WHERE p_size > 1)) a \
     ON b.l_partkey = a.l_partkey",
    "SELECT s_suppkey, count(*) FROM supplier, lineitem, orders, nation \
     WHERE s_suppkey = l_suppkey AND o_orderkey = l_orderkey AND s_nationkey = n_nationkey \
     AND n_name = 'GERMANY' AND NOT EXISTS (SELECT 1 FROM lineitem l3 \
       WHERE l3.l_orderkey = lineitem.l_orderkey AND l3.l_suppkey <> lineitem.l_suppkey) \
     GROUP BY s_suppkey",
    "SELECT n1.n_name, n2.n_name, count(*) FROM supplier, lineitem, orders, customer, \
     nation n1, nation n2 WHERE s_suppkey = l_suppkey AND o_orderkey = l_orderkey \
     AND c_custkey = o_custkey AND s_nationkey = n1.n_nationkey \
     AND c_custkey = n2.n_nationkey AND ((n1.n_name = 'FRANCE' AND n2.n_name = 'GERMANY') \
     OR (n1.n_name = 'GERMANY' AND n2.n_name = 'FRANCE')) GROUP BY n1.n_name, n2.n_name",
    "SELECT p_partkey, g.n FROM part LEFT JOIN (SELECT l_partkey, count(*) AS n FROM lineitem \
     GROUP BY l_partkey) g ON p_partkey = g.l_partkey WHERE p_brand = 'B1'",
    "SELECT p_partkey FROM part WHERE p_brand = 'B1' AND NOT EXISTS \
     (SELECT 1 FROM lineitem WHERE l_partkey = p_partkey GROUP BY l_partkey HAVING count(*) > 1)",
    "SELECT p_partkey FROM part WHERE p_size < 3 AND p_partkey IN \
     (SELECT l_partkey FROM lineitem GROUP BY l_partkey HAVING sum(l_quantity) > 5)",
    "SELECT o_orderkey, l_partkey, s FROM orders JOIN (SELECT l_orderkey, l_partkey, \
     sum(l_quantity) AS s FROM lineitem GROUP BY l_orderkey, l_partkey) g \
     ON o_orderkey = g.l_orderkey WHERE o_total > 50",
    "SELECT o_orderkey FROM orders, customer WHERE c_custkey = o_custkey AND c_name = 'a' \
     AND o_orderkey NOT IN (SELECT l_orderkey FROM lineitem GROUP BY l_orderkey \
                            HAVING count(*) > 1)",
    "SELECT c_name, o_orderkey FROM customer, orders WHERE c_custkey = o_custkey \
     AND NOT EXISTS (SELECT 1 FROM lineitem WHERE l_orderkey = o_orderkey \
                     GROUP BY l_orderkey HAVING max(l_quantity) > 8)",
    "SELECT l_orderkey, l_suppkey FROM lineitem l1 WHERE l_quantity > \
     (SELECT avg(l_quantity) FROM lineitem l2, part WHERE l2.l_partkey = p_partkey \
      AND l2.l_suppkey = l1.l_suppkey AND p_brand = 'B2')",
    "SELECT p_partkey, (SELECT min(l_price) FROM lineitem WHERE l_partkey = p_partkey) \
     FROM part WHERE p_brand = 'B3'",
];

/// Rows with duplicates, NULL keys and keys that only one table has, from a small
/// deterministic generator.
fn inserts(seed: u64) -> Vec<String> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move |n: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    let mut key = |n: u64| match next(n + 2) {
        0 => "NULL".to_string(),
        k => (k - 1).to_string(),
    };
    let values = |rows: usize, row: &mut dyn FnMut() -> String| {
        (0..rows).map(|_| row()).collect::<Vec<_>>().join(", ")
    };
    let part = values(12, &mut || {
        let brand = ["'B1'", "'B2'", "'B3'", "'B23'", "NULL"][key(4).parse().unwrap_or(4)];
        format!("({}, {brand}, {})", key(10), key(6))
    });
    let lineitem = values(40, &mut || {
        format!(
            "({}, {}, {}, {}, {})",
            key(8),
            key(12),
            key(4),
            key(10),
            key(100)
        )
    });
    let orders = values(10, &mut || {
        format!("({}, {}, {})", key(9), key(5), key(100))
    });
    let customer = values(6, &mut || {
        let name = ["'a'", "'b'", "NULL"][key(2).parse().unwrap_or(2)];
        format!("({}, {name})", key(6))
    });
    // Many suppliers, few nations: the dimension rule's sizes.
    let supplier = values(300, &mut || {
        format!("({}, {}, {})", key(12), key(5), key(100))
    });
    let nation = values(5, &mut || {
        let name = ["'FRANCE'", "'GERMANY'", "NULL"][key(2).parse().unwrap_or(2)];
        format!("({}, {name})", key(5))
    });
    vec![
        format!("INSERT INTO part VALUES {part}"),
        format!("INSERT INTO lineitem VALUES {lineitem}"),
        format!("INSERT INTO orders VALUES {orders}"),
        format!("INSERT INTO customer VALUES {customer}"),
        format!("INSERT INTO supplier VALUES {supplier}"),
        format!("INSERT INTO nation VALUES {nation}"),
    ]
}

#[test]
fn answers_are_the_same_with_and_without_the_reductions() {
    let mut reduced = 0;
    for sql in KEPT {
        if optimized(sql, true) != optimized(sql, false) {
            reduced += 1;
        }
        for seed in 0..12 {
            let data = inserts(seed);
            assert_eq!(
                rows(sql, &data, true),
                rows(sql, &data, false),
                "{sql}\nover {data:#?}"
            );
        }
    }
    // The queries exercise the rules, not only DataFusion.
    assert!(
        reduced >= 7,
        "only {reduced} of {} plans reduced",
        KEPT.len()
    );
}
