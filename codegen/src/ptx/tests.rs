//! The PTX renderer against the interpreter (on the emulator) and against `ptxas` (which
//! must assemble every module): random kernels of the Cranelift renderer's differential
//! suite, then hand-picked cases.

use super::emulator::{launch, parse, run_rows, Memory, BLOCKS};
use super::ptxas::assemble;
use super::{render, Param, PtxModule, BLOCK};
use crate::abi::RunError;
use crate::interp;
use crate::ir::{Kernel, Op, ScalarType};
use crate::testing::{agree, columns_for, random_kernel, run_with, Column, Rng, RunResult};

fn ptx_run(
    kernel: &Kernel,
    module: &PtxModule,
    columns: &[Column],
    rows: usize,
) -> Result<RunResult, RunError> {
    run_with(kernel, columns, rows, |i, o, s| {
        run_rows(kernel, module, i, rows, o, s)
    })
}

fn interp_run(kernel: &Kernel, columns: &[Column], rows: usize) -> Result<RunResult, RunError> {
    run_with(kernel, columns, rows, |i, o, s| {
        interp::run(kernel, i, rows, o, s)
    })
}

/// Random kernels of the JIT's suite: rendered, emulated and compared; returns how many
/// rendered, and the modules' entries concatenated (for one ptxas run).
fn random_kernels_agree(seeds: std::ops::Range<u64>, row_counts: &[usize]) -> (usize, String) {
    let mut rendered = 0;
    let mut all = super::text::header();
    for seed in seeds {
        let mut rng = Rng::new(seed);
        let depth = 1 + rng.below(4);
        let kernel = random_kernel(&mut rng, depth);
        let rows = rng.pick(row_counts);
        let columns = columns_for(&kernel, &mut rng, rows);
        let name = format!("k{seed}");
        let module = render(&kernel, &name).unwrap_or_else(|e| {
            panic!(
                "seed {seed}: not rendered: {e}\n{}",
                crate::pretty::pretty(&kernel, &[])
            )
        });
        rendered += 1;
        all.push_str(module.text.split_once("\n\n").expect("a header").1);
        let (got, reference) = (
            ptx_run(&kernel, &module, &columns, rows),
            interp_run(&kernel, &columns, rows),
        );
        assert!(
            agree(&kernel, &columns, rows, &got, &reference),
            "seed {seed} ({rows} rows): the PTX and the interpreter disagree\n{}\nptx:    {got:?}\ninterp: {reference:?}\n{}",
            crate::pretty::pretty(&kernel, &[]),
            module.text
        );
    }
    (rendered, all)
}

#[test]
fn random_row_kernels_agree_with_the_interpreter_and_assemble() {
    let count: u64 = std::env::var("COREPY_SOAK")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let (rendered, all) = random_kernels_agree(1..1 + count, &[0, 1, 3, 31, 32, 33, 64, 200]);
    eprintln!(
        "{rendered} of {count} kernels rendered; {} bytes of PTX assembled",
        all.len()
    );
    assert!(
        rendered * 10 >= count as usize * 6,
        "only {rendered} of {count} kernels rendered"
    );
    assemble(&all, "random").unwrap();
}

/// Several tiles a block and a partial last tile: the compaction's order across tiles.
#[test]
fn random_kernels_agree_over_many_tiles() {
    let rows = 5 * BLOCK as usize + 77;
    random_kernels_agree(500_000..500_150, &[rows]);
}

#[test]
fn entry_names_are_stable_and_distinct() {
    let mut a = Kernel::rows();
    let x = a.input(ScalarType::F64);
    a.outputs.push(x);
    let mut b = a.clone();
    b.inputs[0].ty = ScalarType::F32;
    b.nodes[0].ty = ScalarType::F32;
    assert_eq!(super::entry_name(&a), super::entry_name(&a.clone()));
    assert_ne!(super::entry_name(&a), super::entry_name(&b));
    assert!(super::entry_name(&a).starts_with("corepy_"));
}

#[test]
fn modules_declare_the_version_and_target_drivers_load() {
    let mut k = Kernel::rows();
    let x = k.input(ScalarType::I32);
    let y = k.push(Op::Unary(crate::ir::UnaryOp::Neg, x), ScalarType::I32);
    k.outputs.push(y);
    let module = render(&k, "neg").unwrap();
    assert!(module
        .text
        .starts_with(".version 8.0\n.target sm_80\n.address_size 64\n"));
    assert_eq!(module.entries.len(), 1);
    assemble(&module.text, "neg").unwrap();
}

#[test]
fn what_is_not_rendered_is_refused_with_a_reason() {
    let mut k = Kernel::rows();
    let x = k.input(ScalarType::F64);
    let y = k.push(Op::Binary(crate::ir::BinaryOp::Rem, x, x), ScalarType::F64);
    k.outputs.push(y);
    let err = render(&k, "rem").unwrap_err();
    assert!(err.contains("float Rem"), "{err}");
    let mut t = Kernel {
        domain: crate::ir::Domain {
            dims: vec![crate::ir::Dim::Fixed(4)],
        },
        inputs: vec![crate::ir::Input {
            ty: ScalarType::F64,
            layout: crate::ir::Layout::Contiguous,
        }],
        nodes: Vec::new(),
        outputs: Vec::new(),
        selection: None,
        aggregates: Vec::new(),
        group_keys: Vec::new(),
    };
    let x = t.push(Op::Load(0), ScalarType::F64);
    let y = t.push(Op::Unary(crate::ir::UnaryOp::Ln, x), ScalarType::F64);
    t.outputs.push(y);
    let err = render(&t, "ln").unwrap_err();
    assert!(err.contains("Ln"), "{err}");
}

/// Decimal arithmetic at the edges of i128: rescaling, products and sums that overflow,
/// −MIN, casts checked against the precision, and the conversion to float (rounded once).
#[test]
fn decimal_edges_agree_with_the_interpreter() {
    use crate::ir::{BinaryOp, UnaryOp};
    let d = |precision: u8, scale: i8| ScalarType::Decimal128 { precision, scale };
    let values: Vec<i128> = vec![
        0,
        1,
        -1,
        7,
        -7,
        99_999,
        i128::MAX,
        i128::MIN,
        i128::MIN + 1,
        i128::MAX / 10,
        (1 << 64) - 1,
        1 << 64,
        -(1 << 64),
        1 << 63,
        -(1 << 63),
        (1 << 100) + 12345,
        -(1 << 100) - 1,
        10i128.pow(37),
        -(10i128.pow(37)),
        10i128.pow(38) - 1,
        (1i128 << 53) + 1,
        (1i128 << 54) + 3,
        0x1234_5678_9abc_def0_1234_5678,
    ];
    let rows = values.len() * values.len();
    let column = |pick: &dyn Fn(usize) -> i128| {
        let mut bytes = Vec::new();
        for r in 0..rows {
            bytes.extend_from_slice(&pick(r).to_le_bytes());
        }
        Column {
            ty: d(38, 2),
            values: bytes,
            validity: None,
        }
    };
    let n = values.len();
    let a = column(&|r| values[r / n]);
    let b = column(&|r| values[r % n]);
    // Each check twice: failures raised, and failures off (a FALSE guard on every node that
    // can fail), where every row's wrapped value is compared.
    let mut checks = Vec::new();
    for raise in [true, false] {
        let start =
            |k: &mut Kernel| k.push(Op::Const(crate::ir::Literal::Bool(raise)), ScalarType::Bool);
        for op in [BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul] {
            let mut k = Kernel::rows();
            let guard = start(&mut k);
            let x = k.input(d(38, 2));
            let y = k.input(d(38, 0));
            let out = crate::semantics::decimal_result(op, d(38, 2), d(38, 0)).unwrap();
            let z = k.push(Op::Binary(op, x, y), out);
            k.nodes[z.index()].guard = Some(guard);
            k.outputs.push(z);
            checks.push(k);
        }
        let mut k = Kernel::rows();
        let guard = start(&mut k);
        let x = k.input(d(38, 2));
        let neg = k.push(Op::Unary(UnaryOp::Neg, x), d(38, 2));
        let f = k.push(Op::Cast(x), ScalarType::F64);
        let g = k.push(Op::Cast(x), ScalarType::F32);
        let up = k.push(Op::Cast(x), d(20, 4));
        let lt = k.push(Op::Binary(BinaryOp::Lt, x, neg), ScalarType::Bool);
        for id in [neg, up] {
            k.nodes[id.index()].guard = Some(guard);
        }
        k.outputs.extend([neg, f, g, up, lt]);
        checks.push(k);
    }
    for (i, kernel) in checks.iter().enumerate() {
        // Each output alone, so that one failing row does not hide the others' values.
        for o in 0..kernel.outputs.len() {
            let mut one = kernel.clone();
            one.outputs = vec![kernel.outputs[o]];
            let (one, _) = one.pruned();
            let inputs: Vec<Column> = vec![a.clone(), b.clone()][..one.inputs.len()].to_vec();
            let module = render(&one, &format!("dec{i}_{o}")).unwrap();
            for r in [1, rows] {
                let (got, reference) = (
                    ptx_run(&one, &module, &inputs, r),
                    interp_run(&one, &inputs, r),
                );
                assert!(
                    agree(&one, &inputs, r, &got, &reference),
                    "check {i}, output {o}, {r} rows\n{}\nptx: {got:?}\ninterp: {reference:?}",
                    crate::pretty::pretty(&one, &[])
                );
            }
            assemble(&module.text, &format!("dec{i}_{o}")).unwrap();
        }
    }
}

/// Runs a tensor module on the emulator: inputs at their element zero, a reduction's
/// partials between its two entries.
fn emulate_tensor(
    kernel: &Kernel,
    module: &PtxModule,
    buffers: &[(Vec<u8>, usize)],
) -> Result<Vec<Vec<u8>>, String> {
    use crate::tensor_abi::{element_bytes, output_shape};
    let entries = parse(&module.text)?;
    let mut memory = Memory {
        buffers: Vec::new(),
    };
    let mut addresses: Vec<(Param, u64)> = Vec::new();
    for (i, (bytes, offset)) in buffers.iter().enumerate() {
        memory.buffers.push(bytes.clone());
        let at = Memory::address(memory.buffers.len() - 1)
            + (offset * element_bytes(kernel.inputs[i].ty)) as u64;
        addresses.push((Param::TensorInput(i), at));
    }
    let n: usize = output_shape(kernel).iter().product();
    let dims = crate::tensor_abi::extents(kernel);
    let reduced = crate::tensor_abi::reduced_axes(kernel);
    let reduced_count: usize = reduced.iter().map(|&a| dims[a]).product();
    let work = n * super::slices(n, reduced_count);
    let mut outputs = Vec::new();
    for (j, o) in kernel.outputs.iter().enumerate() {
        memory
            .buffers
            .push(vec![0xAA; n * element_bytes(kernel.ty(*o))]);
        outputs.push(memory.buffers.len() - 1);
        addresses.push((
            Param::TensorOutput(j),
            Memory::address(memory.buffers.len() - 1),
        ));
        memory.buffers.push(vec![0x55; work.max(1) * 8]);
        addresses.push((
            Param::Partials(j),
            Memory::address(memory.buffers.len() - 1),
        ));
        memory.buffers.push(vec![0x55; work.max(1) * 8]);
        addresses.push((
            Param::PartialPositions(j),
            Memory::address(memory.buffers.len() - 1),
        ));
    }
    for signature in &module.entries {
        let entry = &entries[&signature.name];
        let names: Vec<String> = signature.params.iter().map(Param::name).collect();
        assert_eq!(entry.params, names);
        let params: Vec<u64> = signature
            .params
            .iter()
            .map(|p| addresses.iter().find(|(q, _)| q == p).expect("a buffer").1)
            .collect();
        launch(entry, &params, BLOCKS, BLOCK, &mut memory)?;
    }
    Ok(outputs
        .into_iter()
        .map(|b| memory.buffers[b].clone())
        .collect())
}

#[test]
fn random_tensor_kernels_agree_with_the_interpreter_and_assemble() {
    use crate::testing::{interp_tensor, random_tensor_kernel, tensor_outputs_match};
    let mut all = super::text::header();
    let (mut rendered, mut reductions) = (0, 0);
    let count = 600u64;
    for seed in 0..count {
        let mut rng = Rng::new(seed);
        let (kernel, buffers) = random_tensor_kernel(&mut rng, seed.is_multiple_of(2));
        let name = format!("t{seed}");
        let module = match render(&kernel, &name) {
            Ok(m) => m,
            Err(e) => {
                assert!(
                    [
                        "Ln",
                        "Sin",
                        "Cos",
                        "Pow",
                        "float FloorDiv",
                        "float FloorMod"
                    ]
                    .iter()
                    .any(|w| e.contains(w)),
                    "seed {seed}: refused for an unexpected reason: {e}"
                );
                continue;
            }
        };
        rendered += 1;
        all.push_str(module.text.split_once("\n\n").expect("a header").1);
        let got = emulate_tensor(&kernel, &module, &buffers)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{}", module.text));
        let expected = interp_tensor(&kernel, &buffers).expect("the interpreter runs");
        reductions += usize::from(matches!(
            kernel.node(kernel.outputs[0]).op,
            Op::Reduce { .. }
        ));
        if let Err(j) = tensor_outputs_match(&kernel, &buffers, &expected, &got) {
            panic!(
                "seed {seed}, output {j}:\n{}\nexpected {:?}\ngot {:?}\n{}",
                crate::pretty::pretty(&kernel, &[]),
                expected[j],
                got[j],
                module.text
            );
        }
    }
    eprintln!("{rendered} of {count} tensor kernels rendered, {reductions} reductions");
    assert!(
        rendered * 2 >= count as usize,
        "only {rendered} of {count} rendered"
    );
    assert!(reductions >= 100, "only {reductions} reductions");
    assemble(&all, "tensor").unwrap();
}

/// exp and tanh on a sweep (with NaN, ±inf, ±0 and the clamps' neighbourhoods): the CPU's
/// bits, in both precisions.
#[test]
fn exp_and_tanh_give_the_cpus_bits() {
    use crate::ir::{Dim, Domain, Input, Layout, UnaryOp};
    let mut points: Vec<f64> = (0..3000).map(|i| -760.0 + i as f64 * 0.49).collect();
    points.extend((0..1000).map(|i| -1.0 + i as f64 / 500.0));
    points.extend([
        0.0,
        -0.0,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        1e-30,
        -1e-300,
        88.7,
        709.9,
        710.1,
        -745.2,
        9.0,
        20.0,
        21.0,
    ]);
    for ty in [ScalarType::F64, ScalarType::F32] {
        let n = points.len();
        let mut k = Kernel {
            domain: Domain {
                dims: vec![Dim::Fixed(n as u64)],
            },
            inputs: vec![Input {
                ty,
                layout: Layout::Contiguous,
            }],
            nodes: Vec::new(),
            outputs: Vec::new(),
            selection: None,
            aggregates: Vec::new(),
            group_keys: Vec::new(),
        };
        let x = k.push(Op::Load(0), ty);
        for op in [UnaryOp::Exp, UnaryOp::Tanh] {
            let y = k.push(Op::Unary(op, x), ty);
            k.outputs.push(y);
        }
        let bytes: Vec<u8> = if ty == ScalarType::F64 {
            points.iter().flat_map(|p| p.to_le_bytes()).collect()
        } else {
            points
                .iter()
                .flat_map(|p| (*p as f32).to_le_bytes())
                .collect()
        };
        let module = render(&k, "exp_tanh").unwrap();
        let got = emulate_tensor(&k, &module, &[(bytes, 0)]).unwrap();
        for (i, p) in points.iter().enumerate() {
            if ty == ScalarType::F64 {
                let read = |b: &[u8]| f64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap());
                let (e, t) = (crate::math::exp_f64(*p), crate::math::tanh_f64(*p));
                assert!(
                    read(&got[0]).to_bits() == e.to_bits() || e.is_nan() && read(&got[0]).is_nan(),
                    "exp({p})"
                );
                assert!(
                    read(&got[1]).to_bits() == t.to_bits() || t.is_nan() && read(&got[1]).is_nan(),
                    "tanh({p})"
                );
            } else {
                let q = *p as f32;
                let read = |b: &[u8]| f32::from_le_bytes(b[i * 4..i * 4 + 4].try_into().unwrap());
                let (e, t) = (crate::math::exp_f32(q), crate::math::tanh_f32(q));
                assert!(
                    read(&got[0]).to_bits() == e.to_bits() || e.is_nan() && read(&got[0]).is_nan(),
                    "exp({q})"
                );
                assert!(
                    read(&got[1]).to_bits() == t.to_bits() || t.is_nan() && read(&got[1]).is_nan(),
                    "tanh({q})"
                );
            }
        }
        assemble(&module.text, "exp").unwrap();
    }
}

/// The precompiled helpers: PTX 8.0 for sm_80, the entry and parameter count the launch
/// code uses, and ptxas assembles them.
#[test]
fn precompiled_modules_assemble_with_the_declared_signature() {
    use super::precompiled::{TILE_OFFSETS_ENTRY, TILE_OFFSETS_PARAMS, TILE_OFFSETS_PTX};
    assert!(TILE_OFFSETS_PTX.contains(".version 8.0\n.target sm_80\n"));
    let header = format!(".visible .entry {TILE_OFFSETS_ENTRY}(");
    let at = TILE_OFFSETS_PTX.find(&header).expect("the entry");
    let params =
        &TILE_OFFSETS_PTX[at..TILE_OFFSETS_PTX[at..].find(')').expect("a parameter list") + at];
    assert_eq!(
        params.matches(".param .u64").count(),
        TILE_OFFSETS_PARAMS,
        "{params}"
    );
    assemble(TILE_OFFSETS_PTX, "tile_offsets").unwrap();
}
