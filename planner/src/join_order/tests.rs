//! Join orders over Parquet tables (whose footers the estimates read), and the rows each
//! query returns with and without the rule.

use std::sync::Arc;

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::execution::SessionStateBuilder;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::{SessionConfig, SessionContext};

use super::OrderInnerJoins;

/// A small TPC-H: 5 regions, 25 nations, 600 customers, 3000 orders (a seventh of them
/// in 1994), 12000 lines, 40 suppliers. Some keys are NULL, and a few lines point at no
/// order.
const TABLES: &[(&str, &str)] = &[
    (
        "region",
        "SELECT CAST(value AS BIGINT) AS r_regionkey, \
         CASE value WHEN 2 THEN 'ASIA' ELSE concat('R', CAST(value AS VARCHAR)) END AS r_name \
         FROM generate_series(0, 4)",
    ),
    (
        "nation",
        "SELECT CAST(value AS BIGINT) AS n_nationkey, concat('N', CAST(value AS VARCHAR)) AS n_name, \
         CAST(value % 5 AS BIGINT) AS n_regionkey FROM generate_series(0, 24)",
    ),
    (
        "customer",
        "SELECT CAST(value AS BIGINT) AS c_custkey, \
         CASE WHEN value % 97 = 0 THEN NULL ELSE CAST(value % 25 AS BIGINT) END AS c_nationkey \
         FROM generate_series(1, 600)",
    ),
    (
        "orders",
        "SELECT CAST(value AS BIGINT) AS o_orderkey, CAST(value * 7 % 600 + 1 AS BIGINT) AS o_custkey, \
         CAST(DATE '1992-01-01' + CAST(value % 2555 AS INT) AS DATE) AS o_orderdate \
         FROM generate_series(1, 3000)",
    ),
    (
        "lineitem",
        "SELECT CAST(value % 3100 + 1 AS BIGINT) AS l_orderkey, \
         CASE WHEN value % 211 = 0 THEN NULL ELSE CAST(value / 7 % 40 + 1 AS BIGINT) END AS l_suppkey, \
         CAST(value % 100 AS DOUBLE) AS l_price FROM generate_series(1, 12000)",
    ),
    (
        "supplier",
        "SELECT CAST(value AS BIGINT) AS s_suppkey, CAST(value % 25 AS BIGINT) AS s_nationkey \
         FROM generate_series(1, 40)",
    ),
];

const Q5: &str = "SELECT n_name, sum(l_price) AS revenue \
     FROM customer, orders, lineitem, supplier, nation, region \
     WHERE c_custkey = o_custkey AND l_orderkey = o_orderkey AND l_suppkey = s_suppkey \
     AND c_nationkey = s_nationkey AND s_nationkey = n_nationkey \
     AND n_regionkey = r_regionkey AND r_name = 'ASIA' \
     AND o_orderdate >= DATE '1994-01-01' AND o_orderdate < DATE '1995-01-01' \
     GROUP BY n_name";

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
        .block_on(future)
}

/// Runs a statement that returns nothing to read (`COPY`, `CREATE`).
async fn run(ctx: &SessionContext, sql: &str) {
    ctx.sql(sql)
        .await
        .expect("plans")
        .collect()
        .await
        .expect("runs");
}

/// A directory of Parquet files holding [`TABLES`], removed when the test drops it.
fn parquet_directory() -> tempfile::TempDir {
    let temp = tempfile::Builder::new()
        .prefix("corepy-join-order-")
        .tempdir()
        .expect("a directory");
    let dir = temp.path();
    block_on(async {
        let ctx = SessionContext::new();
        for (name, select) in TABLES {
            let path = dir.join(format!("{name}.parquet"));
            let copy = format!("COPY ({select}) TO '{}' STORED AS PARQUET", path.display());
            run(&ctx, &copy).await;
        }
    });
    temp
}

fn context(dir: &std::path::Path, ordered: bool) -> SessionContext {
    let mut builder = SessionStateBuilder::new()
        .with_default_features()
        .with_config(SessionConfig::new().with_target_partitions(2));
    if ordered {
        builder = builder.with_optimizer_rule(Arc::new(OrderInnerJoins));
    }
    let ctx = SessionContext::new_with_state(builder.build());
    block_on(async {
        for (name, _) in TABLES {
            let path = dir.join(format!("{name}.parquet"));
            ctx.register_parquet(*name, path.to_str().expect("a path"), Default::default())
                .await
                .expect("registers");
        }
    });
    ctx
}

fn optimized_plan(ctx: &SessionContext, sql: &str) -> LogicalPlan {
    block_on(async {
        let plan = ctx.state().create_logical_plan(sql).await.expect("plans");
        ctx.state().optimize(&plan).expect("optimizes")
    })
}

/// The rows of `sql`, sorted, as text.
fn rows(ctx: &SessionContext, sql: &str) -> String {
    block_on(async {
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

/// The tables in the order the plan's joins meet them, as the plan shows them (indented).
fn join_lines(plan: &LogicalPlan) -> String {
    plan.display_indent()
        .to_string()
        .lines()
        .filter(|l| {
            l.trim_start().starts_with("Inner Join") || l.trim_start().starts_with("TableScan")
        })
        .map(|l| {
            let text = l.trim_end();
            match text.find(" projection=") {
                Some(at) => text[..at].to_string(),
                None => text.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn q5_meets_the_asian_customers_before_the_lines() {
    let temp = parquet_directory();
    let dir = temp.path();
    let plan = optimized_plan(&context(dir, true), Q5);
    let joins = join_lines(&plan);
    // The region meets the nations, the nations the customers and the customers the 1994
    // orders; only then the lines: each of those scans sits deeper than the lines' scan.
    let depth = |scan: &str| {
        let line = joins
            .lines()
            .find(|l| l.trim_start() == scan)
            .unwrap_or_else(|| panic!("{scan} in\n{joins}"));
        line.len() - line.trim_start().len()
    };
    for earlier in [
        "TableScan: region",
        "TableScan: nation",
        "TableScan: customer",
        "TableScan: orders",
    ] {
        assert!(
            depth(earlier) > depth("TableScan: lineitem"),
            "{earlier} should be joined before the lines:\n{joins}"
        );
    }
    let unordered = optimized_plan(&context(dir, false), Q5);
    assert_ne!(
        join_lines(&unordered),
        joins,
        "DataFusion's order should differ"
    );
}

#[test]
fn q5_returns_the_same_rows_in_either_order() {
    let temp = parquet_directory();
    let dir = temp.path();
    let ordered = rows(&context(dir, true), Q5);
    let unordered = rows(&context(dir, false), Q5);
    assert_eq!(ordered, unordered);
    assert!(
        ordered.lines().count() > 5,
        "some nations have revenue:\n{ordered}"
    );
}

/// Queries whose rows must not change when the rule reorders their joins (or declines to).
const SAME_ROWS: &[&str] = &[
    Q5,
    // A condition across two inputs that is not an equality, held by the join that first
    // sees both (q7's pair of nations).
    "SELECT n1.n_name, n2.n_name, count(*) FROM supplier, lineitem, orders, customer, \
     nation n1, nation n2 WHERE s_suppkey = l_suppkey AND o_orderkey = l_orderkey \
     AND c_custkey = o_custkey AND s_nationkey = n1.n_nationkey AND c_nationkey = n2.n_nationkey \
     AND ((n1.n_name = 'N1' AND n2.n_name = 'N7') OR (n1.n_name = 'N7' AND n2.n_name = 'N1')) \
     GROUP BY n1.n_name, n2.n_name",
    // Two equal columns of one input: a.x = b.y AND b.y = a.z holds a.x = a.z too.
    "SELECT count(*), sum(l_price) FROM lineitem l, supplier s, nation n, orders o \
     WHERE l.l_suppkey = s.s_suppkey AND s.s_nationkey = n.n_nationkey \
     AND n.n_nationkey = s.s_suppkey AND o.o_orderkey = l.l_orderkey",
    // A self join, and NULL keys on both sides.
    "SELECT count(*) FROM lineitem a, lineitem b, supplier s, nation n \
     WHERE a.l_orderkey = b.l_orderkey AND a.l_suppkey = s.s_suppkey \
     AND s.s_nationkey = n.n_nationkey AND n.n_name = 'N3' AND b.l_price < 5",
    // Keys of different types (the planner casts one side): not reordered.
    "SELECT count(*) FROM lineitem, orders, customer, nation \
     WHERE l_orderkey = o_orderkey AND o_custkey = c_custkey \
     AND CAST(c_nationkey AS INT) = CAST(n_nationkey AS INT) AND n_name = 'N4'",
    // An outer join inside: a leaf of the region, never crossed.
    "SELECT count(*), count(s_suppkey) FROM orders, customer, \
     (SELECT * FROM lineitem LEFT JOIN supplier ON l_suppkey = s_suppkey AND s_nationkey = 3) ls, \
     nation WHERE o_orderkey = ls.l_orderkey AND o_custkey = c_custkey \
     AND c_nationkey = n_nationkey AND n_regionkey = 2",
    // Columns selected in the query's order (the projection restores it).
    "SELECT r_name, l_price, c_custkey, n_name, o_orderkey FROM customer, orders, lineitem, \
     nation, region WHERE c_custkey = o_custkey AND l_orderkey = o_orderkey \
     AND c_nationkey = n_nationkey AND n_regionkey = r_regionkey AND r_name = 'ASIA' \
     AND o_orderdate < DATE '1992-03-01'",
];

#[test]
fn every_query_returns_the_same_rows_in_either_order() {
    let temp = parquet_directory();
    let dir = temp.path();
    let (ordered, unordered) = (context(dir, true), context(dir, false));
    for sql in SAME_ROWS {
        assert_eq!(rows(&ordered, sql), rows(&unordered, sql), "{sql}");
    }
}

#[test]
fn a_second_pass_over_an_ordered_plan_changes_nothing() {
    use datafusion::optimizer::{OptimizerContext, OptimizerRule};
    let temp = parquet_directory();
    let dir = temp.path();
    let ctx = context(dir, true);
    for sql in SAME_ROWS {
        let plan = optimized_plan(&ctx, sql);
        let again = OrderInnerJoins
            .rewrite(plan.clone(), &OptimizerContext::new())
            .expect("rewrites");
        assert!(!again.transformed, "{sql}\n{}", plan.display_indent());
    }
}

#[test]
fn tables_without_statistics_keep_the_querys_order() {
    let temp = parquet_directory();
    let dir = temp.path();
    let ctx = context(dir, true);
    // A CSV table has no statistics the rule reads: the region stays as DataFusion has it.
    let csv = dir.join("customer.csv");
    block_on(async {
        let copy = format!("COPY customer TO '{}' STORED AS CSV", csv.display());
        run(&ctx, &copy).await;
        let create = format!(
            "CREATE EXTERNAL TABLE customer_csv STORED AS CSV LOCATION '{}' OPTIONS ('format.has_header' 'true')",
            csv.display()
        );
        run(&ctx, &create).await;
    });
    let sql = "SELECT count(*) FROM customer_csv, orders, lineitem, nation \
               WHERE c_custkey = o_custkey AND l_orderkey = o_orderkey \
               AND c_nationkey = n_nationkey AND n_name = 'N2'";
    let plain = SessionContext::new_with_state(
        SessionStateBuilder::new_from_existing(ctx.state())
            .with_optimizer_rules(
                ctx.state()
                    .optimizers()
                    .iter()
                    .filter(|r| r.name() != "corepy_order_inner_joins")
                    .cloned()
                    .collect(),
            )
            .build(),
    );
    assert_eq!(
        join_lines(&optimized_plan(&ctx, sql)),
        join_lines(&optimized_plan(&plain, sql))
    );
    assert_eq!(rows(&ctx, sql), rows(&plain, sql));
}

#[test]
fn every_query_of_the_row_check_is_reordered() {
    // Otherwise the check above would compare DataFusion's order with itself.
    let temp = parquet_directory();
    let dir = temp.path();
    let (ordered, unordered) = (context(dir, true), context(dir, false));
    for sql in SAME_ROWS {
        let new = join_lines(&optimized_plan(&ordered, sql));
        let old = join_lines(&optimized_plan(&unordered, sql));
        assert_ne!(new, old, "{sql}");
    }
}

#[test]
fn a_condition_that_may_fail_stays_on_a_join_over_the_same_inputs() {
    // `l_price / c_custkey` divides: on another join it would meet other rows.
    let sql = "SELECT count(*) FROM customer, orders, lineitem, nation, region \
               WHERE c_custkey = o_custkey AND l_orderkey = o_orderkey \
               AND c_nationkey = n_nationkey AND n_regionkey = r_regionkey AND r_name = 'ASIA' \
               AND l_price / c_custkey > 0.01";
    let temp = parquet_directory();
    let dir = temp.path();
    let (ordered, unordered) = (context(dir, true), context(dir, false));
    // The join holding it keeps exactly its inputs (the joins around it may move).
    let holding = |ctx: &SessionContext| {
        let plan = join_lines(&optimized_plan(ctx, sql));
        let lines: Vec<&str> = plan.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.contains("Filter: lineitem.l_price / CAST(customer.c_custkey"))
            .unwrap_or_else(|| panic!("the condition is on a join:\n{plan}"));
        let indent = |l: &str| l.len() - l.trim_start().len();
        let below: Vec<String> = lines[at + 1..]
            .iter()
            .take_while(|l| indent(l) > indent(lines[at]))
            .map(|l| l.trim().to_string())
            .collect();
        (lines[at].trim().to_string(), below)
    };
    assert_eq!(holding(&ordered), holding(&unordered));
    assert_eq!(rows(&ordered, sql), rows(&unordered, sql));
}
