//! Views: operations that index the same elements differently. Each maps a tensor's
//! strides and offset to new ones, so a chain of views over realized data costs nothing;
//! only a reshape that no strides can express (of a transposed tensor, say) needs a copy.

/// One view of a tensor.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ViewOp {
    /// The same elements in row-major order under another shape (also squeeze/unsqueeze).
    Reshape(Vec<usize>),
    /// Dimension `i` of the result is dimension `order[i]` of the input.
    Permute(Vec<usize>),
    /// Per dimension: the first index taken, the step (negative: backwards) and the count.
    Slice(Vec<SliceDim>),
    /// Leading dimensions added and size-1 dimensions repeated (stride 0).
    BroadcastTo(Vec<usize>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SliceDim {
    pub start: usize,
    pub step: i64,
    pub len: usize,
}

/// A tensor's place in a buffer: its shape, strides in elements and the element index of
/// index zero.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Strided {
    pub shape: Vec<usize>,
    pub strides: Vec<i64>,
    pub offset: i64,
}

/// Whether `strides` walk a tensor of `shape` in row-major order, densely (size-1
/// dimensions aside).
pub fn is_row_major(shape: &[usize], strides: &[i64]) -> bool {
    let dense = corepy_codegen::tensor_abi::row_major_strides(shape);
    shape
        .iter()
        .zip(strides.iter().zip(&dense))
        .all(|(&n, (s, d))| n <= 1 || s == d)
}

impl ViewOp {
    /// The shape of the view of a tensor of `input` shape (the op was checked when built).
    pub fn shape(&self, input: &[usize]) -> Vec<usize> {
        match self {
            ViewOp::Reshape(shape) | ViewOp::BroadcastTo(shape) => shape.clone(),
            ViewOp::Permute(order) => order.iter().map(|&a| input[a]).collect(),
            ViewOp::Slice(dims) => dims.iter().map(|d| d.len).collect(),
        }
    }

    /// The view applied to strides; `None` for a reshape that strides cannot express.
    pub fn apply(&self, s: &Strided) -> Option<Strided> {
        Some(match self {
            ViewOp::Permute(order) => Strided {
                shape: order.iter().map(|&a| s.shape[a]).collect(),
                strides: order.iter().map(|&a| s.strides[a]).collect(),
                offset: s.offset,
            },
            ViewOp::Slice(dims) => {
                let mut offset = s.offset;
                for (d, &stride) in dims.iter().zip(&s.strides) {
                    if d.len > 0 {
                        offset += d.start as i64 * stride;
                    }
                }
                Strided {
                    shape: dims.iter().map(|d| d.len).collect(),
                    strides: dims
                        .iter()
                        .zip(&s.strides)
                        .map(|(d, &st)| st * d.step)
                        .collect(),
                    offset,
                }
            }
            ViewOp::BroadcastTo(target) => {
                let lead = target.len() - s.shape.len();
                let strides = target
                    .iter()
                    .enumerate()
                    .map(|(i, &n)| match i.checked_sub(lead) {
                        Some(j) if s.shape[j] == n => s.strides[j],
                        _ => 0,
                    })
                    .collect();
                Strided {
                    shape: target.clone(),
                    strides,
                    offset: s.offset,
                }
            }
            ViewOp::Reshape(shape) => Strided {
                strides: reshape_strides(&s.shape, &s.strides, shape)?,
                shape: shape.clone(),
                offset: s.offset,
            },
        })
    }
}

/// Strides that show the elements of (`shape`, `strides`) in row-major order under `new`,
/// when some exist (NumPy's no-copy reshape): each group of old dimensions whose product
/// matches a group of new ones must be laid out as one block.
pub fn reshape_strides(shape: &[usize], strides: &[i64], new: &[usize]) -> Option<Vec<i64>> {
    if shape.contains(&0) || new.contains(&0) {
        return Some(corepy_codegen::tensor_abi::row_major_strides(new));
    }
    let old: Vec<(usize, i64)> = shape
        .iter()
        .zip(strides)
        .filter(|(&n, _)| n != 1)
        .map(|(&n, &s)| (n, s))
        .collect();
    let mut out = vec![0i64; new.len()];
    let (mut oi, mut ni) = (0, 0);
    while ni < new.len() {
        if new[ni] == 1 {
            ni += 1;
            continue;
        }
        // A group: old dims oi..oj and new dims ni..nj of equal products.
        let (mut oj, mut nj) = (oi + 1, ni + 1);
        let (mut op, mut np) = (old.get(oi)?.0, new[ni]);
        while op != np {
            if op < np {
                op *= old.get(oj)?.0;
                oj += 1;
            } else {
                np *= new[nj];
                nj += 1;
            }
        }
        for k in oi..oj - 1 {
            if old[k].1 != old[k + 1].1 * old[k + 1].0 as i64 {
                return None;
            }
        }
        let mut stride = old[oj - 1].1;
        for k in (ni..nj).rev() {
            out[k] = stride;
            stride *= new[k] as i64;
        }
        oi = oj;
        ni = nj;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reshape_of_a_transpose_needs_a_copy_but_splitting_a_dim_does_not() {
        // A 2x3 array transposed: shape [3, 2], strides [1, 3].
        assert_eq!(reshape_strides(&[3, 2], &[1, 3], &[6]), None);
        assert_eq!(
            reshape_strides(&[3, 2], &[1, 3], &[3, 1, 2]),
            Some(vec![1, 0, 3])
        );
        assert_eq!(reshape_strides(&[6], &[2], &[2, 3]), Some(vec![6, 2]));
        assert_eq!(reshape_strides(&[2, 3], &[3, 1], &[6]), Some(vec![1]));
        // A broadcast dimension cannot merge with another.
        assert_eq!(reshape_strides(&[2, 3], &[0, 1], &[6]), None);
    }
}
