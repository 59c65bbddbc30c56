//! Checked arithmetic and sums through DataFusion with the `CheckOverflow` rule.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::SessionContext;

use super::CheckOverflow;
use crate::error::CorepyError;

const MAX: &str = "9223372036854775807";

fn run_in(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>, CorepyError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let frame = ctx.sql(sql).await?;
        Ok(frame.collect().await?)
    })
}

fn context(checked: bool) -> SessionContext {
    let mut state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(datafusion::prelude::SessionConfig::new().with_target_partitions(2));
    if checked {
        state = state.with_analyzer_rule(Arc::new(CheckOverflow));
    }
    SessionContext::new_with_state(state.build())
}

fn run(sql: &str) -> Result<String, CorepyError> {
    let batches = run_in(&context(true), sql)?;
    Ok(pretty_format_batches(&batches)?.to_string())
}

fn overflow(sql: &str) -> String {
    match run(sql) {
        Err(CorepyError::Compute { message }) if message.contains("overflow") => message,
        other => panic!("{sql}: expected an overflow error, got {other:?}"),
    }
}

#[test]
fn constants_that_overflow_fail() {
    let message = overflow(&format!("SELECT CAST({MAX} AS BIGINT) + 1"));
    assert!(message.contains("integer overflow in"), "{message}");
    overflow("SELECT CAST(2147483647 AS INT) + CAST(1 AS INT)");
    overflow(&format!("SELECT -CAST(-{MAX} AS BIGINT) + 2"));
}

#[test]
fn column_arithmetic_that_overflows_fails_and_names_the_expression() {
    let values = "(VALUES (CAST(4611686018427387904 AS BIGINT))) AS t(a)";
    let message = overflow(&format!("SELECT a * 4 FROM {values}"));
    assert!(message.contains("a * 4"), "{message}");
    overflow(&format!("SELECT a + a FROM {values}"));
    overflow(&format!("SELECT 0 - a - a - a FROM {values}"));
    overflow("SELECT -a FROM (VALUES (CAST(-9223372036854775808 AS BIGINT))) AS t(a)");
    overflow("SELECT a * a FROM (VALUES (CAST(100 AS TINYINT))) AS t(a)");
    overflow("SELECT a - CAST(2 AS INT UNSIGNED) FROM (VALUES (CAST(1 AS INT UNSIGNED))) AS t(a)");
}

#[test]
fn arithmetic_that_fits_keeps_its_values_names_and_nulls() {
    let sql = "SELECT a + 1, a * b, -a, a - b FROM (VALUES (1, 2), (NULL, 3), (-5, 4)) AS t(a, b)";
    let checked = run(sql).unwrap();
    let plain = pretty_format_batches(&run_in(&context(false), sql).unwrap())
        .unwrap()
        .to_string();
    assert_eq!(checked, plain);
    assert!(checked.contains("t.a + Int64(1)"), "{checked}");
}

#[test]
fn rows_a_filter_drops_do_not_fail() {
    let sql =
        format!("SELECT a + 1 FROM (VALUES (CAST({MAX} AS BIGINT)), (1)) AS t(a) WHERE a < 10");
    assert!(run(&sql).unwrap().contains("| 2 "));
}

#[test]
fn integer_sums_fail_on_overflow() {
    let values = format!("(VALUES (1, CAST({MAX} AS BIGINT)), (1, 1), (2, 5)) AS t(g, a)");
    overflow(&format!("SELECT sum(a) FROM {values}"));
    overflow(&format!("SELECT g, sum(a) FROM {values} GROUP BY g"));
    overflow(&format!("SELECT sum(DISTINCT a) FROM {values}"));
    overflow(&format!(
        "SELECT sum(a) OVER (ORDER BY a ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM {values}"
    ));
    overflow(&format!("SELECT sum(a) OVER (ORDER BY a) FROM {values}"));
    overflow(
        "SELECT sum(a) FROM (VALUES (CAST(18446744073709551615 AS BIGINT UNSIGNED)), \
         (CAST(1 AS BIGINT UNSIGNED))) AS t(a)",
    );
}

#[test]
fn integer_sums_that_fit_are_exact() {
    let sql = "SELECT g, sum(a), sum(DISTINCT a), sum(a) FILTER (WHERE a > 1), count(a) \
               FROM (VALUES (1, 2), (1, 2), (1, NULL), (2, NULL), (3, 7)) AS t(g, a) \
               GROUP BY g ORDER BY g";
    let checked = run(sql).unwrap();
    let plain = pretty_format_batches(&run_in(&context(false), sql).unwrap())
        .unwrap()
        .to_string();
    assert_eq!(checked, plain);
    let window = "SELECT a, sum(a) OVER (ORDER BY a ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) \
                  FROM (VALUES (1), (2), (NULL), (4)) AS t(a) ORDER BY a";
    let plain = pretty_format_batches(&run_in(&context(false), window).unwrap())
        .unwrap()
        .to_string();
    assert_eq!(run(window).unwrap(), plain);
}

#[test]
fn many_groups_sum_exactly_through_both_phases() {
    // Enough groups that the partial aggregate spills state across partitions.
    let sql = "SELECT g % 1000 AS k, sum(g) AS s FROM generate_series(1, 100000) AS t(g) \
               GROUP BY k ORDER BY k LIMIT 3";
    let checked = run(sql).unwrap();
    let plain = pretty_format_batches(&run_in(&context(false), sql).unwrap())
        .unwrap()
        .to_string();
    assert_eq!(checked, plain);
}

#[test]
fn explain_shows_the_checked_operations() {
    let text = run("EXPLAIN SELECT a + 1 FROM (VALUES (1)) AS t(a)").unwrap();
    assert!(text.contains("checked_add(t.a, Int64(1))"), "{text}");
}
