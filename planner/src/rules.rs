//! corepy's logical optimizer rules, appended after DataFusion's own so that they see plans
//! whose predicates and projections are already pushed down. Each rule lives in a file of
//! its own.

use std::sync::Arc;

use datafusion::optimizer::OptimizerRule;

use crate::fusion::FuseRowWise;

/// The rules, in the order they run; `jit: false` leaves plans unfused.
pub fn optimizer_rules(jit: bool) -> Vec<Arc<dyn OptimizerRule + Send + Sync>> {
    let mut rules: Vec<Arc<dyn OptimizerRule + Send + Sync>> = Vec::new();
    if jit {
        rules.push(Arc::new(FuseRowWise));
    }
    rules
}
