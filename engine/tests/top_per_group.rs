//! `TopPerGroupExec` against DataFusion's window: the same rows, numbered the same, over
//! random tables with NULL and NaN keys, ties, empty input, many batches and partitions,
//! and enough rows to make the operator compact its candidates.
//!
//! Ties in the order keys may be numbered differently by the two (SQL leaves their order
//! open), so the rows are compared as (partition keys, number, order keys), which ties do
//! not change; where the order keys end with a unique column, whole rows are compared.

mod common;

use std::sync::Arc;

use common::{block_on, Rng};
use corepy_engine::{Session, SessionOptions};
use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::common::stats::Precision;
use datafusion::datasource::MemTable;
use datafusion::physical_plan::displayable;
use datafusion::physical_plan::statistics::{StatisticsArgs, StatisticsContext};
use datafusion::prelude::{SessionConfig, SessionContext};

fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("g", DataType::Int32, true),
        Field::new("s", DataType::Utf8, true),
        Field::new("v", DataType::Float64, true),
        Field::new("w", DataType::Int64, false),
    ]))
}

/// `rows` rows in batches of at most 50: `g` among `groups` values or NULL, `s` among a few
/// strings or NULL, `v` with NULLs, NaN, ±0 and repeats, `w` unique (the row's position).
fn table(rng: &mut Rng, rows: usize, groups: u64, partitions: usize) -> Vec<Vec<RecordBatch>> {
    let mut all: Vec<Vec<RecordBatch>> = vec![Vec::new(); partitions];
    let mut start = 0;
    while start < rows {
        let n = (rows - start).min(1 + rng.below(50) as usize);
        let g: Int32Array = (0..n)
            .map(|_| (!rng.chance(5)).then(|| rng.below(groups) as i32))
            .collect();
        let strings = ["a", "b", "", "é", "a longer string, past twelve bytes"];
        let s: StringArray = (0..n)
            .map(|_| (!rng.chance(10)).then(|| strings[rng.below(5) as usize]))
            .collect();
        let v: Float64Array = (0..n)
            .map(|_| match rng.below(20) {
                0 => None,
                1 => Some(f64::NAN),
                2 => Some(-0.0),
                3 => Some(0.0),
                4 => Some(f64::INFINITY),
                _ => Some((rng.below(40) as f64) / 4.0 - 5.0),
            })
            .collect();
        let w = Int64Array::from_iter_values((start..start + n).map(|i| i as i64));
        let columns: Vec<ArrayRef> = vec![Arc::new(g), Arc::new(s), Arc::new(v), Arc::new(w)];
        let batch = RecordBatch::try_new(schema(), columns).expect("batch");
        all[rng.below(partitions as u64) as usize].push(batch);
        start += n;
    }
    all
}

fn register(context: &SessionContext, partitions: &[Vec<RecordBatch>]) {
    let table = MemTable::try_new(schema(), partitions.to_vec()).expect("table");
    let _ = context.deregister_table("t");
    context
        .register_table("t", Arc::new(table))
        .expect("register");
}

/// The rows of `sql`, sorted, as text; and the physical plan.
fn run(context: &SessionContext, sql: &str) -> (String, String) {
    block_on(async {
        let frame = context.sql(sql).await.expect("plans");
        let plan = frame.clone().create_physical_plan().await.expect("plans");
        let shown = displayable(plan.as_ref()).indent(true).to_string();
        let batches = frame.collect().await.expect("runs");
        let text = pretty_format_batches(&batches).expect("shows").to_string();
        // The header, then the rows in sorted order.
        let mut lines: Vec<&str> = text.lines().filter(|l| l.starts_with('|')).collect();
        let mut rows = lines.split_off(1.min(lines.len()));
        rows.sort_unstable();
        lines.extend(rows);
        (lines.join("\n"), shown)
    })
}

/// Equal texts, or a failure that shows the first line where they differ.
fn assert_same(ours: &str, theirs: &str, what: &str) {
    if ours == theirs {
        return;
    }
    let (a, b): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), theirs.lines().collect());
    let at = a
        .iter()
        .zip(&b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    panic!(
        "{what}\n{} rows against {}; first difference at line {at}:\n ours:   {:?}\n theirs: {:?}",
        a.len(),
        b.len(),
        a.get(at),
        b.get(at)
    );
}

fn contexts(partitions: usize, batch_size: usize) -> (Session, SessionContext) {
    let corepy = Session::new(SessionOptions {
        target_partitions: Some(partitions),
        batch_size: Some(batch_size),
        ..Default::default()
    })
    .expect("session");
    let config = SessionConfig::new()
        .with_target_partitions(partitions)
        .with_batch_size(batch_size);
    (corepy, SessionContext::new_with_config(config))
}

/// (partition keys, order keys, whether the order keys make rows unique)
const WINDOWS: &[(&str, &str, bool)] = &[
    ("g", "v DESC", false),
    ("g", "v", false),
    ("g", "v DESC NULLS LAST", false),
    ("g", "v ASC NULLS FIRST, w DESC", true),
    ("s", "v DESC, w", true),
    ("g, s", "v", false),
    ("g, s", "w", true),
    ("", "v DESC, w", true),
    ("g", "s DESC, v", false),
    ("v", "w", true),
    ("g", "", false),
];

fn query(partition: &str, order: &str, bound: &str, whole_rows: bool) -> String {
    let over = match (partition, order) {
        ("", order) => format!("ORDER BY {order}"),
        (keys, "") => format!("PARTITION BY {keys}"),
        (keys, order) => format!("PARTITION BY {keys} ORDER BY {order}"),
    };
    let order_keys: Vec<&str> = order
        .split(',')
        .filter(|key| !key.is_empty())
        .map(|key| key.split_whitespace().next().expect("a column"))
        .collect();
    let shown = if whole_rows {
        "g, s, v, w, n".to_string()
    } else {
        let mut columns: Vec<&str> = partition.split(", ").filter(|c| !c.is_empty()).collect();
        columns.extend(order_keys);
        columns.push("n");
        columns.join(", ")
    };
    format!("SELECT {shown} FROM (SELECT *, row_number() OVER ({over}) AS n FROM t) WHERE {bound}")
}

#[test]
fn top_rows_per_group_match_the_window() {
    for seed in 1..=120u64 {
        let mut rng = Rng::seeded(seed);
        let rows = [0, 1, 7, 200, 1000][rng.below(5) as usize];
        let groups = [1, 3, 50, 1000][rng.below(4) as usize];
        let source_partitions = 1 + rng.below(3) as usize;
        let data = table(&mut rng, rows, groups, source_partitions);
        let (corepy, plain) = contexts(1 + rng.below(4) as usize, 1 + rng.below(64) as usize);
        register(corepy.context(), &data);
        register(&plain, &data);
        let (partition, order, unique) = WINDOWS[rng.below(WINDOWS.len() as u64) as usize];
        let k = [0, 1, 2, 3, 10, 5000][rng.below(6) as usize];
        let bound = match rng.below(3) {
            0 => format!("n <= {k}"),
            1 => format!("n < {}", k + 1),
            // Which rows an unordered window numbers is arbitrary: only the bound is
            // deterministic then.
            _ if order.is_empty() => format!("{k} >= n"),
            _ => format!("{k} >= n AND v IS NOT NULL"),
        };
        let sql = query(partition, order, &bound, unique);
        let (ours, plan) = run(corepy.context(), &sql);
        assert!(plan.contains("TopPerGroupExec"), "{sql}\n{plan}");
        let (theirs, _) = run(&plain, &sql);
        assert_same(&ours, &theirs, &format!("seed {seed}: {sql}"));
    }
}

#[test]
fn many_replacements_compact_the_candidates_and_keep_the_answer() {
    // Rising values under `ORDER BY v DESC`: nearly every row displaces the last one kept,
    // so hundreds of thousands of candidates die and the operator compacts several times.
    let rows = 400_000;
    let g = Int32Array::from_iter_values((0..rows).map(|i| i % 7));
    let s = StringArray::from_iter_values((0..rows).map(|i| format!("row {i}")));
    let v = Float64Array::from_iter_values((0..rows).map(f64::from));
    let w = Int64Array::from_iter_values((0..rows).map(i64::from));
    let columns: Vec<ArrayRef> = vec![Arc::new(g), Arc::new(s), Arc::new(v), Arc::new(w)];
    let batch = RecordBatch::try_new(schema(), columns).expect("batch");
    let batches: Vec<RecordBatch> = (0..rows as usize)
        .step_by(4096)
        .map(|at| batch.slice(at, 4096.min(rows as usize - at)))
        .collect();
    let data = vec![batches];
    let (corepy, plain) = contexts(2, 4096);
    register(corepy.context(), &data);
    register(&plain, &data);
    // One order key packs into an integer; two are compared as bytes.
    for order in ["v DESC", "v DESC, w"] {
        let sql = query("g", order, "n <= 3", true);
        let (ours, plan) = run(corepy.context(), &sql);
        assert!(plan.contains("TopPerGroupExec"), "{plan}");
        assert_same(&ours, &run(&plain, &sql).0, &sql);
        assert!(ours.contains("row 399999"), "{ours}");
    }
}

#[test]
fn a_memory_limit_too_small_for_the_heaps_is_an_error_that_names_the_operator() {
    let mut rng = Rng(7);
    let data = table(&mut rng, 100_000, 100_000, 1);
    let corepy = Session::new(SessionOptions {
        target_partitions: Some(1),
        memory_limit: Some(256 * 1024),
        ..Default::default()
    })
    .expect("session");
    register(corepy.context(), &data);
    let sql = query("w", "v", "n <= 1", true);
    let error = block_on(async {
        let frame = corepy.context().sql(&sql).await.expect("plans");
        frame
            .collect()
            .await
            .expect_err("more memory than the limit")
    });
    let message = error.to_string();
    assert!(message.contains("TopPerGroupExec"), "{message}");
}

/// The estimated rows of the `TopPerGroupExec` in the plan of `sql`.
fn estimated_rows_of_the_top(context: &SessionContext, sql: &str) -> Precision<usize> {
    let plan = block_on(async {
        let frame = context.sql(sql).await.expect("plans");
        frame.create_physical_plan().await.expect("plans")
    });
    let mut node = plan;
    while node.name() != "TopPerGroupExec" {
        node = Arc::clone(node.children().first().expect("a TopPerGroupExec below"));
    }
    let stats = StatisticsContext::new()
        .compute(node.as_ref(), &StatisticsArgs::new())
        .expect("statistics");
    stats.num_rows
}

#[test]
fn the_estimate_is_the_inputs_rows_or_k_without_groups() {
    let mut rng = Rng(3);
    let data = table(&mut rng, 1000, 10, 1);
    let (corepy, _) = contexts(1, 8192);
    register(corepy.context(), &data);
    let grouped = query("g", "v", "n <= 2", true);
    assert_eq!(
        estimated_rows_of_the_top(corepy.context(), &grouped),
        Precision::Inexact(1000)
    );
    let whole = query("", "v DESC, w", "n <= 3", true);
    assert_eq!(
        estimated_rows_of_the_top(corepy.context(), &whole),
        Precision::Inexact(3)
    );
}
