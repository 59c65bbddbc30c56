//! The GPU: finding one (`probe`), running kernels on it (`runtime`, with the buffers each
//! run needs planned in `buffers`), where each stage runs
//! (`placement`, `stage`), the PTX modules rendered (`modules`, with `COREPY_DUMP_PTX`) and
//! the warnings a fallback leaves for the Python layer (`warnings`).
//!
//! Everything here builds and runs with no CUDA installed: the driver is loaded at run time
//! and its absence is an answer ("no GPU: …"), never a crash.

pub mod buffers;
pub mod modules;
pub mod placement;
pub mod probe;
pub mod runtime;
pub mod selftest;
pub mod stage;
pub mod warnings;

pub use placement::{Device, Fallback, GpuOptions, Placement};
pub use probe::{gpu, GpuInfo, NoGpu};
pub use runtime::{Gpu, GpuRunError, Transfer};
