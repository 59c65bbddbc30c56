//! One IR node to PTX instructions: the value and its validity, for the element the thread
//! holds. Every operation follows the interpreter (`crate::interp::scalar`) bit for bit,
//! including the value a failing operation gives where its failure is not raised.
//!
//! Values live in registers by class: booleans in predicates; integers of 32 bits or fewer
//! (and dates) in `.b32` registers, sign- or zero-extended from their width; 64-bit
//! integers, timestamps and durations in `.b64`; floats in `.f32`/`.f64`. Validity is a
//! predicate beside each value.

use super::text::{f32_imm, f64_imm, Class, Code, Reg};
use crate::abi::FailureKind;
use crate::ir::{BinaryOp, Kernel, Literal, Node, Op, ScalarType, UnaryOp, ValueId};
use crate::semantics::int_range;

/// A computed node: its value register and its validity predicate.
#[derive(Debug, Clone)]
pub struct Value {
    pub reg: Reg,
    pub valid: Reg,
}

/// A failure a node raises where `when` holds (before the guard and row conditions).
pub struct Raise {
    pub when: Reg,
    pub kind: FailureKind,
}

/// The register class of a type; decimals have none yet.
pub fn class_of(ty: ScalarType) -> Result<Class, String> {
    Ok(match ty {
        ScalarType::Bool => Class::Pred,
        ScalarType::F32 => Class::F32,
        ScalarType::F64 => Class::F64,
        ScalarType::Decimal128 { .. } => Class::Wide,
        ty if ty.bits() <= 32 => Class::B32,
        _ => Class::B64,
    })
}

/// The PTX integer type of `ty` at its register's width (`s32`, `u64`, …).
pub fn int_type(ty: ScalarType) -> &'static str {
    match (ty.bits() <= 32, ty.is_unsigned_int()) {
        (true, false) => "s32",
        (true, true) => "u32",
        (false, false) => "s64",
        (false, true) => "u64",
    }
}

/// Lowers the nodes of one kernel, in the order the caller asks.
pub struct Lower<'k> {
    pub code: Code,
    pub kernel: &'k Kernel,
    pub values: Vec<Option<Value>>,
    pub always: Reg,
    pub never: Reg,
}

impl<'k> Lower<'k> {
    /// Starts a body: the constant predicates every node may use.
    pub fn new(kernel: &'k Kernel, mut code: Code) -> Self {
        let zero = code.constant(Class::B32, "0");
        let always = code.reg(Class::Pred);
        code.ins("setp.eq.u32", &[&always, &zero, "0"]);
        let never = code.reg(Class::Pred);
        code.ins("setp.ne.u32", &[&never, &zero, "0"]);
        Lower {
            code,
            kernel,
            values: vec![None; kernel.nodes.len()],
            always,
            never,
        }
    }

    pub fn get(&self, id: ValueId) -> &Value {
        self.values[id.index()]
            .as_ref()
            .expect("operands are lowered first")
    }

    fn reg(&mut self, class: Class) -> Reg {
        self.code.reg(class)
    }

    fn ins(&mut self, opcode: &str, operands: &[&str]) {
        self.code.ins(opcode, operands)
    }

    /// `a ∧ b` of predicates.
    pub fn and(&mut self, a: &str, b: &str) -> Reg {
        let d = self.reg(Class::Pred);
        self.ins("and.pred", &[&d, a, b]);
        d
    }

    pub fn or(&mut self, a: &str, b: &str) -> Reg {
        let d = self.reg(Class::Pred);
        self.ins("or.pred", &[&d, a, b]);
        d
    }

    pub fn not(&mut self, a: &str) -> Reg {
        let d = self.reg(Class::Pred);
        self.ins("not.pred", &[&d, a]);
        d
    }

    /// `cond ? a : b` for a value of `class`.
    pub fn select(&mut self, class: Class, cond: &str, a: &str, b: &str) -> Reg {
        if class == Class::Pred {
            let take_a = self.and(cond, a);
            let other = self.not(cond);
            let take_b = self.and(&other, b);
            return self.or(&take_a, &take_b);
        }
        if class == Class::Wide {
            let ((a0, a1), (b0, b1)) = (Self::words(a), Self::words(b));
            let lo = self.select(Class::B64, cond, &a0, &b0);
            let hi = self.select(Class::B64, cond, &a1, &b1);
            return format!("{lo}:{hi}");
        }
        let d = self.reg(class);
        let opcode = match class {
            Class::B32 => "selp.b32",
            Class::B64 => "selp.b64",
            Class::F32 => "selp.f32",
            _ => "selp.f64",
        };
        self.ins(opcode, &[&d, a, b, cond]);
        d
    }

    /// A predicate comparing two registers (`setp.<cmp>.<ty>`).
    pub fn setp(&mut self, cmp: &str, ty: &str, a: &str, b: &str) -> Reg {
        let d = self.reg(Class::Pred);
        self.ins(&format!("setp.{cmp}.{ty}"), &[&d, a, b]);
        d
    }

    /// Lowers node `id`; returns the failures it can raise.
    pub fn node(&mut self, id: ValueId) -> Result<Vec<Raise>, String> {
        let node: &Node = self.kernel.node(id);
        let ty = node.ty;
        let class = class_of(ty)?;
        let mut raises = Vec::new();
        let value = match &node.op {
            Op::Load(_) | Op::Reduce { .. } => {
                unreachable!("loads and reductions are the skeleton's")
            }
            Op::Const(literal) => self.constant(*literal, ty, class)?,
            Op::Unary(op, a) => self.unary(*op, *a, ty, class, &mut raises)?,
            Op::Binary(op, a, b) => self.binary(*op, *a, *b, ty, class, &mut raises)?,
            Op::Cast(a) => self.cast(*a, ty, class, &mut raises)?,
            Op::Case {
                branches,
                otherwise,
            } => self.case(branches, *otherwise, class),
            Op::Coalesce(args) => self.coalesce(args, class),
            Op::NullIf(a, b) => self.null_if(*a, *b),
            Op::Least(args) => self.extremum(args, BinaryOp::TotalLtEq, class)?,
            Op::Greatest(args) => self.extremum(args, BinaryOp::TotalGtEq, class)?,
        };
        self.values[id.index()] = Some(value);
        Ok(raises)
    }

    fn constant(
        &mut self,
        literal: Literal,
        ty: ScalarType,
        class: Class,
    ) -> Result<Value, String> {
        let valid = if literal == Literal::Null {
            self.never.clone()
        } else {
            self.always.clone()
        };
        let reg = match (literal, class) {
            (Literal::Bool(b), _) => {
                if b {
                    self.always.clone()
                } else {
                    self.never.clone()
                }
            }
            (Literal::Null, Class::Pred) => self.never.clone(),
            (Literal::Null, Class::Wide) => self.wide_const(0),
            (Literal::Int(v), Class::Wide) => self.wide_const(v),
            (Literal::Null, class) => {
                let zero = match class {
                    Class::F32 => f32_imm(0.0),
                    Class::F64 => f64_imm(0.0),
                    _ => "0".into(),
                };
                self.code.constant(class, &zero)
            }
            (Literal::F32(bits), _) => self.code.constant(class, &f32_imm(f32::from_bits(bits))),
            (Literal::F64(bits), _) => self.code.constant(class, &f64_imm(f64::from_bits(bits))),
            (Literal::Int(v), Class::B32) => self
                .code
                .constant(class, &(crate::interp::wrap_int(v, ty) as i32).to_string()),
            (Literal::Int(v), Class::B64) => self
                .code
                .constant(class, &(crate::interp::wrap_int(v, ty) as i64).to_string()),
            (literal, _) => return Err(format!("the constant {literal} as {ty}")),
        };
        Ok(Value { reg, valid })
    }

    /// `value` of a 32-bit register wrapped to the width of `ty` (sign- or zero-extended).
    pub fn wrap32(&mut self, value: &str, ty: ScalarType) -> Reg {
        let bits = ty.bits();
        if bits >= 32 {
            return value.to_string();
        }
        let d = self.reg(Class::B32);
        if ty.is_unsigned_int() {
            self.ins("and.b32", &[&d, value, &((1u32 << bits) - 1).to_string()]);
        } else {
            let shift = (32 - bits).to_string();
            let t = self.reg(Class::B32);
            self.ins("shl.b32", &[&t, value, &shift]);
            self.ins("shr.s32", &[&d, &t, &shift]);
        }
        d
    }

    /// An integer result of `class` made a value of `ty`: 32-bit registers wrapped to the
    /// type's width, 64-bit ones as they are.
    pub(super) fn wrapped(&mut self, value: Reg, ty: ScalarType, class: Class) -> Reg {
        match class {
            Class::B32 => self.wrap32(&value, ty),
            _ => value,
        }
    }

    /// A 32-bit register's value widened exactly to 64 bits.
    fn widen(&mut self, value: &str, ty: ScalarType) -> Reg {
        let d = self.reg(Class::B64);
        let opcode = if ty.is_unsigned_int() {
            "cvt.u64.u32"
        } else {
            "cvt.s64.s32"
        };
        self.ins(opcode, &[&d, value]);
        d
    }

    /// The low 32 bits of a 64-bit register, wrapped to `ty`.
    fn narrow(&mut self, value: &str, ty: ScalarType) -> Reg {
        let low = self.reg(Class::B32);
        self.ins("cvt.u32.u64", &[&low, value]);
        self.wrap32(&low, ty)
    }

    /// Whether a 64-bit value (exact, of `from`'s signedness) lies outside `ty`'s range.
    fn out_of_range(&mut self, v64: &str, from: ScalarType, ty: ScalarType) -> Reg {
        let (lo, hi) = int_range(ty).expect("an integer type");
        let mut fails = self.never.clone();
        if from.is_unsigned_int() {
            if hi < u64::MAX as i128 {
                fails = self.setp("gt", "u64", v64, &(hi as u64).to_string());
            }
        } else {
            if lo > i64::MIN as i128 {
                fails = self.setp("lt", "s64", v64, &(lo as i64).to_string());
            }
            if hi < i64::MAX as i128 {
                let above = self.setp("gt", "s64", v64, &(hi as i64).to_string());
                fails = self.or(&fails, &above);
            }
        }
        fails
    }

    fn unary(
        &mut self,
        op: UnaryOp,
        a: ValueId,
        ty: ScalarType,
        class: Class,
        raises: &mut Vec<Raise>,
    ) -> Result<Value, String> {
        let x = self.get(a).clone();
        let from = self.kernel.ty(a);
        let always = self.always.clone();
        let (reg, valid) = match op {
            UnaryOp::IsNull => (self.not(&x.valid), always),
            UnaryOp::IsNotNull => (x.valid.clone(), always),
            UnaryOp::Not => (self.not(&x.reg), x.valid.clone()),
            UnaryOp::IsNan if from.is_float() => {
                let t = if from == ScalarType::F32 {
                    "f32"
                } else {
                    "f64"
                };
                (self.setp("nan", t, &x.reg, &x.reg), x.valid.clone())
            }
            UnaryOp::IsNan => (self.never.clone(), x.valid.clone()),
            UnaryOp::Neg if class == Class::Wide => {
                (self.decimal_neg(&x.reg, raises), x.valid.clone())
            }
            UnaryOp::Abs if class == Class::Wide => (self.decimal_abs(&x.reg), x.valid.clone()),
            UnaryOp::Neg | UnaryOp::Abs if ty.is_float() => {
                let d = self.reg(class);
                let t = float_type(ty);
                let name = if op == UnaryOp::Neg { "neg" } else { "abs" };
                self.ins(&format!("{name}.{t}"), &[&d, &x.reg]);
                (d, x.valid.clone())
            }
            UnaryOp::Neg | UnaryOp::Abs if ty.is_unsigned_int() && op == UnaryOp::Abs => {
                (x.reg.clone(), x.valid.clone())
            }
            UnaryOp::Neg | UnaryOp::Abs => {
                let d = self.reg(class);
                let name = if op == UnaryOp::Neg { "neg" } else { "abs" };
                // Two's complement: the signed instruction gives the wrapped bits for every type.
                let signed_t = if class == Class::B32 { "s32" } else { "s64" };
                self.ins(&format!("{name}.{signed_t}"), &[&d, &x.reg]);
                let wrapped = self.wrapped(d, ty, class);
                let checked = match op {
                    UnaryOp::Neg => ty.is_integer() && ty.is_signed_int(),
                    _ => ty.is_signed_int(),
                };
                if checked {
                    let (lo, _) = int_range(ty).expect("an integer");
                    let is_min = self.setp("eq", int_type(ty), &x.reg, &lo.to_string());
                    raises.push(Raise {
                        when: is_min,
                        kind: FailureKind::Overflow,
                    });
                }
                (wrapped, x.valid.clone())
            }
            UnaryOp::Sqrt if ty.is_float() => {
                let t = float_type(ty);
                let d = self.reg(class);
                self.ins(&format!("sqrt.rn.{t}"), &[&d, &x.reg]);
                let zero = float_zero(ty);
                let negative = self.setp("lt", t, &x.reg, &zero);
                raises.push(Raise {
                    when: negative,
                    kind: FailureKind::NegativeSqrt,
                });
                (d, x.valid.clone())
            }
            UnaryOp::Floor | UnaryOp::Ceil if ty.is_float() => {
                let t = float_type(ty);
                let d = self.reg(class);
                let mode = if op == UnaryOp::Floor { "rmi" } else { "rpi" };
                self.ins(&format!("cvt.{mode}.{t}.{t}"), &[&d, &x.reg]);
                (d, x.valid.clone())
            }
            UnaryOp::Exp if ty.is_float() => (self.exp(&x.reg, ty), x.valid.clone()),
            UnaryOp::Tanh if ty.is_float() => (self.tanh(&x.reg, ty), x.valid.clone()),
            UnaryOp::Round if ty.is_float() => (self.round_half_away(&x.reg, ty), x.valid.clone()),
            UnaryOp::BitNot if class == Class::B32 || class == Class::B64 => {
                let d = self.reg(class);
                let bits = if class == Class::B32 { "b32" } else { "b64" };
                self.ins(&format!("not.{bits}"), &[&d, &x.reg]);
                let wrapped = self.wrapped(d, ty, class);
                (wrapped, x.valid.clone())
            }
            other => return Err(format!("{other:?} on {ty} is not rendered to PTX yet")),
        };
        Ok(Value { reg, valid })
    }

    /// Rounds half away from zero (Rust's `round`): truncate, then step away from zero when
    /// the dropped fraction is at least one half (the subtraction is exact).
    fn round_half_away(&mut self, x: &str, ty: ScalarType) -> Reg {
        let t = float_type(ty);
        let class = class_of(ty).expect("a float");
        let truncated = self.reg(class);
        self.ins(&format!("cvt.rzi.{t}.{t}"), &[&truncated, x]);
        let fraction = self.reg(class);
        self.ins(&format!("sub.rn.{t}"), &[&fraction, x, &truncated]);
        let magnitude = self.reg(class);
        self.ins(&format!("abs.{t}"), &[&magnitude, &fraction]);
        let half = if ty == ScalarType::F32 {
            f32_imm(0.5)
        } else {
            f64_imm(0.5)
        };
        let step_away = self.setp("ge", t, &magnitude, &half);
        let one = if ty == ScalarType::F32 {
            f32_imm(1.0)
        } else {
            f64_imm(1.0)
        };
        let one = self.code.constant(class, &one);
        let signed_one = self.reg(class);
        self.ins(&format!("copysign.{t}"), &[&signed_one, x, &one]);
        let stepped = self.reg(class);
        self.ins(&format!("add.rn.{t}"), &[&stepped, &truncated, &signed_one]);
        self.select(class, &step_away, &stepped, &truncated)
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        a: ValueId,
        b: ValueId,
        ty: ScalarType,
        class: Class,
        raises: &mut Vec<Raise>,
    ) -> Result<Value, String> {
        let (x, y) = (self.get(a).clone(), self.get(b).clone());
        let operand = self.kernel.ty(a);
        if op == BinaryOp::And || op == BinaryOp::Or {
            return Ok(self.logic(op, &x, &y));
        }
        let valid = self.and(&x.valid, &y.valid);
        let reg = if op.is_comparison() {
            self.compare(op, operand, &x.reg, &y.reg)?
        } else if operand == ScalarType::Bool && op.is_bitwise() {
            let d = self.reg(Class::Pred);
            let name = match op {
                BinaryOp::BitAnd => "and.pred",
                BinaryOp::BitOr => "or.pred",
                _ => "xor.pred",
            };
            self.ins(name, &[&d, &x.reg, &y.reg]);
            d
        } else if class == Class::Wide {
            let operands = (operand, self.kernel.ty(b));
            self.decimal_arith(op, operands, ty, &x.reg, &y.reg, raises)?
        } else if ty.is_float() {
            self.float_arith(op, ty, class, &x.reg, &y.reg)?
        } else {
            self.int_arith(op, ty, class, &x.reg, &y.reg, raises)?
        };
        Ok(Value { reg, valid })
    }

    /// SQL's three-valued AND and OR: FALSE (TRUE) wins over NULL.
    fn logic(&mut self, op: BinaryOp, x: &Value, y: &Value) -> Value {
        let decides = |l: &mut Self, v: &Value| {
            if op == BinaryOp::And {
                let f = l.not(&v.reg);
                l.and(&v.valid, &f)
            } else {
                l.and(&v.valid, &v.reg)
            }
        };
        let dx = decides(self, x);
        let dy = decides(self, y);
        let decided = self.or(&dx, &dy);
        let both = self.and(&x.valid, &y.valid);
        let valid = self.or(&decided, &both);
        let reg = if op == BinaryOp::And {
            let conj = self.and(&x.reg, &y.reg);
            let undecided = self.not(&decided);
            self.and(&undecided, &conj)
        } else {
            decided
        };
        Value { reg, valid }
    }

    /// A comparison of two non-NULL values of `ty` (see `interp::scalar::compare`).
    pub fn compare(
        &mut self,
        op: BinaryOp,
        ty: ScalarType,
        a: &str,
        b: &str,
    ) -> Result<Reg, String> {
        let ieee = matches!(
            op,
            BinaryOp::IeeeEq
                | BinaryOp::IeeeNotEq
                | BinaryOp::IeeeLt
                | BinaryOp::IeeeLtEq
                | BinaryOp::IeeeGt
                | BinaryOp::IeeeGtEq
        );
        let cmp = match op {
            BinaryOp::Eq | BinaryOp::TotalEq | BinaryOp::IeeeEq => "eq",
            BinaryOp::NotEq => "ne",
            // Unordered or not equal: NaN != anything (NumPy).
            BinaryOp::IeeeNotEq if ty.is_float() => "neu",
            BinaryOp::IeeeNotEq => "ne",
            BinaryOp::Lt | BinaryOp::IeeeLt => "lt",
            BinaryOp::LtEq | BinaryOp::TotalLtEq | BinaryOp::IeeeLtEq => "le",
            BinaryOp::Gt | BinaryOp::IeeeGt => "gt",
            BinaryOp::GtEq | BinaryOp::TotalGtEq | BinaryOp::IeeeGtEq => "ge",
            other => return Err(format!("{other:?} is not a comparison")),
        };
        Ok(match ty {
            ScalarType::Bool => {
                let (x, y) = (self.pred_to_u32(a), self.pred_to_u32(b));
                self.setp(cmp, "u32", &x, &y)
            }
            ScalarType::Decimal128 { .. } => self.wide_compare(cmp, a, b),
            ty if ty.is_float() && ieee => self.setp(cmp, float_type(ty), a, b),
            ty if ty.is_float() => {
                let sql = !matches!(
                    op,
                    BinaryOp::TotalEq | BinaryOp::TotalLtEq | BinaryOp::TotalGtEq
                );
                let (x, y) = (self.total_key(a, ty, sql), self.total_key(b, ty, sql));
                let t = if ty == ScalarType::F32 { "s32" } else { "s64" };
                self.setp(cmp, t, &x, &y)
            }
            ty => self.setp(cmp, int_type(ty), a, b),
        })
    }

    fn pred_to_u32(&mut self, p: &str) -> Reg {
        let d = self.reg(Class::B32);
        self.ins("selp.u32", &[&d, "1", "0", p]);
        d
    }

    /// A signed integer ordered as IEEE total order orders the float `x` (negative floats
    /// have every bit but the sign flipped); with `sql`, -0.0 counts as 0.0 first.
    fn total_key(&mut self, x: &str, ty: ScalarType, sql: bool) -> Reg {
        let class = class_of(ty).expect("a float");
        let x = if sql {
            let t = float_type(ty);
            let zero = float_zero(ty);
            let is_zero = self.setp("eq", t, x, &zero);
            let z = self.code.constant(class, &zero);
            self.select(class, &is_zero, &z, x)
        } else {
            x.to_string()
        };
        let (int_class, bits, width) = if ty == ScalarType::F32 {
            (Class::B32, "b32", 32)
        } else {
            (Class::B64, "b64", 64)
        };
        let raw = self.reg(int_class);
        self.ins(&format!("mov.{bits}"), &[&raw, &x]);
        let sign = self.reg(int_class);
        self.ins(
            &format!("shr.s{width}"),
            &[&sign, &raw, &(width - 1).to_string()],
        );
        let mask = self.reg(int_class);
        self.ins(&format!("shr.u{width}"), &[&mask, &sign, "1"]);
        let key = self.reg(int_class);
        self.ins(&format!("xor.{bits}"), &[&key, &raw, &mask]);
        key
    }

    pub(super) fn float_arith(
        &mut self,
        op: BinaryOp,
        ty: ScalarType,
        class: Class,
        a: &str,
        b: &str,
    ) -> Result<Reg, String> {
        let t = float_type(ty);
        let name = match op {
            BinaryOp::Add => "add.rn",
            BinaryOp::Sub => "sub.rn",
            BinaryOp::Mul => "mul.rn",
            BinaryOp::Div => "div.rn",
            BinaryOp::Max | BinaryOp::Min => return Ok(self.float_extreme(op, ty, class, a, b)),
            other => return Err(format!("float {other:?} is not rendered to PTX yet")),
        };
        let d = self.reg(class);
        self.ins(&format!("{name}.{t}"), &[&d, a, b]);
        Ok(d)
    }

    /// NumPy's `maximum`/`minimum`: a NaN operand wins (the first if both), -0.0 is below
    /// 0.0; the chosen operand's bits are kept.
    fn float_extreme(
        &mut self,
        op: BinaryOp,
        ty: ScalarType,
        class: Class,
        a: &str,
        b: &str,
    ) -> Reg {
        let t = float_type(ty);
        let a_nan = self.setp("nan", t, a, a);
        let b_nan = self.setp("nan", t, b, b);
        let equal = self.setp("eq", t, a, b);
        let a_negative = {
            let (int_class, bits, width) = if ty == ScalarType::F32 {
                (Class::B32, "b32", "s32")
            } else {
                (Class::B64, "b64", "s64")
            };
            let raw = self.reg(int_class);
            self.ins(&format!("mov.{bits}"), &[&raw, a]);
            self.setp("lt", width, &raw, "0")
        };
        let a_larger = self.setp("gt", t, a, b);
        let (on_equal, on_order) = if op == BinaryOp::Max {
            (self.not(&a_negative), a_larger)
        } else {
            let a_smaller = self.setp("lt", t, a, b);
            (a_negative, a_smaller)
        };
        let ordered_pick = self.select(Class::Pred, &equal, &on_equal, &on_order);
        let any_nan = self.or(&a_nan, &b_nan);
        let first = self.select(Class::Pred, &any_nan, &a_nan, &ordered_pick);
        self.select(class, &first, a, b)
    }

    pub(super) fn int_arith(
        &mut self,
        op: BinaryOp,
        ty: ScalarType,
        class: Class,
        a: &str,
        b: &str,
        raises: &mut Vec<Raise>,
    ) -> Result<Reg, String> {
        let bits = if class == Class::B32 { "b32" } else { "b64" };
        Ok(match op {
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul if class == Class::B32 => {
                // Exact in 64 bits, then checked against the type's range and wrapped.
                let (x, y) = (self.widen(a, ty), self.widen(b, ty));
                let t = if ty.is_unsigned_int() { "u64" } else { "s64" };
                let exact = self.reg(Class::B64);
                let name = match op {
                    BinaryOp::Add => format!("add.{t}"),
                    BinaryOp::Sub => format!("sub.{t}"),
                    _ => format!("mul.lo.{t}"),
                };
                self.ins(&name, &[&exact, &x, &y]);
                // Every exact result fits an i64 (or, for a u32 product past 2^63, reads as a
                // negative one): out of range is then a signed test for every type.
                let fails = self.out_of_range(&exact, ScalarType::I64, ty);
                raises.push(Raise {
                    when: fails,
                    kind: FailureKind::Overflow,
                });
                self.narrow(&exact, ty)
            }
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul => {
                let signed = !ty.is_unsigned_int();
                let t = if signed { "s64" } else { "u64" };
                let d = self.reg(Class::B64);
                let name = match op {
                    BinaryOp::Add => format!("add.{t}"),
                    BinaryOp::Sub => format!("sub.{t}"),
                    _ => format!("mul.lo.{t}"),
                };
                self.ins(&name, &[&d, a, b]);
                let fails = self.overflow64(op, signed, a, b, &d);
                raises.push(Raise {
                    when: fails,
                    kind: FailureKind::Overflow,
                });
                d
            }
            BinaryOp::Div | BinaryOp::Rem => self.int_division(op, ty, class, a, b, raises),
            BinaryOp::Max | BinaryOp::Min => {
                let d = self.reg(class);
                let name = if op == BinaryOp::Max { "max" } else { "min" };
                self.ins(&format!("{name}.{}", int_type(ty)), &[&d, a, b]);
                d
            }
            BinaryOp::BitAnd | BinaryOp::BitOr | BinaryOp::BitXor => {
                // Both operands are extended alike, so the result is too.
                let d = self.reg(class);
                let name = match op {
                    BinaryOp::BitAnd => "and",
                    BinaryOp::BitOr => "or",
                    _ => "xor",
                };
                self.ins(&format!("{name}.{bits}"), &[&d, a, b]);
                d
            }
            BinaryOp::FloorDiv | BinaryOp::FloorMod => self.floor_division(op, ty, class, a, b),
            other => return Err(format!("integer {other:?} is not rendered to PTX yet")),
        })
    }

    /// Whether a 64-bit + − × overflowed: signed by the operands' and result's signs (×: the
    /// high half is not the low half's sign), unsigned by a carry or borrow.
    fn overflow64(&mut self, op: BinaryOp, signed: bool, a: &str, b: &str, result: &str) -> Reg {
        match (op, signed) {
            (BinaryOp::Mul, true) => {
                let high = self.reg(Class::B64);
                self.ins("mul.hi.s64", &[&high, a, b]);
                let sign = self.reg(Class::B64);
                self.ins("shr.s64", &[&sign, result, "63"]);
                self.setp("ne", "s64", &high, &sign)
            }
            (BinaryOp::Mul, false) => {
                let high = self.reg(Class::B64);
                self.ins("mul.hi.u64", &[&high, a, b]);
                self.setp("ne", "u64", &high, "0")
            }
            (BinaryOp::Add, false) => self.setp("lt", "u64", result, a),
            (BinaryOp::Sub, false) => self.setp("lt", "u64", a, b),
            _ => {
                // add: (a ^ r) & (b ^ r) < 0; sub: (a ^ b) & (a ^ r) < 0.
                let (p, q) = (a, b);
                let u = self.reg(Class::B64);
                let v = self.reg(Class::B64);
                if op == BinaryOp::Add {
                    self.ins("xor.b64", &[&u, p, result]);
                    self.ins("xor.b64", &[&v, q, result]);
                } else {
                    self.ins("xor.b64", &[&u, p, q]);
                    self.ins("xor.b64", &[&v, p, result]);
                }
                let both = self.reg(Class::B64);
                self.ins("and.b64", &[&both, &u, &v]);
                self.setp("lt", "s64", &both, "0")
            }
        }
    }

    /// Integer ÷ and %: a zero divisor fails (divide by zero), `MIN / -1` overflows; where
    /// a failure is not raised the division is by 1, and `x % -1` is 0 (as `x % 1`).
    fn int_division(
        &mut self,
        op: BinaryOp,
        ty: ScalarType,
        class: Class,
        a: &str,
        b: &str,
        raises: &mut Vec<Raise>,
    ) -> Reg {
        let t = int_type(ty);
        let zero = self.setp("eq", t, b, "0");
        raises.push(Raise {
            when: zero.clone(),
            kind: FailureKind::DivideByZero,
        });
        let mut by_one = zero;
        if ty.is_signed_int() {
            let minus_one = self.setp("eq", t, b, "-1");
            if op == BinaryOp::Div {
                let (lo, _) = int_range(ty).expect("an integer");
                let is_min = self.setp("eq", t, a, &lo.to_string());
                let overflow = self.and(&is_min, &minus_one);
                raises.push(Raise {
                    when: overflow.clone(),
                    kind: FailureKind::Overflow,
                });
                by_one = self.or(&by_one, &overflow);
            } else {
                by_one = self.or(&by_one, &minus_one);
            }
        }
        let one = self.code.constant(class, "1");
        let divisor = self.select(class, &by_one, &one, b);
        let d = self.reg(class);
        let name = if op == BinaryOp::Div { "div" } else { "rem" };
        self.ins(&format!("{name}.{t}"), &[&d, a, &divisor]);
        self.wrapped(d, ty, class)
    }

    /// NumPy's integer `//` and `%`: toward −∞, 0 for a zero divisor, `MIN // -1` wraps
    /// to MIN (its remainder 0).
    fn floor_division(
        &mut self,
        op: BinaryOp,
        ty: ScalarType,
        class: Class,
        a: &str,
        b: &str,
    ) -> Reg {
        let t = int_type(ty);
        let bits = if class == Class::B32 { "b32" } else { "b64" };
        let zero_divisor = self.setp("eq", t, b, "0");
        let mut by_one = zero_divisor.clone();
        if ty.is_signed_int() {
            let minus_one = self.setp("eq", t, b, "-1");
            by_one = self.or(&by_one, &minus_one);
        }
        let one = self.code.constant(class, "1");
        let divisor = self.select(class, &by_one, &one, b);
        let q = self.reg(class);
        self.ins(&format!("div.{t}"), &[&q, a, &divisor]);
        let r = self.reg(class);
        self.ins(&format!("rem.{t}"), &[&r, a, &divisor]);
        let (q, r) = if ty.is_signed_int() {
            // x // -1 is -x (wrapping), its remainder 0.
            let minus_one = self.setp("eq", t, b, "-1");
            let negated = self.reg(class);
            self.ins(&format!("neg.{t}"), &[&negated, a]);
            let zero = self.code.constant(class, "0");
            let q = self.select(class, &minus_one, &negated, &q);
            let r = self.select(class, &minus_one, &zero, &r);
            // Round toward −∞: a nonzero remainder of the other sign than the divisor.
            let signs = self.reg(class);
            self.ins(&format!("xor.{bits}"), &[&signs, &r, b]);
            let differ = self.setp("lt", t, &signs, "0");
            let nonzero = self.setp("ne", t, &r, "0");
            let adjust = self.and(&differ, &nonzero);
            let q1 = self.reg(class);
            self.ins(&format!("sub.{t}"), &[&q1, &q, "1"]);
            let r1 = self.reg(class);
            self.ins(&format!("add.{t}"), &[&r1, &r, b]);
            (
                self.select(class, &adjust, &q1, &q),
                self.select(class, &adjust, &r1, &r),
            )
        } else {
            (q, r)
        };
        let zero = self.code.constant(class, "0");
        let result = if op == BinaryOp::FloorDiv { q } else { r };
        let result = self.select(class, &zero_divisor, &zero, &result);
        self.wrapped(result, ty, class)
    }

    fn cast(
        &mut self,
        a: ValueId,
        to: ScalarType,
        class: Class,
        raises: &mut Vec<Raise>,
    ) -> Result<Value, String> {
        let x = self.get(a).clone();
        let from = self.kernel.ty(a);
        let from_class = class_of(from)?;
        if class == Class::Wide {
            let reg = self.cast_to_decimal(&x.reg, from, from_class, to, raises)?;
            return Ok(Value {
                reg,
                valid: x.valid,
            });
        }
        if from_class == Class::Wide {
            if !to.is_float() {
                return Err(format!("a cast from {from} to {to}"));
            }
            let reg = self.decimal_to_float(&x.reg, from, to);
            return Ok(Value {
                reg,
                valid: x.valid,
            });
        }
        let reg = match (from.is_float(), to.is_float()) {
            (true, true) if from == to => x.reg.clone(),
            (true, true) => {
                let d = self.reg(class);
                let name = if to == ScalarType::F32 {
                    "cvt.rn.f32.f64"
                } else {
                    "cvt.f64.f32"
                };
                self.ins(name, &[&d, &x.reg]);
                d
            }
            (false, true) => {
                let d = self.reg(class);
                let name = format!("cvt.rn.{}.{}", float_type(to), int_type(from));
                self.ins(&name, &[&d, &x.reg]);
                d
            }
            (true, false) => self.float_to_int(&x.reg, from, to, class, raises),
            (false, false) => {
                if from_class == Class::Pred || class == Class::Pred {
                    return Err(format!("a cast from {from} to {to}"));
                }
                let wide = if from_class == Class::B32 {
                    self.widen(&x.reg, from)
                } else {
                    x.reg.clone()
                };
                let fails = self.out_of_range(&wide, from, to);
                raises.push(Raise {
                    when: fails,
                    kind: FailureKind::Overflow,
                });
                if class == Class::B32 {
                    self.narrow(&wide, to)
                } else {
                    wide
                }
            }
        };
        Ok(Value {
            reg,
            valid: x.valid,
        })
    }

    /// A float truncated toward zero into an integer type: NaN, ±inf and values out of range
    /// fail and give 0. The range test is on the truncated value against exact powers of
    /// two (`t < 2^63` for i64: 2^63 - 1 is not an f64).
    fn float_to_int(
        &mut self,
        x: &str,
        from: ScalarType,
        to: ScalarType,
        class: Class,
        raises: &mut Vec<Raise>,
    ) -> Reg {
        let wide = if from == ScalarType::F32 {
            let d = self.reg(Class::F64);
            self.ins("cvt.f64.f32", &[&d, x]);
            d
        } else {
            x.to_string()
        };
        let t = self.reg(Class::F64);
        self.ins("cvt.rzi.f64.f64", &[&t, &wide]);
        let (lo, hi) = int_range(to).expect("an integer type");
        let above = f64_imm((hi + 1) as f64);
        let below = f64_imm(lo as f64);
        let low_ok = self.setp("ge", "f64", &t, &below);
        let high_ok = self.setp("lt", "f64", &t, &above);
        let ok = self.and(&low_ok, &high_ok);
        let fails = self.not(&ok);
        raises.push(Raise {
            when: fails,
            kind: FailureKind::Overflow,
        });
        let zero = f64_imm(0.0);
        let safe = self.reg(Class::F64);
        self.ins("selp.f64", &[&safe, &t, &zero, &ok]);
        let d = self.reg(class);
        let int_t = int_type(to);
        self.ins(&format!("cvt.rzi.{int_t}.f64"), &[&d, &safe]);
        d
    }

    fn case(
        &mut self,
        branches: &[(ValueId, ValueId)],
        otherwise: Option<ValueId>,
        class: Class,
    ) -> Value {
        let (mut reg, mut valid) = match otherwise {
            Some(e) => {
                let v = self.get(e).clone();
                (v.reg, v.valid)
            }
            None => (self.null_value(class), self.never.clone()),
        };
        for (c, v) in branches.iter().rev() {
            let (c, v) = (self.get(*c).clone(), self.get(*v).clone());
            let chosen = self.and(&c.valid, &c.reg);
            reg = self.select(class, &chosen, &v.reg, &reg);
            valid = self.select(Class::Pred, &chosen, &v.valid, &valid);
        }
        Value { reg, valid }
    }

    /// A placeholder value for a NULL of `class`.
    fn null_value(&mut self, class: Class) -> Reg {
        match class {
            Class::Pred => self.never.clone(),
            Class::Wide => self.wide_const(0),
            Class::F32 => self.code.constant(class, &f32_imm(0.0)),
            Class::F64 => self.code.constant(class, &f64_imm(0.0)),
            _ => self.code.constant(class, "0"),
        }
    }

    fn coalesce(&mut self, args: &[ValueId], class: Class) -> Value {
        let mut reg = self.null_value(class);
        let mut valid = self.never.clone();
        for arg in args.iter().rev() {
            let v = self.get(*arg).clone();
            reg = self.select(class, &v.valid, &v.reg, &reg);
            valid = self.or(&v.valid, &valid);
        }
        Value { reg, valid }
    }

    fn null_if(&mut self, a: ValueId, b: ValueId) -> Value {
        let (x, y) = (self.get(a).clone(), self.get(b).clone());
        let ty = self.kernel.ty(a);
        let equal = self
            .compare(BinaryOp::TotalEq, ty, &x.reg, &y.reg)
            .expect("equality is a comparison");
        let both = self.and(&x.valid, &y.valid);
        let nulled = self.and(&both, &equal);
        let kept = self.not(&nulled);
        let valid = self.and(&x.valid, &kept);
        Value { reg: x.reg, valid }
    }

    /// LEAST/GREATEST: the first non-NULL argument, replaced by each later one that the
    /// best so far does not `keep` against.
    fn extremum(
        &mut self,
        args: &[ValueId],
        keep: BinaryOp,
        class: Class,
    ) -> Result<Value, String> {
        let ty = self.kernel.ty(args[0]);
        let mut best = self.null_value(class);
        let mut valid = self.never.clone();
        for arg in args {
            let v = self.get(*arg).clone();
            let kept = self.compare(keep, ty, &best, &v.reg)?;
            let replaced = self.not(&kept);
            let empty = self.not(&valid);
            let take_if = self.or(&empty, &replaced);
            let take = self.and(&v.valid, &take_if);
            best = self.select(class, &take, &v.reg, &best);
            valid = self.or(&valid, &v.valid);
        }
        Ok(Value { reg: best, valid })
    }
}

pub fn float_type(ty: ScalarType) -> &'static str {
    if ty == ScalarType::F32 {
        "f32"
    } else {
        "f64"
    }
}

fn float_zero(ty: ScalarType) -> String {
    if ty == ScalarType::F32 {
        f32_imm(0.0)
    } else {
        f64_imm(0.0)
    }
}
