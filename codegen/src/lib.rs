//! corepy's code generator: the kernel IR (typed SSA over columns and tensors) and its
//! renderers — Cranelift for the CPU, PTX for NVIDIA GPUs, and an interpreter that is the
//! executable specification the other two are tested against.
//!
//! The crate sits at the bottom of the pipeline and knows nothing of DataFusion plans or
//! Python: `planner` lowers fused plan regions to this IR, `engine` runs what it compiles.
//! It is empty until the fusion and JIT work lands; the workspace already wires it in so
//! that the dependency direction (codegen ← planner ← engine ← sql ← python) holds from
//! the start.
