//! Scalar subqueries over the relation they filter, computed in the same pass as a window
//! instead of as a second evaluation of that relation: uncorrelated, over its rows
//! (`as_window.rs`) or over the groups of an aggregation of it (`over_groups.rs`);
//! correlated on the key of a join with it, over the rows of each key
//! (`correlated_as_window.rs`, with the outer join as a region of several tables in
//! `outer_region.rs`); and the same aggregate written as a join with a one-row
//! aggregate of the relation (`joined_aggregate.rs`, the lazy API's form).

mod as_window;
mod correlated_as_window;
mod joined_aggregate;
mod outer_region;
mod over_groups;
mod same_rows;

pub use as_window::ScalarSubqueryAsWindow;
pub use correlated_as_window::CorrelatedAggregateAsWindow;
pub use joined_aggregate::JoinedAggregateAsWindow;
pub use over_groups::ScalarSubqueryOverGroups;
pub(crate) use same_rows::{same_rows, skip_picks};

use datafusion::common::tree_node::Transformed;
use datafusion::common::Result;
use datafusion::logical_expr::{Filter, LogicalPlan};

use as_window::SCALAR;

/// Both rules' step: a filter node rewritten by `rewrite` when it applies; any other node,
/// or a filter it does not apply to, as it is.
fn rewrite_filter(
    plan: LogicalPlan,
    rewrite: impl Fn(&Filter) -> Result<Option<LogicalPlan>>,
) -> Result<Transformed<LogicalPlan>> {
    let LogicalPlan::Filter(filter) = &plan else {
        return Ok(Transformed::no(plan));
    };
    Ok(match rewrite(filter)? {
        Some(rewritten) => Transformed::yes(rewritten),
        None => Transformed::no(plan),
    })
}

#[cfg(test)]
mod tests;
