//! The Cranelift renderer of tensor kernels: one native function of nested loops over the
//! domain, with each input's strides compiled in as constants, computing every node in
//! registers and writing the outputs densely (or folding the trailing reduced dimensions
//! into accumulators). The driver runs it over chunks of the outermost dimension in
//! parallel on rayon.
//!
//! The function is `fn(frame: *const u64)`; the frame holds the range of the outermost
//! dimension to run, then each input's address of domain index zero, then each output's
//! address. Booleans are bytes (0 or 1), as in the buffers. exp and tanh are emitted inline
//! ([`math`], the interpreter's algorithm); ln, sin, cos and pow call Rust's, so they give
//! the interpreter's results too.
//! Where the innermost dimension allows, its loop runs vectors first ([`vector`]).

mod math;
mod vector;

use std::time::{Duration, Instant};

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    types, AbiParam, FuncRef, InstBuilder, MemFlagsData, Type, UserFuncName, Value,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, Linkage, Module};
use parking_lot::Mutex;
use rayon::prelude::*;

use crate::abi::RunError;
use crate::ir::{BinaryOp, Kernel, Literal, Op, ReduceOp, ScalarType, UnaryOp, ValueId};
use crate::semantics::int_range;
use crate::tensor_abi::{
    check_tensor_buffers, element_bytes, extents, input_strides, reduced_axes, TensorIn, TensorOut,
};

/// Elements a parallel task runs at least (smaller kernels run on the calling thread).
const TASK_ELEMENTS: usize = 1 << 16;

/// Why the JIT does not compile a tensor kernel (the caller runs the interpreter).
pub fn supports_tensor(kernel: &Kernel) -> Result<(), String> {
    crate::tensor_abi::check_tensor_kernel(kernel)?;
    kernel.validate()?;
    let rank = kernel.domain.dims.len();
    let reduced = reduced_axes(kernel);
    if reduced
        .iter()
        .enumerate()
        .any(|(i, &a)| a != rank - reduced.len() + i)
    {
        return Err("reductions over leading dimensions are not compiled yet".into());
    }
    for node in &kernel.nodes {
        let ok = match &node.op {
            Op::Load(_) | Op::Const(_) | Op::Cast(_) | Op::Reduce { .. } => true,
            Op::Case { .. } => true,
            Op::Unary(op, _) => {
                !matches!(op, UnaryOp::Round | UnaryOp::IsNull | UnaryOp::IsNotNull)
            }
            Op::Binary(op, a, _) => match op {
                BinaryOp::Div | BinaryOp::Rem => kernel.ty(*a).is_float() && *op == BinaryOp::Div,
                BinaryOp::Pow => kernel.ty(*a).is_float(),
                op if op.is_comparison() => op.is_tensor_only(),
                _ => true,
            },
            _ => false,
        };
        if !ok {
            return Err(format!(
                "{:?} is not compiled in tensor kernels yet",
                node.op
            ));
        }
    }
    Ok(())
}

type TensorFn = unsafe extern "C" fn(*const u64);

/// A compiled tensor kernel; its machine code lives as long as this value.
pub struct JitTensorKernel {
    function: TensorFn,
    module: Mutex<Option<JITModule>>,
    kernel: Kernel,
    clif: String,
    compile_time: Duration,
    lanes: Option<usize>,
}

// SAFETY: the function is immutable machine code owned by `module` (freed only in Drop); it
// keeps its state on the stack and in the frame each call passes.
unsafe impl Send for JitTensorKernel {}
unsafe impl Sync for JitTensorKernel {}

impl Drop for JitTensorKernel {
    fn drop(&mut self) {
        if let Some(module) = self.module.lock().take() {
            // SAFETY: no call can be running: calls borrow `self`.
            unsafe { module.free_memory() };
        }
    }
}

impl std::fmt::Debug for JitTensorKernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JitTensorKernel")
            .field("compile_time", &self.compile_time)
            .finish()
    }
}

extern "C" fn ln_f64(x: f64) -> f64 {
    x.ln()
}
extern "C" fn sin_f64(x: f64) -> f64 {
    x.sin()
}
extern "C" fn cos_f64(x: f64) -> f64 {
    x.cos()
}
extern "C" fn pow_f64(x: f64, y: f64) -> f64 {
    x.powf(y)
}
extern "C" fn floor_div_f64(x: f64, y: f64) -> f64 {
    crate::math::divmod_f64(x, y).0
}
extern "C" fn mod_f64(x: f64, y: f64) -> f64 {
    crate::math::divmod_f64(x, y).1
}
extern "C" fn floor_div_f32(x: f32, y: f32) -> f32 {
    crate::math::divmod_f32(x, y).0
}
extern "C" fn mod_f32(x: f32, y: f32) -> f32 {
    crate::math::divmod_f32(x, y).1
}

/// A Rust function compiled code calls: its symbol, address, float type and arity. An f64
/// function serves f32 values too (promoted, the result rounded once).
struct MathFn {
    name: &'static str,
    address: *const u8,
    float: Type,
    arity: usize,
}

/// The math functions, at their indices in `Emitter::math`.
fn math_symbols() -> [MathFn; 8] {
    let f = |name, address, float, arity| MathFn {
        name,
        address,
        float,
        arity,
    };
    [
        f("corepy_ln", ln_f64 as *const u8, types::F64, 1),
        f("corepy_sin", sin_f64 as *const u8, types::F64, 1),
        f("corepy_cos", cos_f64 as *const u8, types::F64, 1),
        f("corepy_pow", pow_f64 as *const u8, types::F64, 2),
        // NumPy's divmod runs in the values' own precision.
        f(
            "corepy_floor_div_f64",
            floor_div_f64 as *const u8,
            types::F64,
            2,
        ),
        f("corepy_mod_f64", mod_f64 as *const u8, types::F64, 2),
        f(
            "corepy_floor_div_f32",
            floor_div_f32 as *const u8,
            types::F32,
            2,
        ),
        f("corepy_mod_f32", mod_f32 as *const u8, types::F32, 2),
    ]
}
const LN: usize = 0;
const SIN: usize = 1;
const COS: usize = 2;
const POW: usize = 3;
const FLOOR_DIV_F64: usize = 4;
const MOD_F64: usize = 5;
const FLOOR_DIV_F32: usize = 6;
const MOD_F32: usize = 7;

/// Compiles a tensor kernel for this machine.
pub fn compile_tensor(kernel: &Kernel) -> Result<JitTensorKernel, String> {
    supports_tensor(kernel)?;
    let start = Instant::now();
    let isa = super::host_isa()?;
    let mut builder = JITBuilder::with_isa(isa, default_libcall_names());
    for f in math_symbols() {
        builder.symbol(f.name, f.address);
    }
    let mut module = JITModule::new(builder);
    let mut signature = module.make_signature();
    signature.params.push(AbiParam::new(types::I64));
    let id = module
        .declare_anonymous_function(&signature)
        .map_err(|e| e.to_string())?;
    let mut ctx = module.make_context();
    ctx.func.signature = signature;
    ctx.func.name = UserFuncName::user(0, id.as_u32());
    let mut fb_ctx = FunctionBuilderContext::new();
    let lanes;
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fb_ctx);
        let mut math = Vec::new();
        for f in math_symbols() {
            let mut sig = module.make_signature();
            for _ in 0..f.arity {
                sig.params.push(AbiParam::new(f.float));
            }
            sig.returns.push(AbiParam::new(f.float));
            let id = module
                .declare_function(f.name, Linkage::Import, &sig)
                .map_err(|e| e.to_string())?;
            math.push((module.declare_func_in_func(id, b.func), f.float));
        }
        let emitter = Emitter::new(&mut b, kernel, math);
        lanes = emitter.lanes;
        emitter.emit();
        b.finalize(module.target_config());
    }
    let clif = ctx.func.display().to_string();
    module.define_function(id, &mut ctx).map_err(|e| match e {
        cranelift_module::ModuleError::Compilation(err) => {
            cranelift_codegen::print_errors::pretty_error(&ctx.func, err)
        }
        other => other.to_string(),
    })?;
    module.clear_context(&mut ctx);
    module.finalize_definitions().map_err(|e| e.to_string())?;
    let code = module.get_finalized_function(id);
    Ok(JitTensorKernel {
        // SAFETY: defined above with the signature `fn(*const u64)`.
        function: unsafe { std::mem::transmute::<*const u8, TensorFn>(code) },
        module: Mutex::new(Some(module)),
        kernel: kernel.clone(),
        clif,
        compile_time: start.elapsed(),
        lanes,
    })
}

impl JitTensorKernel {
    pub fn clif(&self) -> &str {
        &self.clif
    }

    pub fn compile_time(&self) -> Duration {
        self.compile_time
    }

    pub fn kernel(&self) -> &Kernel {
        &self.kernel
    }

    /// The lanes of the innermost loop's vectors (`None`: a scalar loop).
    pub fn lanes(&self) -> Option<usize> {
        self.lanes
    }

    /// Runs the kernel (see [`crate::tensor_abi`]), the outermost dimension split into
    /// chunks run in parallel.
    pub fn run(
        &self,
        inputs: &[TensorIn<'_>],
        outputs: &mut [TensorOut<'_>],
    ) -> Result<(), RunError> {
        check_tensor_buffers(&self.kernel, inputs, outputs)?;
        let dims = extents(&self.kernel);
        if dims.contains(&0) && reduced_axes(&self.kernel).is_empty() {
            return Ok(());
        }
        // The compiled function's outermost loop: the first kept dimension (a virtual one
        // of size 1 when every dimension is reduced).
        let kept = dims.len() - reduced_axes(&self.kernel).len();
        let (outer, per_outer) = if kept == 0 {
            (1, dims.iter().product::<usize>().max(1))
        } else {
            (dims[0], dims[1..].iter().product::<usize>().max(1))
        };
        let inputs_at: Vec<u64> = inputs
            .iter()
            .zip(&self.kernel.inputs)
            .map(|(i, decl)| i.bytes.as_ptr() as u64 + (i.offset * element_bytes(decl.ty)) as u64)
            .collect();
        let outputs_at: Vec<u64> = outputs
            .iter_mut()
            .map(|o| o.bytes.as_mut_ptr() as u64)
            .collect();
        let call = |start: usize, end: usize| {
            let mut frame = vec![start as u64, end as u64];
            frame.extend(&inputs_at);
            frame.extend(&outputs_at);
            // SAFETY: `check_tensor_buffers` showed every element the kernel reads and
            // writes lies in the buffers; chunks write disjoint parts of the outputs.
            unsafe { (self.function)(frame.as_ptr()) };
        };
        let rows_per_task = TASK_ELEMENTS.div_ceil(per_outer).max(1);
        if outer <= rows_per_task || rayon::current_num_threads() == 1 {
            call(0, outer);
        } else {
            let tasks = outer.div_ceil(rows_per_task);
            (0..tasks).into_par_iter().for_each(|t| {
                call(t * rows_per_task, ((t + 1) * rows_per_task).min(outer));
            });
        }
        Ok(())
    }
}

fn flags() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

/// The machine type of an element (booleans are bytes).
fn machine_type(ty: ScalarType) -> Type {
    match ty {
        ScalarType::Bool | ScalarType::I8 | ScalarType::U8 => types::I8,
        ScalarType::I16 | ScalarType::U16 => types::I16,
        ScalarType::I32 | ScalarType::U32 => types::I32,
        ScalarType::F32 => types::F32,
        ScalarType::F64 => types::F64,
        _ => types::I64,
    }
}

struct Emitter<'a, 'b> {
    b: &'a mut FunctionBuilder<'b>,
    kernel: &'a Kernel,
    math: Vec<(FuncRef, Type)>,
    dims: Vec<usize>,
    strides: Vec<Vec<i64>>,
    kept: usize,
    lanes: Option<usize>,
}

impl<'a, 'b> Emitter<'a, 'b> {
    fn new(b: &'a mut FunctionBuilder<'b>, kernel: &'a Kernel, math: Vec<(FuncRef, Type)>) -> Self {
        let mut dims = extents(kernel);
        let reduced = reduced_axes(kernel).len();
        let mut strides: Vec<Vec<i64>> = (0..kernel.inputs.len())
            .map(|i| input_strides(kernel, i))
            .collect();
        let mut kept = dims.len() - reduced;
        if kept == 0 {
            // A full reduction (or a 0-d domain): one virtual outer index.
            dims.insert(0, 1);
            for s in &mut strides {
                s.insert(0, 0);
            }
            kept = 1;
        }
        let lanes = crate::tensor_lanes::vector_lanes(kernel);
        Emitter {
            b,
            kernel,
            math,
            dims,
            strides,
            kept,
            lanes,
        }
    }

    fn emit(mut self) {
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        self.b.seal_block(entry);
        let frame = self.b.block_params(entry)[0];
        let slot = |b: &mut FunctionBuilder<'_>, i: usize| {
            b.ins().load(types::I64, flags(), frame, (i * 8) as i32)
        };
        let start = slot(self.b, 0);
        let end = slot(self.b, 1);
        let n_in = self.kernel.inputs.len();
        let bases: Vec<Value> = (0..n_in).map(|i| slot(self.b, 2 + i)).collect();
        let outs: Vec<Value> = (0..self.kernel.outputs.len())
            .map(|j| slot(self.b, 2 + n_in + j))
            .collect();
        // The outputs' write position advances one element per kept index, from `start`.
        let per_outer: usize = self.dims[1..self.kept].iter().product();
        let out_vars: Vec<Variable> = outs
            .iter()
            .zip(&self.kernel.outputs)
            .map(|(&base, id)| {
                let w = element_bytes(self.kernel.ty(*id)) as i64;
                let skip = self.b.ins().imul_imm_s(start, w * per_outer as i64);
                let at = self.b.ins().iadd(base, skip);
                let var = self.b.declare_var(types::I64);
                self.b.def_var(var, at);
                var
            })
            .collect();
        self.loop_level(0, start, end, &bases, &out_vars, None);
        self.b.ins().return_(&[]);
    }

    /// The loop over dimension `level` from `from` to `to`, each input at `ptrs` (the
    /// address of this level's index 0).
    fn loop_level(
        &mut self,
        level: usize,
        from: Value,
        to: Value,
        ptrs: &[Value],
        outs: &[Variable],
        outer_accs: Option<&[Accumulator]>,
    ) {
        let header = self.b.create_block();
        let body = self.b.create_block();
        let done = self.b.create_block();
        let i = self.b.declare_var(types::I64);
        self.b.def_var(i, from);
        // Reduction: accumulators start before the first reduced dimension's loop.
        let started = (level == self.kept).then(|| self.start_accumulators());
        let accs: Option<Vec<Accumulator>> = started.clone().or(outer_accs.map(|a| a.to_vec()));
        if let (Some(lanes), true) = (self.lanes, level + 1 == self.dims.len()) {
            self.vector_loop(i, to, ptrs, outs, accs.as_deref(), lanes);
        }
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(header);
        let index = self.b.use_var(i);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, index, to);
        self.b.ins().brif(more, body, &[], done, &[]);
        self.b.switch_to_block(body);
        self.b.seal_block(body);
        let here: Vec<Value> = ptrs
            .iter()
            .enumerate()
            .map(|(k, &p)| {
                let w = element_bytes(self.kernel.inputs[k].ty) as i64;
                let step = self.b.ins().imul_imm_s(index, self.strides[k][level] * w);
                self.b.ins().iadd(p, step)
            })
            .collect();
        if level + 1 < self.dims.len() {
            let zero = self.b.ins().iconst(types::I64, 0);
            let n = self.b.ins().iconst(types::I64, self.dims[level + 1] as i64);
            self.loop_level(level + 1, zero, n, &here, outs, accs.as_deref());
        } else {
            self.element(&here, outs, accs.as_deref());
        }
        let index = self.b.use_var(i);
        let next = self.b.ins().iadd_imm_s(index, 1);
        self.b.def_var(i, next);
        self.b.ins().jump(header, &[]);
        self.b.seal_block(header);
        self.b.switch_to_block(done);
        self.b.seal_block(done);
        if let Some(accs) = started {
            self.finish_accumulators(&accs, outs);
        }
    }

    /// One element: every node, then the outputs written or folded.
    fn element(&mut self, ptrs: &[Value], outs: &[Variable], accs: Option<&[Accumulator]>) {
        let mut values: Vec<Option<Value>> = vec![None; self.kernel.nodes.len()];
        for (n, node) in self.kernel.nodes.iter().enumerate() {
            values[n] = match &node.op {
                Op::Reduce { .. } => None,
                op => Some(self.node(op, node.ty, &values, ptrs)),
            };
        }
        let reduced = self.kept < self.dims.len();
        for (j, id) in self.kernel.outputs.iter().enumerate() {
            match (&self.kernel.node(*id).op, accs) {
                (Op::Reduce { op, arg, .. }, Some(accs)) => {
                    let v = values[arg.index()].expect("computed");
                    self.fold(*op, self.kernel.ty(*arg), &accs[j], v);
                }
                // A reduction over no dimension (they all had size 1): the element itself,
                // or its index 0.
                (Op::Reduce { op, arg, .. }, None) if !reduced => {
                    let v = match op {
                        ReduceOp::ArgMax | ReduceOp::ArgMin => self.b.ins().iconst(types::I64, 0),
                        _ => values[arg.index()].expect("computed"),
                    };
                    self.store(outs[j], v, self.kernel.ty(*id));
                }
                _ if !reduced => {
                    let v = values[id.index()].expect("computed");
                    self.store(outs[j], v, self.kernel.ty(*id));
                }
                _ => unreachable!("supported: reductions are all the outputs"),
            }
        }
        if let Some(accs) = accs {
            for acc in accs {
                let pos = self.b.use_var(acc.position);
                let next = self.b.ins().iadd_imm_s(pos, 1);
                self.b.def_var(acc.position, next);
            }
        }
    }

    fn store(&mut self, out: Variable, v: Value, ty: ScalarType) {
        let at = self.b.use_var(out);
        self.b.ins().store(flags(), v, at, 0);
        let next = self.b.ins().iadd_imm_s(at, element_bytes(ty) as i64);
        self.b.def_var(out, next);
    }

    fn constant(&mut self, literal: Literal, ty: ScalarType) -> Value {
        match literal {
            Literal::F64(bits) => self.b.ins().f64const(f64::from_bits(bits)),
            Literal::F32(bits) => self.b.ins().f32const(f32::from_bits(bits)),
            Literal::Bool(v) => self.b.ins().iconst(types::I8, v as i64),
            Literal::Int(v) => {
                let t = machine_type(ty);
                let bits = t.bits();
                let masked = if bits >= 64 {
                    v as i64
                } else {
                    (v as i64) & ((1i64 << bits) - 1)
                };
                self.b.ins().iconst(t, masked)
            }
            Literal::Null => unreachable!("checked: tensors have no NULL"),
        }
    }

    fn node(&mut self, op: &Op, ty: ScalarType, values: &[Option<Value>], ptrs: &[Value]) -> Value {
        let get = |id: &ValueId| values[id.index()].expect("earlier node");
        match op {
            Op::Load(i) => {
                let v = self.b.ins().load(machine_type(ty), flags(), ptrs[*i], 0);
                if ty == ScalarType::Bool {
                    let zero = self.b.ins().iconst(types::I8, 0);
                    self.b.ins().icmp(IntCC::NotEqual, v, zero)
                } else {
                    v
                }
            }
            Op::Const(l) => self.constant(*l, ty),
            Op::Unary(u, a) => self.unary(*u, ty, self.kernel.ty(*a), get(a)),
            Op::Binary(bop, a, c) => {
                let operand = self.kernel.ty(*a);
                self.binary(*bop, operand, get(a), get(c))
            }
            Op::Cast(a) => {
                let from = self.kernel.ty(*a);
                self.cast(from, ty, get(a))
            }
            Op::Case {
                branches,
                otherwise,
            } => {
                let mut v = get(otherwise.as_ref().expect("checked: an ELSE"));
                for (c, x) in branches.iter().rev() {
                    v = self.b.ins().select(get(c), get(x), v);
                }
                v
            }
            other => unreachable!("supported: {other:?}"),
        }
    }

    fn call(&mut self, f: usize, args: &[Value], ty: ScalarType) -> Value {
        let (func, float) = self.math[f];
        let promote = ty == ScalarType::F32 && float == types::F64;
        let args: Vec<Value> = args
            .iter()
            .map(|&a| {
                if promote {
                    self.b.ins().fpromote(types::F64, a)
                } else {
                    a
                }
            })
            .collect();
        let inst = self.b.ins().call(func, &args);
        let r = self.b.inst_results(inst)[0];
        if promote {
            self.b.ins().fdemote(types::F32, r)
        } else {
            r
        }
    }

    fn unary(&mut self, op: UnaryOp, ty: ScalarType, arg: ScalarType, x: Value) -> Value {
        let float = arg.is_float();
        match op {
            UnaryOp::Neg if float => self.b.ins().fneg(x),
            UnaryOp::Neg => self.b.ins().ineg(x),
            UnaryOp::Abs if float => self.b.ins().fabs(x),
            UnaryOp::Abs if arg.is_unsigned_int() => x,
            UnaryOp::Abs => self.b.ins().iabs(x),
            UnaryOp::Not => self.b.ins().bxor_imm_s(x, 1),
            UnaryOp::Sqrt => self.b.ins().sqrt(x),
            UnaryOp::Floor => self.b.ins().floor(x),
            UnaryOp::Ceil => self.b.ins().ceil(x),
            UnaryOp::IsNan if float => self.b.ins().fcmp(FloatCC::Unordered, x, x),
            UnaryOp::IsNan => self.b.ins().iconst(types::I8, 0),
            UnaryOp::BitNot => self.b.ins().bnot(x),
            UnaryOp::Exp => math::emit_exp(self.b, x),
            UnaryOp::Ln => self.call(LN, &[x], ty),
            UnaryOp::Sin => self.call(SIN, &[x], ty),
            UnaryOp::Cos => self.call(COS, &[x], ty),
            UnaryOp::Tanh => math::emit_tanh(self.b, x),
            other => unreachable!("supported: {other:?}"),
        }
    }

    fn binary(&mut self, op: BinaryOp, ty: ScalarType, x: Value, y: Value) -> Value {
        if ty.is_float() {
            return match op {
                BinaryOp::Add => self.b.ins().fadd(x, y),
                BinaryOp::Sub => self.b.ins().fsub(x, y),
                BinaryOp::Mul => self.b.ins().fmul(x, y),
                BinaryOp::Div => self.b.ins().fdiv(x, y),
                BinaryOp::Pow => self.call(POW, &[x, y], ty),
                BinaryOp::FloorDiv | BinaryOp::FloorMod => {
                    let f = match (op == BinaryOp::FloorDiv, ty == ScalarType::F32) {
                        (true, true) => FLOOR_DIV_F32,
                        (true, false) => FLOOR_DIV_F64,
                        (false, true) => MOD_F32,
                        (false, false) => MOD_F64,
                    };
                    self.call(f, &[x, y], ty)
                }
                // Branch-free: NaN if either is NaN, -0.0 below 0.0 (the interpreter's rule).
                BinaryOp::Max => self.b.ins().fmax(x, y),
                BinaryOp::Min => self.b.ins().fmin(x, y),
                BinaryOp::IeeeEq => self.b.ins().fcmp(FloatCC::Equal, x, y),
                BinaryOp::IeeeNotEq => self.b.ins().fcmp(FloatCC::NotEqual, x, y),
                BinaryOp::IeeeLt => self.b.ins().fcmp(FloatCC::LessThan, x, y),
                BinaryOp::IeeeLtEq => self.b.ins().fcmp(FloatCC::LessThanOrEqual, x, y),
                BinaryOp::IeeeGt => self.b.ins().fcmp(FloatCC::GreaterThan, x, y),
                BinaryOp::IeeeGtEq => self.b.ins().fcmp(FloatCC::GreaterThanOrEqual, x, y),
                other => unreachable!("supported: float {other:?}"),
            };
        }
        let signed = ty.is_signed_int();
        let cc = |s: IntCC, u: IntCC| if signed { s } else { u };
        match op {
            BinaryOp::Add => self.b.ins().iadd(x, y),
            BinaryOp::Sub => self.b.ins().isub(x, y),
            BinaryOp::Mul => self.b.ins().imul(x, y),
            BinaryOp::And | BinaryOp::BitAnd => self.b.ins().band(x, y),
            BinaryOp::Or | BinaryOp::BitOr => self.b.ins().bor(x, y),
            BinaryOp::BitXor => self.b.ins().bxor(x, y),
            BinaryOp::FloorDiv | BinaryOp::FloorMod => self.int_divmod(op, ty, x, y),
            BinaryOp::Max if signed => self.b.ins().smax(x, y),
            BinaryOp::Max => self.b.ins().umax(x, y),
            BinaryOp::Min if signed => self.b.ins().smin(x, y),
            BinaryOp::Min => self.b.ins().umin(x, y),
            BinaryOp::IeeeEq => self.b.ins().icmp(IntCC::Equal, x, y),
            BinaryOp::IeeeNotEq => self.b.ins().icmp(IntCC::NotEqual, x, y),
            BinaryOp::IeeeLt => {
                self.b
                    .ins()
                    .icmp(cc(IntCC::SignedLessThan, IntCC::UnsignedLessThan), x, y)
            }
            BinaryOp::IeeeLtEq => self.b.ins().icmp(
                cc(IntCC::SignedLessThanOrEqual, IntCC::UnsignedLessThanOrEqual),
                x,
                y,
            ),
            BinaryOp::IeeeGt => self.b.ins().icmp(
                cc(IntCC::SignedGreaterThan, IntCC::UnsignedGreaterThan),
                x,
                y,
            ),
            BinaryOp::IeeeGtEq => self.b.ins().icmp(
                cc(
                    IntCC::SignedGreaterThanOrEqual,
                    IntCC::UnsignedGreaterThanOrEqual,
                ),
                x,
                y,
            ),
            other => unreachable!("supported: integer {other:?}"),
        }
    }

    /// NumPy's integer `//` or `%` (see [`crate::math::divmod_int`]), branch-free: a zero
    /// divisor divides by 1 and the result is replaced by 0; −1 is not divided by (MIN / −1
    /// traps on x86) but negated.
    fn int_divmod(&mut self, op: BinaryOp, ty: ScalarType, x: Value, y: Value) -> Value {
        let zero = self.constant(Literal::Int(0), ty);
        let one = self.constant(Literal::Int(1), ty);
        let by_zero = self.b.ins().icmp(IntCC::Equal, y, zero);
        let divisor = self.b.ins().select(by_zero, one, y);
        let (q, r) = if ty.is_signed_int() {
            let minus_one = self.constant(Literal::Int(-1), ty);
            let by_minus_one = self.b.ins().icmp(IntCC::Equal, divisor, minus_one);
            let safe = self.b.ins().select(by_minus_one, one, divisor);
            let (q, r) = (self.b.ins().sdiv(x, safe), self.b.ins().srem(x, safe));
            let negated = self.b.ins().ineg(x);
            let q = self.b.ins().select(by_minus_one, negated, q);
            let r = self.b.ins().select(by_minus_one, zero, r);
            // Toward −∞: a remainder whose sign differs from the divisor's moves over.
            let nonzero = self.b.ins().icmp(IntCC::NotEqual, r, zero);
            let signs = self.b.ins().bxor(r, divisor);
            let differ = self.b.ins().icmp(IntCC::SignedLessThan, signs, zero);
            let adjust = self.b.ins().band(nonzero, differ);
            let (q_less, r_more) = (self.b.ins().isub(q, one), self.b.ins().iadd(r, divisor));
            (
                self.b.ins().select(adjust, q_less, q),
                self.b.ins().select(adjust, r_more, r),
            )
        } else {
            (self.b.ins().udiv(x, divisor), self.b.ins().urem(x, divisor))
        };
        let v = if op == BinaryOp::FloorDiv { q } else { r };
        self.b.ins().select(by_zero, zero, v)
    }

    /// Numeric casts with the interpreter's values: integers wrap, a float outside an
    /// integer's range (or NaN) converts to 0.
    fn cast(&mut self, from: ScalarType, to: ScalarType, x: Value) -> Value {
        let (ft, tt) = (machine_type(from), machine_type(to));
        match (from.is_float(), to.is_float()) {
            (true, true) if ft == tt => x,
            (true, true) if tt == types::F64 => self.b.ins().fpromote(types::F64, x),
            (true, true) => self.b.ins().fdemote(types::F32, x),
            (false, true) if from.is_signed_int() => {
                let wide = if ft == types::I64 {
                    x
                } else {
                    self.b.ins().sextend(types::I64, x)
                };
                self.b.ins().fcvt_from_sint(tt, wide)
            }
            (false, true) => {
                let wide = if ft == types::I64 {
                    x
                } else {
                    self.b.ins().uextend(types::I64, x)
                };
                self.b.ins().fcvt_from_uint(tt, wide)
            }
            (false, false) => {
                if tt.bits() < ft.bits() {
                    self.b.ins().ireduce(tt, x)
                } else if tt.bits() == ft.bits() {
                    x
                } else if from.is_signed_int() {
                    self.b.ins().sextend(tt, x)
                } else {
                    self.b.ins().uextend(tt, x)
                }
            }
            (true, false) => {
                let wide = if ft == types::F32 {
                    self.b.ins().fpromote(types::F64, x)
                } else {
                    x
                };
                let t = self.b.ins().trunc(wide);
                let (lo, hi) = int_range(to).expect("an integer target");
                // In range: lo <= t <= hi, exact in f64 for the bounds that matter (hi + 1
                // is a power of two).
                let low = self.b.ins().f64const(lo as f64);
                let high = self.b.ins().f64const((hi as f64) + 1.0);
                let above = self.b.ins().fcmp(FloatCC::GreaterThanOrEqual, t, low);
                let below = self.b.ins().fcmp(FloatCC::LessThan, t, high);
                let ok = self.b.ins().band(above, below);
                let wide_int = if to.is_signed_int() {
                    self.b.ins().fcvt_to_sint_sat(types::I64, t)
                } else {
                    self.b.ins().fcvt_to_uint_sat(types::I64, t)
                };
                let zero = self.b.ins().iconst(types::I64, 0);
                let v = self.b.ins().select(ok, wide_int, zero);
                if tt == types::I64 {
                    v
                } else {
                    self.b.ins().ireduce(tt, v)
                }
            }
        }
    }

    fn start_accumulators(&mut self) -> Vec<Accumulator> {
        let outputs = self.kernel.outputs.clone();
        outputs
            .iter()
            .map(|id| {
                let Op::Reduce { op, arg, .. } = &self.kernel.node(*id).op else {
                    unreachable!("supported: reductions are all the outputs")
                };
                let ty = self.kernel.ty(*arg);
                let t = machine_type(ty);
                let value = self.b.declare_var(t);
                let init = match op {
                    // With partial accumulators, the operation's identity.
                    _ if self.lanes.is_some() => self.reduction_identity(*op, ty),
                    ReduceOp::Sum => self.identity(ty, 0.0),
                    ReduceOp::Prod => self.identity(ty, 1.0),
                    ReduceOp::Any => self.b.ins().iconst(types::I8, 0),
                    ReduceOp::All => self.b.ins().iconst(types::I8, 1),
                    // The first element replaces it (see `fold`).
                    _ => self.identity(ty, 0.0),
                };
                self.b.def_var(value, init);
                let vector = self.lanes.map(|lanes| {
                    let vt = self.vector_type(ty, lanes);
                    let var = self.b.declare_var(vt);
                    let identity = self.reduction_identity(*op, ty);
                    let splat = self.b.ins().splat(vt, identity);
                    self.b.def_var(var, splat);
                    var
                });
                let at = self.b.declare_var(types::I64);
                let zero = self.b.ins().iconst(types::I64, 0);
                self.b.def_var(at, zero);
                let position = self.b.declare_var(types::I64);
                self.b.def_var(position, zero);
                Accumulator {
                    value,
                    at,
                    position,
                    vector,
                }
            })
            .collect()
    }

    /// `x ∘ identity = x` for every x, NaN and -0.0 included: -0.0 for a float sum, 1 for a
    /// product, -∞ / +∞ (the type's least / greatest integer) for a max / min.
    fn reduction_identity(&mut self, op: ReduceOp, ty: ScalarType) -> Value {
        let (lo, hi) = int_range(ty).unwrap_or((0, 0));
        match (op, ty.is_float()) {
            (ReduceOp::Sum, true) => self.identity(ty, -0.0),
            (ReduceOp::Sum, false) => self.identity(ty, 0.0),
            (ReduceOp::Prod, _) => self.identity(ty, 1.0),
            (ReduceOp::Max, true) => self.identity(ty, f64::NEG_INFINITY),
            (ReduceOp::Min, true) => self.identity(ty, f64::INFINITY),
            (ReduceOp::Max, false) => self.constant(Literal::Int(lo), ty),
            (ReduceOp::Min, false) => self.constant(Literal::Int(hi), ty),
            (other, _) => unreachable!("not folded in partials: {other:?}"),
        }
    }

    /// `a ∘ b` for a sum, product, max or min (scalars or vectors alike).
    fn reduce_step(&mut self, op: ReduceOp, ty: ScalarType, a: Value, b: Value) -> Value {
        let bop = match op {
            ReduceOp::Sum => BinaryOp::Add,
            ReduceOp::Prod => BinaryOp::Mul,
            ReduceOp::Max => BinaryOp::Max,
            ReduceOp::Min => BinaryOp::Min,
            other => unreachable!("not a binary fold: {other:?}"),
        };
        self.binary(bop, ty, a, b)
    }

    fn identity(&mut self, ty: ScalarType, v: f64) -> Value {
        match ty {
            ScalarType::F64 => self.b.ins().f64const(v),
            ScalarType::F32 => self.b.ins().f32const(v as f32),
            _ => self.b.ins().iconst(machine_type(ty), v as i64),
        }
    }

    fn fold(&mut self, op: ReduceOp, ty: ScalarType, acc: &Accumulator, v: Value) {
        let best = self.b.use_var(acc.value);
        let position = self.b.use_var(acc.position);
        let first = self.b.ins().icmp_imm_s(IntCC::Equal, position, 0);
        let next = match op {
            // Started at the identity: every element folds alike.
            ReduceOp::Sum | ReduceOp::Prod | ReduceOp::Max | ReduceOp::Min
                if self.lanes.is_some() =>
            {
                self.reduce_step(op, ty, best, v)
            }
            // The first element replaces the identity (so a sum of -0.0 is -0.0, as NumPy's).
            ReduceOp::Sum | ReduceOp::Prod => {
                let bop = if op == ReduceOp::Sum {
                    BinaryOp::Add
                } else {
                    BinaryOp::Mul
                };
                let r = self.binary(bop, ty, best, v);
                self.b.ins().select(first, v, r)
            }
            ReduceOp::Any => self.b.ins().bor(best, v),
            ReduceOp::All => self.b.ins().band(best, v),
            ReduceOp::Max | ReduceOp::Min => {
                let bop = if op == ReduceOp::Max {
                    BinaryOp::Max
                } else {
                    BinaryOp::Min
                };
                let m = self.binary(bop, ty, best, v);
                self.b.ins().select(first, v, m)
            }
            ReduceOp::ArgMax | ReduceOp::ArgMin => {
                // A strictly better value, or a NaN when the best is not NaN, takes over.
                let beats = if op == ReduceOp::ArgMax {
                    BinaryOp::IeeeGt
                } else {
                    BinaryOp::IeeeLt
                };
                let better = self.binary(beats, ty, v, best);
                let take = if ty.is_float() {
                    let v_nan = self.b.ins().fcmp(FloatCC::Unordered, v, v);
                    let best_nan = self.b.ins().fcmp(FloatCC::Unordered, best, best);
                    let either = self.b.ins().bor(better, v_nan);
                    let not_best_nan = self.b.ins().bxor_imm_s(best_nan, 1);
                    self.b.ins().band(either, not_best_nan)
                } else {
                    better
                };
                let take = self.b.ins().bor(take, first);
                let at = self.b.use_var(acc.at);
                let new_at = self.b.ins().select(take, position, at);
                self.b.def_var(acc.at, new_at);
                self.b.ins().select(take, v, best)
            }
        };
        self.b.def_var(acc.value, next);
    }

    fn finish_accumulators(&mut self, accs: &[Accumulator], outs: &[Variable]) {
        let outputs = self.kernel.outputs.clone();
        for ((acc, id), &out) in accs.iter().zip(&outputs).zip(outs) {
            let Op::Reduce { op, arg, .. } = &self.kernel.node(*id).op else {
                unreachable!("supported")
            };
            let mut v = if matches!(op, ReduceOp::ArgMax | ReduceOp::ArgMin) {
                self.b.use_var(acc.at)
            } else {
                self.b.use_var(acc.value)
            };
            if let Some(vector) = acc.vector {
                // The partials pairwise, then the rest (`crate::tensor_lanes`).
                let partials = self.b.use_var(vector);
                let ty = self.kernel.ty(*arg);
                let lanes = self.lanes.expect("partials") as u8;
                let mut level: Vec<Value> = (0..lanes)
                    .map(|l| self.b.ins().extractlane(partials, l))
                    .collect();
                while level.len() > 1 {
                    level = level
                        .chunks(2)
                        .map(|pair| self.reduce_step(*op, ty, pair[0], pair[1]))
                        .collect();
                }
                v = self.reduce_step(*op, ty, level[0], v);
            }
            self.store(out, v, self.kernel.ty(*id));
        }
    }
}

/// A reduction's registers: the value so far, where it was found (ArgMin/ArgMax), the
/// position of the next element among the reduced ones, and the partials of a kernel that
/// runs at several lanes (`crate::tensor_lanes`).
#[derive(Debug, Clone, Copy)]
struct Accumulator {
    value: Variable,
    at: Variable,
    position: Variable,
    vector: Option<Variable>,
}
