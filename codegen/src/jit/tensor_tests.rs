//! The tensor JIT against the interpreter: random elementwise chains and trailing
//! reductions over random domains (size 0 and 1 dimensions included), inputs read through
//! random strides (negative and zero too); the outputs must be the same bytes.

use super::tensor::{compile_tensor, supports_tensor};
use crate::interp::run_tensor;
use crate::ir::{Dim, Domain, Input, Kernel, Layout, Op, ReduceOp, ScalarType, UnaryOp};
use crate::tensor_abi::{element_bytes, output_shape, TensorIn, TensorOut};
use crate::testing::{random_tensor_kernel, same, Rng};

#[test]
fn tensor_kernels_compile_to_the_interpreters_bytes() {
    let (compiled, ..) = check_random_kernels(0..400, false);
    assert_eq!(compiled, 400);
}

#[test]
fn vector_loops_give_the_interpreters_bytes() {
    let (compiled, vectorized, partials) = check_random_kernels(1000..1600, true);
    assert_eq!(compiled, 600);
    // Wide integer products and extrema, and arg-reductions, stay scalar.
    assert!(vectorized * 3 > 600, "{vectorized} of 600 vectorized");
    assert!(partials > 60, "{partials} reductions in partials");
}

/// Compiles and runs the random kernels of `seeds`, comparing every output with the
/// interpreter's; how many compiled, how many of those have a vector loop, and how many of
/// those fold reductions in partials.
fn check_random_kernels(seeds: std::ops::Range<u64>, vector: bool) -> (usize, usize, usize) {
    let mut compiled = 0;
    let mut vectorized = 0;
    let mut partials = 0;
    for seed in seeds {
        let mut rng = Rng::new(seed);
        let (kernel, buffers) = random_tensor_kernel(&mut rng, vector);
        kernel
            .validate()
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        supports_tensor(&kernel).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let jit = compile_tensor(&kernel).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let inputs: Vec<TensorIn<'_>> = buffers
            .iter()
            .map(|(b, o)| TensorIn {
                bytes: b,
                offset: *o,
            })
            .collect();
        let n: usize = output_shape(&kernel).iter().product();
        let sizes: Vec<usize> = kernel
            .outputs
            .iter()
            .map(|o| n * element_bytes(kernel.ty(*o)))
            .collect();
        let mut expected: Vec<Vec<u8>> = sizes.iter().map(|&s| vec![0u8; s]).collect();
        let mut got: Vec<Vec<u8>> = sizes.iter().map(|&s| vec![0xAAu8; s]).collect();
        {
            let mut outs: Vec<TensorOut<'_>> = expected
                .iter_mut()
                .map(|b| TensorOut { bytes: b })
                .collect();
            run_tensor(&kernel, &inputs, &mut outs).unwrap();
        }
        {
            let mut outs: Vec<TensorOut<'_>> =
                got.iter_mut().map(|b| TensorOut { bytes: b }).collect();
            jit.run(&inputs, &mut outs).unwrap();
        }
        for (j, (e, g)) in expected.iter().zip(&got).enumerate() {
            let ty = kernel.ty(kernel.outputs[j]);
            assert!(
                same(e, g, ty),
                "seed {seed}, output {j}:\n{}\nexpected {e:?}\ngot {g:?}",
                crate::pretty::pretty(&kernel, &[])
            );
        }
        compiled += 1;
        vectorized += usize::from(jit.lanes().is_some());
        let reduces = matches!(kernel.node(kernel.outputs[0]).op, Op::Reduce { .. });
        partials += usize::from(jit.lanes().is_some() && reduces);
    }
    (compiled, vectorized, partials)
}

#[test]
fn a_large_kernel_runs_in_parallel_chunks_with_the_same_result() {
    let dims = [300usize, 1000];
    let mut k = Kernel {
        domain: Domain {
            dims: dims.iter().map(|&n| Dim::Fixed(n as u64)).collect(),
        },
        inputs: vec![Input {
            ty: ScalarType::F64,
            layout: Layout::Strided(vec![1000, 1]),
        }],
        nodes: Vec::new(),
        outputs: Vec::new(),
        selection: None,
        aggregates: Vec::new(),
        group_keys: Vec::new(),
    };
    let x = k.push(Op::Load(0), ScalarType::F64);
    let e = k.push(Op::Unary(UnaryOp::Exp, x), ScalarType::F64);
    let s = k.push(
        Op::Reduce {
            op: ReduceOp::Sum,
            arg: e,
            axes: vec![1],
        },
        ScalarType::F64,
    );
    k.outputs.push(s);
    let data: Vec<u8> = (0..300_000)
        .flat_map(|i| ((i % 97) as f64 / 50.0).to_le_bytes())
        .collect();
    let inputs = [TensorIn {
        bytes: &data,
        offset: 0,
    }];
    let mut a = vec![0u8; 300 * 8];
    let mut b = vec![0u8; 300 * 8];
    run_tensor(&k, &inputs, &mut [TensorOut { bytes: &mut a }]).unwrap();
    compile_tensor(&k)
        .unwrap()
        .run(&inputs, &mut [TensorOut { bytes: &mut b }])
        .unwrap();
    assert_eq!(a, b);
}
