//! Where one stage runs, and why: the requested placement checked against what can run on
//! the GPU (its kernel rendered to PTX, a device present), the fallback policy applied when
//! it cannot, and the `auto` cost model.

use std::sync::Arc;

use corepy_codegen::ir::Kernel;
use corepy_codegen::ptx::PtxModule;
use corepy_planner::{CorepyError, Result};

use super::placement::{choose, Device, Fallback, GpuOptions, Placement, StageCost};
use super::runtime::Gpu;

/// A stage's placement.
#[derive(Debug, Clone)]
pub struct Placed {
    pub device: Device,
    /// Why it runs there, for EXPLAIN.
    pub why: String,
    /// The stage's PTX when it was asked for on the GPU (shown by EXPLAIN even where no
    /// GPU is present).
    pub module: Option<Arc<PtxModule>>,
    /// The device to run on, when it is a GPU.
    pub gpu: Option<Arc<Gpu>>,
}

impl Default for Placed {
    fn default() -> Self {
        Placed::cpu("device=cpu", None)
    }
}

impl Placed {
    fn cpu(why: impl Into<String>, module: Option<Arc<PtxModule>>) -> Self {
        Placed {
            device: Device::Cpu,
            why: why.into(),
            module,
            gpu: None,
        }
    }
}

/// What moving a row kernel's batches to the GPU costs (nothing is resident yet: a fused
/// stage's input comes from a CPU operator).
pub fn row_stage_cost(kernel: &Kernel, batch_rows: usize) -> StageCost {
    let width = |ty: corepy_codegen::ir::ScalarType| ty.byte_width().max(1);
    StageCost {
        bytes_in_per_row: kernel.inputs.iter().map(|i| width(i.ty)).sum(),
        bytes_out_per_row: kernel.outputs.iter().map(|o| width(kernel.ty(*o))).sum(),
        rows: batch_rows,
        ops_per_row: kernel.nodes.len(),
        resident: false,
    }
}

/// Places the stage `stage` (named for warnings and errors) whose kernel is `kernel`.
pub fn place(
    kernel: &Kernel,
    stage: &str,
    options: GpuOptions,
    cost: impl FnOnce() -> StageCost,
) -> Result<Placed> {
    let ordinal = match options.placement {
        Placement::On(Device::Cpu) => return Ok(Placed::cpu("device=cpu", None)),
        Placement::On(Device::Cuda(n)) => n,
        Placement::Auto => 0,
    };
    let auto = options.placement == Placement::Auto;
    let module = match super::modules::ptx_module(kernel) {
        Ok(m) => m,
        Err(reason) if auto => {
            return Ok(Placed::cpu(
                format!("auto: not rendered for the GPU ({reason})"),
                None,
            ))
        }
        Err(reason) => {
            return fall_back(
                options.fallback,
                stage,
                &format!("its kernel is not rendered for the GPU: {reason}"),
                None,
            )
        }
    };
    let gpu = match super::probe::gpu(ordinal) {
        Ok(g) => g,
        Err(no) if auto => return Ok(Placed::cpu(format!("auto: no GPU ({no})"), Some(module))),
        Err(no) => {
            return fall_back(
                options.fallback,
                stage,
                &format!("no GPU ({}: {no})", no.missing),
                Some(module),
            )
        }
    };
    let device = Device::Cuda(ordinal);
    if auto {
        let (chosen, why) = choose(&cost(), Some(device));
        if chosen == Device::Cpu {
            return Ok(Placed::cpu(why, Some(module)));
        }
        return Ok(Placed {
            device,
            why,
            module: Some(module),
            gpu: Some(gpu),
        });
    }
    Ok(Placed {
        device,
        why: format!("device={device} (requested)"),
        module: Some(module),
        gpu: Some(gpu),
    })
}

/// A stage the GPU cannot take: an error (`raise`), or the CPU with a warning (`warn`) or
/// without one (`silent`).
pub fn fall_back(
    policy: Fallback,
    stage: &str,
    reason: &str,
    module: Option<Arc<PtxModule>>,
) -> Result<Placed> {
    match policy {
        Fallback::Raise => Err(CorepyError::Device {
            message: format!("{stage} cannot run on the GPU: {reason} (gpu_fallback=\"raise\")"),
        }),
        Fallback::Warn | Fallback::Silent => {
            if policy == Fallback::Warn {
                super::warnings::warn(format!("{stage} runs on the CPU: {reason}"));
            }
            Ok(Placed::cpu(
                format!("device=cpu (fell back from the GPU: {reason})"),
                module,
            ))
        }
    }
}
