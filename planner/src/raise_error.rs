//! `raise_error(message)`: fails the query with `message` on the first row where it is not
//! NULL; NULL everywhere, it yields NULLs of its declared type. Guarded by a `CASE WHEN`,
//! it lets a plan refuse data it cannot represent — a `pivot()` cell that holds several
//! values — with a message that names the offending values, as Polars' errors do.

use std::sync::Arc;

use datafusion::arrow::array::{new_null_array, Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// The function, yielding `return_type` where it does not fail.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RaiseError {
    return_type: DataType,
    signature: Signature,
}

impl RaiseError {
    /// `raise_error(message)` as an expression of type `return_type`.
    pub fn call(message: Expr, return_type: DataType) -> Expr {
        ScalarUDF::new_from_impl(Self {
            return_type,
            // Volatile: the simplifier must not evaluate it at plan time, where a guard
            // that would have kept it from running is not yet applied.
            signature: Signature::string(1, Volatility::Volatile),
        })
        .call(vec![message])
    }
}

impl ScalarUDFImpl for RaiseError {
    fn name(&self) -> &str {
        "raise_error"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.return_type.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let message = match &args.args[0] {
            ColumnarValue::Scalar(scalar) => first_message(&scalar.to_array()?)?,
            ColumnarValue::Array(array) => first_message(array)?,
        };
        if let Some(message) = message {
            return exec_err!("{message}");
        }
        Ok(match &args.args[0] {
            ColumnarValue::Scalar(_) => {
                ColumnarValue::Scalar(ScalarValue::try_from(&self.return_type)?)
            }
            ColumnarValue::Array(array) => {
                ColumnarValue::Array(new_null_array(&self.return_type, array.len()))
            }
        })
    }
}

/// The first non-NULL message of `messages`, of any string type.
fn first_message(messages: &Arc<dyn Array>) -> Result<Option<String>> {
    let messages = cast(messages, &DataType::Utf8)?;
    let messages = messages.as_string::<i32>();
    Ok(messages.iter().flatten().next().map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::logical_expr::{col, when};
    use datafusion::prelude::SessionContext;

    async fn run(messages: Vec<Option<&str>>) -> Result<Vec<Option<i64>>> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("m", DataType::Utf8, true),
            Field::new("v", DataType::Int64, false),
        ]));
        let values: Vec<i64> = (0..messages.len() as i64).collect();
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(messages)),
                Arc::new(Int64Array::from(values)),
            ],
        )?;
        let context = SessionContext::new();
        let frame = context.read_batch(batch)?.select(vec![when(
            col("m").is_not_null(),
            RaiseError::call(col("m"), DataType::Int64),
        )
        .otherwise(col("v"))?
        .alias("out")])?;
        let batches = frame.collect().await?;
        Ok(batches
            .iter()
            .flat_map(|b| {
                let column = b
                    .column(0)
                    .as_primitive::<datafusion::arrow::datatypes::Int64Type>();
                column.iter().collect::<Vec<_>>()
            })
            .collect())
    }

    #[tokio::test]
    async fn fails_with_the_first_message_and_only_where_it_is_reached() {
        let error = run(vec![None, Some("cell (k=1) holds 2 values"), Some("later")])
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("cell (k=1) holds 2 values"),
            "{error}"
        );
        assert_eq!(run(vec![None, None]).await.unwrap(), vec![Some(0), Some(1)]);
        assert_eq!(run(vec![]).await.unwrap(), Vec::<Option<i64>>::new());
    }
}
