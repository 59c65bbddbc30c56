//! DELETE and UPDATE through DataFusion's analyzer and optimizer, with corepy's rules.

use std::sync::Arc;

use datafusion::execution::SessionStateBuilder;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;

use super::{SealDml, SealedDml};
use crate::error::CorepyError;
use crate::fusion::FuseRowWise;

fn context() -> SessionContext {
    let state = SessionStateBuilder::new()
        .with_default_features()
        .with_analyzer_rule(Arc::new(SealDml))
        .with_optimizer_rule(Arc::new(FuseRowWise))
        .build();
    SessionContext::new_with_state(state)
}

/// The optimized plan of `sql` over `t(id BIGINT, x BIGINT)` and `s(id BIGINT)`.
fn optimized(sql: &str) -> Result<LogicalPlan, CorepyError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let ctx = context();
        ctx.sql("CREATE TABLE t (id BIGINT, x BIGINT)").await?;
        ctx.sql("CREATE TABLE s (id BIGINT)").await?;
        let plan = ctx.state().create_logical_plan(sql).await?;
        Ok(ctx.state().optimize(&plan)?)
    })
}

fn sealed(plan: &LogicalPlan) -> &SealedDml {
    let LogicalPlan::Extension(extension) = plan else {
        panic!("not sealed:\n{}", plan.display_indent());
    };
    extension
        .node
        .as_any()
        .downcast_ref::<SealedDml>()
        .expect("a SealedDml")
}

#[test]
fn a_delete_keeps_its_condition_through_every_rule() {
    let plan = optimized("DELETE FROM t WHERE x > 1 AND id + 1 < 10").unwrap();
    let text = sealed(&plan).statement.display_indent().to_string();
    assert_eq!(
        text,
        "Dml: op=[Delete] table=[t]\
         \n  Filter: t.x > Int64(1) AND t.id + Int64(1) < Int64(10)\
         \n    TableScan: t"
    );
}

#[test]
fn a_condition_the_optimizer_would_fold_away_stays() {
    // The optimizer turns `Filter: false` into an empty relation, which DataFusion's DML
    // planner reads as "no condition": every row.
    let plan = optimized("DELETE FROM t WHERE 1 = 0").unwrap();
    let text = sealed(&plan).statement.display_indent().to_string();
    assert!(text.contains("Filter: Int64(1) = Int64(0)"), "{text}");
}

#[test]
fn an_update_keeps_its_values_and_condition() {
    let plan = optimized("UPDATE t SET x = x * 2 WHERE id = 2").unwrap();
    let text = sealed(&plan).statement.display_indent().to_string();
    assert!(
        text.contains("Projection: t.id AS id, t.x * Int64(2) AS x"),
        "{text}"
    );
    assert!(text.contains("Filter: t.id = Int64(2)"), "{text}");
}

#[test]
fn explain_shows_the_statement_as_written() {
    let plan = optimized("EXPLAIN DELETE FROM t WHERE x > 1").unwrap();
    let LogicalPlan::Explain(explain) = plan else {
        panic!("an explain")
    };
    let shown = explain.plan.display_indent().to_string();
    assert!(shown.contains("Delete: table=t (as written"), "{shown}");
    assert!(shown.contains("Filter: t.x > Int64(1)"), "{shown}");
}

#[test]
fn subqueries_and_joins_are_refused_not_run() {
    for sql in [
        "DELETE FROM t WHERE id IN (SELECT id FROM s)",
        "DELETE FROM t WHERE EXISTS (SELECT 1 FROM s WHERE s.id = t.id)",
        "UPDATE t SET x = (SELECT max(id) FROM s)",
        "UPDATE t SET x = 0 WHERE x > (SELECT min(id) FROM s)",
    ] {
        let error = optimized(sql).unwrap_err();
        assert!(
            matches!(&error, CorepyError::Plan { message } if message.contains("nothing was changed")),
            "{sql}: {error:?}"
        );
    }
}

#[test]
fn inserts_are_not_sealed() {
    // An INSERT's input runs as a query: it is optimized (and fused) like any query.
    let plan = optimized("INSERT INTO t SELECT id, x + 1 FROM t WHERE x > 1").unwrap();
    assert!(
        matches!(plan, LogicalPlan::Dml(_)),
        "{}",
        plan.display_indent()
    );
}
