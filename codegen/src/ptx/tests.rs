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
