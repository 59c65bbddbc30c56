//! Uncorrelated scalar subqueries over the relation they filter, computed in the same pass
//! as a window instead of as a second evaluation of that relation.

mod as_window;

pub use as_window::ScalarSubqueryAsWindow;

#[cfg(test)]
mod tests;
