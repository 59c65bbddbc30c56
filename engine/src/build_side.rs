//! Build side by rows: a hash join builds on the side DataFusion estimates to have far
//! fewer rows, whatever its byte estimate says.
//!
//! DataFusion's join selection compares the two sides' estimated *bytes* first. Those come
//! from per-column byte sizes, and an inner join passes its inputs' column sizes through
//! unscaled: in TPC-H Q21 the 60 000 rows left of `supplier ⋈ lineitem ⋈ orders` carry
//! lineitem's 96 MB of `l_orderkey` and `l_suppkey`, a few kilobytes more than the 5.9 M
//! late lineitems under the `NOT EXISTS`. So the anti join built its hash table on 3.8 M
//! rows (164 MB, 100 ms) to probe it with 73 000.
//!
//! The row estimates are the better evidence there, and this rule runs right after
//! DataFusion's join selection to act on them: when the build side is estimated to have
//! more than [`ROWS_RATIO`] times the probe side's rows, the inputs are swapped (DataFusion's
//! own `swap_inputs`, which maps the join type, keys, filter and output columns, so the
//! answer cannot change). The new build side is collected into one hash table when it is
//! under DataFusion's single-partition row threshold, as join selection would have done.
//! A side with no row estimate, a join type that cannot swap, a null-aware anti join
//! (`NOT IN`) and a session with join reordering off are left as planned;
//! `SET corepy.build_side_by_rows = false` turns the rule off.
//!
//! The wide margin keeps the rule to cases where bytes cannot plausibly reverse the order:
//! a row eight times wider is rarer than an unscaled estimate.
//!
//! For the same reason a partitioned join whose build side is estimated at most
//! [`COLLECT_ROWS`] rows, and an eighth of its probe side's, is collected into one table
//! (inner, semi and anti joins). The probe side is then not hash-partitioned; with joins
//! in cost order (the planner's `OrderInnerJoins`) that side is the fact table's rows. A
//! left semi or anti join then gives its rows out at the end, from one partition: at most
//! the build side's few rows, where the probe side's many would have been repartitioned
//! (TPC-H q21's `EXISTS`: 0.7 M rows, 60 M lines; the join's time 1.26 → 0.62 s at SF10). Raising DataFusion's byte
//! threshold instead measured worse: an anti join then built one table of 15 M order keys.

use std::sync::Arc;

use datafusion::common::stats::Precision;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::JoinType;
use datafusion::common::{Result, ScalarValue, Statistics};
use datafusion::config::ConfigOptions;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::joins::{HashJoinExec, PartitionMode};
use datafusion::physical_plan::statistics::{StatisticsArgs, StatisticsContext};
use datafusion::physical_plan::ExecutionPlan;

use corepy_planner::scalar::integer_value;

use crate::late_materialization::CorepyOptions;

/// How many times the probe side's estimated rows the build side must exceed to be swapped
/// (and the probe side the build side's, for a partitioned join to be collected).
pub const ROWS_RATIO: usize = 8;

/// The most rows a build side may be estimated to have for a partitioned join to collect
/// it into one table.
pub const COLLECT_ROWS: usize = 4_000_000;

/// The widest key range a build side is collected for as an array (see [`array_keys`]):
/// 128 Mi keys, 512 MiB of row indices.
pub const ARRAY_KEYS: i128 = 1 << 27;

#[derive(Debug, Default)]
pub struct BuildSideByRows;

impl PhysicalOptimizerRule for BuildSideByRows {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if !CorepyOptions::of(config).build_side_by_rows || !config.optimizer.join_reordering {
            return Ok(plan);
        }
        let collect_rows = config.optimizer.hash_join_single_partition_threshold_rows;
        let density = config.execution.perfect_hash_join_min_key_density;
        plan.transform_up(|node| build_on_fewer_rows(node, collect_rows, density))
            .data()
    }

    fn name(&self) -> &str {
        "corepy_build_side_by_rows"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

fn build_on_fewer_rows(
    node: Arc<dyn ExecutionPlan>,
    collect_rows: usize,
    density: f64,
) -> Result<Transformed<Arc<dyn ExecutionPlan>>> {
    let Some(join) = node.downcast_ref::<HashJoinExec>() else {
        return Ok(Transformed::no(node));
    };
    if !join.join_type().supports_swap() || join.null_aware {
        return Ok(Transformed::no(node));
    }
    let (Some(build), Some(probe)) = (estimated_rows(join.left())?, estimated_rows(join.right())?)
    else {
        return Ok(Transformed::no(node));
    };
    if build <= probe.saturating_mul(ROWS_RATIO) {
        return Ok(
            match collect_small_build_side(join, build, probe, density)? {
                Some(collected) => Transformed::yes(collected),
                None => Transformed::no(node),
            },
        );
    }
    // Swapped, the old probe side is the build side: one table when it is under
    // DataFusion's threshold, or small enough to collect by the rule below. (TPC-H q21's
    // `NOT EXISTS`: 0.7 M rows collected, where partitioned, all 38 M late lines would be
    // hash-partitioned to meet them.)
    let collected =
        probe <= collect_rows || (probe <= COLLECT_ROWS && collectable(join.join_type().swap()));
    let mode = if collected {
        PartitionMode::CollectLeft
    } else {
        PartitionMode::Partitioned
    };
    Ok(Transformed::yes(join.swap_inputs(mode)?))
}

/// Join types whose build side may be one table for all partitions: inner, semi and anti
/// joins (a left semi or anti join then gives out its build rows at the end; outer joins
/// keep the build side's partitions).
fn collectable(join_type: JoinType) -> bool {
    matches!(
        join_type,
        JoinType::Inner
            | JoinType::RightSemi
            | JoinType::RightAnti
            | JoinType::LeftSemi
            | JoinType::LeftAnti
    )
}

/// A partitioned join whose build side is estimated at most [`COLLECT_ROWS`] rows and
/// [`ROWS_RATIO`] times fewer than its probe side builds one table for all partitions:
/// partitioned, the probe side (the fact table's rows) would be hash-partitioned too.
/// DataFusion decides this by estimated bytes first, and an inner join passes its inputs'
/// column sizes through unscaled: TPC-H q9's `partsupp ⋈ part ⋈ supplier ⋈ nation` (in
/// cost order, `OrderInnerJoins`) looked too large to collect, and its join hash-partitioned
/// all 60 M lines at SF10. Inner, semi and anti joins are changed (left semi and anti
/// joins then give out their build rows at the end; outer joins are left as planned).
fn collect_small_build_side(
    join: &HashJoinExec,
    build: usize,
    probe: usize,
    density: f64,
) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let collectable = collectable(*join.join_type());
    let small = build <= COLLECT_ROWS && build.saturating_mul(ROWS_RATIO) <= probe;
    // A dense side as large as the probe side's estimate or larger stays partitioned: q18's
    // 15 M orders would be one array for the 624 orders of its `HAVING`, estimated at
    // millions.
    let small_or_dense = small || (build <= probe && array_keys(join, density)?);
    if *join.partition_mode() != PartitionMode::Partitioned || !collectable || !small_or_dense {
        return Ok(None);
    }
    let collected = join
        .builder()
        .with_partition_mode(PartitionMode::CollectLeft)
        .build()?;
    Ok(Some(Arc::new(collected)))
}

/// Whether a join's build side, collected into one table, is sure to be an array indexed
/// by its key (DataFusion's perfect hash join): one integer key whose exact row count fills
/// more than `density` of the key's range ([`PERFECT_HASH_DENSITY`]), the range at most
/// [`ARRAY_KEYS`]. Partitioned, each partition's table holds a quarter of the keys over
/// the same range, too sparse for an array: TPC-H q9's 15 M orders were hash-partitioned
/// and hashed (1.2 s at SF10) to be probed by 3.3 M lines, which then had to be
/// hash-partitioned too. Collected, the array is filled in one pass. Exact counts only (a
/// table's own rows, not a filter's estimate): a side whose keys turn out sparser would be
/// one hash table built by one thread.
///
/// [`PERFECT_HASH_DENSITY`]: crate::session::PERFECT_HASH_DENSITY
fn array_keys(join: &HashJoinExec, density: f64) -> Result<bool> {
    let [(key, _)] = join.on() else {
        return Ok(false);
    };
    let Some(key) = key.downcast_ref::<Column>() else {
        return Ok(false);
    };
    let stats = StatisticsContext::new().compute(join.left().as_ref(), &StatisticsArgs::new())?;
    let Precision::Exact(rows) = stats.num_rows else {
        return Ok(false);
    };
    let Some(range) = key_range(&stats, key) else {
        return Ok(false);
    };
    Ok(range <= ARRAY_KEYS && rows as f64 / range as f64 > density)
}

/// How many values lie between an integer column's least and greatest (both counted), by
/// its statistics (exact or estimated), when they have both.
pub(crate) fn key_range(stats: &Statistics, key: &Column) -> Option<i128> {
    let column = stats.column_statistics.get(key.index())?;
    let bound = |p: &Precision<ScalarValue>| p.get_value().and_then(integer_value);
    let (min, max) = (bound(&column.min_value)?, bound(&column.max_value)?);
    let range = max.saturating_sub(min).saturating_add(1);
    (range > 0).then_some(range)
}

/// DataFusion's own row estimate for a plan, when it has one.
fn estimated_rows(plan: &Arc<dyn ExecutionPlan>) -> Result<Option<usize>> {
    let stats = StatisticsContext::new().compute(plan.as_ref(), &StatisticsArgs::new())?;
    Ok(match stats.num_rows {
        Precision::Exact(rows) | Precision::Inexact(rows) => Some(rows),
        Precision::Absent => None,
    })
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Int64Array, RecordBatch};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::common::{JoinType, NullEquality};
    use datafusion::datasource::memory::MemorySourceConfig;
    use datafusion::physical_expr::expressions::Column;
    use datafusion::physical_plan::collect;
    use datafusion::prelude::SessionContext;

    use super::*;

    /// A one-batch table `name(k)` of `rows` keys `0, step, 2 × step, …` (exact row
    /// statistics).
    fn keys(name: &str, rows: i64, step: i64) -> Arc<dyn ExecutionPlan> {
        let schema = Arc::new(Schema::new(vec![Field::new(name, DataType::Int64, true)]));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![Arc::new(Int64Array::from_iter_values(
                (0..rows).map(|k| k * step),
            ))],
        )
        .unwrap();
        MemorySourceConfig::try_new_exec(&[vec![batch]], schema, None).unwrap()
    }

    /// A partitioned join of keys a tenth of their range (too sparse for DataFusion's
    /// array, at its default density 0.15).
    fn join(build_rows: i64, probe_rows: i64, join_type: JoinType) -> HashJoinExec {
        join_with_step(build_rows, probe_rows, join_type, 10)
    }

    fn join_with_step(
        build_rows: i64,
        probe_rows: i64,
        join_type: JoinType,
        step: i64,
    ) -> HashJoinExec {
        partitioned(
            keys("b", build_rows, step),
            keys("p", probe_rows, step),
            join_type,
        )
    }

    /// A partitioned join of `b(b)` and `p(p)` on `b = p`.
    fn partitioned(
        build: Arc<dyn ExecutionPlan>,
        probe: Arc<dyn ExecutionPlan>,
        join_type: JoinType,
    ) -> HashJoinExec {
        let on = vec![(
            Arc::new(Column::new("b", 0)) as _,
            Arc::new(Column::new("p", 0)) as _,
        )];
        HashJoinExec::try_new(
            build,
            probe,
            on,
            None,
            &join_type,
            None,
            PartitionMode::Partitioned,
            NullEquality::NullEqualsNothing,
            false,
        )
        .unwrap()
    }

    fn optimized(plan: HashJoinExec) -> Arc<dyn ExecutionPlan> {
        BuildSideByRows
            .optimize(Arc::new(plan), &ConfigOptions::default())
            .unwrap()
    }

    /// The hash join in a plan (a swap may put a projection above it).
    fn the_join(plan: &Arc<dyn ExecutionPlan>) -> &HashJoinExec {
        match plan.downcast_ref::<HashJoinExec>() {
            Some(join) => join,
            None => the_join(plan.children()[0]),
        }
    }

    fn build_side_name(plan: &Arc<dyn ExecutionPlan>) -> String {
        the_join(plan).left().schema().field(0).name().clone()
    }

    #[test]
    fn a_build_side_with_many_times_the_rows_is_swapped_for_the_probe_side() {
        for join_type in [
            JoinType::Inner,
            JoinType::LeftAnti,
            JoinType::LeftSemi,
            JoinType::Left,
        ] {
            let plan = optimized(join(1_000, 10, join_type));
            assert_eq!(build_side_name(&plan), "p", "{join_type}");
            assert_eq!(*the_join(&plan).join_type(), join_type.swap());
            // Ten rows are under the single-partition threshold: one hash table for all.
            assert_eq!(
                *the_join(&plan).partition_mode(),
                PartitionMode::CollectLeft
            );
            assert_eq!(plan.schema(), Arc::new(join(1_000, 10, join_type)).schema());
        }
    }

    #[test]
    fn a_swapped_build_side_small_enough_to_collect_is_one_table() {
        // DataFusion's threshold under both sides: collected by corepy's own bound, for
        // the join types that can give out their build rows from one table.
        let mut config = ConfigOptions::default();
        config.optimizer.hash_join_single_partition_threshold_rows = 5;
        for (join_type, mode) in [
            (JoinType::Inner, PartitionMode::CollectLeft),
            (JoinType::RightAnti, PartitionMode::CollectLeft),
            (JoinType::RightSemi, PartitionMode::CollectLeft),
            (JoinType::Left, PartitionMode::Partitioned),
        ] {
            let plan = BuildSideByRows
                .optimize(Arc::new(join(1_000, 10, join_type)), &config)
                .unwrap();
            assert_eq!(build_side_name(&plan), "p", "{join_type}");
            assert_eq!(*the_join(&plan).partition_mode(), mode, "{join_type}");
        }
    }

    #[test]
    fn a_small_build_side_of_a_partitioned_join_is_collected_into_one_table() {
        let plan = optimized(join(100, 1_000, JoinType::Inner));
        assert_eq!(build_side_name(&plan), "b");
        assert_eq!(
            *the_join(&plan).partition_mode(),
            PartitionMode::CollectLeft
        );
        // A left semi or anti join too: it gives out its build rows at the end.
        for join_type in [JoinType::LeftSemi, JoinType::LeftAnti] {
            let plan = optimized(join(100, 1_000, join_type));
            assert_eq!(
                *the_join(&plan).partition_mode(),
                PartitionMode::CollectLeft,
                "{join_type}"
            );
        }
        // Within the ratio, or a join that emits the build side's unmatched rows: as planned.
        for (build, probe, join_type) in [
            (200, 1_000, JoinType::Inner),
            (100, 1_000, JoinType::Left),
            (100, 1_000, JoinType::Full),
        ] {
            let plan = optimized(join(build, probe, join_type));
            assert_eq!(
                *the_join(&plan).partition_mode(),
                PartitionMode::Partitioned,
                "{build} {probe} {join_type}"
            );
        }
    }

    /// A Parquet file's scan `name(k)` of `rows` keys `0, step, …`: a table's exact row
    /// count and key bounds, from the file's statistics.
    async fn parquet_keys(
        ctx: &SessionContext,
        dir: &std::path::Path,
        name: &str,
        rows: i64,
        step: i64,
    ) -> Arc<dyn ExecutionPlan> {
        let batches = collect(keys(name, rows, step), ctx.task_ctx())
            .await
            .unwrap();
        let path = dir.join(format!("{name}.parquet"));
        let file = std::fs::File::create(&path).unwrap();
        let mut writer =
            datafusion::parquet::arrow::ArrowWriter::try_new(file, batches[0].schema(), None)
                .unwrap();
        for batch in &batches {
            writer.write(batch).unwrap();
        }
        writer.close().unwrap();
        let frame = ctx
            .read_parquet(path.to_str().unwrap(), Default::default())
            .await
            .unwrap();
        frame.create_physical_plan().await.unwrap()
    }

    #[tokio::test]
    async fn a_build_side_whose_keys_fill_their_range_is_collected_as_an_array() {
        let ctx = SessionContext::new();
        let dir = tempfile::tempdir().unwrap();
        // 600 keys in a range of 600 (and of 1 200): more than 0.15 of it, whatever the
        // probe side's size; 600 keys in 6 000 are not, and the join stays partitioned;
        // nor does an outer join, which keeps the build side's partitions.
        for (step, join_type, mode) in [
            (1, JoinType::Inner, PartitionMode::CollectLeft),
            (2, JoinType::RightSemi, PartitionMode::CollectLeft),
            (10, JoinType::Inner, PartitionMode::Partitioned),
            (1, JoinType::Left, PartitionMode::Partitioned),
        ] {
            let build = parquet_keys(&ctx, dir.path(), "b", 600, step).await;
            let probe = parquet_keys(&ctx, dir.path(), "p", 1_000, step).await;
            let plan = optimized(partitioned(build, probe, join_type));
            assert_eq!(
                *the_join(&plan).partition_mode(),
                mode,
                "step {step}, {join_type}"
            );
        }
        // Memory tables have no key bounds: by rows alone, as planned.
        let plan = optimized(join_with_step(600, 1_000, JoinType::Inner, 1));
        assert_eq!(
            *the_join(&plan).partition_mode(),
            PartitionMode::Partitioned
        );
    }

    #[test]
    fn sides_within_the_ratio_or_that_cannot_swap_stay_as_planned() {
        let plan = optimized(join(70, 10, JoinType::Inner));
        assert_eq!(build_side_name(&plan), "b");
        let null_aware = join(1_000, 10, JoinType::LeftAnti)
            .builder()
            .with_null_aware(true)
            .with_partition_mode(PartitionMode::CollectLeft)
            .build()
            .unwrap();
        assert_eq!(build_side_name(&optimized(null_aware)), "b");
        let mut off = ConfigOptions::default();
        off.optimizer.join_reordering = false;
        let plan = BuildSideByRows
            .optimize(Arc::new(join(1_000, 10, JoinType::Inner)), &off)
            .unwrap();
        assert_eq!(build_side_name(&plan), "b");
    }

    #[tokio::test]
    async fn a_swapped_join_answers_as_the_planned_one() {
        let ctx = SessionContext::new();
        for join_type in [
            JoinType::Inner,
            JoinType::LeftAnti,
            JoinType::LeftSemi,
            JoinType::Left,
            JoinType::Full,
        ] {
            let planned: Arc<dyn ExecutionPlan> = Arc::new(join(1_000, 10, join_type));
            let swapped = optimized(join(1_000, 10, join_type));
            let rows = |batches: Vec<RecordBatch>| {
                let text = pretty_format_batches(&batches).unwrap().to_string();
                let mut lines = text.lines().map(str::to_owned).collect::<Vec<_>>();
                lines.sort();
                lines
            };
            let a = rows(collect(planned, ctx.task_ctx()).await.unwrap());
            let b = rows(collect(swapped, ctx.task_ctx()).await.unwrap());
            assert!(a.len() > 4, "{join_type}: {a:?}");
            assert_eq!(a, b, "{join_type}");
        }
    }
}
