//! Constants, stored so that they hash and compare by bits (NaN equals NaN here).

use std::fmt;

use super::ScalarType;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Literal {
    Null,
    Bool(bool),
    /// Any integer-backed type, decimals included (their unscaled value).
    Int(i128),
    /// The bits of an f32.
    F32(u32),
    /// The bits of an f64.
    F64(u64),
}

impl Literal {
    pub fn f64(value: f64) -> Self {
        Literal::F64(value.to_bits())
    }

    pub fn f32(value: f32) -> Self {
        Literal::F32(value.to_bits())
    }

    /// Whether this constant can be a value of `ty`.
    pub fn fits(&self, ty: ScalarType) -> bool {
        match self {
            Literal::Null => true,
            Literal::Bool(_) => ty == ScalarType::Bool,
            Literal::F32(_) => ty == ScalarType::F32,
            Literal::F64(_) => ty == ScalarType::F64,
            Literal::Int(v) => crate::semantics::int_fits(*v, ty),
        }
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Null => f.write_str("null"),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Int(v) => write!(f, "{v}"),
            Literal::F32(bits) => write!(f, "{:?}", f32::from_bits(*bits)),
            Literal::F64(bits) => write!(f, "{:?}", f64::from_bits(*bits)),
        }
    }
}
