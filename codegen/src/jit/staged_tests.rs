//! Selections in two stages ([`super::staged`]) against the interpreter: a TPC-H Q6 shape
//! by hand, then random conjunctions of cheap and costly tests, with NULLs, over row
//! counts that end inside a chunk, filtering rows out and folding them into aggregates.

use super::schedule::schedule;
use super::*;
use crate::aggregate::AggregateState;
use crate::interp::{self, V};
use crate::ir::{AggFunc, Aggregate, Literal, UnaryOp};
use crate::testing::{
    agree, columns_for, random_value, run_with, state_image, Column, Rng, RunResult,
};

const DECIMAL: ScalarType = ScalarType::Decimal128 {
    precision: 15,
    scale: 2,
};

fn jit_and_interp(
    kernel: &Kernel,
    columns: &[Column],
    rows: usize,
) -> (Result<RunResult, RunError>, Result<RunResult, RunError>) {
    let compiled = compile(kernel).expect("compiles");
    (
        run_with(kernel, columns, rows, |i, o, s| compiled.run(i, rows, o, s)),
        run_with(kernel, columns, rows, |i, o, s| {
            interp::run(kernel, i, rows, o, s)
        }),
    )
}

fn fold(kernel: &Kernel, columns: &[Column], rows: usize, jit: bool) -> String {
    let inputs: Vec<_> = columns.iter().map(Column::as_in).collect();
    let mut state = AggregateState::new(kernel);
    let result = if jit {
        compile(kernel)
            .expect("compiles")
            .run_aggregating(&inputs, rows, &mut state)
    } else {
        interp::run_aggregating(kernel, &inputs, rows, &mut state)
    };
    // A failed call leaves the state unspecified: only the failure compares.
    match result {
        Ok(()) => format!("{:?}", state_image(kernel, &state)),
        Err(e) => format!("{e:?}"),
    }
}

fn constant(k: &mut Kernel, v: i128, ty: ScalarType) -> ValueId {
    k.push(Op::Const(Literal::Int(v)), ty)
}

/// `date >= 8766 AND date < 9131 AND disc >= 5 AND disc <= 7 AND qty < 2400`, as Q6.
fn q6_selection(k: &mut Kernel) -> (ValueId, ValueId) {
    let date = k.input(ScalarType::Date32);
    let disc = k.input(DECIMAL);
    let qty = k.input(DECIMAL);
    let price = k.input(DECIMAL);
    let mut tests = Vec::new();
    for (x, op, v) in [
        (date, BinaryOp::GtEq, 8766),
        (date, BinaryOp::Lt, 9131),
        (disc, BinaryOp::GtEq, 5),
        (disc, BinaryOp::LtEq, 7),
        (qty, BinaryOp::Lt, 2400),
    ] {
        let ty = k.ty(x);
        let c = constant(k, v, ty);
        tests.push(k.push(Op::Binary(op, x, c), ScalarType::Bool));
    }
    let all = tests
        .into_iter()
        .reduce(|a, b| k.push(Op::Binary(BinaryOp::And, a, b), ScalarType::Bool))
        .expect("five tests");
    k.selection = Some(all);
    (price, disc)
}

/// Columns for the Q6 shape: dates around the range, small decimals, some NULLs.
fn q6_columns(rng: &mut Rng, rows: usize) -> Vec<Column> {
    let mut column = |ty: ScalarType, draw: &mut dyn FnMut(&mut Rng) -> i128| {
        let mut c = crate::testing::random_column(rng, ty, rows, 0);
        let mut validity = vec![0u8; rows.div_ceil(8)];
        for row in 0..rows {
            interp::write_value(&mut c.values, ty, row, V::I(draw(rng)));
            if !rng.chance(5) {
                crate::abi::set_bit(&mut validity, row);
            }
        }
        c.validity = Some(validity);
        c
    };
    vec![
        column(ScalarType::Date32, &mut |r| 8000 + r.below(2000) as i128),
        column(DECIMAL, &mut |r| r.below(11) as i128),
        column(DECIMAL, &mut |r| 100 * r.below(51) as i128),
        column(DECIMAL, &mut |r| r.below(10_000_000) as i128 - 100),
    ]
}

#[test]
fn a_q6_filter_runs_in_two_stages_and_keeps_the_same_rows() {
    let mut k = Kernel::rows();
    let (price, _) = q6_selection(&mut k);
    k.outputs.push(price);
    let plan = schedule(&k);
    assert!(plan.staged.is_some(), "Q6's selection is staged");
    assert_eq!(plan.lanes[0], 4, "the date tests run four rows at once");
    let clif = compile(&k).expect("compiles").clif().to_string();
    assert!(clif.contains("i32x4"), "{clif}");
    let mut rng = Rng::new(6);
    for rows in [0, 1, 63, 64, 65, 200, 3 * split::GROUP_CHUNKS * CHUNK + 37] {
        let columns = q6_columns(&mut rng, rows);
        let (jit, reference) = jit_and_interp(&k, &columns, rows);
        assert!(
            agree(&k, &columns, rows, &jit, &reference),
            "{rows} rows\njit:    {jit:?}\ninterp: {reference:?}"
        );
        if rows == 200 {
            let kept = jit.expect("runs").rows;
            assert!(kept > 0 && kept < rows / 4, "{kept} of {rows} rows kept");
        }
    }
}

#[test]
fn a_q6_sum_folds_the_same_over_a_staged_selection() {
    let mut k = Kernel::rows();
    let (price, disc) = q6_selection(&mut k);
    let revenue = k.push(
        Op::Binary(BinaryOp::Mul, price, disc),
        ScalarType::Decimal128 {
            precision: 31,
            scale: 4,
        },
    );
    k.nodes[revenue.index()].guard = k.selection;
    k.aggregates.push(Aggregate {
        func: AggFunc::Sum,
        arg: Some(revenue),
    });
    k.aggregates.push(Aggregate {
        func: AggFunc::Count,
        arg: None,
    });
    assert!(schedule(&k).staged.is_some());
    let mut rng = Rng::new(60);
    for rows in [0, 1, 64, 65, 1000] {
        let columns = q6_columns(&mut rng, rows);
        assert_eq!(
            fold(&k, &columns, rows, true),
            fold(&k, &columns, rows, false)
        );
    }
}

/// Q19's lineitem filter: string tests computed before the kernel (boolean inputs, one
/// pair ORed) and an OR of decimal ranges, which runs only where the string tests hold.
#[test]
fn a_q19_filter_tests_its_decimal_ranges_only_where_its_string_tests_hold() {
    let mut k = Kernel::rows();
    let (air, air_reg, in_person) = (
        k.input(ScalarType::Bool),
        k.input(ScalarType::Bool),
        k.input(ScalarType::Bool),
    );
    let qty = k.input(DECIMAL);
    let mode = k.push(Op::Binary(BinaryOp::Or, air, air_reg), ScalarType::Bool);
    let strings = k.push(Op::Binary(BinaryOp::And, mode, in_person), ScalarType::Bool);
    let mut ranges = Vec::new();
    for (low, high) in [(100, 1100), (1000, 2000), (2000, 3000)] {
        let (lo, hi) = (
            constant(&mut k, low, DECIMAL),
            constant(&mut k, high, DECIMAL),
        );
        let above = k.push(Op::Binary(BinaryOp::GtEq, qty, lo), ScalarType::Bool);
        let below = k.push(Op::Binary(BinaryOp::LtEq, qty, hi), ScalarType::Bool);
        ranges.push(k.push(Op::Binary(BinaryOp::And, above, below), ScalarType::Bool));
    }
    let any = ranges
        .into_iter()
        .reduce(|a, b| k.push(Op::Binary(BinaryOp::Or, a, b), ScalarType::Bool))
        .expect("three ranges");
    k.selection = Some(k.push(Op::Binary(BinaryOp::And, strings, any), ScalarType::Bool));
    k.outputs.push(qty);
    let plan = schedule(&k);
    assert_eq!(plan.staged.as_ref().map(Vec::len), Some(2), "{plan:?}");
    let mut rng = Rng::new(19);
    for rows in [1, 64, 65, 500] {
        let columns = columns_for(&k, &mut rng, rows);
        let (jit, reference) = jit_and_interp(&k, &columns, rows);
        assert!(agree(&k, &columns, rows, &jit, &reference), "{rows} rows");
    }
}

/// Nothing is staged where a costly test feeds more than the AND, or can fail.
#[test]
fn selections_that_cannot_be_staged_run_in_one_loop() {
    let mut k = Kernel::rows();
    let (price, _) = q6_selection(&mut k);
    let shared = match k.nodes[k.selection.expect("set").index()].op {
        Op::Binary(BinaryOp::And, _, last) => last,
        _ => unreachable!(),
    };
    k.outputs.push(price);
    k.outputs.push(shared);
    assert!(
        schedule(&k).staged.is_none(),
        "qty < 2400 is also an output"
    );

    let mut k = Kernel::rows();
    let date = k.input(ScalarType::Date32);
    let a = k.input(ScalarType::I64);
    let b = k.input(ScalarType::I64);
    let early = constant(&mut k, 9000, ScalarType::Date32);
    let cheap = k.push(Op::Binary(BinaryOp::Lt, date, early), ScalarType::Bool);
    let sum = k.push(Op::Binary(BinaryOp::Add, a, b), ScalarType::I64);
    let zero = constant(&mut k, 0, ScalarType::I64);
    let costly = k.push(Op::Binary(BinaryOp::Gt, sum, zero), ScalarType::Bool);
    k.selection = Some(k.push(Op::Binary(BinaryOp::And, cheap, costly), ScalarType::Bool));
    k.outputs.push(a);
    assert!(
        schedule(&k).staged.is_none(),
        "a + b can overflow on a row the date test drops"
    );
}

/// A random conjunction: cheap tests of narrow loads, costly tests of decimals and of
/// float arithmetic, in random order; outputs or aggregates over the kept rows.
fn random_staged_kernel(rng: &mut Rng) -> Kernel {
    let mut k = Kernel::rows();
    let narrow = [
        ScalarType::Date32,
        ScalarType::I32,
        ScalarType::U32,
        ScalarType::I64,
        ScalarType::I16,
    ];
    let ops = [
        BinaryOp::Lt,
        BinaryOp::LtEq,
        BinaryOp::Gt,
        BinaryOp::GtEq,
        BinaryOp::Eq,
        BinaryOp::NotEq,
    ];
    let mut tests = Vec::new();
    for _ in 0..1 + rng.below(3) {
        if rng.chance(25) {
            // A string test computed before the kernel, or two of them ORed.
            let b = k.input(ScalarType::Bool);
            let test = if rng.chance(50) {
                let c = k.input(ScalarType::Bool);
                k.push(Op::Binary(BinaryOp::Or, b, c), ScalarType::Bool)
            } else {
                b
            };
            tests.push(test);
            continue;
        }
        let ty = rng.pick(&narrow);
        let x = k.input(ty);
        let y = if rng.chance(70) {
            let V::I(v) = random_value(rng, ty) else {
                unreachable!("integer")
            };
            constant(&mut k, v, ty)
        } else {
            k.input(ty)
        };
        tests.push(k.push(Op::Binary(rng.pick(&ops), x, y), ScalarType::Bool));
    }
    for _ in 0..1 + rng.below(2) {
        let test = if rng.chance(50) {
            let x = k.input(DECIMAL);
            let range = |k: &mut Kernel, rng: &mut Rng| {
                let V::I(v) = random_value(rng, DECIMAL) else {
                    unreachable!("integer")
                };
                let c = constant(k, v, DECIMAL);
                k.push(Op::Binary(rng.pick(&ops), x, c), ScalarType::Bool)
            };
            let first = range(&mut k, rng);
            if rng.chance(50) {
                // Q19's shape: ranges of one column ORed.
                let second = range(&mut k, rng);
                let either = k.push(Op::Binary(BinaryOp::Or, first, second), ScalarType::Bool);
                if rng.chance(50) {
                    k.push(Op::Unary(UnaryOp::Not, either), ScalarType::Bool)
                } else {
                    either
                }
            } else {
                first
            }
        } else {
            let (x, y) = (k.input(ScalarType::F64), k.input(ScalarType::F64));
            let sum = k.push(Op::Binary(BinaryOp::Add, x, y), ScalarType::F64);
            k.push(Op::Binary(rng.pick(&ops), sum, x), ScalarType::Bool)
        };
        tests.push(test);
    }
    for i in (1..tests.len()).rev() {
        let j = rng.below(i + 1);
        tests.swap(i, j);
    }
    let all = tests
        .into_iter()
        .reduce(|a, b| k.push(Op::Binary(BinaryOp::And, a, b), ScalarType::Bool))
        .expect("tests");
    k.selection = Some(all);
    let kept = k.input(rng.pick(&[DECIMAL, ScalarType::F64, ScalarType::I64]));
    if rng.chance(50) {
        k.outputs.push(kept);
        k.outputs.push(
            k.nodes
                .iter()
                .position(|n| n.ty == DECIMAL)
                .map_or(kept, |i| ValueId(i as u32)),
        );
    } else {
        let func = if k.ty(kept) == ScalarType::F64 {
            AggFunc::Min
        } else {
            rng.pick(&[AggFunc::Sum, AggFunc::Min, AggFunc::Max])
        };
        k.aggregates.push(Aggregate {
            func,
            arg: Some(kept),
        });
        k.aggregates.push(Aggregate {
            func: AggFunc::Count,
            arg: None,
        });
    }
    k
}

#[test]
fn random_staged_selections_agree_with_the_interpreter() {
    let mut staged = 0;
    for seed in 0..1_500u64 {
        let mut rng = Rng::new(8_000_000 + seed);
        let k = random_staged_kernel(&mut rng);
        k.validate().expect("valid kernel");
        staged += schedule(&k).staged.is_some() as usize;
        let rows = rng.pick(&[1, 63, 64, 65, 130, 3 * split::GROUP_CHUNKS * CHUNK + 5]);
        let columns = columns_for(&k, &mut rng, rows);
        if k.aggregates.is_empty() {
            let (jit, reference) = jit_and_interp(&k, &columns, rows);
            assert!(
                agree(&k, &columns, rows, &jit, &reference),
                "seed {seed}, {rows} rows:\n{}jit:    {jit:?}\ninterp: {reference:?}",
                crate::pretty::pretty(&k, &[])
            );
        } else {
            assert_eq!(
                fold(&k, &columns, rows, true),
                fold(&k, &columns, rows, false),
                "seed {seed}, {rows} rows:\n{}",
                crate::pretty::pretty(&k, &[])
            );
        }
    }
    assert!(staged > 1_000, "only {staged} of 1500 kernels were staged");
}
