//! corepy's code generator: the kernel IR (typed SSA over columns and tensors) and its
//! renderers — Cranelift for the CPU, an interpreter that is the executable specification
//! the others are tested against, PTX for NVIDIA GPUs (`ptx`), and a pretty-printer for
//! EXPLAIN.
//!
//! The crate sits at the bottom of the pipeline and knows nothing of DataFusion plans or
//! Python: `planner` lowers fused plan regions to this IR, `engine` runs what it compiles.

pub mod abi;
pub mod aggregate;
pub mod groups;
pub mod interp;
pub mod ir;
pub mod jit;
pub mod math;
pub mod pretty;
pub mod ptx;
pub mod semantics;
pub mod tensor_abi;
pub mod tensor_lanes;

/// Random kernels and data for differential tests (used by the GPU self-test too).
pub mod testing;
