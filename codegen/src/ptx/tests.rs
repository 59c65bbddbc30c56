//! The PTX renderer against the interpreter (on the emulator) and against `ptxas` (which
//! must assemble every module): random kernels of the Cranelift renderer's differential
//! suite, then hand-picked cases.

use std::path::PathBuf;

use super::emulator::{launch, parse, Memory};
use super::{decode_failure, render, Param, PtxModule, BLOCK};
use crate::abi::{bitmap_bytes, padded_rows, ColumnIn, ColumnOut, RunError};
use crate::interp;
use crate::ir::{Kernel, Op, ScalarType};
use crate::testing::{random_column, random_kernel, run_with, Column, Rng, RunResult};

/// Blocks of every emulated launch: few enough that blocks take several tiles each.
const BLOCKS: u32 = 2;

/// Runs a rendered module on the emulator as the engine runs it on a GPU: device buffers
/// padded to whole 64-row words, a filter's two passes with the prefix sums between them.
fn emulate(
    kernel: &Kernel,
    module: &PtxModule,
    inputs: &[ColumnIn<'_>],
    rows: usize,
    outputs: &mut [ColumnOut<'_>],
    selection: Option<&mut [u8]>,
) -> Result<usize, RunError> {
    let entries = parse(&module.text).map_err(RunError::BadBuffers)?;
    let padded = padded_rows(rows).max(64);
    let tiles = rows.div_ceil(BLOCK as usize);
    let mut memory = Memory {
        buffers: Vec::new(),
    };
    let add = |memory: &mut Memory, bytes: Vec<u8>| {
        memory.buffers.push(bytes);
        Memory::address(memory.buffers.len() - 1)
    };
    let padded_copy = |bytes: &[u8], len: usize| {
        let mut v = bytes.to_vec();
        v.resize(len.max(bytes.len()).next_multiple_of(8), 0);
        v
    };
    let mut addresses: Vec<(Param, u64)> = Vec::new();
    for (i, column) in inputs.iter().enumerate() {
        let ty = kernel.inputs[i].ty;
        let len = crate::abi::values_bytes(ty, padded);
        addresses.push((
            Param::InputValues(i),
            add(&mut memory, padded_copy(column.values, len)),
        ));
        let validity = match column.validity {
            Some(bits) => add(&mut memory, padded_copy(bits, bitmap_bytes(padded))),
            None => 0,
        };
        addresses.push((Param::InputValidity(i), validity));
    }
    for (o, id) in kernel.outputs.iter().enumerate() {
        let len = crate::abi::values_bytes(kernel.ty(*id), padded);
        let fill = if kernel.ty(*id) == ScalarType::Bool {
            0
        } else {
            0xA5
        };
        addresses.push((Param::OutputValues(o), add(&mut memory, vec![fill; len])));
        addresses.push((
            Param::OutputValidity(o),
            add(&mut memory, vec![0; bitmap_bytes(padded)]),
        ));
    }
    let selection_at = add(&mut memory, vec![0; bitmap_bytes(padded)]);
    addresses.push((Param::Selection, selection_at));
    let counts_at = add(&mut memory, vec![0; tiles.max(1) * 4]);
    addresses.push((Param::TileCounts, counts_at));
    let offsets_at = add(&mut memory, vec![0; tiles.max(1) * 8]);
    addresses.push((Param::TileOffsets, offsets_at));
    addresses.push((Param::Rows, rows as u64));
    let failure_at = add(&mut memory, u64::MAX.to_le_bytes().to_vec());
    addresses.push((Param::Failure, failure_at));
    let buffer = |address: u64| ((address - Memory::address(0)) >> 32) as usize;

    let mut written = rows;
    for signature in &module.entries {
        let entry = &entries[&signature.name];
        let names: Vec<String> = signature.params.iter().map(Param::name).collect();
        assert_eq!(
            entry.params, names,
            "the launch code's parameters are the entry's"
        );
        let params: Vec<u64> = signature
            .params
            .iter()
            .map(|p| addresses.iter().find(|(q, _)| q == p).expect("a buffer").1)
            .collect();
        launch(entry, &params, BLOCKS, BLOCK, &mut memory).map_err(RunError::BadBuffers)?;
        if signature.params.contains(&Param::TileCounts) {
            // The prefix sums between the passes (the engine's scan).
            let counts = &memory.buffers[buffer(counts_at)];
            let mut offsets = Vec::new();
            let mut total = 0u64;
            for t in 0..tiles {
                offsets.extend_from_slice(&total.to_le_bytes());
                total += u32::from_le_bytes(counts[t * 4..t * 4 + 4].try_into().unwrap()) as u64;
            }
            offsets.resize(tiles.max(1) * 8, 0);
            memory.buffers[buffer(offsets_at)] = offsets;
            written = total as usize;
        }
    }
    let failure = u64::from_le_bytes(memory.buffers[buffer(failure_at)][..8].try_into().unwrap());
    if let Some(f) = decode_failure(failure) {
        return Err(RunError::Failed(f));
    }
    for (o, out) in outputs.iter_mut().enumerate() {
        let find = |p: Param| buffer(addresses.iter().find(|(q, _)| *q == p).unwrap().1);
        let values = &memory.buffers[find(Param::OutputValues(o))];
        let n = out.values_len().min(values.len());
        out.write_values(0, &values[..n]);
        let validity = &memory.buffers[find(Param::OutputValidity(o))];
        let n = out.validity.len().min(validity.len());
        out.validity[..n].copy_from_slice(&validity[..n]);
    }
    if let Some(bits) = selection {
        let n = bits.len();
        bits.copy_from_slice(&memory.buffers[buffer(selection_at)][..n]);
    }
    Ok(written)
}

fn ptx_run(
    kernel: &Kernel,
    module: &PtxModule,
    columns: &[Column],
    rows: usize,
) -> Result<RunResult, RunError> {
    run_with(kernel, columns, rows, |i, o, s| {
        emulate(kernel, module, i, rows, o, s)
    })
}

fn interp_run(kernel: &Kernel, columns: &[Column], rows: usize) -> Result<RunResult, RunError> {
    run_with(kernel, columns, rows, |i, o, s| {
        interp::run(kernel, i, rows, o, s)
    })
}

/// Same outputs, or a failure the interpreter raises too (kind and row).
fn agree(
    kernel: &Kernel,
    columns: &[Column],
    rows: usize,
    got: &Result<RunResult, RunError>,
    reference: &Result<RunResult, RunError>,
) -> bool {
    match (got, reference) {
        (Ok(x), Ok(y)) => x == y,
        (Err(RunError::Failed(failure)), Err(RunError::Failed(_))) => {
            let mut all = Vec::new();
            let _ = run_with(kernel, columns, rows, |i, o, s| {
                all = interp::failures(kernel, i, rows, o, s)?;
                Ok(0)
            });
            all.iter()
                .any(|f| f.kind == failure.kind && f.row == failure.row)
        }
        _ => false,
    }
}

fn columns_for(kernel: &Kernel, rng: &mut Rng, rows: usize) -> Vec<Column> {
    kernel
        .inputs
        .iter()
        .map(|i| {
            let nulls = rng.pick(&[0, 0, 10, 50]);
            random_column(rng, i.ty, rows, nulls)
        })
        .collect()
}

/// `ptxas` from the CUDA wheel on PyPI (`nvidia-cuda-nvcc-cu12`, in the test extras): the
/// path in `COREPY_PTXAS`, else the one in the project's `.venv`.
pub fn ptxas() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("COREPY_PTXAS") {
        return Some(PathBuf::from(path));
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let lib = root.join(".venv/lib");
    for python in std::fs::read_dir(lib).ok()?.flatten() {
        let candidate = python
            .path()
            .join("site-packages/nvidia/cuda_nvcc/bin/ptxas");
        if candidate.exists() {
            return Some(candidate);
        }
    }
    None
}

/// Assembles PTX text for sm_90 (the H100/H200), or says why not.
pub fn assemble(text: &str, tag: &str) -> Result<(), String> {
    let Some(ptxas) = ptxas() else {
        if std::env::var("COREPY_REQUIRE_PTXAS").is_ok_and(|v| v == "1") {
            return Err("ptxas not found (set COREPY_PTXAS or install the test extras)".into());
        }
        eprintln!("ptxas not found: PTX not assembled (CI sets COREPY_REQUIRE_PTXAS=1)");
        return Ok(());
    };
    let dir = std::env::temp_dir().join(format!("corepy-ptx-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let file = dir.join("module.ptx");
    std::fs::write(&file, text).map_err(|e| e.to_string())?;
    let output = std::process::Command::new(&ptxas)
        .args(["-arch=sm_90", "-o"])
        .arg(dir.join("module.cubin"))
        .arg(&file)
        .output()
        .map_err(|e| format!("running {}: {e}", ptxas.display()))?;
    if !output.status.success() {
        return Err(format!(
            "ptxas refused the module ({}):\n{}",
            file.display(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
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
        let module = match render(&kernel, &name) {
            Ok(m) => m,
            Err(e) => {
                let decimal = kernel
                    .nodes
                    .iter()
                    .any(|n| matches!(n.ty, ScalarType::Decimal128 { .. }));
                assert!(
                    decimal,
                    "seed {seed}: only decimal kernels are refused, not: {e}"
                );
                continue;
            }
        };
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
fn decimal_and_tensor_kernels_are_refused_with_a_reason() {
    let mut k = Kernel::rows();
    let d = ScalarType::Decimal128 {
        precision: 10,
        scale: 2,
    };
    let x = k.input(d);
    let y = k.push(
        Op::Binary(crate::ir::BinaryOp::Add, x, x),
        ScalarType::Decimal128 {
            precision: 11,
            scale: 2,
        },
    );
    k.outputs.push(y);
    let err = render(&k, "dec").unwrap_err();
    assert!(err.contains("decimal128"), "{err}");
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

/// Whether a float sum or product of the GPU's order is close to the interpreter's:
/// within `n · ε` of the sum of magnitudes (sums) or relatively (products); both
/// non-finite alike, or a product that over- or underflowed in one order.
fn close_in_another_order(
    expected: f64,
    got: f64,
    magnitude: f64,
    n: usize,
    epsilon: f64,
    product: bool,
) -> bool {
    if expected.to_bits() == got.to_bits() || (expected.is_nan() && got.is_nan()) {
        return true;
    }
    let tolerance = 4.0 * (n as f64 + 1.0) * epsilon;
    if product {
        let extreme = |x: f64| !x.is_finite() || x == 0.0 || x.abs() < 1e-280 || x.abs() > 1e280;
        return extreme(expected)
            || extreme(got)
            || (expected - got).abs() <= tolerance * expected.abs().max(got.abs());
    }
    if !magnitude.is_finite() {
        return true;
    }
    (expected - got).abs() <= tolerance * magnitude
}

/// The interpreter's sum of magnitudes of a sum's terms (the kernel summing |arg|).
fn magnitudes(kernel: &Kernel, buffers: &[(Vec<u8>, usize)]) -> Vec<f64> {
    use crate::ir::{ReduceOp, UnaryOp};
    use crate::tensor_abi::{output_shape, TensorIn, TensorOut};
    let mut k = kernel.clone();
    let Op::Reduce { arg, axes, .. } = k.node(k.outputs[0]).op.clone() else {
        return Vec::new();
    };
    let ty = k.ty(arg);
    let abs = k.push(Op::Unary(UnaryOp::Abs, arg), ty);
    let sum = k.push(
        Op::Reduce {
            op: ReduceOp::Sum,
            arg: abs,
            axes,
        },
        ty,
    );
    k.outputs = vec![sum];
    let n: usize = output_shape(&k).iter().product();
    let w = crate::tensor_abi::element_bytes(ty);
    let mut out = vec![0u8; n * w];
    let inputs: Vec<TensorIn<'_>> = buffers
        .iter()
        .map(|(b, o)| TensorIn {
            bytes: b,
            offset: *o,
        })
        .collect();
    interp::run_tensor(&k, &inputs, &mut [TensorOut { bytes: &mut out }]).expect("runs");
    out.chunks(w)
        .map(|c| {
            if w == 4 {
                f32::from_le_bytes(c.try_into().unwrap()) as f64
            } else {
                f64::from_le_bytes(c.try_into().unwrap())
            }
        })
        .collect()
}

#[test]
fn random_tensor_kernels_agree_with_the_interpreter_and_assemble() {
    use crate::ir::ReduceOp;
    use crate::jit::tensor_tests::{random_tensor_kernel, same};
    use crate::tensor_abi::{element_bytes, output_shape, TensorIn, TensorOut};
    let mut all = super::text::header();
    let (mut rendered, mut reductions) = (0, 0);
    let count = 600u64;
    for seed in 0..count {
        let mut rng = Rng::new(seed);
        let (kernel, buffers) = random_tensor_kernel(&mut rng, seed % 2 == 0);
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
        let n: usize = output_shape(&kernel).iter().product();
        let inputs: Vec<TensorIn<'_>> = buffers
            .iter()
            .map(|(b, o)| TensorIn {
                bytes: b,
                offset: *o,
            })
            .collect();
        let mut expected: Vec<Vec<u8>> = kernel
            .outputs
            .iter()
            .map(|o| vec![0u8; n * element_bytes(kernel.ty(*o))])
            .collect();
        {
            let mut outs: Vec<TensorOut<'_>> = expected
                .iter_mut()
                .map(|b| TensorOut { bytes: b })
                .collect();
            interp::run_tensor(&kernel, &inputs, &mut outs).unwrap();
        }
        for (j, (e, g)) in expected.iter().zip(&got).enumerate() {
            let ty = kernel.ty(kernel.outputs[j]);
            let op = match kernel.node(kernel.outputs[j]).op {
                Op::Reduce { op, .. } => Some(op),
                _ => None,
            };
            reductions += usize::from(op.is_some());
            let reordered = ty.is_float() && matches!(op, Some(ReduceOp::Sum | ReduceOp::Prod));
            let ok = if reordered {
                let terms = (kernel
                    .domain
                    .dims
                    .iter()
                    .map(|d| match d {
                        crate::ir::Dim::Fixed(n) => *n as usize,
                        _ => 0,
                    })
                    .product::<usize>())
                    / n.max(1);
                let mags = magnitudes(&kernel, &buffers);
                let w = element_bytes(ty);
                let value = |c: &[u8]| {
                    if w == 4 {
                        f32::from_le_bytes(c.try_into().unwrap()) as f64
                    } else {
                        f64::from_le_bytes(c.try_into().unwrap())
                    }
                };
                let eps = if w == 4 {
                    f32::EPSILON as f64
                } else {
                    f64::EPSILON
                };
                e.chunks(w).zip(g.chunks(w)).enumerate().all(|(i, (x, y))| {
                    close_in_another_order(
                        value(x),
                        value(y),
                        mags.get(i).copied().unwrap_or(f64::INFINITY),
                        terms,
                        eps,
                        op == Some(ReduceOp::Prod),
                    )
                })
            } else {
                same(e, g, ty)
            };
            assert!(
                ok,
                "seed {seed}, output {j}:\n{}\nexpected {e:?}\ngot {g:?}\n{}",
                crate::pretty::pretty(&kernel, &[]),
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
