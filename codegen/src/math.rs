//! `exp` and `tanh` as corepy computes them, in the float type of the value: the
//! specification the interpreter runs and the JIT emits instruction for instruction, so
//! both give the same bits (and a vector loop needs no call per lane).
//!
//! exp: Cody–Waite reduction `x = k·ln 2 + r` with |r| ≤ ln 2 / 2 (ln 2 split in two so that
//! `k·LN2_HI` is exact), the Taylor series of `expm1(r)` by Horner's rule, then the scale
//! `2^k` built from bits in two halves, so that results down to the subnormals and up to
//! the overflow to infinity come out of one multiply each. tanh: `tanh(t) = -u / (u + 2)`
//! with `u = expm1(-2t)` for `t = |x|` (no cancellation near 0), the sign of `x` copied.
//!
//! Accuracy (measured by the tests below against f64 libm on dense sweeps): see
//! [`MAX_ULPS_F32`] and [`MAX_ULPS_F64`].

/// The largest error of [`exp_f32`] and [`tanh_f32`], in float32 ulps of the exact value.
pub const MAX_ULPS_F32: f64 = 2.0;
/// The largest error of [`exp_f64`] and [`tanh_f64`], in float64 ulps.
pub const MAX_ULPS_F64: f64 = 3.0;

/// The constants of one float width.
#[derive(Debug, Clone, Copy)]
pub struct Constants {
    pub log2e: f64,
    /// ln 2 = LN2_HI + LN2_LO, LN2_HI with trailing zero bits (so k·LN2_HI is exact).
    pub ln2_hi: f64,
    pub ln2_lo: f64,
    /// exp's argument is clamped to [low, high]: beyond, the result is 0 or infinity.
    pub low: f64,
    pub high: f64,
    /// 1/2!, 1/3!, …: the Taylor coefficients of expm1(r)/r after the leading 1.
    pub taylor: &'static [f64],
    /// The exponent bias and mantissa bits of the format, and 2^mantissa_bits.
    pub bias: f64,
    pub mantissa_bits: u8,
    pub magic: f64,
    /// tanh(t) rounds to 1 from here on.
    pub tanh_limit: f64,
}

const INVERSE_FACTORIALS: [f64; 13] = [
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5040.0,
    1.0 / 40320.0,
    1.0 / 362880.0,
    1.0 / 3628800.0,
    1.0 / 39916800.0,
    1.0 / 479001600.0,
    1.0 / 6227020800.0,
    1.0 / 87178291200.0,
];

pub const F32: Constants = Constants {
    log2e: std::f64::consts::LOG2_E,
    // 0x3f317200: 16 significant bits; k needs at most 8.
    ln2_hi: 0.693_145_751_953_125,
    ln2_lo: 1.428_606_765_330_187e-6,
    low: -104.0,
    high: 89.0,
    // |r| ≤ 0.347: the r^8/8! term is below half an ulp of float32.
    taylor: INVERSE_FACTORIALS.split_at(6).0,
    bias: 127.0,
    mantissa_bits: 23,
    magic: 8_388_608.0,
    tanh_limit: 9.0,
};

pub const F64: Constants = Constants {
    log2e: std::f64::consts::LOG2_E,
    // fdlibm's split: 32 significant bits; k needs at most 11.
    ln2_hi: f64::from_bits(0x3fe6_2e42_fee0_0000),
    ln2_lo: f64::from_bits(0x3dea_39ef_3579_3c76),
    low: -746.0,
    high: 710.0,
    taylor: &INVERSE_FACTORIALS,
    bias: 1023.0,
    mantissa_bits: 52,
    magic: 4_503_599_627_370_496.0,
    tanh_limit: 20.0,
};

macro_rules! functions {
    ($float:ty, $c:expr, $exp:ident, $tanh:ident, $parts:ident, $scale:ident) => {
        /// (k, expm1(r)) for `x = k·ln 2 + r`.
        fn $parts(x: $float) -> ($float, $float) {
            let c = $c;
            let k = (x * c.log2e as $float).round_ties_even();
            let r = (x - k * c.ln2_hi as $float) - k * c.ln2_lo as $float;
            let mut h = *c.taylor.last().expect("terms") as $float;
            for &t in c.taylor.iter().rev().skip(1) {
                h = h * r + t as $float;
            }
            h = h * r + 1.0;
            (k, h * r)
        }

        /// `v · 2^k`, in two halves of k (each a normal power of two).
        fn $scale(v: $float, k: $float) -> $float {
            let c = $c;
            let power = |n: $float| {
                let t = n + (c.bias + c.magic) as $float;
                <$float>::from_bits(t.to_bits() << c.mantissa_bits)
            };
            let half = (k * 0.5).floor();
            v * power(half) * power(k - half)
        }

        /// e^x.
        pub fn $exp(x: $float) -> $float {
            if x.is_nan() {
                return x;
            }
            let c = $c;
            let x = x.max(c.low as $float).min(c.high as $float);
            let (k, p) = $parts(x);
            $scale(p + 1.0, k)
        }

        /// The hyperbolic tangent.
        pub fn $tanh(x: $float) -> $float {
            if x.is_nan() {
                return x;
            }
            let t = x.abs().min($c.tanh_limit as $float);
            let (k, p) = $parts(t * -2.0);
            let u = if k == 0.0 {
                p
            } else {
                $scale(p + 1.0, k) - 1.0
            };
            (-u / (u + 2.0)).copysign(x)
        }
    };
}

functions!(f32, F32, exp_f32, tanh_f32, parts_f32, scale_f32);
functions!(f64, F64, exp_f64, tanh_f64, parts_f64, scale_f64);

macro_rules! divmod {
    ($float:ty, $name:ident) => {
        /// NumPy's float `divmod`: (`floor_divide`, `remainder`). The remainder takes the
        /// divisor's sign; the quotient is `(a - mod) / b` rounded to the nearest integer
        /// below; a zero divisor gives `a / b` and `fmod(a, 0)` (NaN).
        pub fn $name(a: $float, b: $float) -> ($float, $float) {
            let mut modulus = a % b;
            if b == 0.0 {
                return (a / b, modulus);
            }
            let mut div = (a - modulus) / b;
            if modulus != 0.0 {
                if (b < 0.0) != (modulus < 0.0) {
                    modulus += b;
                    div -= 1.0;
                }
            } else {
                modulus = (0.0 as $float).copysign(b);
            }
            let floor_div = if div != 0.0 {
                let floor = div.floor();
                if div - floor > 0.5 {
                    floor + 1.0
                } else {
                    floor
                }
            } else {
                (0.0 as $float).copysign(a / b)
            };
            (floor_div, modulus)
        }
    };
}

divmod!(f32, divmod_f32);
divmod!(f64, divmod_f64);

/// NumPy's integer `divmod`: the quotient rounded toward −∞ and the remainder with the
/// divisor's sign; (0, 0) for a zero divisor. The caller wraps them to the type (MIN // −1
/// is MIN).
pub fn divmod_int(a: i128, b: i128) -> (i128, i128) {
    if b == 0 {
        return (0, 0);
    }
    let (mut q, mut r) = (a / b, a % b);
    if r != 0 && (r < 0) != (b < 0) {
        q -= 1;
        r += b;
    }
    (q, r)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// |got − exact| in ulps of the format at the exact value.
    fn ulps(got: f64, exact: f64, epsilon: f64, tiny: f64) -> f64 {
        if got == exact {
            return 0.0;
        }
        let ulp = (exact.abs() * epsilon).max(tiny);
        (got - exact).abs() / ulp
    }

    fn sweep(low: f64, high: f64, n: usize) -> impl Iterator<Item = f64> {
        (0..=n).map(move |i| low + (high - low) * i as f64 / n as f64)
    }

    #[test]
    fn float32_is_within_its_stated_ulps() {
        let (eps, tiny) = (
            f32::EPSILON as f64,
            f32::MIN_POSITIVE as f64 * f32::EPSILON as f64,
        );
        let mut worst = 0f64;
        for x in sweep(-110.0, 95.0, 400_000).chain(sweep(-1.0, 1.0, 200_000)) {
            let x = x as f32;
            let exact = (x as f64).exp();
            let expected = exact as f32;
            if expected.is_infinite() {
                assert_eq!(exp_f32(x), f32::INFINITY, "exp({x})");
                continue;
            }
            worst = worst.max(ulps(exp_f32(x) as f64, exact, eps, tiny));
            worst = worst.max(ulps(tanh_f32(x) as f64, (x as f64).tanh(), eps, tiny));
        }
        assert!(worst <= MAX_ULPS_F32, "worst {worst} ulps");
    }

    #[test]
    fn float64_is_within_its_stated_ulps() {
        let (eps, tiny) = (f64::EPSILON, 4.9e-324);
        let mut worst = 0f64;
        for x in sweep(-750.0, 712.0, 400_000).chain(sweep(-1.0, 1.0, 200_000)) {
            let exact = x.exp();
            if exact.is_infinite() {
                assert_eq!(exp_f64(x), f64::INFINITY, "exp({x})");
                continue;
            }
            worst = worst.max(ulps(exp_f64(x), exact, eps, tiny));
            worst = worst.max(ulps(tanh_f64(x), x.tanh(), eps, tiny));
        }
        assert!(worst <= MAX_ULPS_F64, "worst {worst} ulps");
    }

    #[test]
    fn special_values_are_numpys() {
        assert_eq!(exp_f64(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp_f64(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp_f64(0.0), 1.0);
        assert_eq!(exp_f32(-0.0), 1.0);
        assert!(exp_f64(f64::NAN).is_nan() && tanh_f32(f32::NAN).is_nan());
        assert_eq!(tanh_f64(f64::INFINITY), 1.0);
        assert_eq!(tanh_f32(f32::NEG_INFINITY), -1.0);
        assert!(tanh_f64(-0.0).is_sign_negative() && tanh_f64(-0.0) == 0.0);
        assert_eq!(tanh_f32(1e-30), 1e-30);
        // Subnormal results, rounded once.
        assert_eq!(exp_f64(-740.0), (-740f64).exp());
        assert!(exp_f32(-100.0) > 0.0);
    }
}
