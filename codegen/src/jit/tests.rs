//! The Cranelift renderer against the interpreter: hand-picked edge cases, then many
//! random kernels over random columns (`COREPY_SOAK=N` runs N instead of the default).

use super::*;
use crate::interp;
use crate::ir::{Literal, UnaryOp};
use crate::testing::{
    agree, columns_for, random_kernel, run_with, written_image, Column, Rng, RunResult,
};

fn jit_run(kernel: &Kernel, columns: &[Column], rows: usize) -> Result<RunResult, RunError> {
    let compiled = compile(kernel).unwrap_or_else(|e| {
        panic!(
            "compile failed: {e}\n{}",
            crate::pretty::pretty(kernel, &[])
        )
    });
    run_with(kernel, columns, rows, |i, o, s| compiled.run(i, rows, o, s))
}

fn interp_run(kernel: &Kernel, columns: &[Column], rows: usize) -> Result<RunResult, RunError> {
    run_with(kernel, columns, rows, |i, o, s| {
        interp::run(kernel, i, rows, o, s)
    })
}

/// Shrinks a failing case to fewer rows, then prints it.
fn reproducer(kernel: &Kernel, columns: &[Column], rows: usize) -> String {
    let fails = |n: usize| {
        let cut: Vec<Column> = columns.to_vec();
        !agree(
            kernel,
            &cut,
            n,
            &jit_run(kernel, &cut, n),
            &interp_run(kernel, &cut, n),
        )
    };
    let mut n = rows;
    while n > 1 && fails(n - 1) {
        n -= 1;
    }
    let mut out = crate::pretty::pretty(kernel, &[]);
    out.push_str(&format!("rows: {n}\n"));
    for (i, c) in columns.iter().enumerate() {
        let values: Vec<String> = (0..n)
            .map(|r| {
                let valid = c
                    .validity
                    .as_ref()
                    .is_none_or(|v| crate::abi::get_bit(v, r));
                if valid {
                    format!("{:?}", interp::read_value(&c.values, c.ty, r))
                } else {
                    "null".into()
                }
            })
            .collect();
        out.push_str(&format!("in{i}: [{}]\n", values.join(", ")));
    }
    out.push_str(&format!(
        "jit:    {:?}\ninterp: {:?}\n",
        jit_run(kernel, columns, n),
        interp_run(kernel, columns, n)
    ));
    out
}

#[test]
fn random_kernels_agree_with_the_interpreter() {
    let count: u64 = std::env::var("COREPY_SOAK")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let seed0: u64 = std::env::var("COREPY_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let decimals = random_kernels_agree(seed0..seed0 + count, &[0, 1, 3, 63, 64, 65, 130, 200]);
    assert!(
        decimals * 20 >= count as usize,
        "only {decimals} of {count} kernels compute on decimals"
    );
}

/// Batches of several groups of chunks, so that filtering kernels run their selection and
/// output passes group by group, with a partial tail.
#[test]
fn random_kernels_agree_over_several_groups_of_chunks() {
    let rows = 3 * split::GROUP_CHUNKS * CHUNK + 37;
    random_kernels_agree(1_000_000..1_000_300, &[rows]);
}

/// Runs random kernels through both renderers; returns how many computed on decimals.
fn random_kernels_agree(seeds: std::ops::Range<u64>, row_counts: &[usize]) -> usize {
    let mut decimal_kernels = 0;
    for seed in seeds {
        let mut rng = Rng::new(seed);
        let depth = 1 + rng.below(4);
        let kernel = random_kernel(&mut rng, depth);
        kernel.validate().expect("generator builds valid kernels");
        let rows = rng.pick(row_counts);
        let columns = columns_for(&kernel, &mut rng, rows);
        let computes_decimals = kernel
            .nodes
            .iter()
            .any(|n| matches!(n.ty, ScalarType::Decimal128 { .. }) && !matches!(n.op, Op::Load(_)));
        decimal_kernels += computes_decimals as usize;
        let (jit, reference) = (
            jit_run(&kernel, &columns, rows),
            interp_run(&kernel, &columns, rows),
        );
        assert!(
            agree(&kernel, &columns, rows, &jit, &reference),
            "seed {seed}: the JIT and the interpreter disagree\n{}",
            reproducer(&kernel, &columns, rows)
        );
    }
    decimal_kernels
}

fn f64_column(values: &[Option<f64>]) -> Column {
    let mut bytes = Vec::new();
    let mut validity = vec![0u8; values.len().div_ceil(8)];
    for (i, v) in values.iter().enumerate() {
        bytes.extend_from_slice(&v.unwrap_or(0.0).to_le_bytes());
        if v.is_some() {
            crate::abi::set_bit(&mut validity, i);
        }
    }
    Column {
        ty: ScalarType::F64,
        values: bytes,
        validity: Some(validity),
    }
}

#[test]
fn vectorized_f64_expression_with_nulls_and_a_filter() {
    let mut k = Kernel::rows();
    let a = k.input(ScalarType::F64);
    let b = k.input(ScalarType::F64);
    let sum = k.push(Op::Binary(BinaryOp::Add, a, b), ScalarType::F64);
    let two = k.push(Op::Const(Literal::f64(2.0)), ScalarType::F64);
    let scaled = k.push(Op::Binary(BinaryOp::Mul, sum, two), ScalarType::F64);
    let gt = k.push(Op::Binary(BinaryOp::Gt, a, two), ScalarType::Bool);
    k.outputs.push(scaled);
    k.selection = Some(gt);
    let rows = 150;
    let a_vals: Vec<Option<f64>> = (0..rows)
        .map(|i| (i % 7 != 0).then_some(i as f64 / 10.0))
        .collect();
    let b_vals: Vec<Option<f64>> = (0..rows)
        .map(|i| (i % 5 != 0).then_some(-(i as f64)))
        .collect();
    let cols = [f64_column(&a_vals), f64_column(&b_vals)];
    let jit = jit_run(&k, &cols, rows).expect("runs");
    assert_eq!(jit, interp_run(&k, &cols, rows).expect("runs"));
    let kept: Vec<usize> = (0..rows)
        .filter(|i| a_vals[*i].is_some_and(|a| a > 2.0))
        .collect();
    assert_eq!(jit.rows, kept.len());
    let compiled = compile(&k).expect("compiles");
    assert!(
        compiled.clif().contains("f64x2"),
        "an all-f64 loop is vectorized:\n{}",
        compiled.clif()
    );
}

#[test]
fn division_by_zero_fails_only_where_guarded_and_valid() {
    let mut k = Kernel::rows();
    let a = k.input(ScalarType::I64);
    let b = k.input(ScalarType::I64);
    let nonzero = {
        let zero = k.push(Op::Const(Literal::Int(0)), ScalarType::I64);
        k.push(Op::Binary(BinaryOp::NotEq, b, zero), ScalarType::Bool)
    };
    let q = k.push(Op::Binary(BinaryOp::Div, a, b), ScalarType::I64);
    k.nodes[q.index()].guard = Some(nonzero);
    k.outputs.push(q);
    let int_col = |v: &[i64], nulls: &[usize]| {
        let mut validity = vec![0xFFu8; v.len().div_ceil(8)];
        for n in nulls {
            validity[n / 8] &= !(1 << (n % 8));
        }
        Column {
            ty: ScalarType::I64,
            values: v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            validity: Some(validity),
        }
    };
    let cols = [int_col(&[7, i64::MIN, 9], &[]), int_col(&[0, -1, 3], &[])];
    // Row 0 is not guarded (b = 0); row 1 overflows: MIN / -1.
    let err = jit_run(&k, &cols, 3).expect_err("MIN / -1 overflows");
    assert!(
        matches!(
            err,
            RunError::Failed(Failure {
                kind: FailureKind::Overflow,
                row: 1,
                ..
            })
        ),
        "{err:?}"
    );
    let cols = [int_col(&[7, 8, 9], &[]), int_col(&[0, 2, 3], &[])];
    let ok = jit_run(&k, &cols, 3).expect("the zero divisor is not guarded");
    assert_eq!(ok, interp_run(&k, &cols, 3).expect("runs"));
    k.nodes[q.index()].guard = None;
    let cols = [int_col(&[7, 8, 9], &[]), int_col(&[5, 2, 0], &[2])];
    assert!(
        jit_run(&k, &cols, 3).is_ok(),
        "a NULL divisor is not a division by zero"
    );
    let cols = [int_col(&[7, 8, 9], &[]), int_col(&[5, 0, 1], &[])];
    let err = jit_run(&k, &cols, 3).expect_err("division by zero");
    assert!(matches!(
        err,
        RunError::Failed(Failure {
            kind: FailureKind::DivideByZero,
            row: 1,
            ..
        })
    ));
}

#[test]
fn sliced_and_odd_length_inputs_are_read_in_bounds() {
    // Buffers exactly as long as the rows (no padding): the tail chunk must not read past.
    let mut k = Kernel::rows();
    let a = k.input(ScalarType::I32);
    let neg = k.push(Op::Unary(UnaryOp::Neg, a), ScalarType::I32);
    k.outputs.push(neg);
    for rows in [1usize, 63, 64, 65, 127, 129] {
        let values: Vec<u8> = (0..rows as i32).flat_map(|x| x.to_le_bytes()).collect();
        let col = Column {
            ty: ScalarType::I32,
            values,
            validity: None,
        };
        let r = jit_run(&k, std::slice::from_ref(&col), rows).expect("runs");
        assert_eq!(
            r,
            interp_run(&k, std::slice::from_ref(&col), rows).expect("runs")
        );
        assert_eq!(r.rows, rows);
    }
}

#[test]
fn too_short_buffers_are_refused_not_read() {
    let mut k = Kernel::rows();
    let a = k.input(ScalarType::F64);
    k.outputs.push(a);
    let col = Column {
        ty: ScalarType::F64,
        values: vec![0; 8 * 10],
        validity: None,
    };
    let err = jit_run(&k, &[col], 11).expect_err("10 values for 11 rows");
    assert!(matches!(err, RunError::BadBuffers(_)));
}

#[test]
fn unsupported_kernels_are_named() {
    let mut k = Kernel::rows();
    let a = k.input(ScalarType::F64);
    let r = k.push(Op::Binary(BinaryOp::Rem, a, a), ScalarType::F64);
    k.outputs.push(r);
    assert!(supports(&k).unwrap_err().contains("fmod"));
}

#[test]
fn dropping_kernels_frees_their_code() {
    // Compiling and dropping many kernels must not grow without bound (each frees its
    // module); this would exhaust memory quickly if modules leaked their mappings.
    let mut k = Kernel::rows();
    let a = k.input(ScalarType::F64);
    k.outputs.push(a);
    for _ in 0..2_000 {
        let compiled = compile(&k).expect("compiles");
        drop(compiled);
    }
}

/// Production value buffers are not initialized: a kernel must write the value of every
/// non-NULL row it reports (a NULL's value is never read). Two runs over value buffers
/// filled with different bytes prove it.
#[test]
fn kernels_write_every_output_slot() {
    let mut checked = 0;
    for seed in 7_000_000..7_001_500u64 {
        let mut rng = Rng::new(seed);
        let depth = 1 + rng.below(4);
        let kernel = random_kernel(&mut rng, depth);
        let rows = rng.pick(&[1, 63, 64, 65, 130, 3 * split::GROUP_CHUNKS * CHUNK + 5]);
        let columns = columns_for(&kernel, &mut rng, rows);
        let compiled = compile(&kernel).expect("compiles");
        let image = |fill: u8| {
            written_image(
                &kernel,
                &columns,
                rows,
                fill,
                Box::new(|i, o, s| compiled.run(i, rows, o, s)),
            )
        };
        let (Ok(zeros), Ok(ones)) = (image(0x00), image(0xFF)) else {
            continue;
        };
        assert_eq!(
            zeros,
            ones,
            "seed {seed}: an output slot depends on the buffer's old contents\n{}",
            crate::pretty::pretty(&kernel, &[])
        );
        checked += 1;
    }
    assert!(checked > 500, "only {checked} kernels ran without failing");
}
