//! corepy's grouped `corr` against DataFusion's: the same bits for every group (values are
//! eighths, so that sums are exact whatever the order of rows), over random
//! tables with NULLs, NaN, infinities, one-row and constant groups, a `FILTER` clause, many
//! batches and partitions, and with partial aggregation skipped (each row its own state).

mod common;

use std::sync::Arc;

use common::Rng;
use corepy_engine::{Session, SessionOptions};
use corepy_planner::aggregates::GroupedCorr;
use datafusion::arrow::array::{Array, ArrayRef, Float64Array, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::datasource::MemTable;
use datafusion::execution::FunctionRegistry;
use datafusion::prelude::{SessionConfig, SessionContext};

fn value(rng: &mut Rng) -> Option<f64> {
    match rng.below(40) {
        0 => None,
        1 => Some(f64::NAN),
        2 => Some(f64::INFINITY),
        3 => Some(-0.0),
        // Eighths: every sum and product is exact, so the order in which partitions add
        // rows (which differs between plans and runs) cannot change a bit.
        _ => Some((rng.below(2000) as f64 - 1000.0) / 8.0),
    }
}

fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("g", DataType::Int64, true),
        Field::new("x", DataType::Float64, true),
        Field::new("y", DataType::Float64, true),
    ]))
}

fn table(rng: &mut Rng, rows: usize, groups: u64) -> Vec<Vec<RecordBatch>> {
    let mut partitions = vec![Vec::new(), Vec::new(), Vec::new()];
    let mut done = 0;
    while done < rows {
        let n = (rows - done).min(1 + rng.below(300) as usize);
        let g: Int64Array = (0..n)
            .map(|_| (rng.below(50) != 0).then(|| rng.below(groups) as i64))
            .collect();
        // Group 0 is constant in x: zero variance.
        let x: Float64Array = (0..n)
            .map(|i| {
                if g.value(i) == 0 {
                    Some(1.5)
                } else {
                    value(rng)
                }
            })
            .collect();
        let y: Float64Array = (0..n).map(|_| value(rng)).collect();
        let columns: Vec<ArrayRef> = vec![Arc::new(g), Arc::new(x), Arc::new(y)];
        let batch = RecordBatch::try_new(schema(), columns).expect("batch");
        partitions[rng.below(3) as usize].push(batch);
        done += n;
    }
    partitions
}

fn rows(context: &SessionContext, sql: &str) -> String {
    corepy_engine::runtime::runtime().block_on(async {
        let batches = context
            .sql(sql)
            .await
            .expect("plans")
            .collect()
            .await
            .expect("runs");
        // Every bit of every value: `{:?}` of the f64s, sorted by group.
        let text = pretty_format_batches(&batches).expect("shows").to_string();
        let mut lines: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with('|'))
            .skip(1)
            .collect();
        lines.sort_unstable();
        lines.join("\n")
    })
}

fn bits(context: &SessionContext, sql: &str) -> Vec<(Option<i64>, Option<u64>)> {
    corepy_engine::runtime::runtime().block_on(async {
        let batches = context
            .sql(sql)
            .await
            .expect("plans")
            .collect()
            .await
            .expect("runs");
        let mut out = Vec::new();
        for batch in batches {
            let g = batch
                .column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .expect("keys");
            let r = batch
                .column(1)
                .as_any()
                .downcast_ref::<Float64Array>()
                .expect("values");
            for i in 0..batch.num_rows() {
                let key = (!g.is_null(i)).then(|| g.value(i));
                let value = (!r.is_null(i)).then(|| r.value(i).to_bits());
                out.push((key, value));
            }
        }
        out.sort_unstable();
        out
    })
}

#[test]
fn the_session_registers_corepys_corr() {
    let session = Session::new(SessionOptions::default()).expect("session");
    let corr = session.context().udaf("corr").expect("corr");
    let implementation: &dyn std::any::Any = corr.inner().as_ref();
    assert!(implementation.is::<GroupedCorr>());
}

#[test]
fn grouped_corr_gives_datafusions_bits() {
    for seed in 1..=30u64 {
        let mut rng = Rng::seeded(seed);
        let rows_n = [0, 1, 10, 500, 5000][rng.below(5) as usize];
        let groups = [1, 7, 300, 5000][rng.below(4) as usize];
        let data = table(&mut rng, rows_n, groups);
        let partitions = 1 + rng.below(4) as usize;
        let batch_size = [7, 64, 8192][rng.below(3) as usize];
        let corepy = Session::new(SessionOptions {
            target_partitions: Some(partitions),
            batch_size: Some(batch_size),
            ..Default::default()
        })
        .expect("session");
        let config = SessionConfig::new()
            .with_target_partitions(partitions)
            .with_batch_size(batch_size);
        let plain = SessionContext::new_with_config(config);
        // A low probe threshold makes DataFusion skip partial aggregation when groups are
        // many: rows then become states one by one (`convert_to_state`).
        let skip = rng.below(2) == 0;
        for context in [corepy.context(), &plain] {
            let table = MemTable::try_new(schema(), data.clone()).expect("table");
            context
                .register_table("t", Arc::new(table))
                .expect("register");
            if skip {
                rows(
                    context,
                    "SET datafusion.execution.skip_partial_aggregation_probe_rows_threshold = 10",
                );
                rows(
                    context,
                    "SET datafusion.execution.skip_partial_aggregation_probe_ratio_threshold = 0.1",
                );
            }
        }
        for sql in [
            "SELECT g, corr(y, x) AS r FROM t GROUP BY g",
            "SELECT g, corr(y, x) FILTER (WHERE x > 0) AS r FROM t GROUP BY g",
            "SELECT g, corr(x, x) AS r FROM t GROUP BY g",
        ] {
            assert_eq!(
                bits(corepy.context(), sql),
                bits(&plain, sql),
                "seed {seed}: {sql}"
            );
        }
        let whole = "SELECT corr(y, x) AS r FROM t";
        assert_eq!(
            rows(corepy.context(), whole),
            rows(&plain, whole),
            "seed {seed}"
        );
    }
}
