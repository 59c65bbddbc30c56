//! Plans with and without the one-pass rewrite, and the rows they return over tables full of
//! NULLs, repeated keys and groups of one value.

use std::sync::Arc;

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::execution::SessionStateBuilder;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;

use super::{ExistsInOnePass, BOUNDS_ALIAS};

fn context(rewrite: bool) -> SessionContext {
    let mut builder = SessionStateBuilder::new().with_default_features();
    if rewrite {
        builder = builder.with_optimizer_rule(Arc::new(ExistsInOnePass));
    }
    SessionContext::new_with_state(builder.build())
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
        .block_on(future)
}

/// `lines(k, k2, s, name, late, price)` and `outer_rows(k, s)`: `rows` lines whose values
/// come from small domains (so keys repeat and groups of one supplier are common), about
/// one value in eight NULL.
fn tables(rows: usize) -> Vec<String> {
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let mut value = |n: u64| -> String {
        if next(8) == 0 {
            "NULL".into()
        } else {
            next(n).to_string()
        }
    };
    let mut lines = Vec::with_capacity(rows);
    for _ in 0..rows {
        let (k, k2, s) = (value(150), value(2), value(4));
        let name = match value(4).as_str() {
            "NULL" => "NULL".to_string(),
            n => format!("'s{n}'"),
        };
        let late = match value(2).as_str() {
            "NULL" => "NULL",
            "0" => "false",
            _ => "true",
        };
        let price = value(100);
        lines.push(format!("({k}, {k2}, {s}, {name}, {late}, {price})"));
    }
    let mut outer = Vec::with_capacity(rows / 2);
    for _ in 0..rows / 2 {
        outer.push(format!("({}, {})", value(180), value(5)));
    }
    let mut statements = vec![
        "CREATE TABLE lines (k BIGINT, k2 INT, s BIGINT, name VARCHAR, late BOOLEAN, \
         price DOUBLE)"
            .to_string(),
        "CREATE TABLE outer_rows (k BIGINT, s BIGINT)".into(),
    ];
    if rows > 0 {
        statements.push(format!("INSERT INTO lines VALUES {}", lines.join(", ")));
        statements.push(format!(
            "INSERT INTO outer_rows VALUES {}",
            outer.join(", ")
        ));
    }
    statements
}

async fn create_tables(ctx: &SessionContext, rows: usize) {
    for statement in tables(rows) {
        ctx.sql(&statement)
            .await
            .expect("creates")
            .collect()
            .await
            .expect("runs");
    }
}

fn optimized(sql: &str, rewrite: bool) -> String {
    block_on(async {
        let ctx = context(rewrite);
        create_tables(&ctx, 10).await;
        let plan = ctx.state().create_logical_plan(sql).await.expect("plans");
        let plan: LogicalPlan = ctx.state().optimize(&plan).expect("optimizes");
        let text = plan.display_indent().to_string();
        text
    })
}

/// The rows `sql` returns, sorted, as text.
fn rows(sql: &str, rewrite: bool) -> String {
    block_on(async {
        let ctx = context(rewrite);
        create_tables(&ctx, 600).await;
        let batches = ctx
            .sql(sql)
            .await
            .expect("plans")
            .collect()
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let text = pretty_format_batches(&batches)
            .expect("formats")
            .to_string();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort_unstable();
        lines.join("\n")
    })
}

/// TPC-H q21's shape: another supplier in the order, and no other late one.
const Q21: &str = "SELECT l1.k, l1.s, count(*) AS n FROM lines l1 \
     WHERE l1.late \
     AND EXISTS (SELECT * FROM lines l2 WHERE l2.k = l1.k AND l2.s <> l1.s) \
     AND NOT EXISTS (SELECT * FROM lines l3 WHERE l3.k = l1.k AND l3.s <> l1.s AND l3.late) \
     GROUP BY l1.k, l1.s";

#[test]
fn q21s_two_subqueries_are_one_grouped_pass_over_the_lines() {
    assert_eq!(
        optimized(Q21, true),
        "Projection: l1.k, l1.s, count(Int64(1)) AS count(*) AS n\
         \n  Aggregate: groupBy=[[l1.k, l1.s]], aggr=[[count(Int64(1))]]\
         \n    LeftSemi Join: l1.k = __corepy_exists.k Filter: __corepy_exists.__corepy_lo0 != l1.s OR __corepy_exists.__corepy_hi0 != l1.s IS NOT TRUE AND (__corepy_exists.__corepy_lo1 != l1.s OR __corepy_exists.__corepy_hi1 != l1.s)\
         \n      SubqueryAlias: l1\
         \n        Projection: lines.k, lines.s\
         \n          Filter: lines.late\
         \n            TableScan: lines projection=[k, s, late]\
         \n      SubqueryAlias: __corepy_exists\
         \n        Aggregate: groupBy=[[lines.k]], aggr=[[min(__common_expr_3) AS __corepy_lo0, max(__common_expr_3) AS __corepy_hi0, min(lines.s) AS __corepy_lo1, max(lines.s) AS __corepy_hi1]]\
         \n          Projection: CASE WHEN lines.late THEN lines.s END AS __common_expr_3, lines.k, lines.s\
         \n            TableScan: lines projection=[k, s, late]"
    );
}

/// Chains the rule merges: their answers must be DataFusion's.
const MERGED: &[&str] = &[
    Q21,
    // Both NOT EXISTS: one anti join on either condition.
    "SELECT o.k, o.s FROM outer_rows o \
     WHERE NOT EXISTS (SELECT 1 FROM lines a WHERE a.k = o.k AND a.s <> o.s AND a.late) \
     AND NOT EXISTS (SELECT 1 FROM lines b WHERE b.k = o.k AND b.s <> o.s AND b.price > 50)",
    // Both EXISTS, the inequality written the other way round, three subqueries.
    "SELECT o.k, o.s FROM outer_rows o \
     WHERE EXISTS (SELECT 1 FROM lines a WHERE a.k = o.k AND o.s <> a.s) \
     AND EXISTS (SELECT 1 FROM lines b WHERE b.k = o.k AND b.s <> o.s AND NOT b.late) \
     AND NOT EXISTS (SELECT 1 FROM lines c WHERE c.k = o.k AND c.s <> o.s AND c.price < 10)",
    // Two keys, and a different column compared by each subquery.
    "SELECT l1.k, l1.k2, l1.s, l1.name FROM lines l1 \
     WHERE EXISTS (SELECT 1 FROM lines a WHERE a.k = l1.k AND a.k2 = l1.k2 AND a.s <> l1.s) \
     AND NOT EXISTS (SELECT 1 FROM lines b WHERE b.k = l1.k AND b.k2 = l1.k2 \
     AND b.name <> l1.name AND b.late)",
    // Strings.
    "SELECT l1.k, l1.name FROM lines l1 \
     WHERE EXISTS (SELECT 1 FROM lines a WHERE a.k = l1.k AND a.name <> l1.name) \
     AND NOT EXISTS (SELECT 1 FROM lines b WHERE b.k = l1.k AND b.name <> l1.name \
     AND b.late IS NOT TRUE)",
];

#[test]
fn merged_chains_answer_as_datafusions_joins() {
    for sql in MERGED {
        assert!(
            optimized(sql, true).contains(BOUNDS_ALIAS),
            "not merged: {sql}"
        );
        let (expected, got) = (rows(sql, false), rows(sql, true));
        let count = expected.lines().count();
        assert!(count > 12, "too few rows to tell ({count}): {sql}");
        assert_eq!(got, expected, "{sql}");
    }
}

/// Queries the rule must leave as DataFusion plans them.
const UNCHANGED: &[&str] = &[
    // One subquery: no pass to share.
    "SELECT o.k FROM outer_rows o WHERE EXISTS \
     (SELECT 1 FROM lines a WHERE a.k = o.k AND a.s <> o.s)",
    // Floats: `-0.0 = 0.0` and NaN break min = max = value.
    "SELECT l1.k FROM lines l1 \
     WHERE EXISTS (SELECT 1 FROM lines a WHERE a.k = l1.k AND a.price <> l1.price) \
     AND NOT EXISTS (SELECT 1 FROM lines b WHERE b.k = l1.k AND b.price <> l1.price)",
    // A second correlated condition.
    "SELECT l1.k FROM lines l1 \
     WHERE EXISTS (SELECT 1 FROM lines a WHERE a.k = l1.k AND a.s <> l1.s AND a.k2 > l1.k2) \
     AND NOT EXISTS (SELECT 1 FROM lines b WHERE b.k = l1.k AND b.s <> l1.s)",
    // Different tables.
    "SELECT l1.k FROM lines l1 \
     WHERE EXISTS (SELECT 1 FROM lines a WHERE a.k = l1.k AND a.s <> l1.s) \
     AND NOT EXISTS (SELECT 1 FROM outer_rows b WHERE b.k = l1.k AND b.s <> l1.s)",
    // Different keys.
    "SELECT l1.k FROM lines l1 \
     WHERE EXISTS (SELECT 1 FROM lines a WHERE a.k = l1.k AND a.s <> l1.s) \
     AND NOT EXISTS (SELECT 1 FROM lines b WHERE b.k = l1.s AND b.s <> l1.s)",
    // An equality, not an inequality.
    "SELECT l1.k FROM lines l1 \
     WHERE EXISTS (SELECT 1 FROM lines a WHERE a.k = l1.k AND a.s = l1.s) \
     AND NOT EXISTS (SELECT 1 FROM lines b WHERE b.k = l1.k AND b.s <> l1.s)",
    // NOT IN reads the subquery's NULLs.
    "SELECT l1.k FROM lines l1 WHERE l1.s NOT IN (SELECT s FROM lines) \
     AND NOT EXISTS (SELECT 1 FROM lines b WHERE b.k = l1.k AND b.s <> l1.s)",
];

#[test]
fn plans_the_rule_cannot_merge_stay_as_they_are() {
    for sql in UNCHANGED {
        assert_eq!(optimized(sql, true), optimized(sql, false), "{sql}");
    }
}

#[test]
fn empty_tables_answer_as_datafusions_joins() {
    block_on(async {
        for rewrite in [false, true] {
            let ctx = context(rewrite);
            create_tables(&ctx, 0).await;
            let batches = ctx
                .sql(Q21)
                .await
                .expect("plans")
                .collect()
                .await
                .expect("runs");
            assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 0);
        }
    });
}

#[test]
fn the_grouped_pass_is_not_reduced_by_the_outer_rows_own_scan() {
    // The outer rows are a filtered scan of the same table: semi-join reduction would add
    // a join with it below the aggregation (the engine's Bloom filter does that work).
    let plan = block_on(async {
        let builder = SessionStateBuilder::new()
            .with_default_features()
            .with_optimizer_rule(Arc::new(ExistsInOnePass))
            .with_optimizer_rule(Arc::new(crate::semi_join::PushJoinKeysIntoAggregate));
        let ctx = SessionContext::new_with_state(builder.build());
        create_tables(&ctx, 10).await;
        let plan = ctx.state().create_logical_plan(Q21).await.expect("plans");
        let plan = ctx.state().optimize(&plan).expect("optimizes");
        let text = plan.display_indent().to_string();
        text
    });
    assert!(plan.contains(BOUNDS_ALIAS), "{plan}");
    assert!(!plan.contains("__corepy_keys"), "{plan}");
}
