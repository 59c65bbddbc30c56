//! The vector loop of a tensor kernel. Where the innermost dimension is contiguous (or
//! broadcast) in every input and every value has one width, the innermost loop first runs
//! 128-bit vectors — 4 lanes of 32 bits or 2 of 64 — and the scalar loop finishes the
//! remainder. Booleans are masks (a lane all ones or all zeros, of the values' width), so
//! comparisons and selects stay branch-free. exp and tanh run on the vectors (the same
//! inline code as the scalar loop's); ln, sin, cos and pow call Rust's once per lane, so
//! every lane gets the scalar loop's (and the interpreter's) bits.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Type, Value};
use cranelift_frontend::Variable;

use super::{flags, machine_type, Emitter};
use crate::ir::{BinaryOp, Kernel, Literal, Op, ScalarType, UnaryOp, ValueId};
use crate::tensor_abi::element_bytes;

/// A vector register's bytes (SSE/NEON; Cranelift has no wider vectors on x86-64).
const VECTOR_BYTES: usize = 16;

/// The lanes of the vector loop for this kernel over `dims`, each input walking `strides`
/// (`kept`: the dimensions not reduced), or `None` when only the scalar loop runs.
pub(super) fn vector_lanes(
    kernel: &Kernel,
    dims: &[usize],
    strides: &[Vec<i64>],
    kept: usize,
) -> Option<usize> {
    let inner = dims.len().checked_sub(1)?;
    // Reductions fold one element at a time (the interpreter's order).
    if kept != dims.len() || strides.iter().any(|s| !matches!(s[inner], 0 | 1)) {
        return None;
    }
    let bool_io = kernel.inputs.iter().any(|i| i.ty == ScalarType::Bool)
        || kernel
            .outputs
            .iter()
            .any(|o| kernel.ty(*o) == ScalarType::Bool);
    if bool_io {
        return None;
    }
    let width = uniform_width(kernel)?;
    let wide_int = |id: &ValueId| !kernel.ty(*id).is_float() && width == 8;
    let vectorizes = |op: &Op, ty: ScalarType| match op {
        Op::Load(_) | Op::Const(_) | Op::Case { .. } => true,
        // Only casts that change no bits: integers of one width.
        Op::Cast(a) => {
            let from = kernel.ty(*a);
            machine_type(from) == machine_type(ty) && !from.is_float() && !ty.is_float()
        }
        Op::Unary(UnaryOp::Abs, a) => !(wide_int(a) && kernel.ty(*a).is_signed_int()),
        Op::Unary(..) => true,
        Op::Binary(BinaryOp::Mul | BinaryOp::Max | BinaryOp::Min, a, _) => !wide_int(a),
        Op::Binary(..) => true,
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

impl Emitter<'_, '_> {
    /// The vector loop over the innermost dimension: from the index in `i` while a whole
    /// vector fits below `to`, leaving in `i` where the scalar loop goes on.
    pub(super) fn vector_loop(
        &mut self,
        i: Variable,
        to: Value,
        ptrs: &[Value],
        outs: &[Variable],
        lanes: usize,
    ) {
        let header = self.b.create_block();
        let body = self.b.create_block();
        let done = self.b.create_block();
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(header);
        let index = self.b.use_var(i);
        let end = self.b.ins().iadd_imm_s(index, lanes as i64);
        let fits = self.b.ins().icmp(IntCC::SignedLessThanOrEqual, end, to);
        self.b.ins().brif(fits, body, &[], done, &[]);
        self.b.switch_to_block(body);
        self.b.seal_block(body);
        let inner = self.dims.len() - 1;
        let here: Vec<Value> = ptrs
            .iter()
            .enumerate()
            .map(|(k, &p)| {
                if self.strides[k][inner] == 0 {
                    return p;
                }
                let w = element_bytes(self.kernel.inputs[k].ty) as i64;
                let step = self.b.ins().imul_imm_s(index, w);
                self.b.ins().iadd(p, step)
            })
            .collect();
        self.vector_element(&here, outs, lanes);
        self.b.def_var(i, end);
        self.b.ins().jump(header, &[]);
        self.b.seal_block(header);
        self.b.switch_to_block(done);
        self.b.seal_block(done);
    }

    /// `lanes` consecutive elements: every node as a vector, the outputs stored.
    fn vector_element(&mut self, ptrs: &[Value], outs: &[Variable], lanes: usize) {
        let mut values: Vec<Option<Value>> = vec![None; self.kernel.nodes.len()];
        for (n, node) in self.kernel.nodes.iter().enumerate() {
            values[n] = Some(self.vector_node(&node.op, node.ty, &values, ptrs, lanes));
        }
        for (j, id) in self.kernel.outputs.iter().enumerate() {
            let v = values[id.index()].expect("computed");
            let at = self.b.use_var(outs[j]);
            self.b.ins().store(flags(), v, at, 0);
            let bytes = (lanes * element_bytes(self.kernel.ty(*id))) as i64;
            let next = self.b.ins().iadd_imm_s(at, bytes);
            self.b.def_var(outs[j], next);
        }
    }

    /// The vector type of `ty`: booleans are masks as wide as the kernel's values.
    fn vector_type(&self, ty: ScalarType, lanes: usize) -> Type {
        let lane = if ty == ScalarType::Bool {
            Type::int((VECTOR_BYTES / lanes * 8) as u16).expect("a lane width")
        } else {
            machine_type(ty)
        };
        lane.by(lanes as u32).expect("a 128-bit vector")
    }

    fn vector_node(
        &mut self,
        op: &Op,
        ty: ScalarType,
        values: &[Option<Value>],
        ptrs: &[Value],
        lanes: usize,
    ) -> Value {
        let get = |id: &ValueId| values[id.index()].expect("earlier node");
        let vt = self.vector_type(ty, lanes);
        let inner = self.dims.len() - 1;
        match op {
            Op::Load(i) if self.strides[*i][inner] == 0 => {
                let x = self.b.ins().load(machine_type(ty), flags(), ptrs[*i], 0);
                self.b.ins().splat(vt, x)
            }
            Op::Load(i) => self.b.ins().load(vt, flags(), ptrs[*i], 0),
            Op::Const(Literal::Bool(v)) => {
                let x = self.b.ins().iconst(vt.lane_type(), if *v { -1 } else { 0 });
                self.b.ins().splat(vt, x)
            }
            Op::Const(l) => {
                let x = self.constant(*l, ty);
                self.b.ins().splat(vt, x)
            }
            Op::Cast(a) => get(a),
            Op::Unary(u, a) => self.vector_unary(*u, ty, self.kernel.ty(*a), get(a), lanes),
            Op::Binary(bop, a, c) => {
                let operand = self.kernel.ty(*a);
                self.vector_binary(*bop, operand, get(a), get(c), lanes)
            }
            Op::Case {
                branches,
                otherwise,
            } => {
                let mut v = get(otherwise.as_ref().expect("checked: an ELSE"));
                for (c, x) in branches.iter().rev() {
                    let mask = if ty.is_float() {
                        self.b.ins().bitcast(vt, MemFlagsData::new(), get(c))
                    } else {
                        get(c)
                    };
                    v = self.b.ins().bitselect(mask, get(x), v);
                }
                v
            }
            other => unreachable!("vectorized: {other:?}"),
        }
    }

    fn vector_unary(
        &mut self,
        op: UnaryOp,
        ty: ScalarType,
        arg: ScalarType,
        x: Value,
        lanes: usize,
    ) -> Value {
        let float = arg.is_float();
        match op {
            UnaryOp::Neg if float => self.b.ins().fneg(x),
            UnaryOp::Neg => self.b.ins().ineg(x),
            UnaryOp::Abs if float => self.b.ins().fabs(x),
            UnaryOp::Abs if arg.is_unsigned_int() => x,
            UnaryOp::Abs => self.b.ins().iabs(x),
            UnaryOp::Not => self.b.ins().bnot(x),
            UnaryOp::Sqrt => self.b.ins().sqrt(x),
            UnaryOp::Floor => self.b.ins().floor(x),
            UnaryOp::Ceil => self.b.ins().ceil(x),
            UnaryOp::IsNan if float => self.b.ins().fcmp(FloatCC::Unordered, x, x),
            UnaryOp::IsNan => {
                let vt = self.vector_type(ScalarType::Bool, lanes);
                let zero = self.b.ins().iconst(vt.lane_type(), 0);
                self.b.ins().splat(vt, zero)
            }
            UnaryOp::Exp => super::math::emit_exp(self.b, x),
            UnaryOp::Ln => self.per_lane(1, &[x], ty, lanes),
            UnaryOp::Sin => self.per_lane(2, &[x], ty, lanes),
            UnaryOp::Cos => self.per_lane(3, &[x], ty, lanes),
            UnaryOp::Tanh => super::math::emit_tanh(self.b, x),
            other => unreachable!("vectorized: {other:?}"),
        }
    }

    fn vector_binary(
        &mut self,
        op: BinaryOp,
        ty: ScalarType,
        x: Value,
        y: Value,
        lanes: usize,
    ) -> Value {
        if ty.is_float() && op == BinaryOp::Pow {
            return self.per_lane(5, &[x, y], ty, lanes);
        }
        // The scalar emitter's instructions are polymorphic: on vectors they act per lane,
        // comparisons giving masks.
        self.binary(op, ty, x, y)
    }

    /// Math function `f` of the scalar emitter applied lane by lane.
    fn per_lane(&mut self, f: usize, args: &[Value], ty: ScalarType, lanes: usize) -> Value {
        let mut result = args[0];
        for lane in 0..lanes as u8 {
            let scalars: Vec<Value> = args
                .iter()
                .map(|&v| self.b.ins().extractlane(v, lane))
                .collect();
            let r = self.call(f, &scalars, ty);
            result = self.b.ins().insertlane(result, r, lane);
        }
        result
    }
}
