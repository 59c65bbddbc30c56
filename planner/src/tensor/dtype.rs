//! Tensor element types and NumPy's type promotion.

use corepy_codegen::ir::ScalarType;

use crate::error::{CorepyError, Result};

/// The element type of a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
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
}

pub const ALL_DTYPES: [DType; 11] = [
    DType::Bool,
    DType::I8,
    DType::I16,
    DType::I32,
    DType::I64,
    DType::U8,
    DType::U16,
    DType::U32,
    DType::U64,
    DType::F32,
    DType::F64,
];

impl DType {
    /// NumPy's name (`"float32"`, `"bool"`, …).
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::I8 => "int8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::U8 => "uint8",
            DType::U16 => "uint16",
            DType::U32 => "uint32",
            DType::U64 => "uint64",
            DType::F32 => "float32",
            DType::F64 => "float64",
        }
    }

    /// The dtype NumPy names `name`; an unknown name is an error listing the supported ones.
    pub fn parse(name: &str) -> Result<DType> {
        let alias = match name {
            "bool_" | "?" => "bool",
            "float" | "double" | "f8" => "float64",
            "single" | "f4" => "float32",
            "int" | "long" | "i8" => "int64",
            "i4" => "int32",
            "i2" => "int16",
            "i1" | "byte" => "int8",
            "u1" | "ubyte" => "uint8",
            "u2" => "uint16",
            "u4" => "uint32",
            "u8" => "uint64",
            other => other,
        };
        ALL_DTYPES
            .iter()
            .copied()
            .find(|d| d.name() == alias)
            .ok_or_else(|| {
                let names: Vec<_> = ALL_DTYPES.iter().map(|d| d.name()).collect();
                CorepyError::schema(format!(
                    "unsupported tensor dtype '{name}'; supported: {}",
                    names.join(", ")
                ))
            })
    }

    /// The kernel IR's type of one element.
    pub fn scalar(self) -> ScalarType {
        match self {
            DType::Bool => ScalarType::Bool,
            DType::I8 => ScalarType::I8,
            DType::I16 => ScalarType::I16,
            DType::I32 => ScalarType::I32,
            DType::I64 => ScalarType::I64,
            DType::U8 => ScalarType::U8,
            DType::U16 => ScalarType::U16,
            DType::U32 => ScalarType::U32,
            DType::U64 => ScalarType::U64,
            DType::F32 => ScalarType::F32,
            DType::F64 => ScalarType::F64,
        }
    }

    /// Bytes per element (booleans take a byte, as in NumPy).
    pub fn size(self) -> usize {
        corepy_codegen::tensor_abi::element_bytes(self.scalar())
    }

    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    pub fn is_signed(self) -> bool {
        matches!(self, DType::I8 | DType::I16 | DType::I32 | DType::I64)
    }

    pub fn is_unsigned(self) -> bool {
        matches!(self, DType::U8 | DType::U16 | DType::U32 | DType::U64)
    }

    pub fn is_integer(self) -> bool {
        self.is_signed() || self.is_unsigned()
    }

    fn bits(self) -> u32 {
        self.size() as u32 * 8
    }

    /// The smallest signed integer type of at least `bits` bits (`None` above 64).
    fn signed_of(bits: u32) -> Option<DType> {
        [DType::I8, DType::I16, DType::I32, DType::I64]
            .into_iter()
            .find(|d| d.bits() >= bits)
    }

    /// The range of an integer type.
    pub fn int_range(self) -> Option<(i128, i128)> {
        corepy_codegen::semantics::int_range(self.scalar())
    }

    /// The float type NumPy's float functions (`exp`, `sqrt`, true division…) give for this
    /// type: float32 stays, float64 for 32- and 64-bit integers. Where NumPy gives float16
    /// (bool and 8-bit integers), corepy, which has no float16, gives float32.
    pub fn float_of(self) -> DType {
        match self {
            DType::F32 | DType::Bool | DType::I8 | DType::U8 | DType::I16 | DType::U16 => {
                DType::F32
            }
            _ => DType::F64,
        }
    }
}

/// `np.result_type(a, b)` for two arrays.
pub fn promote(a: DType, b: DType) -> DType {
    use DType::*;
    if a == b {
        return a;
    }
    match (a, b) {
        (Bool, x) | (x, Bool) => x,
        (F64, _) | (_, F64) => F64,
        (F32, x) | (x, F32) => {
            if x.bits() <= 16 {
                F32
            } else {
                F64
            }
        }
        (x, y) if x.is_signed() == y.is_signed() => {
            if x.bits() >= y.bits() {
                x
            } else {
                y
            }
        }
        (x, y) => {
            let (signed, unsigned) = if x.is_signed() { (x, y) } else { (y, x) };
            if signed.bits() > unsigned.bits() {
                signed
            } else {
                DType::signed_of(unsigned.bits() * 2).unwrap_or(F64)
            }
        }
    }
}

/// A Python scalar in an operation with a tensor: NumPy 2 (NEP 50) treats it as *weak*, so
/// the tensor's dtype wins where the value's kind fits it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PyScalar {
    Bool(bool),
    Int(i128),
    Float(f64),
}

/// The dtype of `tensor_dtype ⊕ scalar` under NEP 50; an integer that the tensor's integer
/// type cannot hold is an error, as in NumPy 2.
pub fn promote_scalar(tensor: DType, scalar: PyScalar) -> Result<DType> {
    Ok(match scalar {
        PyScalar::Bool(_) => tensor,
        PyScalar::Int(v) => match tensor {
            DType::Bool => DType::I64,
            t if t.is_integer() => {
                let (lo, hi) = t.int_range().expect("integer");
                if v < lo || v > hi {
                    return Err(CorepyError::invalid_argument(format!(
                        "Python integer {v} out of bounds for {}",
                        t.name()
                    )));
                }
                t
            }
            t => t,
        },
        PyScalar::Float(_) if tensor.is_float() => tensor,
        PyScalar::Float(_) => DType::F64,
    })
}

/// The dtype a Python scalar gets on its own (`cp.tensor(3)`): NumPy's defaults.
pub fn scalar_dtype(scalar: PyScalar) -> DType {
    match scalar {
        PyScalar::Bool(_) => DType::Bool,
        PyScalar::Int(_) => DType::I64,
        PyScalar::Float(_) => DType::F64,
    }
}
