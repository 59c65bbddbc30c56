//! Semi-join reduction: rows that cannot meet a join partner are dropped as early as
//! possible, before they are aggregated or joined again.
//!
//! DataFusion unnests a correlated subquery into a join with the subquery aggregated over
//! *all* of its input (TPC-H q17 averages the quantity of every one of 200,000 parts to
//! compare against the 200 the outer query selects). Unnesting with duplicate elimination
//! (Neumann & Kemper, "Unnesting Arbitrary Queries"; DuckDB's delim joins) first restricts
//! the subquery to the outer query's keys. corepy does the same with two rules:
//!
//! * [`PushJoinKeysIntoAggregate`] — when a join's partner is grouped by the join key, the
//!   rows entering that aggregation are semi-joined with a small, filtered relation that
//!   holds every key value the other side of the join can have ([`key_source`]).
//! * [`PushSemiJoinDown`] — a semi or anti join against a small relation (a `HAVING`
//!   result, such a key set) moves below the inner joins under it, onto the input that owns
//!   its key (q18's `o_orderkey IN (SELECT … GROUP BY … HAVING …)` filters the orders before
//!   they meet six million lines, not after).
//!
//! Both leave what a query returns unchanged; each file says why.

mod below_inner_join;
mod key_source;
mod keys_into_aggregate;

pub use below_inner_join::PushSemiJoinDown;
pub use keys_into_aggregate::PushJoinKeysIntoAggregate;

#[cfg(test)]
mod tests;
