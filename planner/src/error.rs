//! corepy's error taxonomy.
//!
//! DataFusion reports everything as one `DataFusionError`; users need to know *what kind* of
//! problem they hit and *where*. Every error that leaves corepy is classified here once, and the
//! Python layer maps each kind to its own exception class.

use std::fmt;

use datafusion::arrow::error::ArrowError;
use datafusion::common::{DataFusionError, SchemaError};

use crate::suggest;

pub type Result<T, E = CorepyError> = std::result::Result<T, E>;

/// A classified corepy error. User errors (everything but `Internal`) say what is wrong and
/// where; `Internal` means a bug in corepy or DataFusion.
#[derive(Debug, Clone, PartialEq)]
pub enum CorepyError {
    /// A column name that the input does not have.
    ColumnNotFound {
        column: String,
        candidates: Vec<String>,
        available: Vec<String>,
    },
    /// SQL text that does not parse.
    Sql {
        message: String,
        line: Option<u64>,
        column: Option<u64>,
    },
    /// A type mismatch or an invalid schema, naming the expression.
    Schema { message: String },
    /// A query that cannot be planned (unknown table or function, invalid operation).
    Plan { message: String },
    /// A path or glob that names nothing.
    PathNotFound { path: String },
    /// A file that exists but cannot be read as the format it claims to be.
    FileFormat { path: String, message: String },
    /// Tensor shapes that do not fit an operation (broadcasting, an axis, a reshape).
    Shape { message: String },
    /// An invalid argument to an API call.
    InvalidArgument { message: String },
    /// An error raised while computing (overflow, division by zero, a failed cast, …).
    Compute { message: String },
    /// A device asked for cannot be used (no GPU driver, no such device, a device
    /// failure) and the fallback policy says to fail.
    Device { message: String },
    /// The query was cancelled before it finished.
    Cancelled,
    /// A bug: a panic or an invariant DataFusion or corepy failed to keep.
    Internal { message: String },
}

impl fmt::Display for CorepyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ColumnNotFound {
                column,
                candidates,
                available,
            } => {
                write!(f, "column '{column}' not found")?;
                match candidates.as_slice() {
                    [] => write!(f, "; available columns: {}", quoted_list(available, 12)),
                    [one] => write!(f, "; did you mean '{one}'?"),
                    many => write!(f, "; did you mean one of {}?", quoted_list(many, 3)),
                }
            }
            Self::Sql {
                message,
                line,
                column,
            } => match (line, column) {
                (Some(line), Some(column)) => {
                    write!(f, "SQL error at line {line}, column {column}: {message}")
                }
                _ => write!(f, "SQL error: {message}"),
            },
            Self::Schema { message }
            | Self::Plan { message }
            | Self::InvalidArgument { message }
            | Self::Shape { message }
            | Self::Compute { message }
            | Self::Device { message } => f.write_str(message),
            Self::PathNotFound { path } => write!(f, "no such file or directory: '{path}'"),
            Self::FileFormat { path, message } if path.is_empty() => f.write_str(message),
            Self::FileFormat { path, message } => write!(f, "cannot read '{path}': {message}"),
            Self::Cancelled => f.write_str("query cancelled"),
            Self::Internal { message } => write!(
                f,
                "internal error (a bug in corepy, please report it): {message}"
            ),
        }
    }
}

impl std::error::Error for CorepyError {}

fn quoted_list(names: &[String], limit: usize) -> String {
    let mut shown: Vec<String> = names.iter().take(limit).map(|n| format!("'{n}'")).collect();
    if names.len() > limit {
        shown.push(format!("… ({} more)", names.len() - limit));
    }
    shown.join(", ")
}

impl CorepyError {
    pub fn schema(message: impl Into<String>) -> Self {
        Self::Schema {
            message: message.into(),
        }
    }

    pub fn plan(message: impl Into<String>) -> Self {
        Self::Plan {
            message: message.into(),
        }
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::InvalidArgument {
            message: message.into(),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal {
            message: message.into(),
        }
    }

    pub fn file_format(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::FileFormat {
            path: path.into(),
            message: message.into(),
        }
    }

    /// An unknown column, with the closest of `available` as suggestions.
    pub fn column_not_found(column: &str, available: Vec<String>) -> Self {
        let candidates = suggest::closest(column, available.iter().map(String::as_str));
        Self::ColumnNotFound {
            column: column.to_string(),
            candidates,
            available,
        }
    }

    /// Wraps this error for DataFusion APIs that only carry `DataFusionError`; the
    /// classification survives the round trip through [`CorepyError::from`].
    pub fn into_datafusion(self) -> DataFusionError {
        DataFusionError::External(Box::new(self))
    }

    /// True for errors raised while reading a file, whose path may be unknown at the point
    /// they are raised (the engine fills it in from the plan's scans).
    pub fn is_file_error_without_path(&self) -> bool {
        matches!(self, Self::FileFormat { path, .. } if path.is_empty())
    }
}

impl From<DataFusionError> for CorepyError {
    fn from(error: DataFusionError) -> Self {
        classify(error)
    }
}

impl From<ArrowError> for CorepyError {
    fn from(error: ArrowError) -> Self {
        classify_arrow(error)
    }
}

fn classify(error: DataFusionError) -> CorepyError {
    match error {
        DataFusionError::Context(_, inner) | DataFusionError::Diagnostic(_, inner) => {
            classify(*inner)
        }
        DataFusionError::SchemaError(schema_error, _) => classify_schema(*schema_error),
        DataFusionError::SQL(parser_error, _) => sql_error(parser_error.to_string()),
        DataFusionError::ArrowError(arrow_error, _) => classify_arrow(*arrow_error),
        DataFusionError::ParquetError(parquet_error) => {
            CorepyError::file_format("", format!("invalid Parquet data: {parquet_error}"))
        }
        DataFusionError::ObjectStore(store_error) => match *store_error {
            datafusion::object_store::Error::NotFound { path, .. } => {
                CorepyError::PathNotFound { path }
            }
            other => CorepyError::file_format("", other.to_string()),
        },
        DataFusionError::IoError(io_error) => classify_io(io_error),
        DataFusionError::Plan(message) => classify_plan_message(message),
        DataFusionError::NotImplemented(message) => {
            CorepyError::plan(format!("not supported: {message}"))
        }
        DataFusionError::Configuration(message) => CorepyError::invalid_argument(message),
        DataFusionError::Execution(message) => CorepyError::Compute { message },
        DataFusionError::ResourcesExhausted(message) => CorepyError::Compute {
            message: format!("resources exhausted: {message}"),
        },
        DataFusionError::External(external) => classify_external(external),
        // An error several consumers of one stream see (a repartition's, a hash join's).
        DataFusionError::Shared(shared) => match std::sync::Arc::try_unwrap(shared) {
            Ok(inner) => classify(inner),
            Err(shared) => classify_shared(&shared),
        },
        DataFusionError::ExecutionJoin(join_error) => {
            CorepyError::internal(format!("a query task failed: {join_error}"))
        }
        other => CorepyError::internal(other.to_string()),
    }
}

/// [`classify`] for an error that other consumers still hold: the kinds a query raises
/// while it runs, read in place.
fn classify_shared(error: &DataFusionError) -> CorepyError {
    match error {
        DataFusionError::Context(_, inner) | DataFusionError::Diagnostic(_, inner) => {
            classify_shared(inner)
        }
        DataFusionError::Shared(inner) => classify_shared(inner),
        DataFusionError::Execution(message) => CorepyError::Compute {
            message: message.clone(),
        },
        DataFusionError::ResourcesExhausted(message) => CorepyError::Compute {
            message: format!("resources exhausted: {message}"),
        },
        DataFusionError::External(external) => match external.downcast_ref::<CorepyError>() {
            Some(corepy) => corepy.clone(),
            None => CorepyError::Compute {
                message: external.to_string(),
            },
        },
        DataFusionError::ArrowError(arrow, _) => match arrow.as_ref() {
            ArrowError::DivideByZero
            | ArrowError::ArithmeticOverflow(_)
            | ArrowError::CastError(_)
            | ArrowError::ComputeError(_)
            | ArrowError::InvalidArgumentError(_) => classify_arrow(copy_arrow_error(arrow)),
            other => CorepyError::internal(other.to_string()),
        },
        other => CorepyError::internal(other.to_string()),
    }
}

/// A copy of the Arrow errors that carry only text.
fn copy_arrow_error(error: &ArrowError) -> ArrowError {
    match error {
        ArrowError::DivideByZero => ArrowError::DivideByZero,
        ArrowError::ArithmeticOverflow(m) => ArrowError::ArithmeticOverflow(m.clone()),
        ArrowError::CastError(m) => ArrowError::CastError(m.clone()),
        ArrowError::InvalidArgumentError(m) => ArrowError::InvalidArgumentError(m.clone()),
        other => ArrowError::ComputeError(other.to_string()),
    }
}

fn classify_external(external: Box<dyn std::error::Error + Send + Sync>) -> CorepyError {
    let external = match external.downcast::<CorepyError>() {
        Ok(corepy) => return *corepy,
        Err(other) => other,
    };
    let external = match external.downcast::<DataFusionError>() {
        Ok(datafusion) => return classify(*datafusion),
        Err(other) => other,
    };
    let external = match external.downcast::<ArrowError>() {
        Ok(arrow) => return classify_arrow(*arrow),
        Err(other) => other,
    };
    match external.downcast::<std::io::Error>() {
        Ok(io) => classify_io(*io),
        Err(other) => CorepyError::Compute {
            message: other.to_string(),
        },
    }
}

fn classify_io(error: std::io::Error) -> CorepyError {
    CorepyError::file_format("", format!("I/O error: {error}"))
}

fn classify_schema(error: SchemaError) -> CorepyError {
    match error {
        SchemaError::FieldNotFound {
            field,
            valid_fields,
        } => {
            let mut available: Vec<String> =
                valid_fields.iter().map(|c| c.name().to_string()).collect();
            available.dedup();
            CorepyError::column_not_found(field.name(), available)
        }
        SchemaError::DuplicateQualifiedField { name, .. }
        | SchemaError::DuplicateUnqualifiedField { name } => CorepyError::schema(format!(
            "duplicate output column '{name}'; give one of them another name with .alias()"
        )),
        other => CorepyError::schema(other.to_string()),
    }
}

fn classify_arrow(error: ArrowError) -> CorepyError {
    match error {
        ArrowError::ExternalError(external) => classify_external(external),
        ArrowError::DivideByZero => CorepyError::Compute {
            message: "division by zero".into(),
        },
        ArrowError::ArithmeticOverflow(message) => CorepyError::Compute {
            message: format!("arithmetic overflow: {message}"),
        },
        ArrowError::CastError(message) => CorepyError::Compute {
            message: format!("cast failed: {message}"),
        },
        ArrowError::ComputeError(message) | ArrowError::InvalidArgumentError(message) => {
            CorepyError::Compute { message }
        }
        ArrowError::ParseError(message) => CorepyError::file_format("", message),
        ArrowError::CsvError(message) => {
            CorepyError::file_format("", format!("malformed CSV: {message}"))
        }
        ArrowError::IpcError(message) => {
            CorepyError::file_format("", format!("invalid Arrow IPC data: {message}"))
        }
        ArrowError::ParquetError(message) => {
            CorepyError::file_format("", format!("invalid Parquet data: {message}"))
        }
        ArrowError::IoError(message, _) => CorepyError::file_format("", message),
        ArrowError::JsonError(message) => CorepyError::file_format("", message),
        other => CorepyError::Compute {
            message: other.to_string(),
        },
    }
}

/// DataFusion reports type mismatches as planning errors; they are schema errors to a user.
fn classify_plan_message(message: String) -> CorepyError {
    const TYPE_PROBLEMS: [&str; 6] = [
        "coerce",
        "No function matches",
        "does not support",
        "Cannot infer common",
        "type mismatch",
        "Unsupported CAST",
    ];
    if TYPE_PROBLEMS.iter().any(|p| message.contains(p)) {
        CorepyError::schema(message)
    } else {
        CorepyError::plan(message)
    }
}

/// Splits sqlparser's "… at Line: 3, Column: 7" into message and position.
fn sql_error(text: String) -> CorepyError {
    let text = text
        .trim_start_matches("sql parser error: ")
        .trim_start_matches("SQL error: ")
        .to_string();
    let Some(at) = text.rfind(" at Line: ") else {
        return CorepyError::Sql {
            message: text,
            line: None,
            column: None,
        };
    };
    let (message, position) = text.split_at(at);
    let numbers: Vec<u64> = position
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|part| part.parse().ok())
        .collect();
    CorepyError::Sql {
        message: message.trim_end_matches(',').to_string(),
        line: numbers.first().copied(),
        column: numbers.get(1).copied(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::common::Column;

    #[test]
    fn unknown_column_suggests_the_closest_name() {
        let error = DataFusionError::SchemaError(
            Box::new(SchemaError::FieldNotFound {
                field: Box::new(Column::from_name("l_quantty")),
                valid_fields: vec![Column::from_name("l_quantity"), Column::from_name("l_tax")],
            }),
            Box::new(None),
        );
        let error = CorepyError::from(error);
        assert_eq!(
            error.to_string(),
            "column 'l_quantty' not found; did you mean 'l_quantity'?"
        );
    }

    #[test]
    fn sql_position_is_extracted() {
        let error = sql_error(
            "sql parser error: Expected: end of statement, found: FORM at Line: 1, Column: 10"
                .into(),
        );
        assert_eq!(
            error,
            CorepyError::Sql {
                message: "Expected: end of statement, found: FORM".into(),
                line: Some(1),
                column: Some(10),
            }
        );
    }

    #[test]
    fn classification_survives_a_round_trip_through_datafusion() {
        let original = CorepyError::PathNotFound {
            path: "x.parquet".into(),
        };
        let wrapped = DataFusionError::Context(
            "while planning".into(),
            Box::new(original.clone().into_datafusion()),
        );
        assert_eq!(CorepyError::from(wrapped), original);
    }

    #[test]
    fn arrow_divide_by_zero_is_a_compute_error() {
        let error = CorepyError::from(DataFusionError::ArrowError(
            Box::new(ArrowError::DivideByZero),
            None,
        ));
        assert_eq!(
            error,
            CorepyError::Compute {
                message: "division by zero".into()
            }
        );
    }

    #[test]
    fn type_mismatch_from_planning_is_a_schema_error() {
        let error = CorepyError::from(DataFusionError::Plan(
            "Cannot coerce arithmetic expression Utf8 + Int64 to valid types".into(),
        ));
        assert!(matches!(error, CorepyError::Schema { .. }));
    }
}
