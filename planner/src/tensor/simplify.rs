//! Domain simplification: a kernel's domain with its size-1 dimensions dropped and each pair
//! of neighbours that every input walks as one block merged, so the loops are as few and
//! as long as the layout allows (a contiguous 4-d chain runs as one flat loop) and kernels
//! that differ only in such dimensions are the same kernel.

use corepy_codegen::ir::{Dim, Kernel, Layout, Op};

use super::program::Operand;

/// The simplified kernel, and each input's element offset.
pub fn simplify(mut kernel: Kernel, inputs: &[Operand]) -> (Kernel, Vec<usize>) {
    let offsets = inputs
        .iter()
        .map(|o| o.view.offset.max(0) as usize)
        .collect();
    let mut dims: Vec<usize> = corepy_codegen::tensor_abi::extents(&kernel);
    let reduced = corepy_codegen::tensor_abi::reduced_axes(&kernel);
    let mut is_reduced: Vec<bool> = (0..dims.len()).map(|a| reduced.contains(&a)).collect();
    let mut strides: Vec<Vec<i64>> = inputs.iter().map(|o| o.view.strides.clone()).collect();
    if dims.contains(&0) {
        return (kernel, offsets);
    }
    // Size-1 dimensions carry no index.
    let keep: Vec<usize> = (0..dims.len()).filter(|&a| dims[a] != 1).collect();
    dims = keep.iter().map(|&a| dims[a]).collect();
    is_reduced = keep.iter().map(|&a| is_reduced[a]).collect();
    for s in &mut strides {
        *s = keep.iter().map(|&a| s[a]).collect();
    }
    // Merge neighbours, from the innermost outwards.
    let mut a = dims.len();
    while a >= 2 {
        a -= 1;
        let outer = a - 1;
        let joins = is_reduced[outer] == is_reduced[a]
            && strides.iter().all(|s| s[outer] == s[a] * dims[a] as i64);
        if joins {
            dims[outer] *= dims[a];
            dims.remove(a);
            is_reduced.remove(a);
            for s in &mut strides {
                s[outer] = s[a];
                s.remove(a);
            }
        }
    }
    kernel.domain.dims = dims.iter().map(|&n| Dim::Fixed(n as u64)).collect();
    for (input, s) in kernel.inputs.iter_mut().zip(strides) {
        input.layout = Layout::Strided(s);
    }
    let axes: Vec<usize> = (0..dims.len()).filter(|&a| is_reduced[a]).collect();
    for node in &mut kernel.nodes {
        if let Op::Reduce { axes: old, .. } = &mut node.op {
            *old = axes.clone();
        }
    }
    (kernel, offsets)
}
