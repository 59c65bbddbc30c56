//! `PushKeysAcrossJoin`: when one side of an inner join takes its key's values from a
//! small filtered table further down — through a semi join or an inner join on that key —
//! the other side is reduced by that table's keys before the join.
//!
//! ```text
//! Inner Join: l_partkey = ps_partkey             Inner Join: l_partkey = ps_partkey
//!   LeftSemi Join: l_partkey = p_partkey            LeftSemi Join: l_partkey = p_partkey
//!     <lineitem>                           =>         <lineitem>
//!     <part: p_name LIKE '%green%'>                   <part: p_name LIKE '%green%'>
//!   <partsupp>                                      LeftSemi Join: ps_partkey = __corepy_keys.p_partkey
//!                                                     <partsupp>
//!                                                     SubqueryAlias: __corepy_keys
//!                                                       <part: p_name LIKE '%green%'>
//! ```
//!
//! TPC-H q9 written as Polars' users write it (the lazy suite's form) keeps the lines of
//! green parts with a semi join, then joins all 8 M `partsupp` rows with them: a hash table
//! of 8 M rows, hash-partitioned with its probe side. Reduced by the green parts' keys,
//! `partsupp` brings 435 K rows to the join. [`super::PushDimensionKeysDown`] does the
//! same when the filtered table is the join's own side; this rule finds it below the side
//! ([`selective_source`]).
//!
//! Why the answer cannot change: every non-NULL key value of the first side is a value of
//! the filtered table's column (`selective_source`'s promise), and the join's equality
//! drops NULLs. A row of the other side whose key is not among those values (or is NULL)
//! meets no row of the first side, so dropping it before the join drops nothing the join
//! would have kept. The original join stays.
//!
//! Only a table found across an equality counts: where the key's own table is the
//! filtered one (q3's orders of a date range), the join with that side is the reduction
//! already, and a semi join with its keys would cost as much again.
//!
//! The filtered table is read twice, so the other side is reduced only where the table
//! that owns its key is at least [`SIZE_RATIO`] times the filtered table's size
//! ([`super::table_size`]); when either size is unknown, not at all. The semi join goes as
//! deep as that owner, below inner joins ([`sink`]), or onto the side itself when it is
//! that table.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, NullEquality, Result};
use datafusion::logical_expr::{Expr, Join, JoinConstraint, JoinType, LogicalPlan};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

use super::below_inner_join::sink;
use super::key_source::{column_below, is_filtered_scan, reduced_before, selective_source};
use super::on_inner_join;
use super::table_size::scanned_bytes;

/// How many times larger than the filtered table the reduced one must be. Lower than the
/// dimension rule's 8: the table found below is a semi join's or a join's partner, whose
/// scan the first side paid for already, and its filter is what makes the reduction pay
/// (q9: `partsupp` is 6.6 times `part`'s file).
const SIZE_RATIO: u64 = 4;

#[derive(Debug, Default)]
pub struct PushKeysAcrossJoin;

impl OptimizerRule for PushKeysAcrossJoin {
    fn name(&self) -> &str {
        "corepy_push_keys_across_join"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::TopDown)
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        on_inner_join(plan, reduce_across)
    }
}

/// The join with one side reduced by the keys of a filtered table below the other, or
/// `None`.
fn reduce_across(join: &Join) -> Result<Option<Join>> {
    for source_on_left in [true, false] {
        let (source_side, reduced_side) = if source_on_left {
            (&join.left, &join.right)
        } else {
            (&join.right, &join.left)
        };
        if is_filtered_scan(source_side) {
            // The side is the filtered table itself: the dimension rule's case.
            continue;
        }
        for (l, r) in &join.on {
            let (source_key, reduced_key) = if source_on_left { (l, r) } else { (r, l) };
            let (Expr::Column(source_key), Expr::Column(reduced_key)) = (source_key, reduced_key)
            else {
                continue;
            };
            if let Some(reduced) = reduce_side(source_side, source_key, reduced_side, reduced_key)?
            {
                let mut join = join.clone();
                if source_on_left {
                    join.right = Arc::new(reduced);
                } else {
                    join.left = Arc::new(reduced);
                }
                return Ok(Some(join));
            }
        }
    }
    Ok(None)
}

/// `reduced_side` semi-joined with the values of `source_key`'s filtered table, as deep
/// as the table that owns `reduced_key`, when that table is large enough.
fn reduce_side(
    source_side: &LogicalPlan,
    source_key: &Column,
    reduced_side: &LogicalPlan,
    reduced_key: &Column,
) -> Result<Option<LogicalPlan>> {
    if owned_by_filtered_scan(source_side, source_key) {
        // The key's own table is the filtered one: joining with it is the reduction.
        return Ok(None);
    }
    let Some(source) = selective_source(source_side, source_key) else {
        return Ok(None);
    };
    let Some(source_bytes) = scanned_bytes(&source.plan) else {
        return Ok(None);
    };
    let (keys, keys_column) = source.key_set()?;
    let semi = Join::try_new(
        Arc::new(reduced_side.clone()),
        Arc::new(keys),
        vec![(Expr::Column(reduced_key.clone()), Expr::Column(keys_column))],
        None,
        JoinType::LeftSemi,
        JoinConstraint::On,
        NullEquality::NullEqualsNothing,
        false,
    )?;
    let large_enough = |owner: &LogicalPlan| {
        !reduced_before(owner)
            && scanned_bytes(owner)
                .is_some_and(|bytes| bytes >= source_bytes.saturating_mul(SIZE_RATIO))
    };
    let read = HashSet::from([reduced_key.clone()]);
    if let Some(sunk) = sink(reduced_side, &read, &semi, &large_enough)? {
        return Ok(Some(sunk));
    }
    // No inner join below: the side itself, when it is a scan (under projections and
    // filters) that owns the key.
    if scanned_bytes(reduced_side).is_some() && large_enough(reduced_side) {
        return Ok(Some(LogicalPlan::Join(semi)));
    }
    Ok(None)
}

/// Whether `column`'s own table in `plan` (found down row-wise nodes and the join side
/// that has the column, never across an equality) is a filtered scan. TPC-H q3's order
/// keys come from the orders of a date range: reducing the lines by those 7 M keys would
/// cost what the join with them costs.
fn owned_by_filtered_scan(plan: &LogicalPlan, column: &Column) -> bool {
    if is_filtered_scan(plan) {
        return true;
    }
    if let Some((input, below)) = column_below(plan, column) {
        return owned_by_filtered_scan(input, &below);
    }
    match plan {
        LogicalPlan::Join(join) if join.left.schema().has_column(column) => {
            owned_by_filtered_scan(&join.left, column)
        }
        LogicalPlan::Join(join) => owned_by_filtered_scan(&join.right, column),
        _ => false,
    }
}
