//! The interpreter over a tensor kernel: the executable specification of n-d domains,
//! strided inputs and reductions. It walks every index of the domain in row-major order,
//! evaluates the nodes one element at a time (with the values [`super::scalar`] gives where
//! a failure is not raised: tensor kernels never fail) and folds reductions in that order —
//! in the partial accumulators of [`crate::tensor_lanes`] when the kernel runs at several
//! lanes.

use super::scalar::{self, V};
use crate::abi::RunError;
use crate::ir::{BinaryOp, Kernel, Literal, Op, ReduceOp, ScalarType, ValueId};
use crate::tensor_abi::{
    advance, check_tensor_buffers, element_bytes, extents, input_strides, reduced_axes, TensorIn,
    TensorOut,
};
use crate::tensor_lanes::{partial_of, vector_lanes};

/// Runs a tensor kernel (see [`crate::tensor_abi`] for the buffers' contract).
pub fn run_tensor(
    kernel: &Kernel,
    inputs: &[TensorIn<'_>],
    outputs: &mut [TensorOut<'_>],
) -> Result<(), RunError> {
    check_tensor_buffers(kernel, inputs, outputs)?;
    let dims = extents(kernel);
    let reduced = reduced_axes(kernel);
    let strides: Vec<Vec<i64>> = (0..inputs.len())
        .map(|i| input_strides(kernel, i))
        .collect();
    let kept_count: usize = (0..dims.len())
        .filter(|a| !reduced.contains(a))
        .map(|a| dims[a])
        .product();
    // Accumulators per output element: one, or the partials and the rest.
    let lanes = match reduced.is_empty() {
        true => 1,
        false => vector_lanes(kernel).unwrap_or(1),
    };
    let slots = if lanes > 1 { lanes + 1 } else { 1 };
    let inner = dims.len().saturating_sub(1);
    let mut accumulators: Vec<Vec<Accumulator>> = kernel
        .outputs
        .iter()
        .map(|o| match kernel.node(*o).op {
            Op::Reduce { .. } => vec![Accumulator::default(); kept_count * slots],
            _ => Vec::new(),
        })
        .collect();
    let mut values: Vec<Option<V>> = vec![None; kernel.nodes.len()];
    let mut index = vec![0usize; dims.len()];
    let total: usize = dims.iter().product();
    for _ in 0..total {
        for (n, node) in kernel.nodes.iter().enumerate() {
            values[n] = match &node.op {
                Op::Load(i) => {
                    let at = inputs[*i].offset as i64
                        + index
                            .iter()
                            .zip(&strides[*i])
                            .map(|(&k, &s)| k as i64 * s)
                            .sum::<i64>();
                    Some(read(inputs[*i].bytes, node.ty, at as usize))
                }
                Op::Reduce { .. } => None,
                op => Some(eval(kernel, op, node.ty, &values)),
            };
        }
        let kept = flat(&index, &dims, |a| !reduced.contains(&a));
        for (j, id) in kernel.outputs.iter().enumerate() {
            match &kernel.node(*id).op {
                Op::Reduce { op, arg, .. } => {
                    let position = flat(&index, &dims, |a| reduced.contains(&a));
                    let v = values[arg.index()].expect("computed");
                    let slot = match lanes {
                        1 => 0,
                        _ => partial_of(index[inner], dims[inner], lanes),
                    };
                    accumulators[j][kept * slots + slot].add(*op, kernel.ty(*arg), v, position);
                }
                _ => write(
                    outputs[j].bytes,
                    kernel.ty(*id),
                    kept,
                    values[id.index()].expect("computed"),
                ),
            }
        }
        advance(&mut index, &dims);
    }
    for (j, id) in kernel.outputs.iter().enumerate() {
        if let Op::Reduce { op, arg, .. } = &kernel.node(*id).op {
            let (ty, arg_ty) = (kernel.ty(*id), kernel.ty(*arg));
            for (k, accs) in accumulators[j].chunks(slots).enumerate() {
                let acc = match accs {
                    [one] => *one,
                    [partials @ .., rest] => {
                        combined(*op, arg_ty, partials).merge(*op, arg_ty, rest)
                    }
                    [] => unreachable!("slots ≥ 1"),
                };
                write(outputs[j].bytes, ty, k, acc.finish(*op, arg_ty));
            }
        }
    }
    Ok(())
}

/// Partial accumulators combined pairwise: `(p0 ∘ p1) ∘ (p2 ∘ p3)`.
fn combined(op: ReduceOp, ty: ScalarType, partials: &[Accumulator]) -> Accumulator {
    let mut level = partials.to_vec();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| pair[0].merge(op, ty, &pair[1]))
            .collect();
    }
    level[0]
}

/// The row-major flat index of `index` over the dimensions `keep` selects.
fn flat(index: &[usize], dims: &[usize], keep: impl Fn(usize) -> bool) -> usize {
    (0..dims.len())
        .filter(|&a| keep(a))
        .fold(0, |acc, a| acc * dims[a] + index[a])
}

/// One node of a tensor kernel (every operand computed, none NULL).
fn eval(kernel: &Kernel, op: &Op, ty: ScalarType, values: &[Option<V>]) -> V {
    let get = |id: &ValueId| values[id.index()].expect("tensor values are never NULL");
    match op {
        Op::Const(literal) => constant(*literal),
        Op::Unary(op, a) => scalar::unary(*op, ty, get(a)).0,
        Op::Binary(BinaryOp::And, a, b) => V::B(get(a).bool() && get(b).bool()),
        Op::Binary(BinaryOp::Or, a, b) => V::B(get(a).bool() || get(b).bool()),
        Op::Binary(op, a, b) if op.is_comparison() => V::B(scalar::compare(*op, get(a), get(b))),
        Op::Binary(op, a, b) => {
            let operands = (kernel.ty(*a), kernel.ty(*b));
            scalar::arith(*op, operands, ty, get(a), get(b)).0
        }
        Op::Cast(a) => scalar::cast(kernel.ty(*a), ty, get(a)).0,
        Op::Case {
            branches,
            otherwise,
        } => match branches.iter().find(|(c, _)| get(c).bool()) {
            Some((_, v)) => get(v),
            None => get(otherwise
                .as_ref()
                .expect("checked: tensor CASEs have an ELSE")),
        },
        Op::Least(args) => extremum(args.iter().map(get), BinaryOp::TotalLtEq),
        Op::Greatest(args) => extremum(args.iter().map(get), BinaryOp::TotalGtEq),
        other => unreachable!("checked: {other:?} is not in tensor kernels"),
    }
}

fn extremum(values: impl Iterator<Item = V>, keep: BinaryOp) -> V {
    values
        .reduce(|best, v| {
            if scalar::compare(keep, best, v) {
                best
            } else {
                v
            }
        })
        .expect("validated: at least one argument")
}

fn constant(literal: Literal) -> V {
    match literal {
        Literal::Bool(b) => V::B(b),
        Literal::Int(i) => V::I(i),
        Literal::F32(bits) => V::F32(f32::from_bits(bits)),
        Literal::F64(bits) => V::F64(f64::from_bits(bits)),
        Literal::Null => unreachable!("checked: tensors have no NULL"),
    }
}

/// Element `at` of a tensor buffer (booleans: one byte each).
pub fn read(bytes: &[u8], ty: ScalarType, at: usize) -> V {
    if ty == ScalarType::Bool {
        return V::B(bytes[at] != 0);
    }
    scalar::read(bytes, ty, at)
}

/// Writes element `at` of a dense tensor buffer.
pub fn write(bytes: &mut [u8], ty: ScalarType, at: usize, v: V) {
    if ty == ScalarType::Bool {
        bytes[at] = v.bool() as u8;
        return;
    }
    let width = element_bytes(ty);
    let bits: u128 = match v {
        V::F64(x) => x.to_bits() as u128,
        V::F32(x) => x.to_bits() as u128,
        V::I(i) => i as u128,
        V::B(b) => b as u128,
    };
    bytes[at * width..(at + 1) * width].copy_from_slice(&bits.to_le_bytes()[..width]);
}

/// A reduction's state for one output element: the value so far and, for ArgMin/ArgMax,
/// where it was found.
#[derive(Debug, Clone, Copy, Default)]
struct Accumulator {
    best: Option<V>,
    at: usize,
}

impl Accumulator {
    fn add(&mut self, op: ReduceOp, ty: ScalarType, v: V, position: usize) {
        let Some(best) = self.best else {
            self.best = Some(v);
            self.at = position;
            return;
        };
        let next = match op {
            ReduceOp::Sum => scalar::arith(BinaryOp::Add, (ty, ty), ty, best, v).0,
            ReduceOp::Prod => scalar::arith(BinaryOp::Mul, (ty, ty), ty, best, v).0,
            ReduceOp::Max => scalar::arith(BinaryOp::Max, (ty, ty), ty, best, v).0,
            ReduceOp::Min => scalar::arith(BinaryOp::Min, (ty, ty), ty, best, v).0,
            ReduceOp::Any => V::B(best.bool() || v.bool()),
            ReduceOp::All => V::B(best.bool() && v.bool()),
            ReduceOp::ArgMax | ReduceOp::ArgMin => {
                let beats = if op == ReduceOp::ArgMax {
                    BinaryOp::IeeeGt
                } else {
                    BinaryOp::IeeeLt
                };
                // The first NaN wins for good; otherwise a strictly better value.
                let best_nan = is_nan(best);
                if !best_nan && (is_nan(v) || scalar::compare(beats, v, best)) {
                    self.at = position;
                    v
                } else {
                    best
                }
            }
        };
        self.best = Some(next);
    }

    /// The fold of `self`'s elements, then `other`'s (a sum, product, max or min).
    fn merge(&self, op: ReduceOp, ty: ScalarType, other: &Accumulator) -> Accumulator {
        match (self.best, other.best) {
            (_, None) => *self,
            (None, _) => *other,
            (Some(_), Some(b)) => {
                let mut merged = *self;
                merged.add(op, ty, b, 0);
                merged
            }
        }
    }

    /// The result; over no elements, the reduction's identity.
    fn finish(&self, op: ReduceOp, ty: ScalarType) -> V {
        match (op, self.best) {
            (ReduceOp::ArgMin | ReduceOp::ArgMax, _) => V::I(self.at as i128),
            (_, Some(v)) => v,
            (ReduceOp::Sum, None) => zero(ty, 0),
            (ReduceOp::Prod, None) => zero(ty, 1),
            (ReduceOp::Any, None) => V::B(false),
            (ReduceOp::All, None) => V::B(true),
            (ReduceOp::Min | ReduceOp::Max, None) => {
                unreachable!("checked by the graph: min and max of no elements are refused")
            }
        }
    }
}

fn is_nan(v: V) -> bool {
    match v {
        V::F32(x) => x.is_nan(),
        V::F64(x) => x.is_nan(),
        _ => false,
    }
}

/// `n` as a value of `ty`.
fn zero(ty: ScalarType, n: i32) -> V {
    match ty {
        ScalarType::F32 => V::F32(n as f32),
        ScalarType::F64 => V::F64(n as f64),
        ScalarType::Bool => V::B(n != 0),
        _ => V::I(n as i128),
    }
}
