//! `SingleArrayKey` against the same joins planned on all their keys: every join type, NULL
//! keys on both sides, repeated keys, an extra non-equality condition, and keys that do
//! not qualify (no rule applies, the plan is DataFusion's).

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{block_on, Rng};
use corepy_engine::{Session, SessionOptions};
use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::physical_plan::{collect, displayable};
use datafusion::prelude::ParquetReadOptions;

/// `rows` rows of `(a, c, v)`: `a` among `a_values` keys (NULL one time in twenty), `c`
/// among 7 (NULL one time in ten), `v` any; written as a Parquet file, whose statistics
/// give the planner the keys' bounds.
fn write(path: &Path, rng: &mut Rng, rows: usize, a_values: u64) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("a", DataType::Int64, true),
        Field::new("c", DataType::Int64, true),
        Field::new("v", DataType::Int64, false),
    ]));
    let a: Int64Array = (0..rows)
        .map(|_| (!rng.chance(5)).then(|| rng.below(a_values) as i64))
        .collect();
    let c: Int64Array = (0..rows)
        .map(|_| (!rng.chance(10)).then(|| rng.below(7) as i64))
        .collect();
    let v = Int64Array::from_iter_values((0..rows).map(|_| rng.below(1000) as i64));
    let columns: Vec<ArrayRef> = vec![Arc::new(a), Arc::new(c), Arc::new(v)];
    let batch = RecordBatch::try_new(Arc::clone(&schema), columns).expect("batch");
    let file = std::fs::File::create(path).expect("file");
    let mut writer = ArrowWriter::try_new(file, schema, None).expect("writer");
    writer.write(&batch).expect("write");
    writer.close().expect("close");
}

fn session(dir: &Path, on: bool) -> Session {
    let session = Session::new(SessionOptions {
        target_partitions: Some(4),
        ..Default::default()
    })
    .expect("session");
    let context = session.context();
    block_on(async {
        for name in ["b", "p"] {
            let path = dir.join(format!("{name}.parquet"));
            let path = path.to_str().expect("utf-8");
            context
                .register_parquet(name, path, ParquetReadOptions::default())
                .await?;
        }
        let set = format!("SET corepy.single_array_key = {on}");
        context.sql(&set).await?.collect().await
    })
    .expect("session");
    session
}

/// The rows of `sql`, sorted as text, and its physical plan.
fn run(session: &Session, sql: &str) -> (Vec<String>, String) {
    block_on(async {
        let frame = session.context().sql(sql).await.expect("plans");
        let plan = frame.create_physical_plan().await.expect("plans");
        let batches = collect(Arc::clone(&plan), session.context().task_ctx())
            .await
            .expect("runs");
        let text = pretty_format_batches(&batches).expect("shows").to_string();
        let mut rows: Vec<String> = text.lines().map(str::to_owned).collect();
        rows.sort();
        let shown = displayable(plan.as_ref()).indent(true).to_string();
        (rows, shown)
    })
}

const JOINS: &[&str] = &[
    "SELECT b.v, p.v FROM b JOIN p ON b.a = p.a AND b.c = p.c",
    "SELECT b.v, p.v FROM b LEFT JOIN p ON b.a = p.a AND b.c = p.c",
    "SELECT b.v, p.v FROM b RIGHT JOIN p ON b.a = p.a AND b.c = p.c",
    "SELECT b.v, p.v FROM b FULL JOIN p ON b.a = p.a AND b.c = p.c",
    "SELECT b.v, p.v FROM b JOIN p ON b.a = p.a AND b.c = p.c AND b.v < p.v",
    "SELECT p.v FROM p WHERE EXISTS (SELECT 1 FROM b WHERE b.a = p.a AND b.c = p.c)",
    "SELECT p.v FROM p WHERE NOT EXISTS (SELECT 1 FROM b WHERE b.a = p.a AND b.c = p.c)",
    "SELECT p.v FROM p WHERE EXISTS \
     (SELECT 1 FROM b WHERE b.a = p.a AND b.c = p.c AND b.v <> p.v)",
];

#[test]
fn joins_on_one_array_key_answer_as_joins_on_all_keys() {
    let dir = tempfile::tempdir().expect("dir");
    let mut rng = Rng::seeded(7);
    // 3 000 build rows over 1 500 values of `a` (two per value), 40 000 probe rows.
    write(&dir.path().join("b.parquet"), &mut rng, 3_000, 1_500);
    write(&dir.path().join("p.parquet"), &mut rng, 40_000, 2_000);
    let (on, off) = (session(dir.path(), true), session(dir.path(), false));
    let mut narrowed = 0;
    for sql in JOINS {
        let (ours, planned) = run(&on, sql);
        let (theirs, planned_off) = run(&off, sql);
        assert!(ours.len() > 10, "{sql}: {ours:?}");
        assert_eq!(ours, theirs, "{sql}\n{planned}");
        assert!(!planned_off.contains("filter=c@"), "{planned_off}");
        let one_key = planned
            .lines()
            .any(|l| l.contains("HashJoinExec: mode=CollectLeft") && l.contains("= c@"));
        narrowed += usize::from(one_key);
    }
    // Every collected join found `a` (1 500 values, two rows each) and not `c` (7 values).
    assert!(narrowed >= 5, "{narrowed} of {} joins", JOINS.len());
    let (_, inner) = run(&on, JOINS[0]);
    let join = inner
        .lines()
        .find(|l| l.contains("HashJoinExec"))
        .expect("a join");
    assert!(join.contains("on=[(a@0, a@0)]"), "{inner}");
    assert!(join.contains("filter=c@"), "{inner}");
}

#[test]
fn keys_without_an_array_like_range_stay_as_planned() {
    let dir = tempfile::tempdir().expect("dir");
    let mut rng = Rng::seeded(8);
    // `a` spread over a range a hundred times the rows: too sparse for an array; `c`
    // has 7 values for 3 000 rows: too many rows per value.
    write(&dir.path().join("b.parquet"), &mut rng, 3_000, 300_000);
    write(&dir.path().join("p.parquet"), &mut rng, 40_000, 300_000);
    let on = session(dir.path(), true);
    let (_, plan) = run(&on, JOINS[0]);
    let join = plan
        .lines()
        .find(|l| l.contains("HashJoinExec"))
        .expect("a join");
    assert!(join.contains("(a@0, a@0), (c@1, c@1)"), "{plan}");
}
