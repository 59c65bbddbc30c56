//! The vector loop of a tensor kernel. Where the innermost dimension is contiguous (or
//! broadcast) in every input and every value has one width, the innermost loop first runs
//! 128-bit vectors — 4 lanes of 32 bits or 2 of 64 — and the scalar loop finishes the
//! remainder. Booleans are masks (a lane all ones or all zeros, of the values' width), so
//! comparisons and selects stay branch-free. exp and tanh run on the vectors (the same
//! inline code as the scalar loop's); ln, sin, cos and pow call Rust's once per lane, so
//! every lane gets the scalar loop's (and the interpreter's) bits.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Type, Value};
use cranelift_frontend::Variable;

use super::{flags, machine_type, Accumulator, Emitter, COS, LN, SIN};
use crate::ir::{BinaryOp, Literal, Op, ScalarType, UnaryOp, ValueId};
use crate::tensor_abi::element_bytes;
use crate::tensor_lanes::VECTOR_BYTES;

impl Emitter<'_, '_> {
    /// The vector loop over the innermost dimension: from the index in `i` while a whole
    /// vector fits below `to`, leaving in `i` where the scalar loop goes on.
    pub(super) fn vector_loop(
        &mut self,
        i: Variable,
        to: Value,
        ptrs: &[Value],
        outs: &[Variable],
        accs: Option<&[Accumulator]>,
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
        self.vector_element(&here, outs, accs, lanes);
        self.b.def_var(i, end);
        self.b.ins().jump(header, &[]);
        self.b.seal_block(header);
        self.b.switch_to_block(done);
        self.b.seal_block(done);
    }

    /// `lanes` consecutive elements: every node as a vector, the outputs stored (or folded
    /// into the partials of the reductions, lane by lane).
    fn vector_element(
        &mut self,
        ptrs: &[Value],
        outs: &[Variable],
        accs: Option<&[Accumulator]>,
        lanes: usize,
    ) {
        let mut values: Vec<Option<Value>> = vec![None; self.kernel.nodes.len()];
        for (n, node) in self.kernel.nodes.iter().enumerate() {
            values[n] = match &node.op {
                Op::Reduce { .. } => None,
                op => Some(self.vector_node(op, node.ty, &values, ptrs, lanes)),
            };
        }
        if let Some(accs) = accs {
            for (j, id) in self.kernel.outputs.iter().enumerate() {
                let kernel = self.kernel;
                let &Op::Reduce { op, arg, .. } = &kernel.node(*id).op else {
                    unreachable!("supported: reductions are all the outputs")
                };
                let partials = accs[j].vector.expect("partials at several lanes");
                let sofar = self.b.use_var(partials);
                let v = values[arg.index()].expect("computed");
                let next = self.reduce_step(op, self.kernel.ty(arg), sofar, v);
                self.b.def_var(partials, next);
            }
            return;
        }
        let kernel = self.kernel;
        for (j, id) in kernel.outputs.iter().enumerate() {
            // A reduction over no dimension (they all had size 1) is its element.
            let source = match &kernel.node(*id).op {
                Op::Reduce { arg, .. } => *arg,
                _ => *id,
            };
            let v = values[source.index()].expect("computed");
            let at = self.b.use_var(outs[j]);
            self.b.ins().store(flags(), v, at, 0);
            let bytes = (lanes * element_bytes(self.kernel.ty(*id))) as i64;
            let next = self.b.ins().iadd_imm_s(at, bytes);
            self.b.def_var(outs[j], next);
        }
    }

    /// The vector type of `ty`: booleans are masks as wide as the kernel's values.
    pub(super) fn vector_type(&self, ty: ScalarType, lanes: usize) -> Type {
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
        match op {
            // Booleans are masks here, bytes in the scalar loop.
            UnaryOp::Not => self.b.ins().bnot(x),
            UnaryOp::IsNan if !arg.is_float() => {
                let vt = self.vector_type(ScalarType::Bool, lanes);
                let zero = self.b.ins().iconst(vt.lane_type(), 0);
                self.b.ins().splat(vt, zero)
            }
            UnaryOp::Ln => self.per_lane(LN, &[x], ty, lanes),
            UnaryOp::Sin => self.per_lane(SIN, &[x], ty, lanes),
            UnaryOp::Cos => self.per_lane(COS, &[x], ty, lanes),
            // The scalar loop's instructions act per lane on vectors.
            _ => self.unary(op, ty, arg, x),
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
        if ty.is_float() && matches!(op, BinaryOp::Pow | BinaryOp::FloorDiv | BinaryOp::FloorMod) {
            // Calls into Rust, lane by lane.
            let mut result = x;
            for lane in 0..lanes as u8 {
                let (a, b) = (
                    self.b.ins().extractlane(x, lane),
                    self.b.ins().extractlane(y, lane),
                );
                let r = self.binary(op, ty, a, b);
                result = self.b.ins().insertlane(result, r, lane);
            }
            return result;
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
