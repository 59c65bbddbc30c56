//! Decimal128 in a lane loop: values are i128, computed as Arrow computes them (see
//! `interp::scalar::decimal_arith` and `to_decimal`), with every overflow check inline —
//! Cranelift would otherwise call out for i128 multiplication checks and conversions.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, BlockArg, InstBuilder, MemFlagsData, Value};

use super::{Chunk, Iter, KIND_OVERFLOW};
use crate::ir::{BinaryOp, ScalarType};
use crate::semantics::{cast_can_fail, decimal_parts, pow10, upscale_bound};

impl Chunk<'_, '_, '_> {
    pub(super) fn const128(&mut self, v: i128) -> Value {
        let lo = self.b.ins().iconst(types::I64, v as i64);
        let hi = self.b.ins().iconst(types::I64, (v >> 64) as i64);
        self.b.ins().iconcat(lo, hi)
    }

    /// Whether an i128 is negative (an i8 flag).
    fn negative(&mut self, v: Value) -> Value {
        let (_, hi) = self.b.ins().isplit(v);
        self.b.ins().icmp_imm_s(IntCC::SignedLessThan, hi, 0)
    }

    /// Whether an i128 lies outside `lo ..= hi` (an i8 flag).
    fn outside(&mut self, v: Value, lo: i128, hi: i128) -> Value {
        let lo = self.const128(lo);
        let hi = self.const128(hi);
        let below = self.b.ins().icmp(IntCC::SignedLessThan, v, lo);
        let above = self.b.ins().icmp(IntCC::SignedGreaterThan, v, hi);
        self.b.ins().bor(below, above)
    }

    /// Whether an i128 is negative, and its magnitude (|MIN| wraps to MIN, whose unsigned
    /// reading is the right 2^127).
    fn magnitude(&mut self, v: Value) -> (Value, Value) {
        let negative = self.negative(v);
        let negated = self.b.ins().ineg(v);
        (negative, self.b.ins().select(negative, negated, v))
    }

    /// Decimal + − ×, as Arrow computes them. Rows whose variable operands fit 64 bits
    /// (any decimal of precision ≤ 18 does: all of TPC-H's) take a branch that cannot
    /// overflow and so checks nothing; the others take the checked path.
    pub(super) fn decimal_arith(
        &mut self,
        it: &Iter,
        index: usize,
        op: BinaryOp,
        scales: (i8, i8, i8),
        operands: [(Value, Option<i128>); 2],
    ) -> Value {
        let [(x, _), (y, _)] = operands;
        let Some(narrow) = self.narrow_flag(op, scales, operands) else {
            return self.checked_decimal_arith(it, index, op, scales, x, y);
        };
        let narrow_block = self.b.create_block();
        let wide_block = self.b.create_block();
        let join = self.b.create_block();
        self.b.append_block_param(join, types::I128);
        self.b
            .ins()
            .brif(narrow, narrow_block, &[], wide_block, &[]);
        self.b.seal_block(narrow_block);
        self.b.seal_block(wide_block);
        self.b.switch_to_block(narrow_block);
        let r = self.narrow_decimal_arith(op, scales, operands);
        self.b.ins().jump(join, &[BlockArg::Value(r)]);
        self.b.switch_to_block(wide_block);
        let r = self.checked_decimal_arith(it, index, op, scales, x, y);
        self.b.ins().jump(join, &[BlockArg::Value(r)]);
        self.b.seal_block(join);
        self.b.switch_to_block(join);
        self.b.block_params(join)[0]
    }

    /// The flag (i8) of rows where `op` cannot overflow: each variable operand fits 64
    /// bits, so `|x * 10^k| < 2^63 * 10^18 < 2^123` and `|x * y| <= 2^126`. Constants are
    /// bounded here instead (at most 2^125 once rescaled; a factor fits 64 bits). None where
    /// no such branch applies: no variable operand, a rescale past 10^18, a huge constant.
    fn narrow_flag(
        &mut self,
        op: BinaryOp,
        scales: (i8, i8, i8),
        operands: [(Value, Option<i128>); 2],
    ) -> Option<Value> {
        let mut flag = None;
        for ((v, known), k) in operands.into_iter().zip(rescales(op, scales)) {
            if !(0..=18).contains(&k) {
                return None;
            }
            match known {
                Some(c) if op == BinaryOp::Mul => i64::try_from(c).ok().map(|_| ())?,
                Some(c) => c
                    .checked_mul(pow10(k as u32))
                    .filter(|r| r.unsigned_abs() <= 1u128 << 125)
                    .map(|_| ())?,
                None => {
                    let fits = self.fits_i64(v);
                    flag = Some(match flag {
                        Some(f) => self.b.ins().band(f, fits),
                        None => fits,
                    });
                }
            }
        }
        flag
    }

    /// `op` on operands that [`Self::narrow_flag`] bounded: products of 64-bit halves.
    fn narrow_decimal_arith(
        &mut self,
        op: BinaryOp,
        scales: (i8, i8, i8),
        [x, y]: [(Value, Option<i128>); 2],
    ) -> Value {
        let [kx, ky] = rescales(op, scales);
        let a = self.narrow_term(op, x, kx);
        let b = self.narrow_term(op, y, ky);
        match op {
            BinaryOp::Add => self.b.ins().iadd(a, b),
            BinaryOp::Sub => self.b.ins().isub(a, b),
            _ => self.widening_mul(a, b),
        }
    }

    /// One operand of [`Self::narrow_decimal_arith`]: for a product its low 64 bits, else
    /// the i128 rescaled by `10^k`.
    fn narrow_term(&mut self, op: BinaryOp, (v, known): (Value, Option<i128>), k: i8) -> Value {
        match known {
            Some(c) if op == BinaryOp::Mul => self.b.ins().iconst(types::I64, c as i64),
            Some(c) => self.const128(c * pow10(k as u32)),
            None if op == BinaryOp::Mul => self.b.ins().isplit(v).0,
            None => self.widening_times_pow10(v, k),
        }
    }

    /// The i128 product of two i64s.
    fn widening_mul(&mut self, a: Value, b: Value) -> Value {
        let lo = self.b.ins().imul(a, b);
        let hi = self.b.ins().smulhi(a, b);
        self.b.ins().iconcat(lo, hi)
    }

    /// `x * 10^k` for an i128 that fits 64 bits and `k <= 18`.
    fn widening_times_pow10(&mut self, x: Value, k: i8) -> Value {
        if k == 0 {
            return x;
        }
        let lo = self.b.ins().isplit(x).0;
        let m = self.b.ins().iconst(types::I64, pow10(k as u32) as i64);
        self.widening_mul(lo, m)
    }

    /// Whether an i128 is the sign extension of its low 64 bits (an i8 flag).
    fn fits_i64(&mut self, x: Value) -> Value {
        let (lo, hi) = self.b.ins().isplit(x);
        let sign = self.b.ins().sshr_imm_s(lo, 63);
        self.b.ins().icmp(IntCC::Equal, hi, sign)
    }

    /// Decimal + − × on any i128s: operands rescaled to the result's scale, then the
    /// operation; fails where a step overflows i128.
    fn checked_decimal_arith(
        &mut self,
        it: &Iter,
        index: usize,
        op: BinaryOp,
        (s1, s2, s): (i8, i8, i8),
        x: Value,
        y: Value,
    ) -> Value {
        let (result, bad) = match op {
            BinaryOp::Add | BinaryOp::Sub => {
                let (x, x_bad) = self.times_pow10(x, s - s1);
                let (y, y_bad) = self.times_pow10(y, s - s2);
                let (r, sign_flip) = if op == BinaryOp::Add {
                    let r = self.b.ins().iadd(x, y);
                    // Overflow: both operands' signs differ from the result's.
                    let a = self.b.ins().bxor(x, r);
                    let b = self.b.ins().bxor(y, r);
                    (r, self.b.ins().band(a, b))
                } else {
                    let r = self.b.ins().isub(x, y);
                    // Overflow: the operands' signs differ and the result's is y's.
                    let a = self.b.ins().bxor(x, y);
                    let b = self.b.ins().bxor(x, r);
                    (r, self.b.ins().band(a, b))
                };
                let overflow = self.negative(sign_flip);
                let bad = [x_bad, y_bad]
                    .into_iter()
                    .flatten()
                    .fold(overflow, |acc, f| self.b.ins().bor(acc, f));
                (r, bad)
            }
            BinaryOp::Mul => {
                let bad = self.mul_overflows(x, y);
                (self.b.ins().imul(x, y), bad)
            }
            other => unreachable!("validated: decimal {other:?}"),
        };
        self.check(it, index, bad, KIND_OVERFLOW);
        result
    }

    /// `x * 10^k` (wrapping) and, for k > 0, whether it overflows i128.
    fn times_pow10(&mut self, x: Value, k: i8) -> (Value, Option<Value>) {
        if k == 0 {
            return (x, None);
        }
        let m = pow10(k as u32);
        let factor = self.const128(m);
        let product = self.b.ins().imul(x, factor);
        let overflows = self.outside(x, i128::MIN / m, i128::MAX / m);
        (product, Some(overflows))
    }

    /// Whether the i128 product `x * y` overflows, from the 64-bit halves of the operands'
    /// magnitudes: |x| * |y| must stay below 2^127 (or equal it for a negative product).
    fn mul_overflows(&mut self, x: Value, y: Value) -> Value {
        let (x_neg, ux) = self.magnitude(x);
        let (y_neg, uy) = self.magnitude(y);
        let negative = self.b.ins().bxor(x_neg, y_neg);
        let (xl, xh) = self.b.ins().isplit(ux);
        let (yl, yh) = self.b.ins().isplit(uy);
        // Both high halves set: the product is at least 2^128.
        let xh_set = self.b.ins().icmp_imm_s(IntCC::NotEqual, xh, 0);
        let yh_set = self.b.ins().icmp_imm_s(IntCC::NotEqual, yh, 0);
        let both_high = self.b.ins().band(xh_set, yh_set);
        // The cross products (one is zero unless both highs are set) must fit 64 bits.
        let c1_high = self.b.ins().umulhi(xh, yl);
        let c2_high = self.b.ins().umulhi(xl, yh);
        let c_high = self.b.ins().bor(c1_high, c2_high);
        let cross_wide = self.b.ins().icmp_imm_s(IntCC::NotEqual, c_high, 0);
        let c1 = self.b.ins().imul(xh, yl);
        let c2 = self.b.ins().imul(xl, yh);
        let cross = self.b.ins().iadd(c1, c2);
        // The high word of the magnitude, and whether adding the cross products carried.
        let low_high = self.b.ins().umulhi(xl, yl);
        let high = self.b.ins().iadd(low_high, cross);
        let carried = self.b.ins().icmp(IntCC::UnsignedLessThan, high, low_high);
        // At least 2^127: too big, unless exactly 2^127 and the product is negative.
        let low = self.b.ins().imul(xl, yl);
        let top_set = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, high, 0);
        let high_is_top = self.b.ins().icmp_imm_s(IntCC::Equal, high, i64::MIN);
        let low_zero = self.b.ins().icmp_imm_s(IntCC::Equal, low, 0);
        let exactly = self.b.ins().band(high_is_top, low_zero);
        let exactly_min = self.b.ins().band(exactly, negative);
        let too_big = self.b.ins().band_not(top_set, exactly_min);
        let a = self.b.ins().bor(both_high, cross_wide);
        let b = self.b.ins().bor(carried, too_big);
        self.b.ins().bor(a, b)
    }

    /// An integer or decimal to a decimal: times 10^(scale increase); where Arrow checks,
    /// fails unless the input's magnitude is at most `(10^p - 1) / 10^k`.
    pub(super) fn cast_to_decimal(
        &mut self,
        it: &Iter,
        index: usize,
        from: ScalarType,
        to: ScalarType,
        x: Value,
    ) -> Value {
        let wide = match decimal_parts(from) {
            Some(_) => x,
            None if from.is_unsigned_int() => self.b.ins().uextend(types::I128, x),
            None => self.b.ins().sextend(types::I128, x),
        };
        let (_, scale) = decimal_parts(to).expect("a decimal target");
        let k = scale - decimal_parts(from).map_or(0, |(_, s)| s);
        let (product, _) = self.times_pow10(wide, k);
        if cast_can_fail(from, to) {
            let bound = upscale_bound(from, to).expect("a decimal target");
            let bad = self.outside(wide, -bound, bound);
            self.check(it, index, bad, KIND_OVERFLOW);
        }
        product
    }

    /// A decimal to a float: `(x as f64) / 10^scale`, then to f32 if asked.
    pub(super) fn decimal_to_float(&mut self, from: ScalarType, to: ScalarType, x: Value) -> Value {
        let (_, scale) = decimal_parts(from).expect("a decimal source");
        let mut f = self.i128_to_f64(x);
        if scale != 0 {
            // (A division by 1 is exact, and costs a divider-bound `fdiv` all the same.)
            let divisor = self.b.ins().f64const(10f64.powi(scale as i32));
            f = self.b.ins().fdiv(f, divisor);
        }
        if to == ScalarType::F32 {
            self.b.ins().fdemote(types::F32, f)
        } else {
            f
        }
    }

    /// An i128 to the nearest f64 (ties to even), as Rust's `as` does. Values that fit 64
    /// bits convert directly (a branch every decimal of precision ≤ 18 takes); larger ones
    /// keep their top 63 bits with the rest OR-ed into the lowest (a sticky bit), which
    /// rounds once, correctly, and scale back by 2^k.
    fn i128_to_f64(&mut self, x: Value) -> Value {
        let fits = self.fits_i64(x);
        let small_block = self.b.create_block();
        let big_block = self.b.create_block();
        let join = self.b.create_block();
        self.b.append_block_param(join, types::F64);
        self.b.ins().brif(fits, small_block, &[], big_block, &[]);
        self.b.seal_block(small_block);
        self.b.seal_block(big_block);
        self.b.switch_to_block(small_block);
        let lo = self.b.ins().isplit(x).0;
        let small = self.b.ins().fcvt_from_sint(types::F64, lo);
        self.b.ins().jump(join, &[BlockArg::Value(small)]);
        self.b.switch_to_block(big_block);
        let big = self.wide_i128_to_f64(x);
        self.b.ins().jump(join, &[BlockArg::Value(big)]);
        self.b.seal_block(join);
        self.b.switch_to_block(join);
        self.b.block_params(join)[0]
    }

    /// [`Self::i128_to_f64`] for a value that does not fit 64 bits.
    fn wide_i128_to_f64(&mut self, x: Value) -> Value {
        let (negative, ux) = self.magnitude(x);
        let zeros = self.b.ins().clz(ux);
        let zeros = self.b.ins().ireduce(types::I64, zeros);
        // k = bits - 63 = 65 - zeros, at least 1 (a value that fits is converted above).
        let sixty_five = self.iconst(65);
        let k = self.b.ins().isub(sixty_five, zeros);
        let one = self.iconst(1);
        let k_small = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, k, 1);
        let k = self.b.ins().select(k_small, one, k);
        let top = self.b.ins().ushr(ux, k);
        let top = self.b.ins().ireduce(types::I64, top);
        let hundred_twenty_eight = self.iconst(128);
        let back = self.b.ins().isub(hundred_twenty_eight, k);
        let rest = self.b.ins().ishl(ux, back);
        let (rest_lo, rest_hi) = self.b.ins().isplit(rest);
        let rest_any = self.b.ins().bor(rest_lo, rest_hi);
        let sticky = self.b.ins().icmp_imm_s(IntCC::NotEqual, rest_any, 0);
        let sticky = self.b.ins().uextend(types::I64, sticky);
        let m = self.b.ins().bor(top, sticky);
        let f = self.b.ins().fcvt_from_sint(types::F64, m);
        let exponent = self.b.ins().iadd_imm_s(k, 1023);
        let exponent = self.b.ins().ishl_imm_s(exponent, 52);
        let two_k = self
            .b
            .ins()
            .bitcast(types::F64, MemFlagsData::new(), exponent);
        let big = self.b.ins().fmul(f, two_k);
        let big_neg = self.b.ins().fneg(big);
        self.b.ins().select(negative, big_neg, big)
    }
}

/// How many decimal places each operand of `op` is shifted by before the operation.
fn rescales(op: BinaryOp, (s1, s2, s): (i8, i8, i8)) -> [i8; 2] {
    match op {
        BinaryOp::Mul => [0, 0],
        _ => [s - s1, s - s2],
    }
}
