//! Data type names as users write them: `"int64"`, `"f64"`, `"utf8"`, `"date"`,
//! `"timestamp[ms]"`, `"decimal(15,2)"`, or Arrow's own spelling (`"Int64"`).

use std::str::FromStr;

use datafusion::arrow::datatypes::{DataType, TimeUnit};

use crate::error::{CorepyError, Result};

/// Parses a data type name; the error lists the accepted spellings.
pub fn parse_dtype(name: &str) -> Result<DataType> {
    let lowered = name.trim().to_ascii_lowercase();
    let simple = match lowered.as_str() {
        "bool" | "boolean" => Some(DataType::Boolean),
        "int8" | "i8" => Some(DataType::Int8),
        "int16" | "i16" => Some(DataType::Int16),
        "int32" | "i32" | "int" => Some(DataType::Int32),
        "int64" | "i64" | "bigint" => Some(DataType::Int64),
        "uint8" | "u8" => Some(DataType::UInt8),
        "uint16" | "u16" => Some(DataType::UInt16),
        "uint32" | "u32" => Some(DataType::UInt32),
        "uint64" | "u64" => Some(DataType::UInt64),
        "float32" | "f32" | "float" | "real" => Some(DataType::Float32),
        "float64" | "f64" | "double" => Some(DataType::Float64),
        "utf8" | "str" | "string" | "varchar" | "text" => Some(DataType::Utf8),
        "large_utf8" | "large_string" => Some(DataType::LargeUtf8),
        "utf8view" | "string_view" => Some(DataType::Utf8View),
        "binary" | "bytes" => Some(DataType::Binary),
        "date" | "date32" => Some(DataType::Date32),
        "date64" => Some(DataType::Date64),
        "timestamp" | "datetime" => Some(DataType::Timestamp(TimeUnit::Microsecond, None)),
        "null" => Some(DataType::Null),
        _ => None,
    };
    if let Some(data_type) = simple {
        return Ok(data_type);
    }
    if let Some(unit) = bracketed(&lowered, "timestamp").or_else(|| bracketed(&lowered, "datetime"))
    {
        return Ok(DataType::Timestamp(time_unit(unit, name)?, None));
    }
    if let Some(unit) = bracketed(&lowered, "duration") {
        return Ok(DataType::Duration(time_unit(unit, name)?));
    }
    if let Some(arguments) = lowered
        .strip_prefix("decimal(")
        .and_then(|rest| rest.strip_suffix(')'))
    {
        return decimal(arguments, name);
    }
    DataType::from_str(name.trim()).map_err(|_| {
        CorepyError::invalid_argument(format!(
            "unknown data type '{name}'; use one of bool, int8..int64, uint8..uint64, \
             float32, float64, utf8, binary, date, timestamp[s|ms|us|ns], \
             duration[s|ms|us|ns], decimal(p,s), or an Arrow type such as 'Int64'"
        ))
    })
}

fn bracketed<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    text.strip_prefix(prefix)?
        .strip_prefix('[')?
        .strip_suffix(']')
}

fn time_unit(unit: &str, original: &str) -> Result<TimeUnit> {
    match unit.trim() {
        "s" => Ok(TimeUnit::Second),
        "ms" => Ok(TimeUnit::Millisecond),
        "us" => Ok(TimeUnit::Microsecond),
        "ns" => Ok(TimeUnit::Nanosecond),
        other => Err(CorepyError::invalid_argument(format!(
            "unknown time unit '{other}' in '{original}'; use s, ms, us or ns"
        ))),
    }
}

fn decimal(arguments: &str, original: &str) -> Result<DataType> {
    let parts: Vec<&str> = arguments.split(',').map(str::trim).collect();
    let invalid = || {
        CorepyError::invalid_argument(format!(
            "invalid decimal type '{original}'; write decimal(precision, scale) with \
             1 <= precision <= 38"
        ))
    };
    let precision: u8 = parts
        .first()
        .and_then(|p| p.parse().ok())
        .ok_or_else(invalid)?;
    let scale: i8 = match parts.get(1) {
        Some(scale) => scale.parse().map_err(|_| invalid())?,
        None => 0,
    };
    if !(1..=38).contains(&precision) || parts.len() > 2 || i16::from(scale) > i16::from(precision)
    {
        return Err(invalid());
    }
    Ok(DataType::Decimal128(precision, scale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_spellings() {
        assert_eq!(parse_dtype("int64").unwrap(), DataType::Int64);
        assert_eq!(parse_dtype("F64").unwrap(), DataType::Float64);
        assert_eq!(parse_dtype("str").unwrap(), DataType::Utf8);
        assert_eq!(
            parse_dtype("timestamp[ms]").unwrap(),
            DataType::Timestamp(TimeUnit::Millisecond, None)
        );
        assert_eq!(
            parse_dtype("decimal(15, 2)").unwrap(),
            DataType::Decimal128(15, 2)
        );
    }

    #[test]
    fn arrow_spelling_is_accepted() {
        assert_eq!(parse_dtype("Int16").unwrap(), DataType::Int16);
    }

    #[test]
    fn unknown_type_is_rejected_with_the_accepted_spellings() {
        let error = parse_dtype("integer64").unwrap_err().to_string();
        assert!(error.contains("unknown data type 'integer64'"), "{error}");
        assert!(parse_dtype("decimal(40,2)").is_err());
        assert!(parse_dtype("timestamp[minutes]").is_err());
    }
}
