//! EXPLAIN results (rows of `plan_type`, `plan`) as readable text.

use corepy_engine::QueryResult;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::DataType;

/// True when `result` has the shape of an EXPLAIN result.
pub fn is_explain(result: &QueryResult) -> bool {
    let names: Vec<&str> = result
        .schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    names == ["plan_type", "plan"]
        && result
            .schema
            .fields()
            .iter()
            .all(|f| f.data_type() == &DataType::Utf8)
}

/// One section per plan: `== physical_plan ==` followed by the plan, indented as DataFusion
/// prints it.
pub fn format_explain(result: &QueryResult) -> String {
    let mut text = String::new();
    for batch in &result.batches {
        let kinds = batch.column(0).as_string::<i32>();
        let plans = batch.column(1).as_string::<i32>();
        for row in 0..batch.num_rows() {
            if !text.is_empty() {
                text.push('\n');
            }
            let kind = if kinds.is_null(row) {
                ""
            } else {
                kinds.value(row)
            };
            let plan = if plans.is_null(row) {
                ""
            } else {
                plans.value(row)
            };
            text.push_str(&format!("== {kind} ==\n{}\n", plan.trim_end()));
        }
    }
    text
}
