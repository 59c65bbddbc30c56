//! The GPU self-test: the random kernels of the differential suites run on a real device
//! and compared with the interpreter and the CPU JIT, as the PTX emulator compares them in
//! CI. `tests/gpu/run.sh` calls it (through `corepy._core.gpu_selftest`) on a GPU machine.

use corepy_codegen::abi::RunError;
use corepy_codegen::tensor_abi::{element_bytes, output_shape, TensorIn, TensorOut};
use corepy_codegen::testing::{
    agree, columns_for, interp_tensor, random_kernel, random_tensor_kernel, run_with,
    tensor_outputs_match, Rng,
};
use corepy_codegen::{interp, jit};

use super::modules::ptx_module;
use super::runtime::{Gpu, GpuRunError};

/// What a self-test run found.
#[derive(Debug, Default)]
pub struct Report {
    pub row_kernels: usize,
    pub tensor_kernels: usize,
    /// Kernels not rendered for the GPU (decimals, some NumPy functions).
    pub not_rendered: usize,
    /// Disagreements, each with its seed and what differed.
    pub mismatches: Vec<String>,
}

/// Runs `count` random row kernels and `count` random tensor kernels on `gpu`.
pub fn selftest(gpu: &Gpu, count: u64) -> Report {
    let mut report = Report::default();
    for seed in 1..=count {
        row_kernel(gpu, seed, &mut report);
        tensor_kernel(gpu, seed, &mut report);
        if report.mismatches.len() >= 20 {
            break;
        }
    }
    report
}

fn row_kernel(gpu: &Gpu, seed: u64, report: &mut Report) {
    let mut rng = Rng::new(seed);
    let depth = 1 + rng.below(4);
    let kernel = random_kernel(&mut rng, depth);
    let rows = rng.pick(&[0, 1, 31, 64, 200, 1000, 70_000]);
    let columns = columns_for(&kernel, &mut rng, rows);
    let Ok(module) = ptx_module(&kernel) else {
        report.not_rendered += 1;
        return;
    };
    report.row_kernels += 1;
    let on_gpu = run_with(&kernel, &columns, rows, |i, o, s| {
        match gpu.run_rows(&kernel, &module, i, rows, o, s) {
            Ok((written, _)) => Ok(written),
            Err(GpuRunError::Kernel(e)) => Err(e),
            Err(GpuRunError::Device(m)) => Err(RunError::BadBuffers(format!("device: {m}"))),
        }
    });
    let reference = run_with(&kernel, &columns, rows, |i, o, s| {
        interp::run(&kernel, i, rows, o, s)
    });
    if !agree(&kernel, &columns, rows, &on_gpu, &reference) {
        report.mismatches.push(format!(
            "row kernel, seed {seed}, {rows} rows: the GPU and the interpreter disagree\n{}gpu: {:?}\ninterpreter: {:?}",
            corepy_codegen::pretty::pretty(&kernel, &[]),
            on_gpu.as_ref().map(|r| r.rows),
            reference.as_ref().map(|r| r.rows)
        ));
        return;
    }
    if let Ok(compiled) = jit::compile(&kernel) {
        let on_cpu = run_with(&kernel, &columns, rows, |i, o, s| {
            compiled.run(i, rows, o, s)
        });
        if !agree(&kernel, &columns, rows, &on_gpu, &on_cpu) && on_cpu.is_ok() {
            report.mismatches.push(format!(
                "row kernel, seed {seed}: the GPU and the CPU JIT disagree"
            ));
        }
    }
}

fn tensor_kernel(gpu: &Gpu, seed: u64, report: &mut Report) {
    let mut rng = Rng::new(seed);
    let (kernel, buffers) = random_tensor_kernel(&mut rng, seed.is_multiple_of(2));
    let Ok(module) = ptx_module(&kernel) else {
        report.not_rendered += 1;
        return;
    };
    report.tensor_kernels += 1;
    let inputs: Vec<TensorIn<'_>> = buffers
        .iter()
        .map(|(b, o)| TensorIn {
            bytes: b,
            offset: *o,
        })
        .collect();
    let Ok(expected) = interp_tensor(&kernel, &buffers) else {
        return;
    };
    let n: usize = output_shape(&kernel).iter().product();
    let mut got: Vec<Vec<u8>> = kernel
        .outputs
        .iter()
        .map(|o| vec![0xAA; n * element_bytes(kernel.ty(*o))])
        .collect();
    let ran = {
        let mut outs: Vec<TensorOut<'_>> = got.iter_mut().map(|b| TensorOut { bytes: b }).collect();
        gpu.run_tensor(&kernel, &module, &inputs, &mut outs)
    };
    if let Err(e) = ran {
        report
            .mismatches
            .push(format!("tensor kernel, seed {seed}: {e:?}"));
        return;
    }
    if let Err(j) = tensor_outputs_match(&kernel, &buffers, &expected, &got) {
        report.mismatches.push(format!(
            "tensor kernel, seed {seed}, output {j}: the GPU and the interpreter disagree\n{}",
            corepy_codegen::pretty::pretty(&kernel, &[])
        ));
    }
}
