//! Differential test of fusion: random SQL expressions over random columns (NULLs, NaN,
//! ±inf, -0.0, MIN/MAX), each run four ways — fused and JIT-compiled, fused and
//! interpreted, fused and rendered to PTX (run on the PTX emulator), and unfused by
//! DataFusion — which must agree (tests on string columns included: `=`, IN, LIKE, which
//! reach the kernel as boolean inputs): the same rows, the same
//! values (bit for bit; a float NaN equals a NaN), the same validity, and an error of the
//! same kind (division by zero, out of range, square root) in all three or in none.
//!
//! It checks 10,000 expressions (projections and filter predicates); `COREPY_SOAK=N` checks
//! N instead, and `COREPY_SEED=S` starts at seed S.
//! A failure prints the query, the data and the three outcomes.

use std::sync::Arc;

use corepy_engine::jit::JitExec;
use corepy_engine::{Session, SessionOptions};
use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Decimal128Array, Float64Array, Int32Array, Int64Array,
    RecordBatch, StringArray, StringViewArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::datasource::MemTable;
use datafusion::execution::SessionStateBuilder;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::{collect, ExecutionPlan};
use datafusion::prelude::SessionContext;

/// The NaN x86 arithmetic produces: data uses it so that every NaN of a run has the same
/// bits (which NaN an operation on two different NaNs returns is unspecified, and compilers
/// may swap the operands of `+`, so NaNs of both signs would make total-order comparisons
/// of results ambiguous).
const DEFAULT_NAN: f64 = f64::from_bits(0xFFF8_0000_0000_0000);

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, p: u64) -> bool {
        self.next() % 100 < p
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Ty {
    F64,
    I64,
    I32,
    Dec,
    Bool,
}

fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("f1", DataType::Float64, true),
        Field::new("f2", DataType::Float64, true),
        Field::new("i1", DataType::Int64, true),
        Field::new("i2", DataType::Int64, true),
        Field::new("j1", DataType::Int32, true),
        Field::new("b1", DataType::Boolean, true),
        Field::new("d1", DataType::Decimal128(15, 2), true),
        Field::new("d2", DataType::Decimal128(10, 4), true),
        Field::new("s1", DataType::Utf8View, true),
        Field::new("s2", DataType::Utf8, true),
    ]))
}

/// Strings short enough to sit in a view and longer, empty, multi-byte, and ones holding
/// LIKE's wildcard characters.
const STRINGS: [&str; 10] = [
    "",
    "AIR",
    "AIR REG",
    "DELIVER IN PERSON",
    "DELIVER IN PERSOM",
    "MAIL",
    "a%b_c",
    "é",
    "TAKE BACK RETURN",
    "abcdefghijklm",
];

fn random_strings(rng: &mut Rng, rows: usize) -> Vec<Option<&'static str>> {
    (0..rows)
        .map(|_| (!rng.chance(12)).then(|| rng.pick(&STRINGS)))
        .collect()
}

/// Decimals near zero and at the edges of their precision, and (as Arrow allows) a few
/// past it, up to the ends of i128.
fn random_decimals(rng: &mut Rng, rows: usize, precision: u8, scale: i8) -> ArrayRef {
    let max = 10i128.pow(precision as u32) - 1;
    let array = Decimal128Array::from_iter((0..rows).map(|_| {
        (!rng.chance(12)).then(|| {
            let random = (rng.next() % 20_000) as i128 - 10_000;
            if rng.chance(3) {
                rng.pick(&[i128::MAX, i128::MIN, max + 1, -(1i128 << 100)])
            } else {
                rng.pick(&[0, 1, -1, 150, max, -max, random, random])
            }
        })
    }));
    Arc::new(
        array
            .with_precision_and_scale(precision, scale)
            .expect("valid decimal type"),
    )
}

fn random_f64s(rng: &mut Rng, rows: usize) -> ArrayRef {
    Arc::new(Float64Array::from_iter((0..rows).map(|_| {
        (!rng.chance(12)).then(|| {
            let random = (rng.next() % 1000) as f64 / 8.0 - 60.0;
            rng.pick(&[
                0.0,
                -0.0,
                1.0,
                -1.5,
                2.5,
                DEFAULT_NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                1e300,
                -7.0e18,
                random,
                random,
            ])
        })
    })))
}

fn random_i64s(rng: &mut Rng, rows: usize) -> ArrayRef {
    Arc::new(Int64Array::from_iter((0..rows).map(|_| {
        (!rng.chance(12)).then(|| {
            let random = (rng.next() % 200) as i64 - 100;
            rng.pick(&[0, 1, -1, 2, i64::MIN, i64::MAX, 7, random, random])
        })
    })))
}

fn random_batch(rng: &mut Rng, rows: usize) -> RecordBatch {
    let f1 = random_f64s(rng, rows);
    let f2 = random_f64s(rng, rows);
    let i1 = random_i64s(rng, rows);
    let i2 = random_i64s(rng, rows);
    let j1: ArrayRef = Arc::new(Int32Array::from_iter((0..rows).map(|_| {
        (!rng.chance(12)).then(|| {
            let random = (rng.next() % 50) as i32 - 25;
            rng.pick(&[0, 1, -1, i32::MIN, i32::MAX, random, random])
        })
    })));
    let b1: ArrayRef = Arc::new(BooleanArray::from_iter(
        (0..rows).map(|_| (!rng.chance(12)).then(|| rng.chance(50))),
    ));
    let d1 = random_decimals(rng, rows, 15, 2);
    let d2 = random_decimals(rng, rows, 10, 4);
    let s1: ArrayRef = Arc::new(StringViewArray::from(random_strings(rng, rows)));
    let s2: ArrayRef = Arc::new(StringArray::from(random_strings(rng, rows)));
    RecordBatch::try_new(schema(), vec![f1, f2, i1, i2, j1, b1, d1, d2, s1, s2]).expect("batch")
}

/// A random SQL expression of type `ty`.
fn expr(rng: &mut Rng, ty: Ty, depth: usize) -> String {
    if depth == 0 || rng.chance(20) {
        return leaf(rng, ty);
    }
    let d = depth - 1;
    if ty == Ty::Bool {
        return match rng.below(8) {
            7 => string_test(rng),
            6 => {
                let t = rng.pick(&[Ty::I64, Ty::I32, Ty::Dec, Ty::F64]);
                let not = if rng.chance(30) { " NOT" } else { "" };
                format!(
                    "({}{not} IN ({}, {}, {}))",
                    expr(rng, t, d),
                    leaf(rng, t),
                    leaf(rng, t),
                    expr(rng, t, d)
                )
            }
            0 | 1 => {
                let t = rng.pick(&[Ty::F64, Ty::I64, Ty::I32, Ty::F64, Ty::Dec]);
                let op = rng.pick(&["=", "<>", "<", "<=", ">", ">="]);
                format!("({} {op} {})", expr(rng, t, d), expr(rng, t, d))
            }
            2 => {
                let op = rng.pick(&["AND", "OR"]);
                format!(
                    "({} {op} {})",
                    expr(rng, Ty::Bool, d),
                    expr(rng, Ty::Bool, d)
                )
            }
            3 => format!("(NOT {})", expr(rng, Ty::Bool, d)),
            4 => {
                let t = rng.pick(&[Ty::F64, Ty::I64, Ty::Bool]);
                let op = rng.pick(&["IS NULL", "IS NOT NULL"]);
                format!("({} {op})", expr(rng, t, d))
            }
            _ => format!(
                "CASE WHEN {} THEN {} WHEN {} THEN {} ELSE {} END",
                expr(rng, Ty::Bool, d),
                expr(rng, Ty::Bool, d),
                expr(rng, Ty::Bool, d),
                expr(rng, Ty::Bool, d),
                expr(rng, Ty::Bool, d)
            ),
        };
    }
    match rng.below(11) {
        10 => {
            let t = rng.pick(&[Ty::I64, Ty::I32, Ty::Dec, Ty::F64]);
            format!(
                "CASE {} WHEN {} THEN {} WHEN {} THEN {} ELSE {} END",
                expr(rng, t, d),
                leaf(rng, t),
                expr(rng, ty, d),
                expr(rng, t, d),
                expr(rng, ty, d),
                expr(rng, ty, d)
            )
        }
        0..=2 => {
            let ops: &[&str] = if ty == Ty::F64 {
                &["+", "-", "*", "/"]
            } else if ty == Ty::Dec {
                // Decimal ÷ is not fused: it checks the fallback.
                &["+", "-", "*", "+", "-", "*", "/"]
            } else {
                &["+", "-", "*", "/", "%"]
            };
            let op = rng.pick(ops);
            format!("({} {op} {})", expr(rng, ty, d), expr(rng, ty, d))
        }
        // Float negation and abs turn the (negative) NaNs of the data positive; which of two
        // NaNs of different signs `+` returns is unspecified (DataFusion's answer depends on
        // the operand order LLVM picks), and a later total-order comparison would see it. So
        // floats are negated by subtraction here (the random kernels of `codegen` cover
        // float negation and abs against the interpreter).
        3 if ty == Ty::F64 => format!("(0.0 - {})", expr(rng, ty, d)),
        3 => format!("(- {})", expr(rng, ty, d)),
        4 => {
            let f: &[&str] = if ty == Ty::F64 {
                &["sqrt", "floor", "ceil", "round"]
            } else {
                &["abs"]
            };
            format!("{}({})", rng.pick(f), expr(rng, ty, d))
        }
        5 => {
            let from = match ty {
                Ty::Dec => rng.pick(&[Ty::Dec, Ty::I64, Ty::I32]),
                Ty::F64 => rng.pick(&[Ty::F64, Ty::I64, Ty::I32, Ty::Dec]),
                _ => rng.pick(&[Ty::F64, Ty::I64, Ty::I32]),
            };
            let to = if ty == Ty::Dec {
                rng.pick(&[
                    "DECIMAL(20, 4)",
                    "DECIMAL(12, 2)",
                    "DECIMAL(38, 6)",
                    "DECIMAL(7, 2)",
                ])
            } else {
                sql_type(ty)
            };
            format!("CAST({} AS {to})", expr(rng, from, d))
        }
        6 => format!(
            "CASE WHEN {} THEN {} ELSE {} END",
            expr(rng, Ty::Bool, d),
            expr(rng, ty, d),
            expr(rng, ty, d)
        ),
        7 => format!("coalesce({}, {})", expr(rng, ty, d), expr(rng, ty, d)),
        8 => format!("nullif({}, {})", expr(rng, ty, d), expr(rng, ty, d)),
        _ => {
            let f = rng.pick(&["greatest", "least"]);
            format!("{f}({}, {})", expr(rng, ty, d), expr(rng, ty, d))
        }
    }
}

/// A test on a string column: `=`/`<>` either way round, [NOT] IN (a NULL among the values
/// at times), [NOT] LIKE (with `_` and escapes at times, which stay with DataFusion).
fn string_test(rng: &mut Rng) -> String {
    let s = rng.pick(&["s1", "s2"]);
    let not = if rng.chance(30) { " NOT" } else { "" };
    let text = |rng: &mut Rng| format!("'{}'", rng.pick(&STRINGS));
    match rng.below(5) {
        0 => format!("({s} {} {})", rng.pick(&["=", "<>"]), text(rng)),
        1 => format!("({} = {s})", text(rng)),
        2 => {
            let last = if rng.chance(15) {
                "NULL".to_string()
            } else {
                text(rng)
            };
            format!("({s}{not} IN ({}, {last}))", text(rng))
        }
        _ => {
            let pattern = rng.pick(&[
                "AIR%",
                "%IN PERSON",
                "%R%",
                "%",
                "A_R",
                "DELIVER%PERS%N",
                "é%",
                "%a\\%b%",
                "%%E%",
                "",
                "MAIL",
            ]);
            format!("({s}{not} LIKE '{pattern}')")
        }
    }
}

fn sql_type(ty: Ty) -> &'static str {
    match ty {
        Ty::F64 => "DOUBLE",
        Ty::I64 => "BIGINT",
        Ty::I32 => "INT",
        Ty::Dec => "DECIMAL(15, 2)",
        Ty::Bool => "BOOLEAN",
    }
}

fn leaf(rng: &mut Rng, ty: Ty) -> String {
    let column = rng.chance(70);
    let text = match ty {
        Ty::F64 if column => rng.pick(&["f1", "f2"]),
        Ty::F64 => rng.pick(&[
            "1.5",
            "0.0",
            "-2.0",
            "(0.0 / 0.0)",
            "CAST(NULL AS DOUBLE)",
            "1e308",
        ]),
        Ty::I64 if column => rng.pick(&["i1", "i2"]),
        Ty::I64 => rng.pick(&["0", "1", "-1", "3", "9223372036854775807"]),
        Ty::I32 if column => "j1",
        Ty::I32 => rng.pick(&["CAST(2 AS INT)", "CAST(0 AS INT)", "CAST(-1 AS INT)"]),
        Ty::Dec if column => rng.pick(&["d1", "d2"]),
        Ty::Dec => rng.pick(&[
            "CAST(1.25 AS DECIMAL(5, 2))",
            "CAST(0 AS DECIMAL(3, 0))",
            "CAST(-7 AS DECIMAL(12, 4))",
            "CAST(NULL AS DECIMAL(15, 2))",
        ]),
        Ty::Bool if column => "b1",
        Ty::Bool => rng.pick(&["TRUE", "FALSE"]),
    };
    text.to_string()
}

type Outcome = Result<Vec<RecordBatch>, String>;

/// Every PTX module the run rendered, by entry (assembled with ptxas at the end).
static RENDERED: std::sync::Mutex<std::collections::BTreeMap<String, String>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

/// How a run evaluates the fused stages.
#[derive(Clone, Copy, PartialEq)]
enum Way {
    Jit,
    Interpreter,
    /// Their PTX, on corepy's PTX emulator (every stage must render).
    Ptx,
}

/// Runs `sql`; returns the outcome and the number of fused stages in its plan.
fn run(context: &SessionContext, sql: &str, way: Way) -> (Outcome, usize) {
    let context = context.clone();
    let sql = sql.to_string();
    corepy_engine::runtime::block_on(async move {
        let planned = async {
            let df = context.sql(&sql).await?;
            df.create_physical_plan().await
        }
        .await;
        let plan = match planned {
            Ok(p) => p,
            Err(e) => return Ok((Err(format!("plan: {e}")), 0)),
        };
        let mut fused = 0;
        let plan = plan
            .transform_up(|node: Arc<dyn ExecutionPlan>| {
                let Some(exec) = node.downcast_ref::<JitExec>() else {
                    return Ok(Transformed::no(node));
                };
                fused += 1;
                let replaced = match way {
                    Way::Jit => return Ok(Transformed::no(node)),
                    Way::Interpreter => exec.interpreted(),
                    Way::Ptx => {
                        let module = exec.ptx().expect("every fused stage renders to PTX");
                        RENDERED
                            .lock()
                            .expect("not poisoned")
                            .insert(module.entries[0].name.clone(), module.text.clone());
                        exec.emulated().expect("rendered")
                    }
                };
                Ok(Transformed::yes(
                    Arc::new(replaced) as Arc<dyn ExecutionPlan>
                ))
            })?
            .data;
        let result = collect(plan, context.task_ctx())
            .await
            .map_err(|e| e.to_string());
        Ok((result, fused))
    })
    .expect("runs")
}

/// Whether the fused plan of `sql` split its filter: a filter over a fused stage that
/// filters. A filter that does not lower whole runs its conjuncts that lower and cannot
/// fail first (`planner/src/fusion/conjuncts.rs`), so the others see only the rows those
/// kept: an error DataFusion raises on a row the first ones drop is spared — as
/// DataFusion's own AND spares it whenever a batch's left side is all false.
fn filter_split(context: &SessionContext, sql: &str) -> bool {
    let (context, sql) = (context.clone(), sql.to_string());
    let plan = corepy_engine::runtime::block_on(async move {
        let planned = async { context.sql(&sql).await?.create_physical_plan().await };
        Ok(planned.await)
    });
    let Ok(Ok(plan)) = plan else {
        return false;
    };
    let filters = |node: &Arc<dyn ExecutionPlan>| {
        node.downcast_ref::<FilterExec>().is_some()
            || node
                .downcast_ref::<JitExec>()
                .is_some_and(|stage| stage.lowered().kernel.selection.is_some())
    };
    let mut split = false;
    let _ = plan.apply(|node| {
        if filters(node) {
            let mut below = Arc::clone(node.children()[0]);
            while let Some(p) = below.downcast_ref::<ProjectionExec>() {
                below = Arc::clone(p.input());
            }
            split |= below.downcast_ref::<JitExec>().is_some() && filters(&below);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    split
}

/// The kind of a failure, from its message: what a user would be told went wrong.
/// Overflow and a cast out of range are one kind (Arrow reports some casts as overflow).
fn failure_kind(message: &str) -> &'static str {
    let m = message.to_lowercase();
    if m.contains("division by zero") || m.contains("divide by zero") {
        "division by zero"
    } else if ["overflow", "cast", "out of range", "to store in a decimal"]
        .iter()
        .any(|k| m.contains(k))
    {
        "out of range"
    } else if m.contains("square root") || m.contains("sqrt") {
        "square root of a negative number"
    } else {
        "other"
    }
}

fn same(a: &Outcome, b: &Outcome) -> bool {
    match (a, b) {
        (Err(x), Err(y)) => failure_kind(x) == failure_kind(y) && failure_kind(x) != "other",
        (Ok(x), Ok(y)) => match (concat(x), concat(y)) {
            (Some(x), Some(y)) => {
                x.num_rows() == y.num_rows()
                    && x.num_columns() == y.num_columns()
                    && x.columns()
                        .iter()
                        .zip(y.columns())
                        .all(|(p, q)| p.as_ref() == q.as_ref() || floats_match(p, q))
            }
            (x, y) => {
                let rows = |b: Option<RecordBatch>| b.map_or(0, |b| b.num_rows());
                rows(x) == 0 && rows(y) == 0
            }
        },
        _ => false,
    }
}

/// `fused` and `plain` agree: [`same`] (the same kind of failure), or both failed with
/// kinds a user can be told (never a planning or internal error) where a batch raises
/// failures of several kinds and each engine met a different one first: DataFusion
/// evaluates a batch operation by operation, a kernel a chunk of rows at a time. (That the
/// kernel's kind and row are among the failures the data raises is checked against the
/// interpreter, failure by failure, in `codegen/src/jit/tests.rs`.)
fn agrees(fused: &Outcome, plain: &Outcome) -> bool {
    same(fused, plain)
        || matches!((fused, plain), (Err(f), Err(p))
            if failure_kind(f) != "other" && failure_kind(p) != "other")
}

fn concat(batches: &[RecordBatch]) -> Option<RecordBatch> {
    let first = batches.first()?;
    datafusion::arrow::compute::concat_batches(&first.schema(), batches).ok()
}

/// Float columns equal but for NaN payloads (NaN-ness must match).
fn floats_match(a: &ArrayRef, b: &ArrayRef) -> bool {
    let (Some(a), Some(b)) = (
        a.as_any().downcast_ref::<Float64Array>(),
        b.as_any().downcast_ref::<Float64Array>(),
    ) else {
        return false;
    };
    a.len() == b.len()
        && a.iter().zip(b.iter()).all(|(x, y)| match (x, y) {
            (Some(x), Some(y)) => x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
            (None, None) => true,
            _ => false,
        })
}

fn show(outcome: &Outcome) -> String {
    match outcome {
        Ok(b) => pretty_format_batches(b)
            .map(|t| t.to_string())
            .unwrap_or_default(),
        Err(e) => format!("error: {e}"),
    }
}

/// The reference: DataFusion without its physical `ProjectionPushdown` rule. With one
/// partition (nothing in between), that rule moves a projection below the filter above it,
/// and so evaluates the projection on rows the filter drops — raising their errors (a
/// division by zero there), which SQL does not, nor DataFusion with a repartition between
/// the two, nor a fused stage.
fn evaluating_projections_after_filters(context: &SessionContext) -> SessionContext {
    let state = context.state();
    let rules = state
        .physical_optimizers()
        .iter()
        .filter(|rule| rule.name() != "ProjectionPushdown")
        .cloned()
        .collect();
    let state = SessionStateBuilder::new_from_existing(state)
        .with_physical_optimizer_rules(rules)
        .build();
    SessionContext::new_with_state(state)
}

#[test]
fn fused_interpreted_and_unfused_results_agree() {
    let target: u64 = std::env::var("COREPY_SOAK")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let seed0: u64 = std::env::var("COREPY_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let options = |jit: bool| SessionOptions {
        target_partitions: Some(1),
        batch_size: Some(37),
        jit: Some(jit),
        ..Default::default()
    };
    let fused_session = Session::new(options(true)).expect("session");
    let plain_session = Session::new(options(false)).expect("session");
    let fused_context = fused_session.context().clone();
    let plain_context = evaluating_projections_after_filters(plain_session.context());
    let (mut expressions, mut fused_queries, mut queries) = (0u64, 0u64, 0u64);
    for seed in seed0.. {
        if expressions >= target {
            break;
        }
        queries += 1;
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let rows = rng.pick(&[0, 1, 5, 64, 100, 130]);
        let batch = random_batch(&mut rng, rows);
        for context in [&fused_context, &plain_context] {
            let table = MemTable::try_new(schema(), vec![vec![batch.clone()]]).expect("table");
            context.deregister_table("t").expect("deregister");
            context
                .register_table("t", Arc::new(table))
                .expect("register");
        }
        let outputs = 1 + rng.below(3);
        let select: Vec<String> = (0..outputs)
            .map(|i| {
                let ty = rng.pick(&[Ty::F64, Ty::F64, Ty::I64, Ty::I32, Ty::Dec, Ty::Bool]);
                let depth = 1 + rng.below(3);
                format!("{} AS o{i}", expr(&mut rng, ty, depth))
            })
            .collect();
        expressions += outputs as u64;
        let mut sql = format!("SELECT {} FROM t", select.join(", "));
        if rng.chance(50) {
            let depth = 1 + rng.below(3);
            sql.push_str(&format!(" WHERE {}", expr(&mut rng, Ty::Bool, depth)));
            expressions += 1;
        }
        let (jit, fused) = run(&fused_context, &sql, Way::Jit);
        let (interpreted, _) = run(&fused_context, &sql, Way::Interpreter);
        let (ptx, _) = run(&fused_context, &sql, Way::Ptx);
        let (plain, unfused) = run(&plain_context, &sql, Way::Jit);
        assert_eq!(unfused, 0, "jit=false fuses nothing");
        fused_queries += u64::from(fused > 0);
        let spared = matches!(&plain, Err(e) if failure_kind(e) != "other")
            && jit.is_ok()
            && filter_split(&fused_context, &sql);
        let fused_ways_agree = same(&jit, &interpreted) && same(&jit, &ptx);
        assert!(
            (agrees(&jit, &plain) && agrees(&interpreted, &plain) && agrees(&ptx, &plain))
                || (spared && fused_ways_agree),
            "seed {seed}: results differ\nquery: {sql}\ndata:\n{}\nJIT:\n{}\ninterpreter:\n{}\nPTX (emulator):\n{}\nDataFusion:\n{}",
            pretty_format_batches(&[batch])
                .map(|t| t.to_string())
                .unwrap_or_default(),
            show(&jit),
            show(&interpreted),
            show(&ptx),
            show(&plain)
        );
    }
    eprintln!("{expressions} expressions in {queries} queries, {fused_queries} queries fused");
    // Every module, assembled by ptxas for sm_90 (where it is installed; CI requires it).
    let modules = RENDERED.lock().expect("not poisoned");
    let mut all = corepy_codegen::ptx::text::header();
    for text in modules.values() {
        all.push_str(text.split_once("\n\n").expect("a header").1);
    }
    corepy_codegen::ptx::ptxas::assemble(&all, "differential")
        .expect("ptxas assembles every module");
    eprintln!("{} PTX modules assembled", modules.len());
    assert!(
        fused_queries * 3 >= queries,
        "too few queries fused ({fused_queries} of {queries}): the test would prove little"
    );
}

/// What a column of an aggregate query holds, for comparing it.
#[derive(Clone, Copy, PartialEq)]
enum Check {
    /// Equal (floats NaN-aware).
    Exact,
    /// A float sum or mean: rounding depends on the order of addition, which differs
    /// between the kernel (row order) and Arrow (lanes), by at most rows · ε · Σ|x|, where
    /// column `bound` holds Σ|x|.
    Rounded { bound: usize },
    /// A variance or standard deviation: DataFusion's final aggregation merges the
    /// partitions' states in the order they arrive, which changes the last bits, or (with
    /// values near f64::MAX) whether a step overflows. Equal, or close where both are
    /// finite, or not finite in either.
    Moments,
}

/// A random aggregate query over random expressions: count, sum, avg, min, max and the
/// variances and standard deviations of floats (DataFusion keeps those the kernel does not
/// fold: min/max of booleans).
fn aggregate_query(rng: &mut Rng) -> (String, Vec<Check>) {
    // Grouped half of the time, by one or two keys (columns and computed keys; the
    // computed ones become stage columns like computed arguments).
    let keys: Vec<&str> = if rng.chance(50) {
        (0..1 + rng.below(2))
            .map(|_| {
                // Every integer type folds; a partition with many groups goes back to
                // DataFusion (not met here: a few hundred rows).
                rng.pick(&[
                    "j1",
                    "b1",
                    "CAST(i1 % 4 AS TINYINT)",
                    "CAST(j1 % 3 AS SMALLINT)",
                    "i2",
                    "CAST(f1 > 0.0 AS TINYINT)",
                    "CAST(j1 AS SMALLINT)",
                ])
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut select = Vec::new();
    let mut checks = Vec::new();
    for _ in 0..1 + rng.below(4) {
        let ty = rng.pick(&[Ty::F64, Ty::F64, Ty::I64, Ty::I32, Ty::Dec, Ty::Bool]);
        let depth = 1 + rng.below(3);
        let e = expr(rng, ty, depth);
        let func = match ty {
            Ty::Bool => rng.pick(&["count", "count", "min"]),
            // DataFusion's grouped min and max of floats depend on the order rows arrive
            // in (a NaN stands until the next value), so the plan's shape changes them.
            Ty::F64 if !keys.is_empty() => {
                rng.pick(&["count", "sum", "sum", "avg", "var", "stddev_pop"])
            }
            Ty::F64 => rng.pick(&["count", "sum", "avg", "min", "max", "var_pop", "stddev"]),
            _ => rng.pick(&["count", "sum", "sum", "avg", "min", "max"]),
        };
        if rng.chance(10) {
            select.push("count(*)".to_string());
            checks.push(Check::Exact);
        }
        select.push(format!("{func}({e})"));
        // Float sums, and means of anything but decimals (DataFusion averages integers
        // as doubles).
        let rounded = match func {
            "sum" => ty == Ty::F64,
            "avg" => ty != Ty::Dec,
            _ => false,
        };
        if func.starts_with("var") || func.starts_with("stddev") {
            checks.push(Check::Moments);
        } else if rounded {
            let bound = select.len();
            select.push(format!("sum(abs(CAST({e} AS DOUBLE)))"));
            checks.push(Check::Rounded { bound });
            checks.push(Check::Rounded { bound });
        } else {
            checks.push(Check::Exact);
        }
    }
    let mut named: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{k} AS k{i}"))
        .collect();
    named.extend(
        select
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{s} AS a{i}")),
    );
    let mut checks_with_keys = vec![Check::Exact; keys.len()];
    checks_with_keys.extend(checks.iter().map(|c| match c {
        Check::Rounded { bound } => Check::Rounded {
            bound: bound + keys.len(),
        },
        exact => *exact,
    }));
    let mut sql = format!("SELECT {} FROM t", named.join(", "));
    if rng.chance(60) {
        let depth = 1 + rng.below(3);
        sql.push_str(&format!(" WHERE {}", expr(rng, Ty::Bool, depth)));
    }
    if !keys.is_empty() {
        let positions: Vec<String> = (1..=keys.len()).map(|p| p.to_string()).collect();
        sql.push_str(&format!(
            " GROUP BY {} ORDER BY {}",
            positions.join(", "),
            positions.join(", ")
        ));
    }
    (sql, checks_with_keys)
}

/// Runs `sql`; the outcome and the physical plan it ran.
fn run_folding(context: &SessionContext, sql: &str) -> (Outcome, String) {
    let context = context.clone();
    let sql = sql.to_string();
    corepy_engine::runtime::block_on(async move {
        let plan = match context.sql(&sql).await {
            Ok(df) => df.create_physical_plan().await,
            Err(e) => Err(e),
        };
        let plan = match plan {
            Ok(p) => p,
            Err(e) => return Ok((Err(format!("plan: {e}")), String::new())),
        };
        let shown = datafusion::physical_plan::displayable(plan.as_ref())
            .indent(false)
            .to_string();
        let result = collect(plan, context.task_ctx())
            .await
            .map_err(|e| e.to_string());
        Ok((result, shown))
    })
    .expect("runs")
}

fn same_aggregates(fused: &Outcome, plain: &Outcome, checks: &[Check], rows: usize) -> bool {
    let (Ok(f), Ok(p)) = (fused, plain) else {
        // (DataFusion refuses some random queries when it plans them, the same way.)
        return agrees(fused, plain) || fused == plain;
    };
    let (Some(f), Some(p)) = (concat(f), concat(p)) else {
        // No batch at all: a grouped query with no rows left.
        let rows = |b: &[RecordBatch]| b.iter().map(RecordBatch::num_rows).sum::<usize>();
        return rows(f) == 0 && rows(p) == 0;
    };
    if f.num_rows() != p.num_rows() || f.num_columns() != p.num_columns() {
        return false;
    }
    let float = |b: &RecordBatch, c: usize, r: usize| {
        let column = b.column(c).as_any().downcast_ref::<Float64Array>()?;
        column.is_valid(r).then(|| column.value(r))
    };
    checks.iter().enumerate().all(|(c, check)| {
        let (x, y) = (f.column(c), p.column(c));
        if x.as_ref() == y.as_ref() || floats_match(x, y) {
            return true;
        }
        if *check == Check::Moments {
            return (0..f.num_rows()).all(|r| match (float(&f, c, r), float(&p, c, r)) {
                (Some(a), Some(b)) if a.is_finite() && b.is_finite() => {
                    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
                }
                // Not finite in one: the merge order decided whether a step overflowed.
                (Some(_), Some(_)) => true,
                (None, None) => true,
                _ => false,
            });
        }
        let Check::Rounded { bound } = check else {
            if std::env::var("SHOW_DIFF").is_ok() {
                eprintln!("column {c} differs:\n{x:?}\n{y:?}");
            }
            return false;
        };
        (0..f.num_rows()).all(|r| {
            match (float(&f, c, r), float(&p, c, r), float(&p, *bound, r)) {
                (Some(a), Some(b), Some(sum_abs)) if sum_abs.is_finite() => {
                    (a - b).abs() <= rows as f64 * f64::EPSILON * sum_abs
                }
                // Σ|x| overflowed: partial sums may overflow in one order and not another.
                (Some(_), Some(_), _) => true,
                (None, None, _) => true,
                _ => false,
            }
        })
    })
}

/// Sessions with the JIT on and off, over one partition (a Single aggregation) and three
/// (Partial, then Final), in batches of 37 rows.
fn folding_sessions() -> Vec<(Session, Session, usize)> {
    let options = |jit: bool, partitions: usize| SessionOptions {
        target_partitions: Some(partitions),
        batch_size: Some(37),
        jit: Some(jit),
        ..Default::default()
    };
    [1, 3]
        .into_iter()
        .map(|n| {
            let fused = Session::new(options(true, n)).expect("session");
            let plain = Session::new(options(false, n)).expect("session");
            (fused, plain, n)
        })
        .collect()
}

/// One of `sessions`' pairs, each with table `t` holding the same random batches (one a
/// partition), and the table's rows.
fn fill_random_tables<'a>(
    rng: &mut Rng,
    sessions: &'a [(Session, Session, usize)],
) -> (&'a Session, &'a Session, usize) {
    let rows = rng.pick(&[0, 1, 5, 64, 100, 130]);
    let (fused, plain, partitions) = &sessions[rng.below(2)];
    let batches: Vec<Vec<RecordBatch>> = (0..*partitions)
        .map(|_| vec![random_batch(rng, rows)])
        .collect();
    for session in [fused, plain] {
        let table = MemTable::try_new(schema(), batches.clone()).expect("table");
        let context = session.context();
        context.deregister_table("t").expect("deregister");
        context
            .register_table("t", Arc::new(table))
            .expect("register");
    }
    (fused, plain, rows * partitions)
}

#[test]
fn folded_aggregates_agree_with_datafusion() {
    let target: u64 = std::env::var("COREPY_SOAK")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(2_000, |n| n / 4);
    let sessions = folding_sessions();
    let (mut folded, mut failed, mut internal) = (0u64, 0u64, 0u64);
    for seed in 1..=target {
        let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1);
        let (fused, plain, rows) = fill_random_tables(&mut rng, &sessions);
        let (sql, checks) = aggregate_query(&mut rng);
        let (got, plan) = run_folding(fused.context(), &sql);
        let was_folded = plan.contains("JitAggregateExec");
        let (reference, _) =
            run_folding(&evaluating_projections_after_filters(plain.context()), &sql);
        folded += u64::from(was_folded);
        failed += u64::from(reference.is_err());
        if matches!(&reference, Err(e) if e.contains("Internal error")) {
            // DataFusion's own bug (its common-subexpression rule mislabels a nullable
            // column on some plans): no reference to compare with.
            internal += 1;
            continue;
        }
        // DataFusion's own physical plan may move a projection of its own (one that
        // common-subexpression elimination makes) below a Filter, and raise errors on
        // rows the Filter drops; the reference does not, but corepy with the JIT on may do
        // what DataFusion with the JIT off does.
        let agree = same_aggregates(&got, &reference, &checks, rows)
            || same_aggregates(&got, &run_folding(plain.context(), &sql).0, &checks, rows);
        assert!(
            agree,
            "seed {seed}: results differ\nquery: {sql}\nplan:\n{plan}\nJIT:\n{}\nDataFusion:\n{}",
            show(&got),
            show(&reference)
        );
    }
    eprintln!(
        "{target} aggregate queries, {folded} folded into kernels, {failed} failed \
         ({internal} with DataFusion's internal errors)"
    );
    // Many random queries are not folded: an argument that can fail stays with DataFusion
    // (see `PushAggregateArguments`), and so does a query with an aggregate that does not
    // fold (min of a boolean) or with no fused stage (aggregates of bare columns).
    assert!(
        folded * 5 >= target,
        "too few aggregations folded ({folded} of {target}): the test would prove little"
    );
}

/// `sum` and `avg` of a decimal column cast to a double fold the column's unscaled integers
/// as doubles and divide once per group: within a rounding of DataFusion's answers, which
/// divide every row, over random batches (d2 holds values far past 2^63, where an i128
/// sum of them would wrap), grouped or not, filtered or not, over one or three partitions.
#[test]
fn decimal_columns_cast_to_doubles_fold_within_a_rounding_of_datafusion() {
    let sessions = folding_sessions();
    let queries: u64 = 200;
    let mut folded = 0;
    for seed in 1..=queries {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let (fused, plain, rows) = fill_random_tables(&mut rng, &sessions);
        let d = rng.pick(&["d1", "d2"]);
        let key = rng.pick(&["", "j1", "CAST(i1 % 4 AS TINYINT)"]);
        let filter = rng.pick(&["", "WHERE i1 % 3 <> 0", "WHERE f1 > 0.0"]);
        let x = format!("CAST({d} AS DOUBLE)");
        let aggregates =
            format!("sum(abs({x})) AS b, sum({x}) AS s, avg({x}) AS m, count({d}) AS c");
        let sql = match key {
            "" => format!("SELECT {aggregates} FROM t {filter}"),
            key => format!("SELECT {key} AS k, {aggregates} FROM t {filter} GROUP BY 1 ORDER BY 1"),
        };
        let keys = usize::from(!key.is_empty());
        let mut checks = vec![Check::Exact; keys];
        checks.extend([
            Check::Rounded { bound: keys },
            Check::Rounded { bound: keys },
            Check::Rounded { bound: keys },
            Check::Exact,
        ]);
        let (got, plan) = run_folding(fused.context(), &sql);
        folded += u64::from(plan.contains("JitAggregateExec"));
        let (reference, _) = run_folding(plain.context(), &sql);
        assert!(
            same_aggregates(&got, &reference, &checks, rows),
            "seed {seed}: results differ\nquery: {sql}\nplan:\n{plan}\nJIT:\n{}\nDataFusion:\n{}",
            show(&got),
            show(&reference)
        );
    }
    // The cast is a computed argument, so each query has a fused stage to fold into.
    assert!(folded * 10 >= queries * 9, "{folded} of {queries} folded");
}
