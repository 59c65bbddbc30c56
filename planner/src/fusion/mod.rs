//! Fusion of row-wise work: the rule that finds fusable Filter/Projection regions, the
//! `FusedStage` node that replaces them, and the lowering of their expressions to kernels;
//! before it, the rule that moves computed aggregate arguments into a fusable Projection.

mod aggregate_args;
mod conjuncts;
mod lower;
mod not_fused;
mod partial;
mod rule;
mod stacked;
mod stage;
mod string_test;

pub use aggregate_args::PushAggregateArguments;
pub use lower::{lower_stage, scalar_type, Lowered, StageInput, StageOutput};
pub use not_fused::{unfused_regions, NotFused};
pub use rule::FuseRowWise;
pub use stage::FusedStage;
pub use string_test::{is_string, StringTest};
