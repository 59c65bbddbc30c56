//! The scalar types a kernel computes with, and what each costs in memory.

use std::fmt;

/// The type of one element of a kernel value.
///
/// Dates, timestamps and durations are stored as integers (days, or ticks of their unit),
/// exactly as Arrow stores them; the unit and time zone live in the plan, not in the kernel,
/// because no kernel operation depends on them (arithmetic on them is not fused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScalarType {
    Bool,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F32,
    F64,
    /// Days since the epoch, stored as i32.
    Date32,
    /// Ticks since the epoch, stored as i64.
    Timestamp,
    /// Ticks, stored as i64.
    Duration,
    /// A 128-bit decimal with its precision and scale.
    Decimal128 {
        precision: u8,
        scale: i8,
    },
}

impl ScalarType {
    /// Bytes per element in an Arrow values buffer; booleans are bit-packed and report 0.
    pub fn byte_width(self) -> usize {
        match self {
            ScalarType::Bool => 0,
            ScalarType::I8 | ScalarType::U8 => 1,
            ScalarType::I16 | ScalarType::U16 => 2,
            ScalarType::I32 | ScalarType::U32 | ScalarType::F32 | ScalarType::Date32 => 4,
            ScalarType::I64
            | ScalarType::U64
            | ScalarType::F64
            | ScalarType::Timestamp
            | ScalarType::Duration => 8,
            ScalarType::Decimal128 { .. } => 16,
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, ScalarType::F32 | ScalarType::F64)
    }

    /// Signed integers, including the integer-backed temporal types.
    pub fn is_signed_int(self) -> bool {
        matches!(
            self,
            ScalarType::I8
                | ScalarType::I16
                | ScalarType::I32
                | ScalarType::I64
                | ScalarType::Date32
                | ScalarType::Timestamp
                | ScalarType::Duration
        )
    }

    pub fn is_unsigned_int(self) -> bool {
        matches!(
            self,
            ScalarType::U8 | ScalarType::U16 | ScalarType::U32 | ScalarType::U64
        )
    }

    /// The integer types proper (not the integer-backed temporal ones): their + − × and
    /// negation fail on overflow.
    pub fn is_integer(self) -> bool {
        self.is_numeric() && !self.is_float()
    }

    /// Types that arithmetic (+ − × ÷ %) is defined on inside a kernel.
    pub fn is_numeric(self) -> bool {
        self.is_float()
            || self.is_unsigned_int()
            || matches!(
                self,
                ScalarType::I8 | ScalarType::I16 | ScalarType::I32 | ScalarType::I64
            )
    }

    /// Bits of the integer or float that holds one element (booleans: 1).
    pub fn bits(self) -> u32 {
        match self {
            ScalarType::Bool => 1,
            other => other.byte_width() as u32 * 8,
        }
    }
}

impl fmt::Display for ScalarType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            ScalarType::Bool => "bool",
            ScalarType::I8 => "i8",
            ScalarType::I16 => "i16",
            ScalarType::I32 => "i32",
            ScalarType::I64 => "i64",
            ScalarType::U8 => "u8",
            ScalarType::U16 => "u16",
            ScalarType::U32 => "u32",
            ScalarType::U64 => "u64",
            ScalarType::F32 => "f32",
            ScalarType::F64 => "f64",
            ScalarType::Date32 => "date32",
            ScalarType::Timestamp => "timestamp",
            ScalarType::Duration => "duration",
            ScalarType::Decimal128 { precision, scale } => {
                return write!(f, "decimal128({precision},{scale})")
            }
        };
        f.write_str(name)
    }
}
