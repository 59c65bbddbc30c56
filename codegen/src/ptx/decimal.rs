//! Decimal128 in PTX, which has no 128-bit integers: a value is a pair of `.b64` registers
//! (low word, high word), named together as `"%rdL:%rdH"` (class [`Class::Wide`]).
//! Arithmetic follows the interpreter (`interp::scalar::decimal_arith`, `cast`): both
//! operands rescaled to the result's scale, then added or multiplied, every step checked
//! for i128 overflow; the wrapped result where a failure is not raised.

use super::node::{Lower, Raise};
use super::text::{f64_imm, Class, Reg};
use crate::abi::FailureKind;
use crate::ir::{BinaryOp, ScalarType};
use crate::semantics::{cast_can_fail, decimal_parts, pow10};

/// A 64-bit immediate as PTX reads it (the two's complement bits, written signed).
fn imm(v: u64) -> String {
    (v as i64).to_string()
}

impl Lower<'_> {
    /// The two words of a wide register.
    pub(super) fn words(wide: &str) -> (Reg, Reg) {
        let (lo, hi) = wide.split_once(':').expect("a wide register is lo:hi");
        (lo.to_string(), hi.to_string())
    }

    fn join(lo: &str, hi: &str) -> Reg {
        format!("{lo}:{hi}")
    }

    fn op64(&mut self, opcode: &str, a: &str, b: &str) -> Reg {
        let d = self.code.reg(Class::B64);
        self.code.ins(opcode, &[&d, a, b]);
        d
    }

    /// A wide constant.
    pub(super) fn wide_const(&mut self, v: i128) -> Reg {
        let lo = self.code.constant(Class::B64, &imm(v as u64));
        let hi = self.code.constant(Class::B64, &imm((v >> 64) as u64));
        Self::join(&lo, &hi)
    }

    /// An integer of `ty` (its register extended as the type says) as a wide value.
    pub(super) fn wide_from_int(&mut self, value: &str, ty: ScalarType, class: Class) -> Reg {
        let lo = if class == Class::B32 {
            let d = self.code.reg(Class::B64);
            let opcode = if ty.is_unsigned_int() {
                "cvt.u64.u32"
            } else {
                "cvt.s64.s32"
            };
            self.code.ins(opcode, &[&d, value]);
            d
        } else {
            value.to_string()
        };
        let hi = if ty.is_unsigned_int() {
            self.code.constant(Class::B64, "0")
        } else {
            self.op64("shr.s64", &lo, "63")
        };
        Self::join(&lo, &hi)
    }

    /// `a + b` or `a - b`, wrapped, and whether it overflowed i128.
    fn wide_add_sub(&mut self, subtract: bool, a: &str, b: &str) -> (Reg, Reg) {
        let ((a0, a1), (b0, b1)) = (Self::words(a), Self::words(b));
        let (lo, carry, hi);
        if subtract {
            lo = self.op64("sub.u64", &a0, &b0);
            let borrow = self.setp("lt", "u64", &a0, &b0);
            carry = self.code.reg(Class::B64);
            self.code.ins("selp.u64", &[&carry, "1", "0", &borrow]);
            let h = self.op64("sub.u64", &a1, &b1);
            hi = self.op64("sub.u64", &h, &carry);
        } else {
            lo = self.op64("add.u64", &a0, &b0);
            let overflowed = self.setp("lt", "u64", &lo, &a0);
            carry = self.code.reg(Class::B64);
            self.code.ins("selp.u64", &[&carry, "1", "0", &overflowed]);
            let h = self.op64("add.u64", &a1, &b1);
            hi = self.op64("add.u64", &h, &carry);
        }
        // Signed overflow: add (a ^ r) & (b ^ r) < 0; sub (a ^ b) & (a ^ r) < 0 (high words).
        let (u, v) = if subtract {
            (
                self.op64("xor.b64", &a1, &b1),
                self.op64("xor.b64", &a1, &hi),
            )
        } else {
            (
                self.op64("xor.b64", &a1, &hi),
                self.op64("xor.b64", &b1, &hi),
            )
        };
        let both = self.op64("and.b64", &u, &v);
        let overflow = self.setp("lt", "s64", &both, "0");
        (Self::join(&lo, &hi), overflow)
    }

    /// `-a`, wrapped (−MIN is MIN).
    fn wide_neg(&mut self, a: &str) -> Reg {
        let zero = self.wide_const(0);
        self.wide_add_sub(true, &zero, a).0
    }

    fn wide_is_negative(&mut self, a: &str) -> Reg {
        let (_, hi) = Self::words(a);
        self.setp("lt", "s64", &hi, "0")
    }

    /// |a| as an unsigned 128-bit pattern (|MIN| = 2^127).
    fn wide_magnitude(&mut self, a: &str) -> Reg {
        let negative = self.wide_is_negative(a);
        let negated = self.wide_neg(a);
        self.select(Class::Wide, &negative, &negated, a)
    }

    /// `a × b`, wrapped, and whether the exact product leaves i128: from the magnitudes'
    /// 256-bit product, which must stay below 2^127 (or equal it, for a negative result).
    fn wide_mul(&mut self, a: &str, b: &str) -> (Reg, Reg) {
        let ((a0, a1), (b0, b1)) = (Self::words(a), Self::words(b));
        // The low 128 bits of the two's complement product.
        let r0 = self.op64("mul.lo.u64", &a0, &b0);
        let carry_in = self.op64("mul.hi.u64", &a0, &b0);
        let c1 = self.op64("mul.lo.u64", &a0, &b1);
        let c2 = self.op64("mul.lo.u64", &a1, &b0);
        let s = self.op64("add.u64", &carry_in, &c1);
        let r1 = self.op64("add.u64", &s, &c2);
        // Overflow, from the magnitudes.
        let (ua, ub) = (self.wide_magnitude(a), self.wide_magnitude(b));
        let ((x0, x1), (y0, y1)) = (Self::words(&ua), Self::words(&ub));
        let x_high = self.setp("ne", "u64", &x1, "0");
        let y_high = self.setp("ne", "u64", &y1, "0");
        let both_high = self.and(&x_high, &y_high);
        // The one cross term that can be nonzero: x1·y0 or y1·x0.
        let high = self.select(Class::B64, &x_high, &x1, &y1);
        let low = self.select(Class::B64, &x_high, &y0, &x0);
        let t_lo = self.op64("mul.lo.u64", &high, &low);
        let t_hi = self.op64("mul.hi.u64", &high, &low);
        let cross_big = self.setp("ne", "u64", &t_hi, "0");
        let p0 = self.op64("mul.lo.u64", &x0, &y0);
        let p0_hi = self.op64("mul.hi.u64", &x0, &y0);
        let mid = self.op64("add.u64", &p0_hi, &t_lo);
        let carried = self.setp("lt", "u64", &mid, &p0_hi);
        let mut over = self.or(&both_high, &cross_big);
        over = self.or(&over, &carried);
        // Below 2^128 now: at least 2^127 overflows unless the result is exactly MIN.
        let big = self.setp("gt", "u64", &mid, &imm(i64::MAX as u64));
        let min_high = self.setp("eq", "u64", &mid, &imm(1 << 63));
        let low_zero = self.setp("eq", "u64", &p0, "0");
        let exactly = self.and(&min_high, &low_zero);
        let (na, nb) = (self.wide_is_negative(a), self.wide_is_negative(b));
        let negative = self.code.reg(Class::Pred);
        self.code.ins("xor.pred", &[&negative, &na, &nb]);
        let allowed = self.and(&negative, &exactly);
        let not_allowed = self.not(&allowed);
        let too_big = self.and(&big, &not_allowed);
        let overflow = self.or(&over, &too_big);
        (Self::join(&r0, &r1), overflow)
    }

    /// `a × 10^k`, wrapped, and whether it overflowed (never for k = 0).
    fn wide_rescale(&mut self, a: &str, k: i32) -> (Reg, Reg) {
        if k <= 0 {
            return (a.to_string(), self.never.clone());
        }
        let factor = self.wide_const(pow10(k as u32));
        self.wide_mul(a, &factor)
    }

    /// A comparison of two wide values (signed).
    pub(super) fn wide_compare(&mut self, cmp: &str, a: &str, b: &str) -> Reg {
        let ((a0, a1), (b0, b1)) = (Self::words(a), Self::words(b));
        let high_eq = self.setp("eq", "s64", &a1, &b1);
        let low = self.setp(cmp, "u64", &a0, &b0);
        match cmp {
            "eq" => self.and(&high_eq, &low),
            "ne" => {
                let high_ne = self.not(&high_eq);
                self.or(&high_ne, &low)
            }
            _ => {
                let high = self.setp(cmp, "s64", &a1, &b1);
                let high_strict = self.not(&high_eq);
                let by_high = self.and(&high_strict, &high);
                let by_low = self.and(&high_eq, &low);
                self.or(&by_high, &by_low)
            }
        }
    }

    /// Whether a wide value lies outside ±`max`.
    fn wide_beyond(&mut self, a: &str, max: i128) -> Reg {
        let top = self.wide_const(max);
        let bottom = self.wide_const(-max);
        let above = self.wide_compare("gt", a, &top);
        let below = self.wide_compare("lt", a, &bottom);
        self.or(&above, &below)
    }

    /// Decimal + − × (see the module's doc).
    pub(super) fn decimal_arith(
        &mut self,
        op: BinaryOp,
        (t1, t2): (ScalarType, ScalarType),
        ty: ScalarType,
        a: &str,
        b: &str,
        raises: &mut Vec<Raise>,
    ) -> Result<Reg, String> {
        let scale = |t: ScalarType| decimal_parts(t).map_or(0, |(_, s)| s as i32);
        let (value, overflow) = match op {
            BinaryOp::Add | BinaryOp::Sub => {
                let (x, ox) = self.wide_rescale(a, scale(ty) - scale(t1));
                let (y, oy) = self.wide_rescale(b, scale(ty) - scale(t2));
                let (v, o) = self.wide_add_sub(op == BinaryOp::Sub, &x, &y);
                let either = self.or(&ox, &oy);
                (v, self.or(&either, &o))
            }
            BinaryOp::Mul => self.wide_mul(a, b),
            other => return Err(format!("decimal {other:?} is not rendered to PTX")),
        };
        raises.push(Raise {
            when: overflow,
            kind: FailureKind::Overflow,
        });
        Ok(value)
    }

    /// Decimal negation: −MIN fails (Arrow's check); the wrapped value otherwise.
    pub(super) fn decimal_neg(&mut self, a: &str, raises: &mut Vec<Raise>) -> Reg {
        let is_min = {
            let min = self.wide_const(i128::MIN);
            self.wide_compare("eq", a, &min)
        };
        raises.push(Raise {
            when: is_min,
            kind: FailureKind::Overflow,
        });
        self.wide_neg(a)
    }

    /// |a| (wrapping: |MIN| is MIN, as the interpreter's `abs` of an i128).
    pub(super) fn decimal_abs(&mut self, a: &str) -> Reg {
        self.wide_magnitude(a)
    }

    /// An integer or decimal cast to a decimal of the same or a larger scale: × 10^k, then
    /// (unless every value of the source fits) checked for overflow and the precision.
    pub(super) fn cast_to_decimal(
        &mut self,
        value: &str,
        from: ScalarType,
        from_class: Class,
        to: ScalarType,
        raises: &mut Vec<Raise>,
    ) -> Result<Reg, String> {
        let (precision, scale) = decimal_parts(to).expect("a decimal target");
        let (from_scale, wide) = match decimal_parts(from) {
            Some((_, s)) => (s, value.to_string()),
            None if from.is_float() => return Err(format!("a cast from {from} to {to}")),
            None => (0, self.wide_from_int(value, from, from_class)),
        };
        if scale < from_scale {
            return Err(format!("a cast from {from} to {to} (rounding)"));
        }
        let (v, overflow) = self.wide_rescale(&wide, (scale - from_scale) as i32);
        if cast_can_fail(from, to) {
            let beyond = self.wide_beyond(&v, pow10(precision as u32) - 1);
            let fails = self.or(&overflow, &beyond);
            raises.push(Raise {
                when: fails,
                kind: FailureKind::Overflow,
            });
        }
        Ok(v)
    }

    /// A decimal to a float: `(x as f64) / 10^scale` (Rust's `as`: rounded to nearest, ties
    /// to even), then to f32 if asked.
    pub(super) fn decimal_to_float(
        &mut self,
        value: &str,
        from: ScalarType,
        to: ScalarType,
    ) -> Reg {
        let (_, scale) = decimal_parts(from).expect("a decimal");
        let x = self.wide_to_f64(value);
        let divisor = 10f64.powi(scale as i32);
        let d = self.code.reg(Class::F64);
        self.code.ins("div.rn.f64", &[&d, &x, &f64_imm(divisor)]);
        if to == ScalarType::F32 {
            let f = self.code.reg(Class::F32);
            self.code.ins("cvt.rn.f32.f64", &[&f, &d]);
            return f;
        }
        d
    }

    /// An i128 rounded once to the nearest f64: the magnitude's top 64 bits, with a sticky
    /// bit for everything below them, converted by the hardware and scaled by a power of two
    /// (exact), then the sign.
    fn wide_to_f64(&mut self, value: &str) -> Reg {
        let negative = self.wide_is_negative(value);
        let magnitude = self.wide_magnitude(value);
        let (m0, m1) = Self::words(&magnitude);
        // Bits above the low word: 64 - clz(m1) (0 when the high word is 0).
        let leading = self.code.reg(Class::B32);
        self.code.ins("clz.b64", &[&leading, &m1]);
        let shift32 = self.code.reg(Class::B32);
        self.code.ins("sub.u32", &[&shift32, "64", &leading]);
        let shift = self.code.reg(Class::B32);
        self.code.ins("and.b32", &[&shift, &shift32, "127"]);
        // top = (m >> shift) as u64, sticky = the bits shifted out.
        let back = self.code.reg(Class::B32);
        self.code.ins("sub.u32", &[&back, "64", &shift]);
        let low_part = self.op64("shr.u64", &m0, &shift);
        let high_part = self.op64("shl.b64", &m1, &back);
        let has_high = self.setp("ne", "u32", &shift, "0");
        let from_high = self.select(Class::B64, &has_high, &high_part, "0");
        let top = self.op64("or.b64", &low_part, &from_high);
        let lost = self.op64("shl.b64", &m0, &back);
        let dropped = self.select(Class::B64, &has_high, &lost, "0");
        let sticky = self.setp("ne", "u64", &dropped, "0");
        let sticky_bit = self.code.reg(Class::B64);
        self.code.ins("selp.u64", &[&sticky_bit, "1", "0", &sticky]);
        let rounded_input = self.op64("or.b64", &top, &sticky_bit);
        let f = self.code.reg(Class::F64);
        self.code.ins("cvt.rn.f64.u64", &[&f, &rounded_input]);
        // × 2^shift: the exponent field of a power of two (shift ≤ 64).
        let exponent = self.code.reg(Class::B64);
        self.code.ins("cvt.u64.u32", &[&exponent, &shift]);
        let biased = self.op64("add.u64", &exponent, "1023");
        let bits = self.op64("shl.b64", &biased, "52");
        let power = self.code.reg(Class::F64);
        self.code.ins("mov.b64", &[&power, &bits]);
        let scaled = self.code.reg(Class::F64);
        self.code.ins("mul.rn.f64", &[&scaled, &f, &power]);
        let negated = self.code.reg(Class::F64);
        self.code.ins("neg.f64", &[&negated, &scaled]);
        self.select(Class::F64, &negative, &negated, &scaled)
    }
}
