//! `checked_add`, `checked_sub`, `checked_mul` and `checked_neg`: integer arithmetic that
//! fails on overflow instead of wrapping. [`super::CheckOverflow`] puts them in place of
//! DataFusion's integer `+ − ×` and negation; the JIT lowers them to guarded operations.

use std::sync::Arc;

use datafusion::arrow::array::Datum;
use datafusion::arrow::compute::kernels::numeric;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::arrow::error::ArrowError;
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::sort_properties::{ExprProperties, SortProperties};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

/// The checked operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckedOp {
    Add,
    Sub,
    Mul,
    Neg,
}

impl CheckedOp {
    /// The function's name, as EXPLAIN shows it.
    pub fn name(self) -> &'static str {
        match self {
            CheckedOp::Add => "checked_add",
            CheckedOp::Sub => "checked_sub",
            CheckedOp::Mul => "checked_mul",
            CheckedOp::Neg => "checked_neg",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Add, Self::Sub, Self::Mul, Self::Neg]
            .into_iter()
            .find(|op| op.name() == name)
    }

    fn symbol(self) -> &'static str {
        match self {
            CheckedOp::Add => "+",
            CheckedOp::Sub | CheckedOp::Neg => "-",
            CheckedOp::Mul => "*",
        }
    }
}

/// One checked operation over one integer type. `shown` is the expression as the user
/// wrote it (`price * 4`), for the error message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CheckedArithmetic {
    pub op: CheckedOp,
    shown: String,
    signature: Signature,
}

impl CheckedArithmetic {
    pub fn new(op: CheckedOp, data_type: DataType, shown: String) -> Self {
        let arity = if op == CheckedOp::Neg { 1 } else { 2 };
        Self {
            op,
            shown,
            signature: Signature::exact(vec![data_type; arity], Volatility::Immutable),
        }
    }

    /// The call `op(args)` as an expression.
    pub fn call(op: CheckedOp, data_type: DataType, shown: String, args: Vec<Expr>) -> Expr {
        ScalarUDF::new_from_impl(Self::new(op, data_type, shown)).call(args)
    }

    fn overflow(&self, detail: &str) -> DataFusionError {
        DataFusionError::ArrowError(
            Box::new(ArrowError::ArithmeticOverflow(format!(
                "integer overflow in `{}` ({detail})",
                self.shown
            ))),
            None,
        )
    }
}

impl ScalarUDFImpl for CheckedArithmetic {
    fn name(&self) -> &str {
        self.op.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    /// Named as the operator it replaces, so that column names do not change.
    fn schema_name(&self, args: &[Expr]) -> Result<String> {
        Ok(match args {
            [a] => format!("(- {})", a.schema_name()),
            [a, b] => format!(
                "{} {} {}",
                a.schema_name(),
                self.op.symbol(),
                b.schema_name()
            ),
            _ => self.op.name().to_string(),
        })
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let nullable = args.arg_fields.iter().any(|f| f.is_nullable());
        let data_type = args.arg_fields[0].data_type().clone();
        Ok(Arc::new(Field::new(self.name(), data_type, nullable)))
    }

    /// NULL in, NULL out: filters on it reject NULLs, as filters on `+` do.
    fn is_strict(&self) -> bool {
        true
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalars = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        // Constants stay scalars: Arrow's kernels broadcast them without a copy.
        let datums = args
            .args
            .iter()
            .map(|a| -> Result<Box<dyn Datum>> {
                Ok(match a {
                    ColumnarValue::Array(array) => Box::new(Arc::clone(array)),
                    ColumnarValue::Scalar(scalar) => Box::new(scalar.to_scalar()?),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let result = match (self.op, datums.as_slice()) {
            (CheckedOp::Neg, [a]) => numeric::neg(a.get().0),
            (CheckedOp::Add, [a, b]) => numeric::add(a.as_ref(), b.as_ref()),
            (CheckedOp::Sub, [a, b]) => numeric::sub(a.as_ref(), b.as_ref()),
            (CheckedOp::Mul, [a, b]) => numeric::mul(a.as_ref(), b.as_ref()),
            _ => return Err(DataFusionError::Internal(format!("{} arity", self.name()))),
        };
        let result = result.map_err(|e| match e {
            ArrowError::ArithmeticOverflow(detail) => self.overflow(&detail),
            other => DataFusionError::ArrowError(Box::new(other), None),
        })?;
        Ok(if scalars {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&result, 0)?)
        } else {
            ColumnarValue::Array(result)
        })
    }

    /// Monotonic as the operators are (an overflow fails rather than wrapping around).
    fn output_ordering(&self, inputs: &[ExprProperties]) -> Result<SortProperties> {
        Ok(match (self.op, inputs) {
            (CheckedOp::Neg, [a]) => -a.sort_properties,
            (CheckedOp::Add, [a, b]) => a.sort_properties.add(&b.sort_properties),
            (CheckedOp::Sub, [a, b]) => a.sort_properties.sub(&b.sort_properties),
            _ => SortProperties::Unordered,
        })
    }
}

/// `expr` as the user wrote it: checked calls shown as the operators they replace (for
/// error messages that quote an expression).
pub fn as_written(expr: &Expr) -> Expr {
    use datafusion::common::tree_node::{Transformed, TreeNode};
    use datafusion::logical_expr::{binary_expr, Operator};
    expr.clone()
        .transform_up(|e| {
            let Expr::ScalarFunction(call) = &e else {
                return Ok(Transformed::no(e));
            };
            let Some(checked) = call.func.inner().downcast_ref::<CheckedArithmetic>() else {
                return Ok(Transformed::no(e));
            };
            let operator = match checked.op {
                CheckedOp::Add => Operator::Plus,
                CheckedOp::Sub => Operator::Minus,
                CheckedOp::Mul => Operator::Multiply,
                CheckedOp::Neg => {
                    return Ok(Transformed::yes(Expr::Negative(Box::new(
                        call.args[0].clone(),
                    ))))
                }
            };
            let (a, b) = (call.args[0].clone(), call.args[1].clone());
            Ok(Transformed::yes(binary_expr(a, operator, b)))
        })
        .map_or_else(|_| expr.clone(), |t| t.data)
}
