//! Finding a GPU without ever aborting: the CUDA driver is loaded at run time, and every
//! call that could panic in cudarc (no `libcuda`, a driver older than the symbols asked
//! for) runs under `catch_unwind`. The answer is cached per device for the process.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, OnceLock};

use cudarc::driver::{sys, CudaContext};

use super::runtime::Gpu;

/// What the driver says of one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuInfo {
    pub ordinal: usize,
    pub name: String,
    pub compute_capability: (i32, i32),
    pub memory_bytes: usize,
    pub multiprocessors: usize,
    /// The driver's CUDA version, e.g. 12080 for 12.8.
    pub driver_version: i32,
}

/// Why there is no GPU to run on: what is missing, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoGpu {
    /// `"driver"` (no usable CUDA driver) or `"device"` (no such device).
    pub missing: &'static str,
    pub message: String,
}

impl std::fmt::Display for NoGpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

type Probed = Result<Arc<Gpu>, NoGpu>;

/// The GPU `cuda:<ordinal>`, opened once per process; or why there is none.
pub fn gpu(ordinal: usize) -> Probed {
    static DEVICES: OnceLock<Mutex<HashMap<usize, Probed>>> = OnceLock::new();
    let devices = DEVICES.get_or_init(Default::default);
    let mut devices = devices.lock().unwrap_or_else(|e| e.into_inner());
    devices
        .entry(ordinal)
        .or_insert_with(|| open(ordinal))
        .clone()
}

fn no_driver(message: impl Into<String>) -> NoGpu {
    NoGpu {
        missing: "driver",
        message: message.into(),
    }
}

/// Runs a driver call that may panic in cudarc, as a `Result`.
fn guarded<T>(what: &str, call: impl FnOnce() -> T) -> Result<T, NoGpu> {
    catch_unwind(AssertUnwindSafe(call)).map_err(|panic| {
        let detail = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        no_driver(format!(
            "the CUDA driver could not be used ({what}: {detail}); corepy needs a driver for CUDA 12.8 or later"
        ))
    })
}

fn open(ordinal: usize) -> Probed {
    if std::env::var("COREPY_GPU").is_ok_and(|v| v == "0") {
        return Err(no_driver("the GPU is disabled (COREPY_GPU=0)"));
    }
    // SAFETY: only tries to dlopen the driver library.
    let present = guarded("loading libcuda", || unsafe { sys::is_culib_present() })?;
    if !present {
        return Err(no_driver(
            "no CUDA driver: libcuda.so could not be loaded (is an NVIDIA driver installed?)",
        ));
    }
    let count = guarded("counting devices", CudaContext::device_count)?
        .map_err(|e| no_driver(format!("the CUDA driver did not initialize: {e:?}")))?;
    if ordinal >= count.max(0) as usize {
        return Err(NoGpu {
            missing: "device",
            message: match count {
                0 => "no CUDA device: the driver sees no GPU".to_string(),
                n => format!(
                    "no device cuda:{ordinal}: the driver sees {n} (cuda:0 to cuda:{})",
                    n - 1
                ),
            },
        });
    }
    let context = guarded("creating a context", || CudaContext::new(ordinal))?.map_err(|e| {
        no_driver(format!(
            "cuda:{ordinal}: the context could not be created: {e:?}"
        ))
    })?;
    let info = guarded("reading the device's attributes", || {
        describe(&context, ordinal)
    })?
    .map_err(|e| no_driver(format!("cuda:{ordinal}: {e:?}")))?;
    Ok(Arc::new(Gpu::new(context, info)))
}

fn describe(
    context: &Arc<CudaContext>,
    ordinal: usize,
) -> Result<GpuInfo, cudarc::driver::DriverError> {
    let mut driver_version = 0;
    // SAFETY: writes one int.
    unsafe { sys::cuDriverGetVersion(&mut driver_version) }.result()?;
    // SAFETY: the device handle is the context's own.
    let memory_bytes = unsafe { cudarc::driver::result::device::total_mem(context.cu_device()) }?;
    let multiprocessors = context
        .attribute(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)?
        .max(1) as usize;
    Ok(GpuInfo {
        ordinal,
        name: context.name()?,
        compute_capability: context.compute_capability()?,
        memory_bytes,
        multiprocessors,
        driver_version,
    })
}
