//! Fusion of row-wise work: the rule that finds fusable Filter/Projection regions, the
//! `FusedStage` node that replaces them, and the lowering of their expressions to kernels.

mod lower;
mod not_fused;
mod partial;
mod rule;
mod stage;

pub use lower::{lower_stage, scalar_type, Lowered, StageOutput};
pub use not_fused::{unfused_regions, NotFused};
pub use rule::FuseRowWise;
pub use stage::FusedStage;
