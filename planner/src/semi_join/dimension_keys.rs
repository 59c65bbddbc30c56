//! `PushDimensionKeysDown`: an inner join with a small filtered table (a dimension: the
//! nations named `'FRANCE'`) also filters, early, the table that owns the other side of
//! its key, when inner joins stand between them.
//!
//! ```text
//! Inner Join: s_nationkey = n_nationkey         Inner Join: s_nationkey = n_nationkey
//!   Inner Join: l_suppkey = s_suppkey             Inner Join: l_suppkey = s_suppkey
//!     <lineitem>                          =>        <lineitem>
//!     <supplier>                                    LeftSemi Join: s_nationkey = __corepy_keys.n_nationkey
//!   <nation: n_name = 'FRANCE'>                       <supplier>
//!                                                     SubqueryAlias: __corepy_keys
//!                                                       <nation: n_name = 'FRANCE'>
//!   <nation: n_name = 'FRANCE'>
//! ```
//!
//! DataFusion joins in the order the query names its tables, so TPC-H q7 and q21 join
//! every supplier with the lines before the nation's filter drops most of them; the
//! reduction makes the supplier side a few hundred rows before it meets the lines.
//!
//! Why the answer cannot change: the original join stays. A row of the owning table whose
//! key is not among the dimension's keys (or is NULL) passes its key on unchanged through
//! the inner joins, projections and filters above it, so every row made from it fails the
//! join's equality anyway; dropping it earlier drops nothing the join would have kept.
//!
//! The dimension is read twice, so the reduction is made only when its table is at most an
//! eighth of the owning table's size ([`super::table_size`]); when either size is unknown,
//! not at all.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::common::tree_node::Transformed;
use datafusion::common::{NullEquality, Result};
use datafusion::logical_expr::{Expr, Join, JoinConstraint, JoinType, LogicalPlan};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

use super::below_inner_join::sink;
use super::key_source::{is_filtered_scan, reduced_before, KeySource};
use super::on_inner_join;
use super::table_size::scanned_bytes;

/// How many times larger than the dimension the owning table must be.
const SIZE_RATIO: u64 = 8;

#[derive(Debug, Default)]
pub struct PushDimensionKeysDown;

impl OptimizerRule for PushDimensionKeysDown {
    fn name(&self) -> &str {
        "corepy_push_dimension_keys_down"
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
        on_inner_join(plan, reduce_by_dimension)
    }
}

/// The join with the side opposite a filtered dimension reduced by the dimension's keys,
/// or `None`.
fn reduce_by_dimension(join: &Join) -> Result<Option<Join>> {
    for dimension_on_right in [true, false] {
        let (facts, dimension) = if dimension_on_right {
            (&join.left, &join.right)
        } else {
            (&join.right, &join.left)
        };
        let Some(dimension_bytes) =
            scanned_bytes(dimension).filter(|_| is_filtered_scan(dimension))
        else {
            continue;
        };
        for (l, r) in &join.on {
            let (fact_key, dimension_key) = if dimension_on_right { (l, r) } else { (r, l) };
            let (Expr::Column(fact_key), Expr::Column(dimension_key)) = (fact_key, dimension_key)
            else {
                continue;
            };
            let source = KeySource {
                plan: dimension.as_ref().clone(),
                column: dimension_key.clone(),
            };
            let (keys, keys_column) = source.key_set()?;
            let semi = Join::try_new(
                Arc::clone(facts),
                Arc::new(keys),
                vec![(Expr::Column(fact_key.clone()), Expr::Column(keys_column))],
                None,
                JoinType::LeftSemi,
                JoinConstraint::On,
                NullEquality::NullEqualsNothing,
                false,
            )?;
            let large_enough = |owner: &LogicalPlan| {
                !reduced_before(owner)
                    && scanned_bytes(owner)
                        .is_some_and(|bytes| bytes >= dimension_bytes.saturating_mul(SIZE_RATIO))
            };
            let read = HashSet::from([fact_key.clone()]);
            if let Some(reduced) = sink(facts, &read, &semi, &large_enough)? {
                let mut join = join.clone();
                if dimension_on_right {
                    join.left = Arc::new(reduced);
                } else {
                    join.right = Arc::new(reduced);
                }
                return Ok(Some(join));
            }
        }
    }
    Ok(None)
}
