//! Row-changing statements (`DELETE`, `UPDATE`) kept exactly as written.
//!
//! DataFusion does not *run* the input of a `DELETE` or an `UPDATE`: its physical planner
//! *reads* it, taking the conditions from its `Filter` nodes and its table scan, and the
//! new values from its top `Projection` (`extract_dml_filters`, `extract_update_assignments`),
//! and hands them to the table. A rewrite that keeps the rows a plan produces but not its
//! shape — fusing the filter into a kernel, folding `WHERE 1 = 0` into an empty relation,
//! turning `IN (SELECT …)` into a join — silently widens the statement to every row.
//!
//! So corepy seals these statements during analysis, after type coercion and before any
//! optimizer rule (DataFusion's or corepy's) can see them: [`SealDml`] checks that the
//! statement has the one shape DataFusion reads completely and wraps it in a
//! [`SealedDml`] leaf, which no rule can look into. The engine plans the sealed statement
//! as written. A statement of another shape (a subquery in its condition or values, a
//! join) is refused with an error instead of being run on the wrong rows.

mod rule;
mod sealed;

pub use rule::SealDml;
pub use sealed::SealedDml;

#[cfg(test)]
mod tests;
