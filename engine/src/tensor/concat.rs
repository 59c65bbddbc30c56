//! Concatenation: each part's elements copied into its block of the dense output.

use corepy_codegen::interp::{read_tensor_value, write_tensor_value};
use corepy_planner::tensor::view::Strided;
use corepy_planner::tensor::DType;

/// Writes `parts` (each a buffer and its view) joined along `axis` into `out`, dense over
/// `shape`.
pub fn concat(
    parts: &[(&[u8], &Strided)],
    axis: usize,
    dtype: DType,
    shape: &[usize],
    out: &mut [u8],
) {
    let width = dtype.size();
    let outer: usize = shape[..axis].iter().product();
    let inner: usize = shape[axis + 1..].iter().product();
    let row = shape[axis] * inner;
    let mut start = 0;
    for (bytes, view) in parts {
        let block = view.shape[axis] * inner;
        let dense = corepy_codegen::tensor_abi::row_major_strides(&view.shape) == view.strides;
        for o in 0..outer {
            let to = o * row + start;
            if dense {
                let from = view.offset as usize + o * block;
                out[to * width..(to + block) * width]
                    .copy_from_slice(&bytes[from * width..(from + block) * width]);
            } else {
                for e in 0..block {
                    let at = element(view, o * block + e);
                    let v = read_tensor_value(bytes, dtype.scalar(), at);
                    write_tensor_value(out, dtype.scalar(), to + e, v);
                }
            }
        }
        start += block;
    }
}

/// The buffer element of the `flat`-th element (row-major) of a view.
fn element(view: &Strided, mut flat: usize) -> usize {
    let mut at = view.offset;
    for (&n, &s) in view.shape.iter().zip(&view.strides).rev() {
        at += (flat % n) as i64 * s;
        flat /= n;
    }
    at as usize
}
