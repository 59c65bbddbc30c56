//! The tensor JIT against the interpreter: random elementwise chains and trailing
//! reductions over random domains (size 0 and 1 dimensions included), inputs read through
//! random strides (negative and zero too); the outputs must be the same bytes.

use super::tensor::{compile_tensor, supports_tensor};
use crate::interp::{run_tensor, write_tensor_value};
use crate::ir::{
    BinaryOp, Dim, Domain, Input, Kernel, Layout, Literal, Op, ReduceOp, ScalarType, UnaryOp,
    ValueId,
};
use crate::tensor_abi::{element_bytes, output_shape, TensorIn, TensorOut};
use crate::testing::{random_value, Rng};

const TYPES: [ScalarType; 7] = [
    ScalarType::I8,
    ScalarType::I32,
    ScalarType::I64,
    ScalarType::U8,
    ScalarType::U64,
    ScalarType::F32,
    ScalarType::F64,
];

/// Types of one width (4 or 8 bytes): kernels the vector loop takes.
const VECTOR_TYPES: [ScalarType; 5] = [
    ScalarType::I32,
    ScalarType::F32,
    ScalarType::I64,
    ScalarType::U64,
    ScalarType::F64,
];

/// An input's buffer, its offset and strides over `dims` (`dense_inner`: the innermost
/// stride is 1 or 0, as the vector loop needs).
fn strided_input(
    rng: &mut Rng,
    ty: ScalarType,
    dims: &[usize],
    dense_inner: bool,
) -> (Vec<u8>, usize, Vec<i64>) {
    let mut strides = vec![0i64; dims.len()];
    let mut step = 1i64;
    for a in (0..dims.len()).rev() {
        let inner = a + 1 == dims.len();
        let spread = if inner && dense_inner {
            1
        } else {
            rng.pick(&[1i64, 1, 2, 3])
        };
        strides[a] = match rng.below(5) {
            0 => 0,
            1 if !(inner && dense_inner) => -step * spread,
            _ => step * spread,
        };
        step *= (dims[a] as i64).max(1) * spread;
    }
    let (mut low, mut high) = (0i64, 0i64);
    for (&s, &n) in strides.iter().zip(dims) {
        let reach = s * (n.max(1) as i64 - 1);
        if reach < 0 {
            low += reach
        } else {
            high += reach
        }
    }
    let len = (high - low + 1) as usize;
    let mut bytes = vec![0u8; len * element_bytes(ty)];
    for i in 0..len {
        write_tensor_value(&mut bytes, ty, i, random_value(rng, ty));
    }
    (bytes, (-low) as usize, strides)
}

/// A random kernel and its inputs; `vector`: one value width, longer dense inner
/// dimensions and no reductions, so that most compile to the vector loop.
pub(crate) fn random_tensor_kernel(rng: &mut Rng, vector: bool) -> (Kernel, Vec<(Vec<u8>, usize)>) {
    let rank = if vector {
        1 + rng.below(3)
    } else {
        rng.below(4)
    };
    let sizes: &[usize] = if vector {
        &[1, 3, 4, 7, 16, 33]
    } else {
        &[0, 1, 2, 3, 5, 9]
    };
    let dims: Vec<usize> = (0..rank).map(|_| rng.pick(sizes)).collect();
    let ty = rng.pick(if vector {
        &VECTOR_TYPES[..]
    } else {
        &TYPES[..]
    });
    let mut k = Kernel {
        domain: Domain {
            dims: dims.iter().map(|&n| Dim::Fixed(n as u64)).collect(),
        },
        inputs: Vec::new(),
        nodes: Vec::new(),
        outputs: Vec::new(),
        selection: None,
    };
    let mut buffers = Vec::new();
    let mut values: Vec<ValueId> = Vec::new();
    for i in 0..1 + rng.below(3) {
        let (bytes, offset, strides) = strided_input(rng, ty, &dims, vector);
        k.inputs.push(Input {
            ty,
            layout: Layout::Strided(strides),
        });
        buffers.push((bytes, offset));
        values.push(k.push(Op::Load(i), ty));
    }
    let float = ty.is_float();
    for _ in 0..1 + rng.below(6) {
        let a = rng.pick(&values);
        let b = rng.pick(&values);
        let mut arithmetic = vec![
            BinaryOp::Add,
            BinaryOp::Sub,
            BinaryOp::Mul,
            BinaryOp::Max,
            BinaryOp::Min,
            BinaryOp::FloorDiv,
            BinaryOp::FloorMod,
        ];
        if !float {
            arithmetic.extend([BinaryOp::BitAnd, BinaryOp::BitOr, BinaryOp::BitXor]);
        }
        let v = match rng.below(7) {
            0 => k.push(Op::Binary(rng.pick(&arithmetic), a, b), ty),
            1 if float => k.push(
                Op::Binary(rng.pick(&[BinaryOp::Div, BinaryOp::Pow]), a, b),
                ty,
            ),
            2 if float => k.push(
                Op::Unary(
                    rng.pick(&[
                        UnaryOp::Exp,
                        UnaryOp::Ln,
                        UnaryOp::Sqrt,
                        UnaryOp::Tanh,
                        UnaryOp::Sin,
                        UnaryOp::Floor,
                        UnaryOp::Abs,
                        UnaryOp::Neg,
                    ]),
                    a,
                ),
                ty,
            ),
            2 => k.push(
                Op::Unary(
                    if ty.is_signed_int() {
                        rng.pick(&[UnaryOp::Abs, UnaryOp::Neg, UnaryOp::BitNot])
                    } else {
                        rng.pick(&[UnaryOp::Abs, UnaryOp::BitNot])
                    },
                    a,
                ),
                ty,
            ),
            3 => {
                let c = k.push(
                    Op::Binary(
                        rng.pick(&[
                            BinaryOp::IeeeLt,
                            BinaryOp::IeeeEq,
                            BinaryOp::IeeeGtEq,
                            BinaryOp::IeeeNotEq,
                        ]),
                        a,
                        b,
                    ),
                    ScalarType::Bool,
                );
                k.push(
                    Op::Case {
                        branches: vec![(c, a)],
                        otherwise: Some(b),
                    },
                    ty,
                )
            }
            4 => {
                let to = if vector {
                    // A cast through another type of the same width keeps one width.
                    let same: Vec<ScalarType> = VECTOR_TYPES
                        .iter()
                        .copied()
                        .filter(|t| element_bytes(*t) == element_bytes(ty))
                        .collect();
                    rng.pick(&same)
                } else {
                    rng.pick(&TYPES)
                };
                let c = k.push(Op::Cast(a), to);
                k.push(Op::Cast(c), ty)
            }
            5 => {
                let lit = if float {
                    if ty == ScalarType::F32 {
                        Literal::F32(2.5f32.to_bits())
                    } else {
                        Literal::F64((-1.25f64).to_bits())
                    }
                } else {
                    Literal::Int(3)
                };
                let c = k.push(Op::Const(lit), ty);
                k.push(Op::Binary(BinaryOp::Mul, a, c), ty)
            }
            _ => {
                let nan = k.push(Op::Unary(UnaryOp::IsNan, a), ScalarType::Bool);
                let not = k.push(Op::Unary(UnaryOp::Not, nan), ScalarType::Bool);
                k.push(
                    Op::Case {
                        branches: vec![(not, a)],
                        otherwise: Some(b),
                    },
                    ty,
                )
            }
        };
        values.push(v);
    }
    let last = *values.last().expect("one value at least");
    if rank > 0 && rng.chance(50) {
        let reduced = rng.below(rank + 1);
        let axes: Vec<usize> = (rank - reduced..rank).collect();
        let op = rng.pick(&[
            ReduceOp::Sum,
            ReduceOp::Prod,
            ReduceOp::Max,
            ReduceOp::Min,
            ReduceOp::ArgMax,
            ReduceOp::ArgMin,
        ]);
        let empty = axes.iter().any(|&a| dims[a] == 0);
        let op = if empty { ReduceOp::Sum } else { op };
        let out_ty = if matches!(op, ReduceOp::ArgMax | ReduceOp::ArgMin) {
            ScalarType::I64
        } else {
            ty
        };
        let r = k.push(
            Op::Reduce {
                op,
                arg: last,
                axes,
            },
            out_ty,
        );
        k.outputs.push(r);
    } else {
        k.outputs.push(last);
        if !vector && rng.chance(30) {
            let c = k.push(
                Op::Binary(BinaryOp::IeeeGt, last, values[0]),
                ScalarType::Bool,
            );
            k.outputs.push(c);
        }
    }
    (k, buffers)
}

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

/// Equal bytes, but any NaN equals any NaN (payloads differ between libm and hardware).
pub(crate) fn same(a: &[u8], b: &[u8], ty: ScalarType) -> bool {
    let w = element_bytes(ty);
    a.chunks(w).zip(b.chunks(w)).all(|(x, y)| match ty {
        ScalarType::F64 => {
            let (x, y) = (
                f64::from_le_bytes(x.try_into().unwrap()),
                f64::from_le_bytes(y.try_into().unwrap()),
            );
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        ScalarType::F32 => {
            let (x, y) = (
                f32::from_le_bytes(x.try_into().unwrap()),
                f32::from_le_bytes(y.try_into().unwrap()),
            );
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        _ => x == y,
    })
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
