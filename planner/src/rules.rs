//! corepy's logical optimizer rules, appended after DataFusion's own so that they see plans
//! whose predicates and projections are already pushed down.
//!
//! Each rule lives in a file of its own. The list is empty until the fusion rule lands (the
//! JIT work); the session already installs whatever this returns, so adding a rule here is
//! all it takes to make every query go through it.

use std::sync::Arc;

use datafusion::optimizer::OptimizerRule;

/// The rules, in the order they run.
pub fn optimizer_rules() -> Vec<Arc<dyn OptimizerRule + Send + Sync>> {
    Vec::new()
}
