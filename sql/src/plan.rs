//! SQL text → logical plan.

use corepy_engine::Session;
use corepy_planner::Result;
use datafusion::logical_expr::LogicalPlan;

use crate::copy_format::complete_copy_format;

/// Plans one SQL statement. Queries stay lazy (nothing runs until they are collected);
/// statements with effects (`CREATE`, `DROP`, `SET`, …) run now, as in DuckDB, and yield an
/// empty plan. File paths in quotes are tables: `FROM 'data/*.parquet'`.
pub async fn plan_sql(session: &Session, sql: &str) -> Result<LogicalPlan> {
    let state = session.context().state();
    let dialect = state.config().options().sql_parser.dialect;
    let mut statement = state.sql_to_statement(sql, &dialect)?;
    complete_copy_format(&mut statement);
    let plan = state.statement_to_plan(statement).await?;
    let frame = session.context().execute_logical_plan(plan).await?;
    Ok(frame.logical_plan().clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use corepy_engine::{runtime::block_on, SessionOptions};
    use corepy_planner::CorepyError;

    fn run(sql: &'static str) -> Result<corepy_engine::QueryResult> {
        let session = Session::new(SessionOptions::default()).unwrap();
        block_on(async move {
            let plan = plan_sql(&session, sql).await?;
            session.collect(&plan).await
        })
    }

    #[test]
    fn a_query_runs() {
        let result = run("SELECT 1 + 1 AS two").unwrap();
        assert_eq!(result.num_rows(), 1);
    }

    #[test]
    fn syntax_error_has_a_position() {
        let error = run("SELECT 1 FORM t").unwrap_err();
        assert!(
            matches!(
                error,
                CorepyError::Sql {
                    line: Some(1),
                    column: Some(_),
                    ..
                }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn missing_file_names_the_path() {
        let error = run("SELECT * FROM 'no/such/file.parquet'").unwrap_err();
        assert_eq!(
            error,
            CorepyError::PathNotFound {
                path: "no/such/file.parquet".into()
            }
        );
    }

    #[test]
    fn unknown_column_suggests_a_name() {
        let error = run("SELECT colum1 FROM (VALUES (1)) AS t").unwrap_err();
        assert!(
            matches!(error, CorepyError::ColumnNotFound { ref candidates, .. } if candidates == &vec!["column1".to_string()]),
            "{error:?}"
        );
    }

    #[test]
    fn division_by_zero_is_a_compute_error() {
        let error = run("SELECT a / b FROM (VALUES (1, 0)) AS t(a, b)").unwrap_err();
        assert!(matches!(error, CorepyError::Compute { .. }), "{error:?}");
    }
}
