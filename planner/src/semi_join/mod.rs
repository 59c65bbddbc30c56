//! Semi-join reduction: rows that cannot meet a join partner are dropped as early as
//! possible, before they are aggregated or joined again.
//!
//! DataFusion unnests a correlated subquery into a join with the subquery aggregated over
//! *all* of its input (TPC-H q17 averages the quantity of every one of 200,000 parts to
//! compare against the 200 the outer query selects). Unnesting with duplicate elimination
//! (Neumann & Kemper, "Unnesting Arbitrary Queries"; DuckDB's delim joins) first restricts
//! the subquery to the outer query's keys. corepy does the same, and more, with four rules:
//!
//! * [`PushJoinKeysIntoAggregate`] — when a join's partner is grouped by the join key, the
//!   rows entering that aggregation are semi-joined with a small, filtered relation that
//!   holds every key value the other side of the join can have ([`key_source`]).
//! * [`PushDimensionKeysDown`] — an inner join with a small filtered table (`n_name =
//!   'FRANCE'`) also filters the table that owns the other side of its key, below the
//!   inner joins between them (q7, q21 join suppliers of one nation, not all, with the
//!   lines); sizes from [`table_size`] decide that the duplicate read is cheap.
//! * [`PushKeysAcrossJoin`] — the same when the small filtered table is found further
//!   down one side of an inner join, through a semi join or a join on the key (the lazy
//!   q9's green parts reduce `partsupp`, not only the lines).
//! * [`PushSemiJoinDown`] — a semi or anti join against a small relation (a `HAVING`
//!   result, such a key set) moves below the inner joins under it, onto the input that owns
//!   its key (q18's `o_orderkey IN (SELECT … GROUP BY … HAVING …)` filters the orders before
//!   they meet six million lines, not after).
//!
//! All leave what a query returns unchanged; each file says why.

mod below_inner_join;
mod dimension_keys;
mod key_source;
mod keys_across_join;
mod keys_into_aggregate;
mod table_size;

pub use below_inner_join::PushSemiJoinDown;
pub use dimension_keys::PushDimensionKeysDown;
pub(crate) use key_source::{column_below, KEYS_ALIAS};
pub use keys_across_join::PushKeysAcrossJoin;
pub use keys_into_aggregate::PushJoinKeysIntoAggregate;

use datafusion::common::tree_node::Transformed;
use datafusion::common::{NullEquality, Result};
use datafusion::logical_expr::{Join, JoinType, LogicalPlan};

/// A rule's step on one plan node: `rewrite` of the node when it is a Join.
pub(crate) fn on_join(
    plan: LogicalPlan,
    rewrite: impl FnOnce(&Join) -> Result<Option<LogicalPlan>>,
) -> Result<Transformed<LogicalPlan>> {
    let LogicalPlan::Join(join) = &plan else {
        return Ok(Transformed::no(plan));
    };
    Ok(match rewrite(join)? {
        Some(rewritten) => Transformed::yes(rewritten),
        None => Transformed::no(plan),
    })
}

/// [`on_join`] for inner equi-joins whose NULL keys match nothing (the joins a key set
/// may reduce a side of): `reduce` gives the rewritten join, or `None`.
pub(crate) fn on_inner_join(
    plan: LogicalPlan,
    reduce: impl FnOnce(&Join) -> Result<Option<Join>>,
) -> Result<Transformed<LogicalPlan>> {
    on_join(plan, |join| {
        if join.join_type != JoinType::Inner
            || join.null_equality != NullEquality::NullEqualsNothing
        {
            return Ok(None);
        }
        Ok(reduce(join)?.map(LogicalPlan::Join))
    })
}

#[cfg(test)]
mod tests;
