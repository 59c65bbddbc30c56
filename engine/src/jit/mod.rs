//! Running fused stages: the `JitExec` operator, its planner and the kernel cache.

pub mod aggregate;
pub mod arrays;
pub mod cache;
pub mod exec;
pub mod planner;
pub mod stream;

pub use cache::kernel_cache;
pub use exec::JitExec;
pub use planner::FusedStagePlanner;

use std::sync::Arc;

use datafusion::physical_plan::ExecutionPlan;

/// The kernel IR and Cranelift IR of every fused stage in a physical plan.
pub fn kernel_listings(plan: &Arc<dyn ExecutionPlan>) -> String {
    let mut out = String::new();
    collect_listings(plan, &mut out);
    if out.is_empty() {
        out.push_str("(no fused stages)\n");
    }
    out
}

fn collect_listings(plan: &Arc<dyn ExecutionPlan>, out: &mut String) {
    if let Some(exec) = plan.downcast_ref::<JitExec>() {
        out.push_str(&exec.kernel_listing());
    }
    if let Some(exec) = plan.downcast_ref::<aggregate::JitAggregateExec>() {
        out.push_str(&exec.kernel_listing());
    }
    for child in plan.children() {
        collect_listings(child, out);
    }
}
