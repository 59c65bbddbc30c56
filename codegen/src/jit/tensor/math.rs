//! `exp` and `tanh` emitted inline, instruction for instruction as [`crate::math`] computes
//! them, on a scalar or a vector of f32 or f64 (the same code: Cranelift's float
//! instructions act per lane). Branch-free: both sides of every choice are computed and a
//! select (a bit select on vectors) keeps one.

use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Type, Value};
use cranelift_frontend::FunctionBuilder;

use crate::math::{Constants, F32, F64};

struct Math<'a, 'b> {
    b: &'a mut FunctionBuilder<'b>,
    ty: Type,
    c: Constants,
}

impl Math<'_, '_> {
    fn konst(&mut self, v: f64) -> Value {
        let lane = if self.ty.lane_type() == types::F32 {
            self.b.ins().f32const(v as f32)
        } else {
            self.b.ins().f64const(v)
        };
        if self.ty.is_vector() {
            self.b.ins().splat(self.ty, lane)
        } else {
            lane
        }
    }

    /// `if cond { yes } else { no }` for a comparison's result (a mask on vectors).
    fn choose(&mut self, cond: Value, yes: Value, no: Value) -> Value {
        if self.ty.is_vector() {
            let mask = self.b.ins().bitcast(self.ty, MemFlagsData::new(), cond);
            self.b.ins().bitselect(mask, yes, no)
        } else {
            self.b.ins().select(cond, yes, no)
        }
    }

    /// (k, expm1(r)) for `x = k·ln 2 + r`.
    fn parts(&mut self, x: Value) -> (Value, Value) {
        let log2e = self.konst(self.c.log2e);
        let scaled = self.b.ins().fmul(x, log2e);
        let k = self.b.ins().nearest(scaled);
        let (hi, lo) = (self.konst(self.c.ln2_hi), self.konst(self.c.ln2_lo));
        let k_hi = self.b.ins().fmul(k, hi);
        let reduced = self.b.ins().fsub(x, k_hi);
        let k_lo = self.b.ins().fmul(k, lo);
        let r = self.b.ins().fsub(reduced, k_lo);
        let taylor = self.c.taylor;
        let mut h = self.konst(*taylor.last().expect("terms"));
        for &t in taylor.iter().rev().skip(1).chain(&[1.0]) {
            let hr = self.b.ins().fmul(h, r);
            let term = self.konst(t);
            h = self.b.ins().fadd(hr, term);
        }
        (k, self.b.ins().fmul(h, r))
    }

    /// 2^n for an integral n of the format's normal exponents, from bits.
    fn power(&mut self, n: Value) -> Value {
        let offset = self.konst(self.c.bias + self.c.magic);
        let t = self.b.ins().fadd(n, offset);
        let int = self.ty.as_int();
        let bits = self.b.ins().bitcast(int, MemFlagsData::new(), t);
        let shifted = self.b.ins().ishl_imm_u(bits, self.c.mantissa_bits as i64);
        self.b.ins().bitcast(self.ty, MemFlagsData::new(), shifted)
    }

    /// `v · 2^k`, in two halves of k.
    fn scale(&mut self, v: Value, k: Value) -> Value {
        let half_const = self.konst(0.5);
        let halved = self.b.ins().fmul(k, half_const);
        let half = self.b.ins().floor(halved);
        let rest = self.b.ins().fsub(k, half);
        let (p1, p2) = (self.power(half), self.power(rest));
        let first = self.b.ins().fmul(v, p1);
        self.b.ins().fmul(first, p2)
    }

    /// `value`, or `x` itself where `x` is NaN.
    fn nan_passes(&mut self, x: Value, value: Value) -> Value {
        let nan = self.b.ins().fcmp(FloatCC::Unordered, x, x);
        self.choose(nan, x, value)
    }

    fn exp(&mut self, x: Value) -> Value {
        let (low, high) = (self.konst(self.c.low), self.konst(self.c.high));
        let above = self.b.ins().fmax(x, low);
        let clamped = self.b.ins().fmin(above, high);
        let (k, p) = self.parts(clamped);
        let one = self.konst(1.0);
        let mantissa = self.b.ins().fadd(p, one);
        let e = self.scale(mantissa, k);
        self.nan_passes(x, e)
    }

    fn tanh(&mut self, x: Value) -> Value {
        let magnitude = self.b.ins().fabs(x);
        let limit = self.konst(self.c.tanh_limit);
        let t = self.b.ins().fmin(magnitude, limit);
        let minus_two = self.konst(-2.0);
        let y = self.b.ins().fmul(t, minus_two);
        let (k, p) = self.parts(y);
        let one = self.konst(1.0);
        let mantissa = self.b.ins().fadd(p, one);
        let scaled = self.scale(mantissa, k);
        let far = self.b.ins().fsub(scaled, one);
        let zero = self.konst(0.0);
        let near = self.b.ins().fcmp(FloatCC::Equal, k, zero);
        let u = self.choose(near, p, far);
        let minus_u = self.b.ins().fneg(u);
        let two = self.konst(2.0);
        let denominator = self.b.ins().fadd(u, two);
        let quotient = self.b.ins().fdiv(minus_u, denominator);
        let signed = self.copysign(quotient, x);
        self.nan_passes(x, signed)
    }

    /// `magnitude` with the sign of `sign`, by bits (x86 has no vector `fcopysign`).
    fn copysign(&mut self, magnitude: Value, sign: Value) -> Value {
        let int = self.ty.as_int();
        let bit = self.konst(-0.0);
        let [m, s, bit] =
            [magnitude, sign, bit].map(|v| self.b.ins().bitcast(int, MemFlagsData::new(), v));
        let cleared = self.b.ins().band_not(m, bit);
        let taken = self.b.ins().band(s, bit);
        let joined = self.b.ins().bor(cleared, taken);
        self.b.ins().bitcast(self.ty, MemFlagsData::new(), joined)
    }
}

fn math<'a, 'b>(b: &'a mut FunctionBuilder<'b>, x: Value) -> Math<'a, 'b> {
    let ty = b.func.dfg.value_type(x);
    let c = if ty.lane_type() == types::F32 {
        F32
    } else {
        F64
    };
    Math { b, ty, c }
}

/// e^x of a float scalar or vector.
pub(super) fn emit_exp(b: &mut FunctionBuilder<'_>, x: Value) -> Value {
    math(b, x).exp(x)
}

/// tanh(x) of a float scalar or vector.
pub(super) fn emit_tanh(b: &mut FunctionBuilder<'_>, x: Value) -> Value {
    math(b, x).tanh(x)
}
