//! corepy's logical rules, appended after DataFusion's own: analyzer rules see plans whose
//! types are coerced, optimizer rules plans whose predicates and projections are already
//! pushed down. Each rule lives in a file of its own.

use std::sync::Arc;

use datafusion::optimizer::{AnalyzerRule, OptimizerRule};

use crate::checked::CheckOverflow;
use crate::dml::SealDml;
use crate::eager_aggregate::{AggregateBelowJoin, AggregateFromHavingSubquery};
use crate::exists_in_one_pass::ExistsInOnePass;
use crate::fusion::{FuseRowWise, PushAggregateArguments};
use crate::join_order::OrderInnerJoins;
use crate::scalar_subquery::{
    CorrelatedAggregateAsWindow, JoinedAggregateAsWindow, ScalarSubqueryAsWindow,
    ScalarSubqueryOverGroups,
};
use crate::semi_join::{
    PushDimensionKeysDown, PushJoinKeysIntoAggregate, PushKeysAcrossJoin, PushSemiJoinDown,
};
use crate::top_per_group::WindowTopAsTopPerGroup;

/// The analyzer rules, in the order they run. They hold with the JIT on or off: they
/// decide what a statement means, not how it runs. Overflow checks come first, so that
/// sealed statements (`UPDATE … SET x = x + 1`) check too.
pub fn analyzer_rules() -> Vec<Arc<dyn AnalyzerRule + Send + Sync>> {
    vec![Arc::new(CheckOverflow), Arc::new(SealDml)]
}

/// The rules, in the order they run; `jit: false` leaves plans unfused. The subquery and
/// semi-join rewrites hold either way (they change how much work a plan does, not what it
/// returns) and run first, on plans whose subqueries DataFusion has unnested.
pub fn optimizer_rules(jit: bool) -> Vec<Arc<dyn OptimizerRule + Send + Sync>> {
    let mut rules: Vec<Arc<dyn OptimizerRule + Send + Sync>> = vec![
        Arc::new(ScalarSubqueryAsWindow),
        Arc::new(ScalarSubqueryOverGroups),
        Arc::new(JoinedAggregateAsWindow),
        Arc::new(CorrelatedAggregateAsWindow),
        Arc::new(ExistsInOnePass),
        Arc::new(OrderInnerJoins),
        Arc::new(AggregateFromHavingSubquery),
        Arc::new(AggregateBelowJoin),
        Arc::new(PushJoinKeysIntoAggregate),
        Arc::new(PushDimensionKeysDown),
        Arc::new(PushKeysAcrossJoin),
        Arc::new(PushSemiJoinDown),
        Arc::new(WindowTopAsTopPerGroup),
    ];
    if jit {
        rules.push(Arc::new(PushAggregateArguments));
        rules.push(Arc::new(FuseRowWise));
    }
    rules
}
