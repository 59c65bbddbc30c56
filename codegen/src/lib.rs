//! corepy's code generator: the kernel IR (typed SSA over columns and tensors) and its
//! renderers — Cranelift for the CPU, an interpreter that is the executable specification
//! the others are tested against, and a pretty-printer for EXPLAIN. (A PTX renderer for
//! NVIDIA GPUs will read the same IR.)
//!
//! The crate sits at the bottom of the pipeline and knows nothing of DataFusion plans or
//! Python: `planner` lowers fused plan regions to this IR, `engine` runs what it compiles.

pub mod abi;
pub mod interp;
pub mod ir;
pub mod jit;
pub mod math;
pub mod pretty;
pub mod ptx;
pub mod semantics;
pub mod tensor_abi;
pub mod tensor_lanes;

#[cfg(test)]
mod testing;
