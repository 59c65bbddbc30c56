//! Partial aggregations folded into the fused stage under them: the plan of which
//! aggregates fold and into which state columns (`plan.rs`), the operator that runs the
//! folding kernel (`exec.rs`), its state as DataFusion's partial-aggregate batches
//! (`output.rs`), string keys as dictionary ids (`dictionary.rs`), the way back to
//! DataFusion's aggregation for many groups (`fallback.rs`) and the physical rule that puts
//! it in place (`rule.rs`).

mod dense;
mod dictionary;
mod exec;
mod fallback;
mod output;
mod plan;
mod rule;

pub use exec::JitAggregateExec;
pub use fallback::Fallback;
pub use plan::{plan_fold, FoldPlan, Source, StateColumn};
pub use rule::FoldAggregates;
