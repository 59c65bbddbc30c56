//! `RunAggregateExec` against DataFusion's hash aggregation: the same groups and values
//! over tables clustered by their keys (runs that cross batches and partitions), tables
//! that are not (the probe falls back), tables that stop being clustered half way, NULL
//! keys and values, decimal sums that wrap, and empty input.

mod common;

use std::sync::Arc;

use common::{block_on, Rng};
use corepy_engine::run_aggregate::RunAggregateExec;
use corepy_engine::{Session, SessionOptions};
use datafusion::arrow::array::{
    ArrayRef, Date32Array, Decimal128Array, Float64Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::datasource::MemTable;
use datafusion::physical_plan::{collect, displayable, ExecutionPlan};
use datafusion::prelude::SessionContext;

const PARTITIONS: usize = 4;

fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("k", DataType::Int64, true),
        Field::new("s", DataType::Utf8, true),
        Field::new("v", DataType::Decimal128(15, 2), true),
        Field::new("d", DataType::Date32, true),
        Field::new("f", DataType::Float64, true),
        Field::new("big", DataType::Decimal128(38, 0), true),
    ]))
}

/// How the keys of a table come.
#[derive(Clone, Copy, Debug)]
enum Keys {
    /// Ascending, each key in a run of 1 to 7 rows (TPC-H's lines by order).
    Sorted,
    /// Random among many values.
    Random,
    /// Sorted for the first `n` rows of each partition, random after.
    SortedThenRandom(usize),
    /// Few keys, each in long runs that come back again and again.
    Repeating,
}

/// `rows` rows over the partitions in order (partition p holds the p-th quarter), in
/// batches of 1 to `batch` rows, with NULL keys in runs of their own and NULL values.
fn table(rng: &mut Rng, rows: usize, keys: Keys, batch: u64) -> Vec<Vec<RecordBatch>> {
    let mut ks = Vec::with_capacity(rows);
    let mut key = 0i64;
    let per_partition = rows.div_ceil(PARTITIONS).max(1);
    while ks.len() < rows {
        let run = 1 + rng.below(7) as usize;
        key += 1 + rng.below(3) as i64;
        let null = rng.chance(2);
        for _ in 0..run.min(rows - ks.len()) {
            let at = ks.len() % per_partition;
            let k = match keys {
                Keys::Sorted => Some(key),
                Keys::Random => Some(rng.below(1 << 40) as i64),
                Keys::SortedThenRandom(n) if at < n => Some(key),
                Keys::SortedThenRandom(_) => Some(rng.below(1 << 40) as i64),
                Keys::Repeating => Some((ks.len() / 5000 % 3) as i64),
            };
            ks.push(if null && matches!(keys, Keys::Sorted) {
                None
            } else {
                k
            });
        }
    }
    let mut all = vec![Vec::new(); PARTITIONS];
    let mut start = 0;
    while start < rows {
        let partition = start / per_partition;
        let end = (start + 1 + rng.below(batch) as usize)
            .min(rows)
            .min((partition + 1) * per_partition);
        let n = end - start;
        let k = Int64Array::from(ks[start..end].to_vec());
        let names = ["a", "b", "", "é"];
        let s: StringArray = (0..n)
            .map(|i| {
                (ks[start + i].unwrap_or(0) % 5 != 4)
                    .then(|| names[(ks[start + i].unwrap_or(0) % 4) as usize])
            })
            .collect();
        let v: Decimal128Array = (0..n)
            .map(|_| (!rng.chance(10)).then(|| rng.below(2_000_000) as i128 - 1_000_000))
            .collect::<Decimal128Array>()
            .with_precision_and_scale(15, 2)
            .expect("decimal");
        let d: Date32Array = (0..n)
            .map(|_| (!rng.chance(10)).then(|| 9000 + rng.below(3000) as i32))
            .collect();
        let f: Float64Array = (0..n).map(|_| Some(rng.below(100) as f64 / 8.0)).collect();
        // Sums past i128: DataFusion's decimal sums wrap, and so must the runs'.
        let big: Decimal128Array = (0..n)
            .map(|_| Some(i128::MAX / 3 - rng.below(1000) as i128))
            .collect::<Decimal128Array>()
            .with_precision_and_scale(38, 0)
            .expect("decimal");
        let columns: Vec<ArrayRef> = vec![
            Arc::new(k),
            Arc::new(s),
            Arc::new(v),
            Arc::new(d),
            Arc::new(f),
            Arc::new(big),
        ];
        all[partition].push(RecordBatch::try_new(schema(), columns).expect("batch"));
        start = end;
    }
    all
}

fn session(runs: bool) -> Session {
    let session = Session::new(SessionOptions {
        target_partitions: Some(PARTITIONS),
        batch_size: Some(4096),
        ..Default::default()
    })
    .expect("session");
    let set = format!("SET corepy.aggregate_runs = {runs}");
    block_on(async { session.context().sql(&set).await?.collect().await }).expect("set");
    session
}

fn register(context: &SessionContext, partitions: &[Vec<RecordBatch>]) {
    let table = MemTable::try_new(schema(), partitions.to_vec()).expect("table");
    let _ = context.deregister_table("t");
    context
        .register_table("t", Arc::new(table))
        .expect("register");
}

/// What a run of `sql` gave: its rows sorted as text, its plan, and how many of its
/// partitions fell back to DataFusion's aggregation (None: no run-merging operator).
struct Ran {
    rows: String,
    plan: String,
    fell_back: Option<usize>,
}

fn run(context: &SessionContext, sql: &str) -> Ran {
    block_on(async {
        let frame = context.sql(sql).await.expect("plans");
        let plan = frame.clone().create_physical_plan().await.expect("plans");
        let batches = collect(Arc::clone(&plan), context.task_ctx())
            .await
            .expect("runs");
        let text = pretty_format_batches(&batches).expect("shows").to_string();
        let mut lines: Vec<&str> = text.lines().filter(|l| l.starts_with('|')).collect();
        let mut rows = lines.split_off(1.min(lines.len()));
        rows.sort_unstable();
        lines.extend(rows);
        let shown = displayable(plan.as_ref()).indent(true).to_string();
        Ran {
            rows: lines.join("\n"),
            plan: shown,
            fell_back: fell_back(&plan),
        }
    })
}

/// The partitions of the plan's `RunAggregateExec` that fell back, if it has one.
fn fell_back(plan: &Arc<dyn ExecutionPlan>) -> Option<usize> {
    if plan.downcast_ref::<RunAggregateExec>().is_some() {
        let metrics = plan.metrics().expect("metrics");
        let count = metrics
            .sum_by_name("fell_back_to_datafusion")
            .map_or(0, |m| m.as_usize());
        return Some(count);
    }
    plan.children().into_iter().find_map(fell_back)
}

const QUERIES: &[&str] = &[
    "SELECT k, sum(v), count(*), count(v), avg(v), min(d), max(d), min(v), max(v) \
     FROM t GROUP BY k",
    "SELECT k, s, sum(big), count(s), max(k) FROM t GROUP BY k, s",
    "SELECT s, d, count(*), sum(v) FROM t GROUP BY s, d",
    "SELECT k, sum(v) AS total FROM t GROUP BY k HAVING sum(v) > 0",
    // DataFusion plans it as two aggregations, by (k, v) and then by k over the first's
    // groups: the first merges runs, the second (groups in a hash table's order) does not.
    "SELECT k, count(DISTINCT v) FROM t GROUP BY k",
    // FILTER: rows where the condition is false or NULL (d, v and s have NULLs) are
    // skipped, and a run with none of its rows taken has a NULL min and a 0 count.
    "SELECT k, min(v) FILTER (WHERE d > DATE '2000-01-01'), \
     max(d) FILTER (WHERE v > 0), count(*) FILTER (WHERE f > 6.0), \
     count(v) FILTER (WHERE s = 'a'), sum(v) FILTER (WHERE s IS NOT NULL), \
     avg(v) FILTER (WHERE v < 0), max(k) FILTER (WHERE f < 0) FROM t GROUP BY k",
];

/// Each query with runs merged and without, the same rows; the returned fallbacks of
/// the first query (None where it did not merge runs).
fn compare(partitions: &[Vec<RecordBatch>], what: &str) -> Vec<Option<usize>> {
    let (on, off) = (session(true), session(false));
    register(on.context(), partitions);
    register(off.context(), partitions);
    let mut fallbacks = Vec::new();
    for sql in QUERIES {
        let (ours, theirs) = (run(on.context(), sql), run(off.context(), sql));
        assert_eq!(ours.rows, theirs.rows, "{what}: {sql}\n{}", ours.plan);
        assert!(!theirs.plan.contains("RunAggregateExec"), "{}", theirs.plan);
        fallbacks.push(ours.fell_back);
    }
    fallbacks
}

#[test]
fn clustered_keys_merge_runs_and_answer_as_datafusion() {
    let mut rng = Rng::seeded(1);
    let fallbacks = compare(&table(&mut rng, 300_000, Keys::Sorted, 3000), "sorted");
    // By k (and by k, s) every partition merged its runs.
    assert_eq!(fallbacks[0], Some(0));
    assert_eq!(fallbacks[1], Some(0));
    assert_eq!(fallbacks[3], Some(0));
    assert_eq!(fallbacks[5], Some(0));
}

#[test]
fn keys_that_are_not_clustered_fall_back_and_answer_as_datafusion() {
    let mut rng = Rng::seeded(2);
    let fallbacks = compare(&table(&mut rng, 300_000, Keys::Random, 3000), "random");
    assert_eq!(fallbacks[0], Some(PARTITIONS));
    // Few keys in long runs that come back: a hash table folds them, so no merging.
    let fallbacks = compare(
        &table(&mut rng, 300_000, Keys::Repeating, 3000),
        "repeating",
    );
    assert_eq!(fallbacks[0], Some(PARTITIONS));
}

#[test]
fn input_that_stops_being_clustered_falls_back_half_way() {
    let mut rng = Rng::seeded(3);
    let partitions = table(&mut rng, 400_000, Keys::SortedThenRandom(80_000), 3000);
    let fallbacks = compare(&partitions, "sorted, then random");
    assert_eq!(fallbacks[0], Some(PARTITIONS));
}

#[test]
fn small_batches_that_stop_being_clustered_fall_back_too() {
    // Batches under the checked size: the rows since the last check are what is judged.
    let mut rng = Rng::seeded(5);
    let partitions = table(&mut rng, 400_000, Keys::SortedThenRandom(80_000), 40);
    let fallbacks = compare(&partitions, "sorted, then random, small batches");
    assert_eq!(fallbacks[0], Some(PARTITIONS));
}

#[test]
fn small_and_empty_inputs_answer_as_datafusion() {
    for rows in [0, 1, 7, 5000] {
        let mut rng = Rng::seeded(rows as u64);
        compare(
            &table(&mut rng, rows, Keys::Sorted, 3000),
            &format!("{rows} rows"),
        );
    }
}

#[test]
fn aggregates_that_do_not_merge_leave_the_aggregation_to_datafusion() {
    let on = session(true);
    let mut rng = Rng::seeded(4);
    register(on.context(), &table(&mut rng, 1000, Keys::Sorted, 3000));
    for sql in [
        "SELECT f, count(*) FROM t GROUP BY f",
        "SELECT k, sum(f) FROM t GROUP BY k",
        "SELECT k, sum(k) FROM t GROUP BY k",
        "SELECT k, array_agg(v) FROM t GROUP BY k",
        "SELECT k, min(s) FROM t GROUP BY k",
        "SELECT count(*) FROM t",
    ] {
        let plan = run(on.context(), sql).plan;
        assert!(!plan.contains("RunAggregateExec"), "{sql}\n{plan}");
    }
    let plan = run(on.context(), QUERIES[0]).plan;
    assert!(
        plan.contains("RunAggregateExec: mode=Partial, gby=[k]"),
        "{plan}"
    );
}
