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

use crate::gpu::placement::StageCost;
use crate::gpu::stage::{fall_back, place};
use crate::gpu::{Device, Fallback, GpuOptions, GpuRunError, Placement};

/// The tensor's values (a view of existing data when it is one); kernels compiled unless
/// `COREPY_JIT=0`.
pub fn realize(tensor: &Tensor) -> Result<TensorData> {
    realize_with(tensor, crate::session::jit_default())
}

/// [`realize`], choosing the JIT (`jit`) or the interpreter for every kernel.
pub fn realize_with(tensor: &Tensor, jit: bool) -> Result<TensorData> {
    realize_on(tensor, jit, GpuOptions::default())
}

/// [`realize`] with the kernels placed by `gpu` (a GPU, the CPU, or `auto`); matrix
/// products, resampling and concatenation run on the CPU.
pub fn realize_on(tensor: &Tensor, jit: bool, gpu: GpuOptions) -> Result<TensorData> {
    if let Some(data) = tensor.data() {
        return Ok(data.clone());
    }
    let program = plan(tensor)?;
    let outputs = run(&program, jit, gpu)?;
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

/// The graph and the steps that realize it; `kernels`: with each kernel's IR (and its PTX
/// when `device` asks for a GPU, which needs none to render it).
pub fn explain(tensor: &Tensor, kernels: bool, device: Placement) -> Result<String> {
    let program = plan(tensor)?;
    let options = GpuOptions {
        placement: device,
        fallback: Fallback::Silent,
    };
    let clif = |i: usize| match &program.steps[i].step {
        Step::Kernel { kernel, .. } => {
            let mut text = match kernels::compiled(kernel) {
                Ok(compiled) => format!(
                    "Cranelift IR (compiled in {:.2} ms):\n{}",
                    compiled.compile_time().as_secs_f64() * 1e3,
                    compiled.clif()
                ),
                Err(why) => format!("not compiled (runs in the interpreter): {why}"),
            };
            if device != Placement::On(Device::Cpu) {
                let placed =
                    place(kernel, &format!("step{i}"), options, || tensor_cost(kernel)).ok();
                match placed.and_then(|p| p.module.map(|m| (p.device, p.why, m))) {
                    Some((device, why, module)) => {
                        text.push_str(&format!("\nPTX ({device}; {why}):\n{}", module.text))
                    }
                    None => text.push_str(&format!(
                        "\nPTX: not rendered ({})",
                        corepy_codegen::ptx::render(kernel, "k")
                            .err()
                            .unwrap_or_default()
                    )),
                }
            }
            Some(text)
        }
        _ => None,
    };
    Ok(explain_text(tensor, &program, kernels, &clif))
}

/// What moving a tensor kernel to the GPU costs (its inputs are in host memory).
fn tensor_cost(kernel: &corepy_codegen::ir::Kernel) -> StageCost {
    let elements: usize = corepy_codegen::tensor_abi::extents(kernel).iter().product();
    let width = |ty: corepy_codegen::ir::ScalarType| ty.byte_width().max(1);
    StageCost {
        bytes_in_per_row: kernel.inputs.iter().map(|i| width(i.ty)).sum(),
        bytes_out_per_row: kernel.outputs.iter().map(|o| width(kernel.ty(*o))).sum(),
        rows: elements,
        ops_per_row: kernel.nodes.len(),
        resident: false,
    }
}

/// Runs one kernel step where `gpu` places it: on a GPU, falling back to the CPU per the
/// policy when the device fails; else on the CPU.
fn run_kernel(
    index: usize,
    kernel: &corepy_codegen::ir::Kernel,
    ins: &[TensorIn<'_>],
    outs: &mut [TensorOut<'_>],
    jit: bool,
    gpu: GpuOptions,
) -> Result<()> {
    let stage = format!("tensor step{index}");
    let placed = place(kernel, &stage, gpu, || tensor_cost(kernel))?;
    if let (Some(device), Some(module)) = (&placed.gpu, &placed.module) {
        match device.run_tensor(kernel, module, ins, outs) {
            Ok(_) => return Ok(()),
            Err(GpuRunError::Kernel(e)) => return Err(kernel_error(e)),
            Err(GpuRunError::Device(why)) => {
                fall_back(gpu.fallback, &stage, &why, None)?;
            }
        }
    }
    kernels::run(kernel, ins, outs, jit).map_err(kernel_error)
}

/// Runs every step; the buffer each wrote.
fn run(program: &Program, jit: bool, gpu: GpuOptions) -> Result<Vec<Buffer>> {
    let mut outputs: Vec<Buffer> = Vec::with_capacity(program.steps.len());
    for (index, planned) in program.steps.iter().enumerate() {
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
                run_kernel(index, kernel, &ins, &mut outs, jit, gpu)?;
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
