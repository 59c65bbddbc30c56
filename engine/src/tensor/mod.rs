//! Realizing tensors: the planner's [`Program`] run step by step into fresh 64-byte-aligned
//! buffers — fused kernels, matrix products through the `gemm` crate, concatenations — and
//! `explain`, the graph and its steps as text.

mod concat;
pub mod create;
pub mod kernels;
mod matmul;

use corepy_codegen::abi::RunError;
use corepy_codegen::tensor_abi::{TensorIn, TensorOut};
use corepy_planner::tensor::explain::explain as explain_text;
use corepy_planner::tensor::{plan, Buffer, Program, Slot, Step, Tensor, TensorData};
use corepy_planner::{CorepyError, Result};

/// The tensor's values (a view of existing data when it is one); kernels compiled unless
/// `COREPY_JIT=0`.
pub fn realize(tensor: &Tensor) -> Result<TensorData> {
    realize_with(tensor, crate::session::jit_default())
}

/// [`realize`], choosing the JIT (`jit`) or the interpreter for every kernel.
pub fn realize_with(tensor: &Tensor, jit: bool) -> Result<TensorData> {
    if let Some(data) = tensor.data() {
        return Ok(data.clone());
    }
    let program = plan(tensor)?;
    let outputs = run(&program, jit)?;
    let result = &program.result;
    let buffer = match result.slot {
        Slot::Source(i) => program.sources[i].buffer.clone(),
        Slot::Step(i) => outputs[i].clone(),
    };
    Ok(TensorData {
        buffer,
        dtype: program.dtype,
        shape: result.view.shape.clone(),
        strides: result.view.strides.clone(),
        offset: result.view.offset.max(0) as usize,
    })
}

/// The graph and the steps that realize it; `kernels`: with each kernel's IR.
pub fn explain(tensor: &Tensor, kernels: bool) -> Result<String> {
    let program = plan(tensor)?;
    let clif = |i: usize| match &program.steps[i].step {
        Step::Kernel { kernel, .. } => Some(match kernels::compiled(kernel) {
            Ok(compiled) => format!(
                "Cranelift IR (compiled in {:.2} ms):\n{}",
                compiled.compile_time().as_secs_f64() * 1e3,
                compiled.clif()
            ),
            Err(why) => format!("not compiled (runs in the interpreter): {why}"),
        }),
        _ => None,
    };
    Ok(explain_text(tensor, &program, kernels, &clif))
}

/// Runs every step; the buffer each wrote.
fn run(program: &Program, jit: bool) -> Result<Vec<Buffer>> {
    let mut outputs: Vec<Buffer> = Vec::with_capacity(program.steps.len());
    for planned in &program.steps {
        let bytes = planned.shape.iter().product::<usize>() * planned.dtype.size();
        // Every step writes all of its output.
        let (buffer, mut writer) = Buffer::for_overwrite(bytes);
        let slot_bytes = |slot: Slot| -> &[u8] {
            match slot {
                Slot::Source(i) => program.sources[i].buffer.as_slice(),
                Slot::Step(i) => outputs[i].as_slice(),
            }
        };
        match &planned.step {
            Step::Kernel { kernel, inputs, .. } => {
                let ins: Vec<TensorIn<'_>> = inputs
                    .iter()
                    .map(|&(slot, offset)| TensorIn {
                        bytes: slot_bytes(slot),
                        offset,
                    })
                    .collect();
                let mut outs = [TensorOut {
                    bytes: writer.as_mut_slice(),
                }];
                kernels::run(kernel, &ins, &mut outs, jit).map_err(kernel_error)?;
            }
            Step::MatMul { a, b } => matmul::matmul(
                (slot_bytes(a.slot), &a.view),
                (slot_bytes(b.slot), &b.view),
                planned.dtype,
                writer.as_mut_slice(),
            )?,
            Step::Resize { input, spec } => {
                let view = &input.view;
                let shape: [usize; 4] = view.shape.clone().try_into().map_err(|_| {
                    CorepyError::internal("a resize step reads [images, height, width, channels]")
                })?;
                let at = view.offset as usize * planned.dtype.size();
                let len = shape.iter().product::<usize>() * planned.dtype.size();
                let bytes = slot_bytes(input.slot).get(at..at + len).ok_or_else(|| {
                    CorepyError::internal("a resize step's input lies outside its buffer")
                })?;
                crate::vision::resize_images(
                    bytes,
                    shape,
                    planned.dtype,
                    spec.size,
                    (spec.method, spec.antialias),
                    writer.as_mut_slice(),
                )?
            }
            Step::Concat { axis, parts } => {
                let parts: Vec<_> = parts
                    .iter()
                    .map(|p| (slot_bytes(p.slot), &p.view))
                    .collect();
                concat::concat(
                    &parts,
                    *axis,
                    planned.dtype,
                    &planned.shape,
                    writer.as_mut_slice(),
                )
            }
        }
        drop(writer);
        outputs.push(buffer);
    }
    Ok(outputs)
}

fn kernel_error(error: RunError) -> CorepyError {
    match error {
        RunError::BadBuffers(m) => CorepyError::internal(format!("tensor kernel buffers: {m}")),
        RunError::Failed(f) => CorepyError::internal(format!("a tensor kernel failed: {f:?}")),
    }
}
