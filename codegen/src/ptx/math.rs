//! `exp` and `tanh` in PTX, instruction for instruction as [`crate::math`] specifies them
//! (separate `.rn` multiplies and adds, never fused), so the GPU gives the CPU's bits.

use super::node::Lower;
use super::text::{f32_imm, f64_imm, Class, Reg};
use crate::ir::ScalarType;
use crate::math::{Constants, F32, F64};

struct Float {
    class: Class,
    t: &'static str,
    bits: &'static str,
    int_class: Class,
    c: Constants,
}

fn float(ty: ScalarType) -> Float {
    if ty == ScalarType::F32 {
        Float {
            class: Class::F32,
            t: "f32",
            bits: "b32",
            int_class: Class::B32,
            c: F32,
        }
    } else {
        Float {
            class: Class::F64,
            t: "f64",
            bits: "b64",
            int_class: Class::B64,
            c: F64,
        }
    }
}

impl Float {
    fn imm(&self, x: f64) -> String {
        if self.class == Class::F32 {
            f32_imm(x as f32)
        } else {
            f64_imm(x)
        }
    }
}

impl Lower<'_> {
    fn op2(&mut self, f: &Float, name: &str, a: &str, b: &str) -> Reg {
        let d = self.code.reg(f.class);
        self.code.ins(&format!("{name}.{}", f.t), &[&d, a, b]);
        d
    }

    /// (k, expm1(r)) for `x = k·ln 2 + r`.
    fn exp_parts(&mut self, f: &Float, x: &str) -> (Reg, Reg) {
        let c = f.c;
        let scaled = self.op2(f, "mul.rn", x, &f.imm(c.log2e));
        let k = self.code.reg(f.class);
        self.code
            .ins(&format!("cvt.rni.{}.{}", f.t, f.t), &[&k, &scaled]);
        let high = self.op2(f, "mul.rn", &k, &f.imm(c.ln2_hi));
        let r0 = self.op2(f, "sub.rn", x, &high);
        let low = self.op2(f, "mul.rn", &k, &f.imm(c.ln2_lo));
        let r = self.op2(f, "sub.rn", &r0, &low);
        let mut h = self
            .code
            .constant(f.class, &f.imm(*c.taylor.last().expect("terms")));
        for &t in c.taylor.iter().rev().skip(1) {
            let m = self.op2(f, "mul.rn", &h, &r);
            h = self.op2(f, "add.rn", &m, &f.imm(t));
        }
        let m = self.op2(f, "mul.rn", &h, &r);
        let h = self.op2(f, "add.rn", &m, &f.imm(1.0));
        let p = self.op2(f, "mul.rn", &h, &r);
        (k, p)
    }

    /// `v · 2^k` in two halves of k, each power of two built from its bits.
    fn exp_scale(&mut self, f: &Float, v: &str, k: &str) -> Reg {
        let c = f.c;
        let power = |l: &mut Self, n: &str| {
            let t = l.op2(f, "add.rn", n, &f.imm(c.bias + c.magic));
            let raw = l.code.reg(f.int_class);
            l.code.ins(&format!("mov.{}", f.bits), &[&raw, &t]);
            let shifted = l.code.reg(f.int_class);
            l.code.ins(
                &format!("shl.{}", f.bits),
                &[&shifted, &raw, &c.mantissa_bits.to_string()],
            );
            let p = l.code.reg(f.class);
            l.code.ins(&format!("mov.{}", f.bits), &[&p, &shifted]);
            p
        };
        let halved = self.op2(f, "mul.rn", k, &f.imm(0.5));
        let half = self.code.reg(f.class);
        self.code
            .ins(&format!("cvt.rmi.{}.{}", f.t, f.t), &[&half, &halved]);
        let rest = self.op2(f, "sub.rn", k, &half);
        let p1 = power(self, &half);
        let p2 = power(self, &rest);
        let a = self.op2(f, "mul.rn", v, &p1);
        self.op2(f, "mul.rn", &a, &p2)
    }

    /// e^x (NaN stays NaN).
    pub fn exp(&mut self, x: &str, ty: ScalarType) -> Reg {
        let f = float(ty);
        let low = self.op2(&f, "max", x, &f.imm(f.c.low));
        let clamped = self.op2(&f, "min", &low, &f.imm(f.c.high));
        let (k, p) = self.exp_parts(&f, &clamped);
        let v = self.op2(&f, "add.rn", &p, &f.imm(1.0));
        let e = self.exp_scale(&f, &v, &k);
        let nan = self.setp("nan", f.t, x, x);
        self.select(f.class, &nan, x, &e)
    }

    /// tanh(x) = -u / (u + 2) with u = expm1(-2|x|), the sign of x copied.
    pub fn tanh(&mut self, x: &str, ty: ScalarType) -> Reg {
        let f = float(ty);
        let magnitude = self.code.reg(f.class);
        self.code.ins(&format!("abs.{}", f.t), &[&magnitude, x]);
        let t = self.op2(&f, "min", &magnitude, &f.imm(f.c.tanh_limit));
        let minus_two_t = self.op2(&f, "mul.rn", &t, &f.imm(-2.0));
        let (k, p) = self.exp_parts(&f, &minus_two_t);
        let v = self.op2(&f, "add.rn", &p, &f.imm(1.0));
        let scaled = self.exp_scale(&f, &v, &k);
        let expm1 = self.op2(&f, "sub.rn", &scaled, &f.imm(1.0));
        let k_zero = self.setp("eq", f.t, &k, &f.imm(0.0));
        let u = self.select(f.class, &k_zero, &p, &expm1);
        let negated = self.code.reg(f.class);
        self.code.ins(&format!("neg.{}", f.t), &[&negated, &u]);
        let denominator = self.op2(&f, "add.rn", &u, &f.imm(2.0));
        let quotient = self.op2(&f, "div.rn", &negated, &denominator);
        let signed = self.code.reg(f.class);
        self.code
            .ins(&format!("copysign.{}", f.t), &[&signed, x, &quotient]);
        let nan = self.setp("nan", f.t, x, x);
        self.select(f.class, &nan, x, &signed)
    }
}
