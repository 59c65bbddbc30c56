//! Tensors made from parameters: `full`, `arange`, `linspace`, `eye` and random ones.

use corepy_codegen::interp::{write_tensor_value, V};
use corepy_planner::tensor::{Buffer, DType, PyScalar, Tensor, TensorData};
use corepy_planner::{CorepyError, Result};

/// A tensor of `shape` whose every element is `value` (a broadcast constant until realized).
pub fn full(shape: &[usize], value: PyScalar, dtype: DType) -> Result<Tensor> {
    Tensor::scalar(value, Some(dtype))?.broadcast_to(shape)
}

/// `n` elements of `dtype`, element `i` being `f(i)` converted as NumPy's `astype` does.
fn filled(shape: Vec<usize>, dtype: DType, f: impl Fn(usize) -> f64) -> Tensor {
    let n: usize = shape.iter().product();
    let (buffer, mut writer) = Buffer::zeroed(n * dtype.size());
    let bytes = writer.as_mut_slice();
    let ty = dtype.scalar();
    for i in 0..n {
        let x = f(i);
        let v = match dtype {
            DType::F64 => V::F64(x),
            DType::F32 => V::F32(x as f32),
            DType::Bool => V::B(x != 0.0),
            _ => V::I(corepy_codegen::interp::wrap_int(x as i128, ty)),
        };
        write_tensor_value(bytes, ty, i, v);
    }
    drop(writer);
    Tensor::from_data(TensorData::dense(buffer, dtype, shape))
}

/// Values from `start` up to (not including) `stop` by `step`, as NumPy's `arange`.
pub fn arange(start: f64, stop: f64, step: f64, dtype: DType) -> Result<Tensor> {
    if step == 0.0 || !step.is_finite() || !start.is_finite() || !stop.is_finite() {
        return Err(CorepyError::invalid_argument(
            "arange needs finite bounds and a non-zero step",
        ));
    }
    let n = ((stop - start) / step).ceil().max(0.0) as usize;
    Ok(filled(vec![n], dtype, |i| start + i as f64 * step))
}

/// `num` values evenly spaced from `start` to `stop` (included when `endpoint`).
pub fn linspace(start: f64, stop: f64, num: usize, endpoint: bool, dtype: DType) -> Result<Tensor> {
    let intervals = if endpoint { num.saturating_sub(1) } else { num };
    let step = if intervals == 0 {
        0.0
    } else {
        (stop - start) / intervals as f64
    };
    Ok(filled(vec![num], dtype, |i| {
        if endpoint && i + 1 == num && num > 1 {
            stop
        } else {
            start + i as f64 * step
        }
    }))
}

/// An `n`×`m` tensor with ones on diagonal `k` (above the main one when positive).
pub fn eye(n: usize, m: usize, k: i64, dtype: DType) -> Result<Tensor> {
    Ok(filled(vec![n, m], dtype, |i| {
        let (row, col) = ((i / m.max(1)) as i64, (i % m.max(1)) as i64);
        (col - row == k) as i32 as f64
    }))
}

/// Uniform values in [0, 1) or (`normal`) standard normal ones, from `seed` (the same seed
/// gives the same values; none: a fresh seed each call).
pub fn random(shape: &[usize], seed: Option<u64>, normal: bool, dtype: DType) -> Result<Tensor> {
    if !dtype.is_float() {
        return Err(CorepyError::schema(format!(
            "random tensors are float32 or float64, not {}",
            dtype.name()
        )));
    }
    let seed = seed.unwrap_or_else(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        now ^ (std::process::id() as u64).rotate_left(32)
    });
    let n: usize = shape.iter().product();
    let mut rng = Xoshiro::new(seed);
    let values: Vec<f64> = if normal {
        let mut v = Vec::with_capacity(n + 1);
        while v.len() < n {
            // Box–Muller: two uniforms give two independent normals.
            let (u1, u2) = (1.0 - rng.uniform(), rng.uniform());
            let r = (-2.0 * u1.ln()).sqrt();
            let angle = std::f64::consts::TAU * u2;
            v.push(r * angle.cos());
            v.push(r * angle.sin());
        }
        v
    } else {
        (0..n).map(|_| rng.uniform()).collect()
    };
    Ok(filled(shape.to_vec(), dtype, |i| values[i]))
}

/// xoshiro256** seeded through SplitMix64: fast, and good enough for test data and
/// initial weights (not for cryptography).
struct Xoshiro([u64; 4]);

impl Xoshiro {
    fn new(seed: u64) -> Xoshiro {
        let mut z = seed;
        let mut next = || {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut x = z;
            x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            x ^ (x >> 31)
        };
        Xoshiro([next(), next(), next(), next()])
    }

    fn next(&mut self) -> u64 {
        let s = &mut self.0;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform value in [0, 1) with 53 random bits.
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}
