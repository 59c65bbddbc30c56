//! Tensors: a lazy n-d graph with NumPy's semantics, lowered to the same kernel IR as the
//! frames' fused stages.
//!
//! * [`dtype`] — element types and NumPy's promotion (NEP 50 for Python scalars);
//! * [`data`] — realized data: 64-byte-aligned buffers or memory of another library, with
//!   shape, strides and offset; its memory comes from [`crate::memory`] (huge pages, a
//!   bounded pool of freed large buffers);
//! * [`graph`] and [`build`] — the nodes, and their construction with shape and dtype
//!   checks (broadcasting, axes, reshape sizes);
//! * [`view`] — views as stride arithmetic;
//! * [`program`] — the lowering: fusion, view folding and realization boundaries, giving
//!   the steps that realize a tensor; [`simplify`] — the kernels' domains made minimal;
//! * [`resize`] — images resampled (a step the engine runs through a resampling library);
//! * [`explain`] — the graph and its steps as text.

pub mod build;
pub mod data;
pub mod dtype;
pub mod explain;
pub mod graph;
pub mod program;
pub mod resize;
pub mod simplify;
pub mod view;

pub use build::{broadcast_shapes, Index};
pub use data::{Buffer, BufferWriter, TensorData};
pub use dtype::{DType, PyScalar};
pub use graph::{BinaryFn, Kind, ReduceFn, Tensor, UnaryFn};
pub use program::{plan, Operand, Planned, Program, Slot, Step};
pub use resize::{Resize, ResizeMethod};

#[cfg(test)]
mod tests;
