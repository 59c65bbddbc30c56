//! Float matrix products through the `gemm` crate (integer ones are kernels: see the
//! planner), over every index of the batch dimensions, reading strided views in place.

use corepy_codegen::tensor_abi::{advance, reach};
use corepy_planner::tensor::view::Strided;
use corepy_planner::tensor::DType;
use corepy_planner::{CorepyError, Result};

/// `out = a @ b` for views `a` [..., m, k] and `b` [..., k, n] with equal batch dimensions;
/// `out` is dense [..., m, n].
pub fn matmul(
    a: (&[u8], &Strided),
    b: (&[u8], &Strided),
    dtype: DType,
    out: &mut [u8],
) -> Result<()> {
    let (abytes, av) = a;
    let (bbytes, bv) = b;
    let rank = av.shape.len();
    let (m, k, n) = (av.shape[rank - 2], av.shape[rank - 1], bv.shape[rank - 1]);
    let batch = &av.shape[..rank - 2];
    let count: usize = batch.iter().product();
    if k == 0 {
        out.fill(0); // An empty sum is 0 (the output buffer may hold old bytes).
        return Ok(());
    }
    if m == 0 || n == 0 || count == 0 {
        return Ok(());
    }
    check_reach(abytes, av, dtype)?;
    check_reach(bbytes, bv, dtype)?;
    let parallelism = if m * n * k >= 64 * 64 * 64 {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
    let mut index = vec![0usize; batch.len()];
    for c in 0..count {
        let offset = |v: &Strided| {
            v.offset
                + index
                    .iter()
                    .zip(&v.strides)
                    .map(|(&i, &s)| i as i64 * s)
                    .sum::<i64>()
        };
        let (oa, ob) = (offset(av) as usize, offset(bv) as usize);
        let dst_at = c * m * n;
        let (a, b) = ((abytes, av, oa), (bbytes, bv, ob));
        match dtype {
            // SAFETY: `check_reach` showed that every element the views reach lies inside
            // the input buffers; `out` holds count·m·n elements of `dtype` (the caller
            // sized it).
            DType::F32 => unsafe { product::<f32>(a, b, (m, k, n), out, dst_at, parallelism) },
            DType::F64 => unsafe { product::<f64>(a, b, (m, k, n), out, dst_at, parallelism) },
            other => return Err(CorepyError::internal(format!("gemm of {}", other.name()))),
        }
        advance(&mut index, batch);
    }
    Ok(())
}

/// One `m`×`k` by `k`×`n` product into `out` at element `dst_at`, each operand a buffer,
/// its view and the element offset of this batch index.
///
/// # Safety
/// Every element the views reach from the offsets lies in the buffers, and `out` holds
/// `dst_at + m·n` elements of `T`.
unsafe fn product<T: 'static + Copy + num_traits_like::Float>(
    (abytes, av, oa): (&[u8], &Strided, usize),
    (bbytes, bv, ob): (&[u8], &Strided, usize),
    (m, k, n): (usize, usize, usize),
    out: &mut [u8],
    dst_at: usize,
    parallelism: gemm::Parallelism,
) {
    let rank = av.shape.len();
    let s = |v: &Strided, d: usize| v.strides[d] as isize;
    let (pa, pb) = (abytes.as_ptr() as *const T, bbytes.as_ptr() as *const T);
    let dst = (out.as_mut_ptr() as *mut T).add(dst_at);
    gemm::gemm(
        m,
        n,
        k,
        dst,
        1,
        n as isize,
        false,
        pa.add(oa),
        s(av, rank - 1),
        s(av, rank - 2),
        pb.add(ob),
        s(bv, rank - 1),
        s(bv, rank - 2),
        T::ZERO,
        T::ONE,
        false,
        false,
        false,
        parallelism,
    );
}

/// The constants `gemm` needs of a float type.
mod num_traits_like {
    /// A float type with its zero and one.
    pub trait Float {
        const ZERO: Self;
        const ONE: Self;
    }
    impl Float for f32 {
        const ZERO: f32 = 0.0;
        const ONE: f32 = 1.0;
    }
    impl Float for f64 {
        const ZERO: f64 = 0.0;
        const ONE: f64 = 1.0;
    }
}

/// Every element of a (non-empty) view lies inside `bytes`.
fn check_reach(bytes: &[u8], v: &Strided, dtype: DType) -> Result<()> {
    let (low, high) = reach(v.offset as i128, &v.shape, &v.strides);
    let len = (bytes.len() / dtype.size()) as i128;
    if low < 0 || high >= len {
        return Err(CorepyError::internal("matmul operand out of its buffer"));
    }
    Ok(())
}
