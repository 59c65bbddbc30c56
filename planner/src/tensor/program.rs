//! Lowering a tensor graph to a [`Program`]: the steps that realize it, in order.
//!
//! The rules, each in its own function:
//! * **fusion** — a maximal elementwise region (unary, binary, where, casts, scalars) and at
//!   most one trailing reduction become one kernel ([`Lowering::region`]);
//! * **view folding** — views are pushed through the region to its leaves and folded into
//!   their strides and offsets, so transposes, slices and broadcasts copy nothing
//!   ([`Lowering::leaf`]); only a reshape that strides cannot express copies its input;
//! * **boundaries** — data, reductions, matrix products, concatenations and values used
//!   more than once are realized once, into their own buffer, and read by the kernels
//!   that need them;
//! * **domain simplification** — size-1 dimensions are dropped and neighbours that every
//!   input walks as one are merged ([`super::simplify`]), so a contiguous chain over a
//!   4-d tensor runs as one flat loop and equal kernels are compiled once.

use std::collections::HashMap;

use corepy_codegen::ir::{
    BinaryOp, Dim, Domain, Input, Kernel, Layout, Op, ReduceOp, ScalarType, UnaryOp, ValueId,
};

use super::data::TensorData;
use super::dtype::DType;
use super::graph::{BinaryFn, Kind, ReduceFn, Tensor, UnaryFn};
use super::resize::Resize;
use super::simplify::simplify;
use super::view::{is_row_major, Strided, ViewOp};
use crate::error::Result;

/// Where a step reads a buffer from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    /// Realized data of the graph (`Program::sources`).
    Source(usize),
    /// The dense row-major output of an earlier step.
    Step(usize),
}

/// A tensor read from a slot: its shape, strides and offset in the slot's buffer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Operand {
    pub slot: Slot,
    pub view: Strided,
}

#[derive(Debug, Clone)]
pub enum Step {
    /// A fused kernel; input `i` is read from `inputs[i]` at that element offset, with the
    /// strides of the kernel's layout.
    Kernel {
        kernel: Kernel,
        inputs: Vec<(Slot, usize)>,
        /// What the kernel computes, for EXPLAIN.
        label: String,
    },
    /// `a @ b` over matching batch dimensions (already broadcast), through a GEMM library.
    MatMul { a: Operand, b: Operand },
    /// Parts joined along `axis`.
    Concat { axis: usize, parts: Vec<Operand> },
    /// Images resampled: `input` is [images, height, width, channels] with row-major
    /// strides (the channels of a pixel interleaved, at most four); the output is
    /// [images, size.0, size.1, channels]. `spec` names the axes of the graph's tensor.
    Resize { input: Operand, spec: Resize },
}

/// Each step writes a dense row-major buffer of this shape and dtype.
#[derive(Debug, Clone)]
pub struct Planned {
    pub step: Step,
    pub shape: Vec<usize>,
    pub dtype: DType,
}

#[derive(Debug, Clone)]
pub struct Program {
    pub sources: Vec<TensorData>,
    pub steps: Vec<Planned>,
    /// The result: a view of a source or of a step's output.
    pub result: Operand,
    pub dtype: DType,
}

/// Plans the realization of `root`.
pub fn plan(root: &Tensor) -> Result<Program> {
    let mut lowering = Lowering {
        sources: Vec::new(),
        steps: Vec::new(),
        realized: HashMap::new(),
        uses: use_counts(root),
    };
    let result = lowering.realize(root)?;
    Ok(Program {
        sources: lowering.sources,
        steps: lowering.steps,
        result,
        dtype: root.dtype(),
    })
}

/// How many times each node is an operand in the graph under `root`.
fn use_counts(root: &Tensor) -> HashMap<usize, usize> {
    let mut uses = HashMap::new();
    let mut stack = vec![root.clone()];
    let mut seen = std::collections::HashSet::new();
    while let Some(t) = stack.pop() {
        if !seen.insert(t.id()) {
            continue;
        }
        for input in t.inputs() {
            *uses.entry(input.id()).or_insert(0) += 1;
            stack.push(input.clone());
        }
    }
    uses
}

struct Lowering {
    sources: Vec<TensorData>,
    steps: Vec<Planned>,
    /// Nodes already realized, by identity.
    realized: HashMap<usize, Operand>,
    uses: HashMap<usize, usize>,
}

/// A kernel under construction: its nodes, and where each input is read from.
struct Builder {
    kernel: Kernel,
    inputs: Vec<Operand>,
    memo: HashMap<(Op, ScalarType), ValueId>,
}

impl Builder {
    fn new(shape: &[usize]) -> Builder {
        Builder {
            kernel: Kernel {
                domain: Domain {
                    dims: shape.iter().map(|&n| Dim::Fixed(n as u64)).collect(),
                },
                inputs: Vec::new(),
                nodes: Vec::new(),
                outputs: Vec::new(),
                selection: None,
                aggregates: Vec::new(),
                group_keys: Vec::new(),
            },
            inputs: Vec::new(),
            memo: HashMap::new(),
        }
    }

    /// A node, shared with an equal earlier one.
    fn push(&mut self, op: Op, ty: ScalarType) -> ValueId {
        if let Some(&id) = self.memo.get(&(op.clone(), ty)) {
            return id;
        }
        let id = self.kernel.push(op.clone(), ty);
        self.memo.insert((op, ty), id);
        id
    }

    fn load(&mut self, operand: Operand, ty: ScalarType) -> ValueId {
        let index = match self.inputs.iter().position(|o| *o == operand) {
            Some(i) => i,
            None => {
                self.kernel.inputs.push(Input {
                    ty,
                    layout: Layout::Strided(operand.view.strides.clone()),
                });
                self.inputs.push(operand);
                self.inputs.len() - 1
            }
        };
        self.push(Op::Load(index), ty)
    }
}

/// Whether a node is computed inside kernels (rather than realized into a buffer).
fn is_elementwise(t: &Tensor) -> bool {
    matches!(
        t.kind(),
        Kind::Unary(..) | Kind::Binary(..) | Kind::Where(..) | Kind::Cast(_) | Kind::Scalar(_)
    )
}

impl Lowering {
    /// The operand that holds `t`'s values, adding the steps that compute them.
    fn realize(&mut self, t: &Tensor) -> Result<Operand> {
        if let Some(done) = self.realized.get(&t.id()) {
            return Ok(done.clone());
        }
        let operand = match t.kind() {
            Kind::Source(data) => {
                self.sources.push(data.clone());
                Operand {
                    slot: Slot::Source(self.sources.len() - 1),
                    view: Strided {
                        shape: data.shape.clone(),
                        strides: data.strides.clone(),
                        offset: data.offset as i64,
                    },
                }
            }
            Kind::View(op, child) if !reaches_elementwise(child) => {
                let inner = self.realize(child)?;
                self.apply(inner, op)?
            }
            Kind::Reduce {
                op, input, axes, ..
            } => self.reduction(t, *op, input, axes)?,
            Kind::MatMul(a, b) => self.matmul(t, a, b)?,
            Kind::Resize(spec, input) => self.resize(t, spec, input)?,
            Kind::Concat { axis, parts } => {
                let parts = parts
                    .iter()
                    .map(|p| self.realize(p))
                    .collect::<Result<Vec<_>>>()?;
                self.add(Step::Concat { axis: *axis, parts }, t.shape(), t.dtype())
            }
            _ => self.region(t)?,
        };
        self.realized.insert(t.id(), operand.clone());
        Ok(operand)
    }

    /// Adds a step; the operand reading its whole output.
    fn add(&mut self, step: Step, shape: &[usize], dtype: DType) -> Operand {
        self.steps.push(Planned {
            step,
            shape: shape.to_vec(),
            dtype,
        });
        dense(Slot::Step(self.steps.len() - 1), shape)
    }

    /// `op` applied to an operand's strides, copying it first when they cannot express it.
    fn apply(&mut self, operand: Operand, op: &ViewOp) -> Result<Operand> {
        if let Some(view) = op.apply(&operand.view) {
            return Ok(Operand {
                slot: operand.slot,
                view,
            });
        }
        let copied = self.copy(&operand)?;
        let view = op
            .apply(&copied.view)
            .expect("a dense tensor reshapes as a view");
        Ok(Operand {
            slot: copied.slot,
            view,
        })
    }

    /// A dense copy of an operand.
    fn copy(&mut self, operand: &Operand) -> Result<Operand> {
        let dtype = self.dtype_of(operand.slot);
        let mut b = Builder::new(&operand.view.shape);
        let v = b.load(operand.clone(), dtype.scalar());
        b.kernel.outputs.push(v);
        Ok(self.finish(b, "copy".into(), &operand.view.shape, dtype))
    }

    fn dtype_of(&self, slot: Slot) -> DType {
        match slot {
            Slot::Source(i) => self.sources[i].dtype,
            Slot::Step(i) => self.steps[i].dtype,
        }
    }

    /// An elementwise region rooted at `t`, as one kernel over `t`'s shape.
    fn region(&mut self, t: &Tensor) -> Result<Operand> {
        let mut b = Builder::new(t.shape());
        let v = self.value(&mut b, t, &[], true)?;
        b.kernel.outputs.push(v);
        let label = describe(t);
        Ok(self.finish(b, label, t.shape(), t.dtype()))
    }

    /// A reduction: its input's region over a domain whose reduced axes come last.
    fn reduction(
        &mut self,
        t: &Tensor,
        op: ReduceFn,
        input: &Tensor,
        axes: &[usize],
    ) -> Result<Operand> {
        let rank = input.ndim();
        let kept: Vec<usize> = (0..rank).filter(|a| !axes.contains(a)).collect();
        let order: Vec<usize> = kept.iter().chain(axes).copied().collect();
        let domain: Vec<usize> = order.iter().map(|&a| input.shape()[a]).collect();
        let mut b = Builder::new(&domain);
        let views = if order.iter().enumerate().all(|(i, &a)| i == a) {
            Vec::new()
        } else {
            vec![ViewOp::Permute(order)]
        };
        let arg = self.value(&mut b, input, &views, true)?;
        let reduce = Op::Reduce {
            op: reduce_op(op),
            arg,
            axes: (kept.len()..rank).collect(),
        };
        let id = b.kernel.push(reduce, t.dtype().scalar());
        b.kernel.outputs.push(id);
        let label = format!(
            "{} over axes {axes:?} of {}",
            format!("{op:?}").to_lowercase(),
            describe(input)
        );
        Ok(self.finish(b, label, t.shape(), t.dtype()))
    }

    /// A resize: the input seen as [images, height, width, channels] (copied when its
    /// strides cannot show it so), resampled, and the result seen back in the input's axis
    /// order. Channels interleave when they are the last axis, right after the width, and
    /// number at most four; otherwise every channel is an image of its own.
    fn resize(&mut self, t: &Tensor, spec: &Resize, input: &Tensor) -> Result<Operand> {
        let shape = input.shape();
        let rank = shape.len();
        let (h, w) = (spec.height_axis, spec.width_axis);
        let pixel: Vec<usize> = if w + 2 == rank && shape[rank - 1] <= 4 {
            vec![rank - 1]
        } else {
            Vec::new()
        };
        let batch: Vec<usize> = (0..rank)
            .filter(|a| *a != h && *a != w && !pixel.contains(a))
            .collect();
        let order: Vec<usize> = batch.iter().chain(&[h, w]).chain(&pixel).copied().collect();
        let dims = |axes: &[usize]| axes.iter().map(|&a| shape[a]).product::<usize>();
        let (images, channels) = (dims(&batch), dims(&pixel));
        let operand = self.realize(input)?;
        let permuted = self.apply(operand, &ViewOp::Permute(order.clone()))?;
        let grouped = self.apply(
            permuted,
            &ViewOp::Reshape(vec![images, shape[h], shape[w], channels]),
        )?;
        let dense_input = if is_row_major(&grouped.view.shape, &grouped.view.strides) {
            grouped
        } else {
            self.copy(&grouped)?
        };
        let out_shape = [images, spec.size.0, spec.size.1, channels];
        let step = Step::Resize {
            input: dense_input,
            spec: spec.clone(),
        };
        let out = self.add(step, &out_shape, t.dtype());
        let permuted_shape: Vec<usize> = order.iter().map(|&a| t.shape()[a]).collect();
        let back = self.apply(out, &ViewOp::Reshape(permuted_shape))?;
        let mut inverse = vec![0; rank];
        for (i, &a) in order.iter().enumerate() {
            inverse[a] = i;
        }
        self.apply(back, &ViewOp::Permute(inverse))
    }

    /// Integer and boolean products as a multiply-and-sum kernel over [batch…, m, n, k];
    /// float products through GEMM.
    fn matmul(&mut self, t: &Tensor, a: &Tensor, b: &Tensor) -> Result<Operand> {
        if t.dtype().is_float() {
            let (a, b) = (self.realize(a)?, self.realize(b)?);
            return Ok(self.add(Step::MatMul { a, b }, t.shape(), t.dtype()));
        }
        let rank = t.ndim();
        let k = a.shape()[rank - 1];
        let mut domain = t.shape().to_vec();
        domain.push(k);
        // a[..., m, k] seen over [..., m, n, k]: n repeated; b[..., k, n]: m repeated.
        let mut builder = Builder::new(&domain);
        // a[..., m, k] → [..., m, 1, k] → broadcast over n.
        let mut a_shape = a.shape().to_vec();
        a_shape.insert(rank - 1, 1);
        let a_views = vec![
            ViewOp::Reshape(a_shape),
            ViewOp::BroadcastTo(domain.clone()),
        ];
        // b[..., k, n] → [..., 1, k, n] → broadcast over m → [..., m, n, k].
        let mut b_shape = b.shape().to_vec();
        b_shape.insert(rank - 2, 1);
        let mut order: Vec<usize> = (0..rank - 1).collect();
        order.extend([rank, rank - 1]);
        let b_views = vec![
            ViewOp::Reshape(b_shape),
            ViewOp::BroadcastTo(unpermuted(&order, &domain)),
            ViewOp::Permute(order),
        ];
        let x = self.value(&mut builder, a, &a_views, false)?;
        let y = self.value(&mut builder, b, &b_views, false)?;
        let ty = t.dtype().scalar();
        let product = builder.push(Op::Binary(BinaryOp::Mul, x, y), ty);
        let sum = builder.kernel.push(
            Op::Reduce {
                op: ReduceOp::Sum,
                arg: product,
                axes: vec![rank],
            },
            ty,
        );
        builder.kernel.outputs.push(sum);
        Ok(self.finish(
            builder,
            "integer matmul (multiply, sum over k)".into(),
            t.shape(),
            t.dtype(),
        ))
    }

    /// The kernel, simplified, as a step.
    fn finish(&mut self, b: Builder, label: String, shape: &[usize], dtype: DType) -> Operand {
        let (kernel, offsets) = simplify(b.kernel, &b.inputs);
        let inputs = b
            .inputs
            .iter()
            .zip(offsets)
            .map(|(o, off)| (o.slot, off))
            .collect();
        self.add(
            Step::Kernel {
                kernel,
                inputs,
                label,
            },
            shape,
            dtype,
        )
    }

    /// The kernel value of `t` seen through `views` (applied in order); `root`: `t` is the
    /// node the kernel computes, so it is not a boundary even when shared.
    fn value(
        &mut self,
        b: &mut Builder,
        t: &Tensor,
        views: &[ViewOp],
        root: bool,
    ) -> Result<ValueId> {
        let boundary = !is_elementwise(t) && !matches!(t.kind(), Kind::View(..));
        if boundary || self.realized.contains_key(&t.id()) || (!root && self.worth_realizing(t)) {
            return self.leaf(b, t, views);
        }
        let ty = t.dtype().scalar();
        // Operands of a different shape are broadcast to this node's first.
        let through = |x: &Tensor| -> Vec<ViewOp> {
            let mut v = Vec::new();
            if x.shape() != t.shape() {
                v.push(ViewOp::BroadcastTo(t.shape().to_vec()));
            }
            v.extend(views.iter().cloned());
            v
        };
        Ok(match t.kind() {
            Kind::Scalar(l) => b.push(Op::Const(*l), ty),
            Kind::View(op, child) => {
                let mut v = vec![op.clone()];
                v.extend(views.iter().cloned());
                return self.value(b, child, &v, false);
            }
            Kind::Cast(a) => {
                let x = self.value(b, a, &through(a), false)?;
                cast(b, x, a.dtype(), t.dtype())
            }
            Kind::Unary(f, a) => {
                let x = self.value(b, a, &through(a), false)?;
                unary(b, *f, x, t.dtype())
            }
            Kind::Binary(f, x, y) => {
                let (vx, vy) = (
                    self.value(b, x, &through(x), false)?,
                    self.value(b, y, &through(y), false)?,
                );
                b.push(Op::Binary(binary_op(*f), vx, vy), ty)
            }
            Kind::Where(c, x, y) => {
                let vc = self.value(b, c, &through(c), false)?;
                let (vx, vy) = (
                    self.value(b, x, &through(x), false)?,
                    self.value(b, y, &through(y), false)?,
                );
                b.push(
                    Op::Case {
                        branches: vec![(vc, vx)],
                        otherwise: Some(vy),
                    },
                    ty,
                )
            }
            _ => unreachable!("boundaries are leaves"),
        })
    }

    /// Whether a value used more than once is realized once rather than recomputed in each
    /// kernel that reads it: recomputing a small expression (softmax's `exp(x - max)`) costs
    /// less than writing and reading it back, but a large one, repeated down a chain of
    /// shared values, would grow without bound.
    fn worth_realizing(&self, t: &Tensor) -> bool {
        const RECOMPUTED_NODES: usize = 24;
        self.uses.get(&t.id()).copied().unwrap_or(0) > 1
            && is_elementwise(t)
            && !matches!(t.kind(), Kind::Scalar(_))
            && expanded_size(t, RECOMPUTED_NODES) > RECOMPUTED_NODES
    }

    /// A boundary read by a kernel: realized once, then loaded through `views`.
    fn leaf(&mut self, b: &mut Builder, t: &Tensor, views: &[ViewOp]) -> Result<ValueId> {
        let mut operand = self.realize(t)?;
        for op in views {
            operand = self.apply(operand, op)?;
        }
        Ok(b.load(operand, t.dtype().scalar()))
    }
}

/// The number of elementwise nodes of `t` written out as a tree, counted up to `limit`.
fn expanded_size(t: &Tensor, limit: usize) -> usize {
    if !is_elementwise(t) && !matches!(t.kind(), Kind::View(..)) {
        return 0;
    }
    let mut size = 1;
    for input in t.inputs() {
        if size > limit {
            break;
        }
        size += expanded_size(input, limit - size.min(limit));
    }
    size
}

/// Whether computing `t` involves elementwise work below its views.
fn reaches_elementwise(t: &Tensor) -> bool {
    match t.kind() {
        Kind::View(_, child) => reaches_elementwise(child),
        _ => is_elementwise(t),
    }
}

/// The shape that the permutation `order` turns into `domain`.
fn unpermuted(order: &[usize], domain: &[usize]) -> Vec<usize> {
    let mut shape = vec![0; domain.len()];
    for (i, &a) in order.iter().enumerate() {
        shape[a] = domain[i];
    }
    shape
}

fn dense(slot: Slot, shape: &[usize]) -> Operand {
    Operand {
        slot,
        view: Strided {
            shape: shape.to_vec(),
            strides: corepy_codegen::tensor_abi::row_major_strides(shape),
            offset: 0,
        },
    }
}

/// NumPy's `astype` in IR: bools through comparisons and selects (the IR casts numbers).
fn cast(b: &mut Builder, x: ValueId, from: DType, to: DType) -> ValueId {
    if from == to {
        return x;
    }
    if to == DType::Bool {
        let zero = b.push(
            Op::Const(super::build::literal(super::dtype::PyScalar::Int(0), from)),
            from.scalar(),
        );
        return b.push(Op::Binary(BinaryOp::IeeeNotEq, x, zero), ScalarType::Bool);
    }
    if from == DType::Bool {
        let one = b.push(
            Op::Const(super::build::literal(super::dtype::PyScalar::Int(1), to)),
            to.scalar(),
        );
        let zero = b.push(
            Op::Const(super::build::literal(super::dtype::PyScalar::Int(0), to)),
            to.scalar(),
        );
        return b.push(
            Op::Case {
                branches: vec![(x, one)],
                otherwise: Some(zero),
            },
            to.scalar(),
        );
    }
    b.push(Op::Cast(x), to.scalar())
}

fn unary(b: &mut Builder, f: UnaryFn, x: ValueId, dtype: DType) -> ValueId {
    let ty = dtype.scalar();
    let op = match f {
        UnaryFn::Neg if dtype.is_unsigned() => {
            // -x of an unsigned integer wraps: 0 - x.
            let zero = b.push(
                Op::Const(super::build::literal(super::dtype::PyScalar::Int(0), dtype)),
                ty,
            );
            return b.push(Op::Binary(BinaryOp::Sub, zero, x), ty);
        }
        UnaryFn::Neg => UnaryOp::Neg,
        UnaryFn::Abs => UnaryOp::Abs,
        UnaryFn::Not => UnaryOp::Not,
        UnaryFn::Sqrt => UnaryOp::Sqrt,
        UnaryFn::Exp => UnaryOp::Exp,
        UnaryFn::Log => UnaryOp::Ln,
        UnaryFn::Sin => UnaryOp::Sin,
        UnaryFn::Cos => UnaryOp::Cos,
        UnaryFn::Tanh => UnaryOp::Tanh,
        UnaryFn::Floor => UnaryOp::Floor,
        UnaryFn::Ceil => UnaryOp::Ceil,
        UnaryFn::IsNan => UnaryOp::IsNan,
        UnaryFn::Invert => UnaryOp::BitNot,
    };
    b.push(Op::Unary(op, x), ty)
}

fn binary_op(f: BinaryFn) -> BinaryOp {
    match f {
        BinaryFn::Add => BinaryOp::Add,
        BinaryFn::Sub => BinaryOp::Sub,
        BinaryFn::Mul => BinaryOp::Mul,
        BinaryFn::Div => BinaryOp::Div,
        BinaryFn::Pow => BinaryOp::Pow,
        BinaryFn::Maximum => BinaryOp::Max,
        BinaryFn::Minimum => BinaryOp::Min,
        BinaryFn::Eq => BinaryOp::IeeeEq,
        BinaryFn::Ne => BinaryOp::IeeeNotEq,
        BinaryFn::Lt => BinaryOp::IeeeLt,
        BinaryFn::Le => BinaryOp::IeeeLtEq,
        BinaryFn::Gt => BinaryOp::IeeeGt,
        BinaryFn::Ge => BinaryOp::IeeeGtEq,
        BinaryFn::And => BinaryOp::And,
        BinaryFn::Or => BinaryOp::Or,
        BinaryFn::FloorDiv => BinaryOp::FloorDiv,
        BinaryFn::Mod => BinaryOp::FloorMod,
        BinaryFn::BitAnd => BinaryOp::BitAnd,
        BinaryFn::BitOr => BinaryOp::BitOr,
        BinaryFn::BitXor => BinaryOp::BitXor,
    }
}

fn reduce_op(f: ReduceFn) -> ReduceOp {
    match f {
        ReduceFn::Sum => ReduceOp::Sum,
        ReduceFn::Prod => ReduceOp::Prod,
        ReduceFn::Min => ReduceOp::Min,
        ReduceFn::Max => ReduceOp::Max,
        ReduceFn::ArgMin => ReduceOp::ArgMin,
        ReduceFn::ArgMax => ReduceOp::ArgMax,
        ReduceFn::Any => ReduceOp::Any,
        ReduceFn::All => ReduceOp::All,
    }
}

/// A short text of what a node computes, for EXPLAIN.
pub fn describe(t: &Tensor) -> String {
    let args = |xs: &[&Tensor]| {
        xs.iter()
            .map(|x| describe(x))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let text = match t.kind() {
        Kind::Source(_) => format!("data{:?}", t.shape()),
        Kind::Scalar(l) => format!("{l}"),
        Kind::Unary(f, a) => format!("{}({})", format!("{f:?}").to_lowercase(), describe(a)),
        Kind::Binary(f, a, b) => format!("{}({})", format!("{f:?}").to_lowercase(), args(&[a, b])),
        Kind::Where(c, a, b) => format!("where({})", args(&[c, a, b])),
        Kind::Cast(a) => format!("astype({}, {})", describe(a), t.dtype().name()),
        Kind::Reduce {
            op, input, axes, ..
        } => {
            format!(
                "{}({}, axis={axes:?})",
                format!("{op:?}").to_lowercase(),
                describe(input)
            )
        }
        Kind::View(op, a) => format!("{}({})", view_name(op), describe(a)),
        Kind::Concat { axis, parts } => format!("concat[{} parts, axis={axis}]", parts.len()),
        Kind::MatMul(a, b) => format!("matmul({})", args(&[a, b])),
        Kind::Resize(spec, a) => format!(
            "resize({}, {}x{}, {})",
            describe(a),
            spec.size.0,
            spec.size.1,
            spec.method.name()
        ),
    };
    if text.len() > 160 {
        format!(
            "{}…",
            &text[..text
                .char_indices()
                .take_while(|(i, _)| *i < 157)
                .last()
                .map_or(0, |(i, c)| i + c.len_utf8())]
        )
    } else {
        text
    }
}

fn view_name(op: &ViewOp) -> &'static str {
    match op {
        ViewOp::Reshape(_) => "reshape",
        ViewOp::Permute(_) => "permute",
        ViewOp::Slice(_) => "slice",
        ViewOp::BroadcastTo(_) => "broadcast",
    }
}
