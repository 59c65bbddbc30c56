//! Float matrix products through the `gemm` crate (integer ones are kernels: see the
//! planner), over every index of the batch dimensions, reading strided views in place.

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
    if m == 0 || n == 0 || k == 0 || count == 0 {
        return Ok(()); // The output is zeroed: an empty sum is 0.
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
        let s = |v: &Strided, d: usize| v.strides[d] as isize;
        let dst_at = c * m * n;
        // SAFETY: `check_reach` showed that every element the views reach lies inside the
        // input buffers; `out` holds count·m·n elements of `dtype` (the caller sized it).
        unsafe {
            match dtype {
                DType::F32 => {
                    let (pa, pb) = (abytes.as_ptr() as *const f32, bbytes.as_ptr() as *const f32);
                    let dst = (out.as_mut_ptr() as *mut f32).add(dst_at);
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
                        0.0f32,
                        1.0f32,
                        false,
                        false,
                        false,
                        parallelism,
                    );
                }
                DType::F64 => {
                    let (pa, pb) = (abytes.as_ptr() as *const f64, bbytes.as_ptr() as *const f64);
                    let dst = (out.as_mut_ptr() as *mut f64).add(dst_at);
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
                        0.0f64,
                        1.0f64,
                        false,
                        false,
                        false,
                        parallelism,
                    );
                }
                other => {
                    return Err(CorepyError::internal(format!("gemm of {}", other.name())));
                }
            }
        }
        advance(&mut index, batch);
    }
    Ok(())
}

fn advance(index: &mut [usize], dims: &[usize]) {
    for axis in (0..dims.len()).rev() {
        index[axis] += 1;
        if index[axis] < dims[axis] {
            return;
        }
        index[axis] = 0;
    }
}

/// Every element of a (non-empty) view lies inside `bytes`.
fn check_reach(bytes: &[u8], v: &Strided, dtype: DType) -> Result<()> {
    let (mut low, mut high) = (v.offset as i128, v.offset as i128);
    for (&n, &s) in v.shape.iter().zip(&v.strides) {
        let reach = s as i128 * (n as i128 - 1);
        if reach < 0 {
            low += reach;
        } else {
            high += reach;
        }
    }
    let len = (bytes.len() / dtype.size()) as i128;
    if low < 0 || high >= len {
        return Err(CorepyError::internal("matmul operand out of its buffer"));
    }
    Ok(())
}
