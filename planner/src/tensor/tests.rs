//! The graph's shapes, dtypes and lowering (what each rule makes of a graph).

use super::build::{broadcast_shapes, Index};
use super::data::{Buffer, TensorData};
use super::dtype::{promote, DType, PyScalar};
use super::graph::{BinaryFn, ReduceFn, Tensor, UnaryFn};
use super::program::{plan, Slot, Step};
use crate::error::CorepyError;

fn data(shape: &[usize], dtype: DType) -> Tensor {
    let n: usize = shape.iter().product();
    let buffer = Buffer::copy_of(&vec![0u8; n * dtype.size()]);
    Tensor::from_data(TensorData::dense(buffer, dtype, shape.to_vec()))
}

fn kernels(t: &Tensor) -> Vec<String> {
    plan(t)
        .unwrap()
        .steps
        .iter()
        .map(|p| match &p.step {
            Step::Kernel { kernel, .. } => {
                format!("{:?}", corepy_codegen::tensor_abi::extents(kernel))
            }
            Step::MatMul { .. } => "matmul".into(),
            Step::Concat { .. } => "concat".into(),
            Step::Resize { input, .. } => format!("resize {:?}", input.view.shape),
        })
        .collect()
}

#[test]
fn promotion_follows_numpy() {
    use DType::*;
    assert_eq!(promote(U8, I8), I16);
    assert_eq!(promote(U64, I64), F64);
    assert_eq!(promote(I16, F32), F32);
    assert_eq!(promote(I32, F32), F64);
    assert_eq!(promote(Bool, U16), U16);
    assert_eq!(promote(U32, I64), I64);
}

#[test]
fn shapes_that_do_not_broadcast_name_both() {
    assert_eq!(broadcast_shapes(&[3, 1], &[4]).unwrap(), vec![3, 4]);
    let err = broadcast_shapes(&[2, 3], &[4]).unwrap_err();
    assert!(matches!(err, CorepyError::Shape { .. }));
    assert!(err.to_string().contains("(2, 3) (4,)"), "{err}");
}

#[test]
fn a_chain_with_a_trailing_reduction_is_one_kernel_over_a_merged_domain() {
    let x = data(&[4, 3, 8, 8], DType::F32);
    let y = x
        .binary_scalar(BinaryFn::Sub, PyScalar::Float(0.5), false)
        .unwrap()
        .binary_scalar(BinaryFn::Div, PyScalar::Float(0.25), false)
        .unwrap()
        .unary(UnaryFn::Exp)
        .unwrap();
    assert_eq!(kernels(&y), vec!["[768]"]);
    let s = y.reduce(ReduceFn::Sum, Some(&[-1]), false).unwrap();
    assert_eq!(kernels(&s), vec!["[96, 8]"]);
    assert_eq!(s.dtype(), DType::F32);
}

#[test]
fn views_fold_into_strides_without_copies() {
    let x = data(&[4, 6], DType::I32);
    let t = x.permute(None).unwrap();
    let sliced = t
        .index(&[
            Index::Slice {
                start: None,
                stop: None,
                step: Some(-2),
            },
            Index::NewAxis,
            Index::Int(-1),
        ])
        .unwrap();
    assert_eq!(sliced.shape(), &[3, 1]);
    let program = plan(&sliced).unwrap();
    assert!(program.steps.is_empty(), "a view computes nothing");
    assert_eq!(program.result.slot, Slot::Source(0));
    // Transposed, then summed with itself: one kernel reading the buffer twice, strided.
    let y = t.binary(BinaryFn::Add, &x.permute(None).unwrap()).unwrap();
    assert_eq!(kernels(&y), vec!["[6, 4]"]);
    // A reshape of a transpose cannot be strides: one copy, then the kernel.
    let r = t
        .reshape(&[24])
        .unwrap()
        .binary_scalar(BinaryFn::Mul, PyScalar::Int(2), false)
        .unwrap();
    assert_eq!(kernels(&r), vec!["[6, 4]", "[24]"]);
}

#[test]
fn softmax_recomputes_its_small_shared_exp_in_three_passes() {
    let x = data(&[5, 7], DType::F64);
    let s = x.softmax(-1, false).unwrap();
    // max, then sum(exp(x - max)), then exp(x - max) / sum.
    assert_eq!(kernels(&s).len(), 3);
}

#[test]
fn bad_input_is_a_clear_error() {
    let x = data(&[2, 3], DType::F32);
    let e = x.reshape(&[4]).unwrap_err();
    assert!(
        e.to_string().contains("cannot reshape a tensor of size 6"),
        "{e}"
    );
    let e = x.reduce(ReduceFn::Sum, Some(&[2]), false).unwrap_err();
    assert!(e.to_string().contains("axis 2 is out of bounds"), "{e}");
    let e = DType::parse("float16").unwrap_err();
    assert!(
        e.to_string().contains("unsupported tensor dtype 'float16'"),
        "{e}"
    );
    let e = data(&[0], DType::F32)
        .reduce(ReduceFn::Max, None, false)
        .unwrap_err();
    assert!(e.to_string().contains("zero-size"), "{e}");
    let e = data(&[2], DType::U8)
        .binary_scalar(BinaryFn::Add, PyScalar::Int(300), false)
        .unwrap_err();
    assert!(e.to_string().contains("out of bounds for uint8"), "{e}");
}

#[test]
fn integer_matmul_is_a_multiply_and_sum_kernel() {
    let a = data(&[2, 3, 4], DType::I32);
    let b = data(&[4, 5], DType::I32);
    let c = a.matmul(&b).unwrap();
    assert_eq!(c.shape(), &[2, 3, 5]);
    assert_eq!(kernels(&c), vec!["[6, 5, 4]"]);
    let f = data(&[3, 4], DType::F32)
        .matmul(&data(&[4], DType::F32))
        .unwrap();
    assert_eq!(f.shape(), &[3]);
    assert_eq!(kernels(&f), vec!["matmul"]);
}

#[test]
fn resizes_read_images_as_pixels_of_interleaved_channels() {
    use super::resize::ResizeMethod;
    let bilinear = ResizeMethod::Bilinear;
    // NHWC uint8 RGB: resampled in place, three channels a pixel.
    let nhwc = data(&[2, 8, 6, 3], DType::U8);
    let small = nhwc.resize((4, 3), bilinear, true, "auto").unwrap();
    assert_eq!(small.shape(), &[2, 4, 3, 3]);
    assert_eq!(kernels(&small), vec!["resize [2, 8, 6, 3]"]);
    // NCHW float: each channel an image of its own; the elementwise input is one kernel.
    let nchw = data(&[2, 3, 8, 6], DType::F32);
    let normalized = nchw
        .binary_scalar(BinaryFn::Sub, PyScalar::Float(0.5), false)
        .unwrap();
    let resized = normalized.resize((4, 3), bilinear, true, "auto").unwrap();
    assert_eq!(resized.shape(), &[2, 3, 4, 3]);
    let steps = kernels(&resized);
    assert_eq!(steps.len(), 2, "{steps:?}");
    assert_eq!(steps[1], "resize [6, 8, 6, 1]");
    // float64 is resampled in float32: casts on both sides.
    let wide = data(&[8, 6], DType::F64)
        .resize((4, 3), bilinear, true, "auto")
        .unwrap();
    assert_eq!(wide.dtype(), DType::F64);
    assert_eq!(kernels(&wide).len(), 3);
    // Nearest copies any type; the others name the types they take.
    let labels = data(&[8, 6], DType::I32);
    assert!(labels
        .resize((4, 3), ResizeMethod::Nearest, true, "auto")
        .is_ok());
    assert!(matches!(
        labels.resize((4, 3), bilinear, true, "auto"),
        Err(CorepyError::Schema { .. })
    ));
}
