//! The Cranelift renderer: compiles a kernel into one native function that runs a whole
//! batch in a single pass, 64 rows per chunk, with no calls out of the loop.

mod emit;
mod frame;
mod schedule;
mod split;
mod staged;
mod tensor;

pub use tensor::{compile_tensor, supports_tensor, JitTensorKernel};

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use cranelift_codegen::ir::{types, AbiParam, UserFuncName};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, FuncId, Module};
use parking_lot::Mutex;

use crate::abi::{
    check_buffers, values_bytes, ColumnIn, ColumnOut, Failure, FailureKind, RunError, CHUNK,
};
use crate::ir::{desugar, BinaryOp, Dim, Kernel, Layout, Op, ScalarType, ValueId};
use frame::*;

/// Why the JIT does not compile a kernel (the caller falls back to another evaluator).
pub fn supports(kernel: &Kernel) -> Result<(), String> {
    kernel.validate()?;
    if kernel.domain.dims != [Dim::Rows] {
        return Err("only one-dimensional row kernels are compiled yet".into());
    }
    if kernel.inputs.iter().any(|i| i.layout != Layout::Contiguous) {
        return Err("only contiguous inputs are compiled yet".into());
    }
    for node in &kernel.nodes {
        let tensor_only = match &node.op {
            Op::Unary(op, _) => op.is_tensor_only(),
            Op::Binary(op, _, _) => op.is_tensor_only(),
            Op::Reduce { .. } => true,
            _ => false,
        };
        if tensor_only {
            return Err(format!("{:?} is compiled only in tensor kernels", node.op));
        }
        if let Op::Binary(BinaryOp::Rem, _, _) = node.op {
            if node.ty.is_float() {
                return Err("float % needs fmod, which would be a call out of the loop".into());
            }
        }
    }
    Ok(())
}

type KernelFn = unsafe extern "C" fn(*mut u64) -> i64;

// A call's validity words for inputs without a bitmap come from `ALL_VALID`.
const _: () = assert!(split::GROUP_CHUNKS <= MAX_CALL_CHUNKS);

/// One compiled function over a range of chunks.
struct Pass {
    function: KernelFn,
    /// For each node of the kernel this pass compiled, the node of the user's kernel it
    /// computes (for errors).
    origin: Vec<Option<ValueId>>,
    inputs: usize,
    outputs: usize,
}

/// A compiled kernel. Its machine code lives as long as this value: dropping it frees the
/// code (Cranelift's JIT module does not on its own).
pub struct JitKernel {
    /// One pass, or (filtering kernels with outputs) the selection pass and the output pass,
    /// run group by group (see [`split`]).
    passes: Vec<Pass>,
    module: Mutex<Option<JITModule>>,
    kernel: Kernel,
    clif: String,
    compile_time: Duration,
}

// SAFETY: the function pointers refer to immutable machine code owned by `module`, which is
// only touched again in `Drop`; running the code is reentrant (it keeps its state on the
// stack and in the frame each call passes).
unsafe impl Sync for JitKernel {}
unsafe impl Send for JitKernel {}

impl std::fmt::Debug for JitKernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JitKernel")
            .field("passes", &self.passes.len())
            .field("compile_time", &self.compile_time)
            .finish()
    }
}

impl Drop for JitKernel {
    fn drop(&mut self) {
        if let Some(module) = self.module.lock().take() {
            // SAFETY: the passes point into this module and die with `self`; no call can be
            // running, since calls borrow `self`.
            unsafe { module.free_memory() };
        }
    }
}

fn host_isa() -> Result<OwnedTargetIsa, String> {
    static ISA: OnceLock<Result<OwnedTargetIsa, String>> = OnceLock::new();
    ISA.get_or_init(|| {
        let mut flags = settings::builder();
        let set = |f: &mut settings::Builder, k: &str, v: &str| {
            f.set(k, v)
                .map_err(|e| format!("cranelift setting {k}: {e}"))
        };
        set(&mut flags, "opt_level", "speed")?;
        set(&mut flags, "is_pic", "false")?;
        set(&mut flags, "use_colocated_libcalls", "false")?;
        let builder = cranelift_native::builder().map_err(|e| format!("host ISA: {e}"))?;
        builder
            .finish(settings::Flags::new(flags))
            .map_err(|e| format!("host ISA: {e}"))
    })
    .clone()
}

/// Compiles `kernel` for this machine.
pub fn compile(kernel: &Kernel) -> Result<JitKernel, String> {
    supports(kernel)?;
    let start = Instant::now();
    let (lowered, origin) = desugar(kernel);
    let isa = host_isa()?;
    let mut module = JITModule::new(JITBuilder::with_isa(isa, default_libcall_names()));
    // (kernel, origin in the user's kernel, title in EXPLAIN) per pass.
    let parts: Vec<(Kernel, Vec<Option<ValueId>>, &str)> = match split::split(&lowered) {
        Some(s) => {
            let through = |o: Option<ValueId>| o.and_then(|o| origin[o.index()]);
            vec![
                (
                    s.select,
                    s.select_origin
                        .into_iter()
                        .map(|o| through(Some(o)))
                        .collect(),
                    "selection pass (every row)",
                ),
                (
                    s.output,
                    s.output_origin.into_iter().map(through).collect(),
                    "output pass (kept rows)",
                ),
            ]
        }
        None => vec![(lowered, origin, "")],
    };
    let mut ids = Vec::new();
    let mut clif = String::new();
    for (part, _, title) in &parts {
        let (id, text) = define(&mut module, part)?;
        if !title.is_empty() {
            clif.push_str(&format!("; {title}\n"));
        }
        clif.push_str(&text);
        ids.push(id);
    }
    module.finalize_definitions().map_err(|e| e.to_string())?;
    let passes = parts
        .into_iter()
        .zip(ids)
        .map(|((part, origin, _), id)| {
            let code = module.get_finalized_function(id);
            Pass {
                // SAFETY: `define` built the function with the signature `fn(*mut u64) -> i64`.
                function: unsafe { std::mem::transmute::<*const u8, KernelFn>(code) },
                origin,
                inputs: part.inputs.len(),
                outputs: part.outputs.len(),
            }
        })
        .collect();
    Ok(JitKernel {
        passes,
        module: Mutex::new(Some(module)),
        kernel: kernel.clone(),
        clif,
        compile_time: start.elapsed(),
    })
}

/// Declares and defines the function of one desugared kernel; returns it and its Cranelift IR.
fn define(module: &mut JITModule, kernel: &Kernel) -> Result<(FuncId, String), String> {
    let plan = schedule::schedule(kernel);
    let mut signature = module.make_signature();
    signature.params.push(AbiParam::new(types::I64));
    signature.returns.push(AbiParam::new(types::I64));
    let id = module
        .declare_anonymous_function(&signature)
        .map_err(|e| e.to_string())?;
    let mut ctx = module.make_context();
    ctx.func.signature = signature;
    ctx.func.name = UserFuncName::user(0, id.as_u32());
    let mut builder_context = FunctionBuilderContext::new();
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut builder_context);
        emit::emit(&mut b, kernel, &plan);
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
    Ok((id, clif))
}

/// Where one call's inputs are: each column's values and validity (0: none).
type Pointers = Vec<(u64, u64)>;

impl JitKernel {
    /// The Cranelift IR of the kernel's functions, as EXPLAIN shows it.
    pub fn clif(&self) -> &str {
        &self.clif
    }

    pub fn compile_time(&self) -> Duration {
        self.compile_time
    }

    pub fn kernel(&self) -> &Kernel {
        &self.kernel
    }

    /// Runs the kernel over `rows` rows (see [`crate::interp::run`] for the contract).
    pub fn run(
        &self,
        inputs: &[ColumnIn<'_>],
        rows: usize,
        outputs: &mut [ColumnOut<'_>],
        selection: Option<&mut [u8]>,
    ) -> Result<usize, RunError> {
        if !self.kernel.aggregates.is_empty() || !self.kernel.group_keys.is_empty() {
            return Err(RunError::BadBuffers(
                "a kernel with aggregates runs through `run_aggregating` or `run_grouping`".into(),
            ));
        }
        check_buffers(&self.kernel, inputs, rows, outputs, selection.as_deref())?;
        let selection_ptr = selection.map_or(0, |s| s.as_mut_ptr() as u64);
        self.run_frames(inputs, rows, outputs, selection_ptr, 0)
    }

    /// Runs an aggregating kernel over `rows` rows, folding the kept rows into `state`
    /// (see [`crate::interp::run_aggregating`] for the contract).
    pub fn run_aggregating(
        &self,
        inputs: &[ColumnIn<'_>],
        rows: usize,
        state: &mut crate::aggregate::AggregateState,
    ) -> Result<(), RunError> {
        crate::interp::check_state(&self.kernel, state)?;
        check_buffers(&self.kernel, inputs, rows, &[], None)?;
        let state_ptr = state.slots_mut().as_mut_ptr() as u64;
        self.run_frames(inputs, rows, &mut [], 0, state_ptr)
            .map(|_| ())
    }

    /// Runs a grouping kernel over `rows` rows, folding the kept rows into their groups in
    /// `table` (see [`crate::interp::run_grouping`] for the contract).
    pub fn run_grouping(
        &self,
        inputs: &[ColumnIn<'_>],
        rows: usize,
        table: &mut crate::groups::GroupTable,
    ) -> Result<(), RunError> {
        crate::interp::check_table(&self.kernel, table, rows)?;
        check_buffers(&self.kernel, inputs, rows, &[], None)?;
        let descriptor = table.descriptor_mut().as_mut_ptr() as u64;
        let result = self.run_frames(inputs, rows, &mut [], 0, descriptor);
        // (The groups a failed call started are kept: the query fails anyway.)
        table.after_run();
        result.map(|_| ())
    }

    /// Runs the passes over every chunk of the checked buffers.
    fn run_frames(
        &self,
        inputs: &[ColumnIn<'_>],
        rows: usize,
        outputs: &mut [ColumnOut<'_>],
        selection_ptr: u64,
        state_ptr: u64,
    ) -> Result<usize, RunError> {
        let mut frames: Vec<Vec<u64>> = self
            .passes
            .iter()
            .map(|p| vec![0u64; frame_len(p.inputs, p.outputs)])
            .collect();
        for (pass, frame) in self.passes.iter().zip(&mut frames) {
            frame[STATE] = state_ptr;
            let first_output = IO + 2 * pass.inputs;
            for (j, column) in outputs.iter_mut().take(pass.outputs).enumerate() {
                frame[first_output + 2 * j] = column.values_ptr() as u64;
                frame[first_output + 2 * j + 1] = column.validity.as_mut_ptr() as u64;
            }
            frame[SELECTION] = selection_ptr;
        }
        let full = rows / CHUNK;
        let rest = rows % CHUNK;
        let group = if self.passes.len() > 1 {
            split::GROUP_CHUNKS
        } else {
            MAX_CALL_CHUNKS
        };
        for first in (0..full).step_by(group) {
            let pointers = inputs
                .iter()
                .zip(&self.kernel.inputs)
                .map(|(column, decl)| {
                    let values =
                        column.values.as_ptr() as usize + values_bytes(decl.ty, first * CHUNK);
                    let validity = column.validity.map_or(ALL_VALID.as_ptr() as usize, |v| {
                        v.as_ptr() as usize + first * 8
                    });
                    (values as u64, validity as u64)
                })
                .collect();
            self.call_passes(
                &mut frames,
                &pointers,
                first,
                group.min(full - first),
                u64::MAX,
            )?;
        }
        if rest > 0 {
            // The last, partial chunk runs on zero-padded copies of the inputs' tails, so
            // that the kernel never reads past a buffer; its rows past the end are not live.
            let tails: Vec<Tail> = inputs
                .iter()
                .zip(&self.kernel.inputs)
                .map(|(column, decl)| Tail::copy(column, decl.ty, full, rest))
                .collect();
            let pointers = tails
                .iter()
                .map(|t| {
                    let validity = t
                        .validity
                        .as_ref()
                        .map_or(ALL_VALID.as_ptr(), |v| v.as_ptr() as *const u64);
                    (t.values.as_ptr() as u64, validity as u64)
                })
                .collect();
            self.call_passes(&mut frames, &pointers, full, 1, (1u64 << rest) - 1)?;
        }
        Ok(if self.kernel.selection.is_some() {
            frames.last().expect("one pass at least")[COUNT] as usize
        } else {
            rows
        })
    }

    /// Runs every pass over chunks `first .. first + chunks`, whose inputs are at `pointers`.
    fn call_passes(
        &self,
        frames: &mut [Vec<u64>],
        pointers: &Pointers,
        first: usize,
        chunks: usize,
        live: u64,
    ) -> Result<(), RunError> {
        for (pass, frame) in self.passes.iter().zip(frames.iter_mut()) {
            for (i, &(values, validity)) in pointers.iter().enumerate() {
                frame[IO + 2 * i] = values;
                frame[IO + 2 * i + 1] = validity;
            }
            if pass.inputs > pointers.len() {
                // The output pass reads the words the selection pass has just written.
                frame[IO + 2 * pointers.len()] = frame[SELECTION] + (first * 8) as u64;
                frame[IO + 2 * pointers.len() + 1] = ALL_VALID.as_ptr() as u64;
            }
            frame[N_CHUNKS] = chunks as u64;
            frame[LIVE] = live;
            frame[CHUNK_BASE] = first as u64;
            self.call(pass, frame)?;
        }
        Ok(())
    }

    fn call(&self, pass: &Pass, frame: &mut [u64]) -> Result<(), RunError> {
        // SAFETY: `check_buffers` established that every buffer in the frame holds the rows
        // the kernel touches (outputs and the selection padded to whole chunks, tails copied).
        let status = unsafe { (pass.function)(frame.as_mut_ptr()) };
        if status == 0 {
            return Ok(());
        }
        let kind = match frame[ERR_KIND] as i64 {
            KIND_DIVIDE_BY_ZERO => FailureKind::DivideByZero,
            KIND_NEGATIVE_SQRT => FailureKind::NegativeSqrt,
            _ => FailureKind::Overflow,
        };
        let compiled = frame[ERR_NODE] as usize;
        let node = match pass.origin.get(compiled) {
            Some(origin) => origin.unwrap_or(ValueId(compiled as u32)),
            // Past the nodes: aggregate `compiled - nodes` failed.
            None => ValueId((self.kernel.nodes.len() + compiled - pass.origin.len()) as u32),
        };
        Err(RunError::Failed(Failure {
            kind,
            node,
            row: frame[ERR_ROW] as usize,
        }))
    }
}

/// The last partial chunk of one input, zero-padded to a whole chunk.
struct Tail {
    values: Vec<u8>,
    validity: Option<Vec<u8>>,
}

impl Tail {
    fn copy(column: &ColumnIn<'_>, ty: ScalarType, full: usize, rest: usize) -> Tail {
        let start_row = full * CHUNK;
        let values = if ty == ScalarType::Bool {
            bits_tail(column.values, full, rest)
        } else {
            let w = ty.byte_width();
            let mut v = vec![0u8; CHUNK * w];
            v[..rest * w].copy_from_slice(&column.values[start_row * w..(start_row + rest) * w]);
            v
        };
        let validity = column.validity.map(|bits| bits_tail(bits, full, rest));
        Tail { values, validity }
    }
}

/// The bits of rows `full * 64 ..` of a bitmap, in one zero-padded word.
fn bits_tail(bits: &[u8], full: usize, rest: usize) -> Vec<u8> {
    let mut word = vec![0u8; 8];
    let bytes = rest.div_ceil(8);
    word[..bytes].copy_from_slice(&bits[full * 8..full * 8 + bytes]);
    word
}

/// Shared, cheaply cloned handle to a compiled kernel.
pub type SharedKernel = Arc<JitKernel>;

#[cfg(test)]
mod aggregate_tests;
#[cfg(test)]
mod staged_tests;
#[cfg(test)]
pub(crate) mod tensor_tests;
#[cfg(test)]
mod tests;
