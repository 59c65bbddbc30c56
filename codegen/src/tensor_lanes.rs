//! The lanes a tensor kernel runs at, which fixes the order of its reductions: part of the
//! kernel's meaning, so every renderer reads it from here.
//!
//! A kernel runs at `lanes` > 1 when its innermost dimension is contiguous (or broadcast)
//! in every input, every value has one width (4 or 8 bytes; booleans are masks) and every
//! operation has a vector form. Then a reduction is folded in `lanes` partial accumulators
//! plus one for the rest: along the innermost dimension of n elements, element i goes to
//! partial `i % lanes` while `i < n - n % lanes`, and to the rest after. The result is the
//! partials combined pairwise — `(p0 ∘ p1) ∘ (p2 ∘ p3)` — and then the rest. An integer
//! sum, a max or a min comes out the same in any order; a float sum or product does not,
//! which is why the order is specified (it is also more accurate than one running sum).

use crate::ir::{BinaryOp, Kernel, Op, ReduceOp, ScalarType, UnaryOp, ValueId};
use crate::tensor_abi::{element_bytes, extents, input_strides, reduced_axes};

/// A vector register's bytes (SSE/NEON; Cranelift has no wider vectors on x86-64).
pub const VECTOR_BYTES: usize = 16;

/// The lanes the kernel runs at, or `None` (one element at a time, reductions in order).
pub fn vector_lanes(kernel: &Kernel) -> Option<usize> {
    let dims = extents(kernel);
    let inner = dims.len().checked_sub(1)?;
    let dense = (0..kernel.inputs.len()).all(|i| matches!(input_strides(kernel, i)[inner], 0 | 1));
    let reduced = reduced_axes(kernel);
    // A reduction over no element keeps its identity (+0 for a sum): one accumulator.
    let empty_reduction = reduced.iter().any(|&a| dims[a] == 0);
    let bool_io = kernel.inputs.iter().any(|i| i.ty == ScalarType::Bool)
        || kernel
            .outputs
            .iter()
            .any(|o| kernel.ty(*o) == ScalarType::Bool);
    if !dense || empty_reduction || bool_io {
        return None;
    }
    let width = uniform_width(kernel)?;
    let wide_int = |id: &ValueId| !kernel.ty(*id).is_float() && width == 8;
    let vectorizes = |op: &Op, ty: ScalarType| match op {
        Op::Load(_) | Op::Const(_) | Op::Case { .. } => true,
        // Only casts that change no bits: integers of one width.
        Op::Cast(a) => {
            let from = kernel.ty(*a);
            element_bytes(from) == element_bytes(ty) && !from.is_float() && !ty.is_float()
        }
        Op::Unary(UnaryOp::Abs, a) => !(wide_int(a) && kernel.ty(*a).is_signed_int()),
        Op::Unary(..) => true,
        Op::Binary(BinaryOp::Mul | BinaryOp::Max | BinaryOp::Min, a, _) => !wide_int(a),
        // No vector integer division.
        Op::Binary(BinaryOp::FloorDiv | BinaryOp::FloorMod, a, _) => kernel.ty(*a).is_float(),
        Op::Binary(..) => true,
        Op::Reduce { op, arg, .. } => match op {
            ReduceOp::Sum => true,
            ReduceOp::Prod | ReduceOp::Max | ReduceOp::Min => !wide_int(arg),
            _ => false,
        },
        _ => false,
    };
    kernel
        .nodes
        .iter()
        .all(|n| vectorizes(&n.op, n.ty))
        .then_some(VECTOR_BYTES / width)
}

/// The one byte width of every non-boolean value (4 or 8), if there is one.
fn uniform_width(kernel: &Kernel) -> Option<usize> {
    let mut widths = kernel
        .nodes
        .iter()
        .filter(|n| n.ty != ScalarType::Bool)
        .map(|n| element_bytes(n.ty));
    let width = widths.next()?;
    (matches!(width, 4 | 8) && widths.all(|w| w == width)).then_some(width)
}

/// The accumulator (0 … lanes − 1 a partial, `lanes` the rest) of element `i` of an
/// innermost dimension of `n` elements.
pub fn partial_of(i: usize, n: usize, lanes: usize) -> usize {
    if i < n - n % lanes {
        i % lanes
    } else {
        lanes
    }
}
