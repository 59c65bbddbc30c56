//! Uncorrelated scalar subqueries over the relation they filter, computed in the same pass
//! as a window instead of as a second evaluation of that relation: over its rows
//! (`as_window.rs`) or over the groups of an aggregation of it (`over_groups.rs`).

mod as_window;
mod over_groups;
mod same_rows;

pub use as_window::ScalarSubqueryAsWindow;
pub use over_groups::ScalarSubqueryOverGroups;

#[cfg(test)]
mod tests;
