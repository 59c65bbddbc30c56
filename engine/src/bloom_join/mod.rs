//! Bloom-filtered joins: a hash join's probe side drops, before the join sees them, the
//! rows whose keys its build side does not hold.
//!
//! DataFusion's hash join hashes every probe row and looks it up in a table of the build
//! side's rows. When the build side is small but its table outgrows the cache, and most
//! probe rows find nothing, those lookups are the join's cost: TPC-H q5 at SF10 probes
//! 60 M lines against ~450 K orders of one region and year, 97% of them in vain, at
//! ≈ 19 ns a line. A Bloom filter of the build keys ([`filter`], 10 bits a key) answers
//! "certainly not there" from the L2 cache in a few nanoseconds, and the rows it drops are
//! never hashed, looked up, or copied into the join's output.
//!
//! The rule ([`BloomJoins`]) puts a [`BloomExec`] of [`Role::Build`] (`BloomBuildExec` in
//! plans) over a join's build side and one of [`Role::Probe`] (`BloomProbeExec`) on its
//! probe side, as far down as the keys can be followed ([`below`]: through projections,
//! aggregations grouped by the keys, and repartitions when the build side is one table).
//! Whether the filter pays is known only at run time, so the probe decides there: it stops
//! filtering once a sample of its rows shows that most pass, and the build side gives up on a filter past [`exec::MAX_BUILD_KEYS`]
//! keys or when the memory pool refuses the words.
//!
//! Why the answer cannot change: a Bloom filter has no false negatives, so a dropped row's
//! key is on no build row, and a row with a NULL key matches nothing
//! (`NullEqualsNothing`; a join where NULLs match is left alone). Such a row leaves the
//! output only of the joins that emit unmatched *probe* rows — right, full, right anti and
//! right mark joins, and the null-aware anti join of `NOT IN` — which are left alone; every
//! other join type (inner, left, left semi/anti/mark, right semi) drops it anyway. Keys are
//! compared by value: only integer and date keys of the same type on both sides are
//! filtered (a float's `-0.0 = 0.0` or a string's bytes would need their own hashing).
//! `SET corepy.bloom_join = false` turns the rule off.

mod below;
pub mod exec;
pub mod filter;

use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::{JoinType, NullEquality, Result};
use datafusion::config::ConfigOptions;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::execution_plan::{ChildrenPropertiesMode, ReplaceChildrenOptions};
use datafusion::physical_plan::joins::{HashJoinExec, PartitionMode};
use datafusion::physical_plan::ExecutionPlan;

use crate::late_materialization::CorepyOptions;
use exec::{BloomExec, Published, Role};

/// The most key columns a filtered join may have.
const MAX_KEYS: usize = 4;

#[derive(Debug, Default)]
pub struct BloomJoins;

impl PhysicalOptimizerRule for BloomJoins {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if !CorepyOptions::of(config).bloom_join {
            return Ok(plan);
        }
        plan.transform_up(filter_probe_side).data()
    }

    fn name(&self) -> &str {
        "corepy_bloom_join"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

fn filter_probe_side(node: Arc<dyn ExecutionPlan>) -> Result<Transformed<Arc<dyn ExecutionPlan>>> {
    let Some(join) = node.downcast_ref::<HashJoinExec>() else {
        return Ok(Transformed::no(node));
    };
    if !filterable(join) {
        return Ok(Transformed::no(node));
    }
    let collected = match join.partition_mode() {
        PartitionMode::CollectLeft => true,
        PartitionMode::Partitioned => false,
        PartitionMode::Auto => return Ok(Transformed::no(node)),
    };
    let (build_keys, probe_keys): (Vec<_>, Vec<_>) = join
        .on()
        .iter()
        .map(|(build, probe)| (Arc::clone(build), Arc::clone(probe)))
        .unzip();
    let published = Arc::new(Published::default());
    let build = BloomExec::new(
        Arc::clone(join.left()),
        build_keys,
        Arc::clone(&published),
        Role::Build,
    );
    let probe = below::place_probe(
        Arc::clone(join.right()),
        probe_keys,
        collected,
        &|input, keys| {
            Arc::new(BloomExec::new(
                input,
                keys,
                Arc::clone(&published),
                Role::Probe { collected },
            ))
        },
    )?;
    let children: Vec<Arc<dyn ExecutionPlan>> = vec![Arc::new(build), probe];
    let filtered = Arc::clone(&node).replace_children(
        children,
        ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
    )?;
    Ok(Transformed::yes(filtered))
}

/// Whether dropping the probe rows no build key matches leaves the join's answer as it is
/// (see the module's notes), with keys the filter can hash.
fn filterable(join: &HashJoinExec) -> bool {
    let drops_unmatched_probe_rows = matches!(
        join.join_type(),
        JoinType::Inner
            | JoinType::Left
            | JoinType::LeftSemi
            | JoinType::LeftAnti
            | JoinType::LeftMark
            | JoinType::RightSemi
    );
    let already = join.left().downcast_ref::<BloomExec>().is_some();
    let (build_schema, probe_schema) = (join.left().schema(), join.right().schema());
    let keys_hashable = !join.on().is_empty()
        && join.on().len() <= MAX_KEYS
        && join.on().iter().all(|(build, probe)| {
            match (
                build.data_type(&build_schema),
                probe.data_type(&probe_schema),
            ) {
                (Ok(b), Ok(p)) => b == p && filter::hashable(&b),
                _ => false,
            }
        });
    drops_unmatched_probe_rows
        && !already
        && join.null_equality() == NullEquality::NullEqualsNothing
        && !join.null_aware
        && keys_hashable
}
