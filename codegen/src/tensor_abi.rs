//! The buffers of a tensor kernel: a kernel over a domain of fixed dimensions, shared by
//! every renderer.
//!
//! Tensors have no NULLs, so there is no validity. Each input is a buffer of elements and
//! the element index of domain index `[0, 0, …]` in it; the input's [`Layout`] gives its
//! stride in elements along each domain dimension (`Contiguous`: row-major over the
//! domain), so views — transposes, slices with steps, broadcasts (stride 0) — are read in
//! place. Outputs are dense and row-major over the dimensions a reduction keeps (all of
//! them without a reduction). Booleans take one byte each, 0 or 1, as in NumPy.
//!
//! Tensor kernels never fail: every operation gives the value the interpreter computes where
//! a failure is not raised (integers wrap, `sqrt(-1)` is NaN, a float out of an integer's
//! range converts to 0), which is NumPy's behaviour up to its warnings.

use crate::abi::RunError;
use crate::ir::{Dim, Kernel, Layout, Literal, Op, ScalarType, UnaryOp};

/// One input array: `bytes` holds every element the kernel reads; `offset` is the element
/// index of domain index zero (strides may be negative).
#[derive(Debug, Clone, Copy)]
pub struct TensorIn<'a> {
    pub bytes: &'a [u8],
    pub offset: usize,
}

/// One output array, dense over [`output_shape`].
#[derive(Debug)]
pub struct TensorOut<'a> {
    pub bytes: &'a mut [u8],
}

/// Bytes per element of a tensor of `ty` (booleans: one byte).
pub fn element_bytes(ty: ScalarType) -> usize {
    ty.byte_width().max(1)
}

/// The extents of the domain of a tensor kernel.
pub fn extents(kernel: &Kernel) -> Vec<usize> {
    kernel
        .domain
        .dims
        .iter()
        .map(|d| match d {
            Dim::Fixed(n) => *n as usize,
            Dim::Rows => unreachable!("checked: tensor domains are fixed"),
        })
        .collect()
}

/// The domain dimensions the outputs reduce (none for an elementwise kernel).
pub fn reduced_axes(kernel: &Kernel) -> Vec<usize> {
    kernel
        .outputs
        .first()
        .and_then(|o| match &kernel.node(*o).op {
            Op::Reduce { axes, .. } => Some(axes.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// The shape of every output: the domain without its reduced dimensions.
pub fn output_shape(kernel: &Kernel) -> Vec<usize> {
    let reduced = reduced_axes(kernel);
    extents(kernel)
        .into_iter()
        .enumerate()
        .filter(|(axis, _)| !reduced.contains(axis))
        .map(|(_, n)| n)
        .collect()
}

/// Input `i`'s stride in elements along each domain dimension.
pub fn input_strides(kernel: &Kernel, i: usize) -> Vec<i64> {
    match &kernel.inputs[i].layout {
        Layout::Strided(strides) => strides.clone(),
        Layout::Contiguous => row_major_strides(&extents(kernel)),
    }
}

/// Strides in elements of a dense row-major array of `shape`.
pub fn row_major_strides(shape: &[usize]) -> Vec<i64> {
    let mut strides = vec![0i64; shape.len()];
    let mut step = 1i64;
    for (stride, &n) in strides.iter_mut().zip(shape).rev() {
        *stride = step;
        step *= n.max(1) as i64;
    }
    strides
}

/// The lowest and highest element index a view reaches from `offset` (non-empty shapes).
pub fn reach(offset: i128, shape: &[usize], strides: &[i64]) -> (i128, i128) {
    let (mut low, mut high) = (offset, offset);
    for (&stride, &n) in strides.iter().zip(shape) {
        let step = stride as i128 * (n as i128 - 1);
        if step < 0 {
            low += step;
        } else {
            high += step;
        }
    }
    (low, high)
}

/// The next index after `index` in row-major order over `dims` (back to zero at the end).
pub fn advance(index: &mut [usize], dims: &[usize]) {
    for axis in (0..dims.len()).rev() {
        index[axis] += 1;
        if index[axis] < dims[axis] {
            return;
        }
        index[axis] = 0;
    }
}

/// Checks that `kernel` is a tensor kernel and that the buffers hold every element it reads
/// and writes (so renderers cannot touch memory out of bounds).
pub fn check_tensor_buffers(
    kernel: &Kernel,
    inputs: &[TensorIn<'_>],
    outputs: &[TensorOut<'_>],
) -> Result<(), RunError> {
    let bad = |m: String| Err(RunError::BadBuffers(m));
    kernel.validate().map_err(RunError::BadBuffers)?;
    check_tensor_kernel(kernel).map_err(RunError::BadBuffers)?;
    let dims = extents(kernel);
    if inputs.len() != kernel.inputs.len() || outputs.len() != kernel.outputs.len() {
        return bad(format!(
            "{} inputs and {} outputs for {} and {} declared",
            inputs.len(),
            outputs.len(),
            kernel.inputs.len(),
            kernel.outputs.len()
        ));
    }
    let empty = dims.contains(&0);
    for (i, (input, decl)) in inputs.iter().zip(&kernel.inputs).enumerate() {
        let strides = input_strides(kernel, i);
        if strides.len() != dims.len() {
            return bad(format!(
                "input {i}: {} strides for {} dimensions",
                strides.len(),
                dims.len()
            ));
        }
        if empty {
            continue;
        }
        let (low, high) = reach(input.offset as i128, &dims, &strides);
        let len = (input.bytes.len() / element_bytes(decl.ty)) as i128;
        if low < 0 || high >= len {
            return bad(format!(
                "input {i}: elements {low}..={high} are read from a buffer of {len}"
            ));
        }
    }
    let elements: usize = output_shape(kernel).iter().product();
    for (j, (output, id)) in outputs.iter().zip(&kernel.outputs).enumerate() {
        if output.bytes.len() < elements * element_bytes(kernel.ty(*id)) {
            return bad(format!(
                "output {j}: the buffer must hold {elements} elements"
            ));
        }
    }
    Ok(())
}

/// A tensor kernel iterates a domain of fixed dimensions, selects nothing, and computes no
/// NULL (tensors have none).
pub fn check_tensor_kernel(kernel: &Kernel) -> Result<(), String> {
    if kernel.domain.dims.contains(&Dim::Rows) {
        return Err("a tensor kernel's dimensions are fixed".into());
    }
    if kernel.selection.is_some() {
        return Err("a tensor kernel does not select".into());
    }
    for (i, node) in kernel.nodes.iter().enumerate() {
        let nullable = match &node.op {
            Op::Const(Literal::Null) | Op::NullIf(..) | Op::Coalesce(_) => true,
            Op::Unary(UnaryOp::IsNull | UnaryOp::IsNotNull, _) => true,
            Op::Case { otherwise, .. } => otherwise.is_none(),
            _ => false,
        };
        if nullable || node.ty.byte_width() == 16 {
            return Err(format!(
                "%{i}: {:?} has no meaning in a tensor kernel",
                node.op
            ));
        }
    }
    Ok(())
}
