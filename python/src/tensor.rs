//! `TensorNode`: a lazy tensor of the planner's graph. Methods take NumPy's names as
//! strings and convert; `corepy.tensor.Tensor` is the typed, documented class around it.

use std::sync::Arc;

use corepy_engine::tensor::{self as engine_tensor, create};
use corepy_engine::vision::{self, ColorMode};
use corepy_planner::tensor::{
    BinaryFn, Buffer, DType, Index, PyScalar, ReduceFn, ResizeMethod, Tensor, TensorData, UnaryFn,
};
use corepy_planner::{CorepyError, Result};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyEllipsis, PyFloat, PyInt, PySlice};

use crate::errors::{guarded, OrRaise};

#[pyclass(frozen, from_py_object, name = "TensorNode", module = "corepy._core")]
#[derive(Clone)]
pub struct PyTensor {
    pub tensor: Tensor,
}

fn wrap(tensor: Tensor) -> PyTensor {
    PyTensor { tensor }
}

/// A tensor-building call, guarded (a panic becomes `cp.InternalError`), as a `TensorNode`.
fn tensor_guarded(f: impl FnOnce() -> Result<Tensor>) -> PyResult<PyTensor> {
    guarded(|| f().map(wrap).or_raise())
}

fn unary_fn(name: &str) -> Result<UnaryFn> {
    Ok(match name {
        "neg" => UnaryFn::Neg,
        "abs" => UnaryFn::Abs,
        "not" => UnaryFn::Not,
        "sqrt" => UnaryFn::Sqrt,
        "exp" => UnaryFn::Exp,
        "log" => UnaryFn::Log,
        "sin" => UnaryFn::Sin,
        "cos" => UnaryFn::Cos,
        "tanh" => UnaryFn::Tanh,
        "floor" => UnaryFn::Floor,
        "ceil" => UnaryFn::Ceil,
        "isnan" => UnaryFn::IsNan,
        "invert" => UnaryFn::Invert,
        other => {
            return Err(CorepyError::invalid_argument(format!(
                "unknown tensor function '{other}'"
            )))
        }
    })
}

fn binary_fn(name: &str) -> Result<BinaryFn> {
    Ok(match name {
        "add" => BinaryFn::Add,
        "sub" => BinaryFn::Sub,
        "mul" => BinaryFn::Mul,
        "truediv" => BinaryFn::Div,
        "pow" => BinaryFn::Pow,
        "maximum" => BinaryFn::Maximum,
        "minimum" => BinaryFn::Minimum,
        "eq" => BinaryFn::Eq,
        "ne" => BinaryFn::Ne,
        "lt" => BinaryFn::Lt,
        "le" => BinaryFn::Le,
        "gt" => BinaryFn::Gt,
        "ge" => BinaryFn::Ge,
        "and" => BinaryFn::And,
        "or" => BinaryFn::Or,
        "floordiv" => BinaryFn::FloorDiv,
        "mod" => BinaryFn::Mod,
        "bitand" => BinaryFn::BitAnd,
        "bitor" => BinaryFn::BitOr,
        "bitxor" => BinaryFn::BitXor,
        other => {
            return Err(CorepyError::invalid_argument(format!(
                "unknown tensor operator '{other}'"
            )))
        }
    })
}

fn reduce_fn(name: &str) -> Result<ReduceFn> {
    Ok(match name {
        "sum" => ReduceFn::Sum,
        "prod" => ReduceFn::Prod,
        "min" => ReduceFn::Min,
        "max" => ReduceFn::Max,
        "argmin" => ReduceFn::ArgMin,
        "argmax" => ReduceFn::ArgMax,
        "any" => ReduceFn::Any,
        "all" => ReduceFn::All,
        other => {
            return Err(CorepyError::invalid_argument(format!(
                "unknown reduction '{other}'"
            )))
        }
    })
}

/// A Python bool, int or float as a weak scalar.
fn py_scalar(value: &Bound<'_, PyAny>) -> PyResult<PyScalar> {
    if value.is_instance_of::<PyBool>() {
        return Ok(PyScalar::Bool(value.extract()?));
    }
    if value.is_instance_of::<PyInt>() {
        let v: i128 = value
            .extract()
            .map_err(|_| {
                CorepyError::invalid_argument(format!(
                    "Python integer {value} is out of every tensor type's range"
                ))
            })
            .or_raise()?;
        return Ok(PyScalar::Int(v));
    }
    if value.is_instance_of::<PyFloat>() {
        return Ok(PyScalar::Float(value.extract()?));
    }
    Err(CorepyError::schema(format!(
        "expected a tensor or a Python bool, int or float, got {}",
        value.get_type().name()?
    )))
    .or_raise()
}

fn dtype(name: &str) -> PyResult<DType> {
    DType::parse(name).or_raise()
}

fn index_item(item: &Bound<'_, PyAny>) -> PyResult<Index> {
    if item.is_none() {
        return Ok(Index::NewAxis);
    }
    if item.is_instance_of::<PyEllipsis>() {
        return Ok(Index::Ellipsis);
    }
    if let Ok(slice) = item.cast::<PySlice>() {
        let part = |name: &str| -> PyResult<Option<i64>> {
            let v = slice.getattr(name)?;
            if v.is_none() {
                Ok(None)
            } else {
                Ok(Some(v.extract()?))
            }
        };
        return Ok(Index::Slice {
            start: part("start")?,
            stop: part("stop")?,
            step: part("step")?,
        });
    }
    if item.is_instance_of::<PyInt>() && !item.is_instance_of::<PyBool>() {
        return Ok(Index::Int(item.extract()?));
    }
    Err(CorepyError::invalid_argument(format!(
        "tensor indices must be ints, slices, None or ..., got {}",
        item.get_type().name()?
    )))
    .or_raise()
}

#[pymethods]
impl PyTensor {
    /// A tensor over memory of another library (NumPy's `__array_interface__`): `strides`
    /// in bytes; read in place while `owner` lives unless `copy`.
    #[staticmethod]
    #[pyo3(signature = (address, dtype_name, shape, strides, owner, copy))]
    fn from_memory(
        address: usize,
        dtype_name: &str,
        shape: Vec<usize>,
        strides: Vec<i64>,
        owner: Py<PyAny>,
        copy: bool,
    ) -> PyResult<PyTensor> {
        let dtype = dtype(dtype_name)?;
        tensor_guarded(|| {
            let size = dtype.size() as i64;
            if strides.len() != shape.len() || strides.iter().any(|s| s % size != 0) {
                return Err(CorepyError::invalid_argument(
                    "strides that are not whole elements",
                ));
            }
            let elements: Vec<i64> = strides.iter().map(|s| s / size).collect();
            let (mut low, mut high) = (0i64, 0i64);
            if !shape.contains(&0) {
                for (&n, &s) in shape.iter().zip(&elements) {
                    let reach = s * (n as i64 - 1);
                    if reach < 0 {
                        low += reach
                    } else {
                        high += reach
                    }
                }
            }
            let len = if shape.contains(&0) {
                0
            } else {
                ((high - low + 1) * size) as usize
            };
            let start = (address as i64 + low * size) as usize as *const u8;
            // SAFETY: the exporter's interface promises these bytes while `owner` lives.
            let foreign = unsafe { Buffer::foreign(start, len, Arc::new(owner)) };
            let buffer = if copy {
                Buffer::copy_of(foreign.as_slice())
            } else {
                foreign
            };
            Ok(Tensor::from_data(TensorData {
                buffer,
                dtype,
                shape,
                strides: elements,
                offset: (-low) as usize,
            }))
        })
    }

    #[staticmethod]
    #[pyo3(signature = (value, dtype_name=None))]
    fn scalar(value: &Bound<'_, PyAny>, dtype_name: Option<&str>) -> PyResult<PyTensor> {
        let value = py_scalar(value)?;
        let dtype = dtype_name.map(dtype).transpose()?;
        tensor_guarded(|| Tensor::scalar(value, dtype))
    }

    #[staticmethod]
    #[pyo3(signature = (shape, value, dtype_name))]
    fn full(shape: Vec<usize>, value: &Bound<'_, PyAny>, dtype_name: &str) -> PyResult<PyTensor> {
        let (value, dtype) = (py_scalar(value)?, dtype(dtype_name)?);
        tensor_guarded(|| create::full(&shape, value, dtype))
    }

    #[staticmethod]
    fn arange(start: f64, stop: f64, step: f64, dtype_name: &str) -> PyResult<PyTensor> {
        let dtype = dtype(dtype_name)?;
        tensor_guarded(|| create::arange(start, stop, step, dtype))
    }

    #[staticmethod]
    fn linspace(
        start: f64,
        stop: f64,
        num: usize,
        endpoint: bool,
        dtype_name: &str,
    ) -> PyResult<PyTensor> {
        let dtype = dtype(dtype_name)?;
        tensor_guarded(|| create::linspace(start, stop, num, endpoint, dtype))
    }

    #[staticmethod]
    fn eye(n: usize, m: usize, k: i64, dtype_name: &str) -> PyResult<PyTensor> {
        let dtype = dtype(dtype_name)?;
        tensor_guarded(|| create::eye(n, m, k, dtype))
    }

    #[staticmethod]
    fn random(
        shape: Vec<usize>,
        seed: Option<u64>,
        normal: bool,
        dtype_name: &str,
    ) -> PyResult<PyTensor> {
        let dtype = dtype(dtype_name)?;
        tensor_guarded(|| create::random(&shape, seed, normal, dtype))
    }

    #[getter]
    fn shape(&self) -> PyResult<Vec<usize>> {
        guarded(|| Ok(self.tensor.shape().to_vec()))
    }

    #[getter]
    fn dtype(&self) -> PyResult<&'static str> {
        guarded(|| Ok(self.tensor.dtype().name()))
    }

    #[getter]
    fn is_realized(&self) -> PyResult<bool> {
        guarded(|| Ok(self.tensor.data().is_some()))
    }

    fn unary(&self, name: &str) -> PyResult<PyTensor> {
        tensor_guarded(|| self.tensor.unary(unary_fn(name)?))
    }

    fn binary(&self, name: &str, other: &PyTensor) -> PyResult<PyTensor> {
        tensor_guarded(|| self.tensor.binary(binary_fn(name)?, &other.tensor))
    }

    fn binary_scalar(
        &self,
        name: &str,
        value: &Bound<'_, PyAny>,
        reflected: bool,
    ) -> PyResult<PyTensor> {
        let value = py_scalar(value)?;
        tensor_guarded(|| {
            self.tensor
                .binary_scalar(binary_fn(name)?, value, reflected)
        })
    }

    fn where_(&self, a: &PyTensor, b: &PyTensor) -> PyResult<PyTensor> {
        tensor_guarded(|| self.tensor.where_(&a.tensor, &b.tensor))
    }

    fn astype(&self, dtype_name: &str) -> PyResult<PyTensor> {
        tensor_guarded(|| Ok(self.tensor.cast(DType::parse(dtype_name)?)))
    }

    #[pyo3(signature = (name, axes, keepdims))]
    fn reduce(&self, name: &str, axes: Option<Vec<i64>>, keepdims: bool) -> PyResult<PyTensor> {
        tensor_guarded(|| {
            self.tensor
                .reduce(reduce_fn(name)?, axes.as_deref(), keepdims)
        })
    }

    #[pyo3(signature = (axes, keepdims))]
    fn mean(&self, axes: Option<Vec<i64>>, keepdims: bool) -> PyResult<PyTensor> {
        tensor_guarded(|| self.tensor.mean(axes.as_deref(), keepdims))
    }

    #[pyo3(signature = (axes, keepdims, ddof, std))]
    fn var(
        &self,
        axes: Option<Vec<i64>>,
        keepdims: bool,
        ddof: f64,
        std: bool,
    ) -> PyResult<PyTensor> {
        tensor_guarded(|| {
            if std {
                self.tensor.std(axes.as_deref(), keepdims, ddof)
            } else {
                self.tensor.var(axes.as_deref(), keepdims, ddof)
            }
        })
    }

    fn softmax(&self, axis: i64, log: bool) -> PyResult<PyTensor> {
        tensor_guarded(|| self.tensor.softmax(axis, log))
    }

    fn reshape(&self, shape: Vec<i64>) -> PyResult<PyTensor> {
        tensor_guarded(|| self.tensor.reshape(&shape))
    }

    #[pyo3(signature = (order=None))]
    fn permute(&self, order: Option<Vec<i64>>) -> PyResult<PyTensor> {
        tensor_guarded(|| self.tensor.permute(order.as_deref()))
    }

    fn swapaxes(&self, a: i64, b: i64) -> PyResult<PyTensor> {
        tensor_guarded(|| self.tensor.swapaxes(a, b))
    }

    #[pyo3(signature = (axes=None))]
    fn squeeze(&self, axes: Option<Vec<i64>>) -> PyResult<PyTensor> {
        tensor_guarded(|| self.tensor.squeeze(axes.as_deref()))
    }

    fn unsqueeze(&self, axis: i64) -> PyResult<PyTensor> {
        tensor_guarded(|| self.tensor.unsqueeze(axis))
    }

    fn broadcast_to(&self, shape: Vec<usize>) -> PyResult<PyTensor> {
        tensor_guarded(|| self.tensor.broadcast_to(&shape))
    }

    fn index(&self, items: Vec<Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        let items = items.iter().map(index_item).collect::<PyResult<Vec<_>>>()?;
        tensor_guarded(|| self.tensor.index(&items))
    }

    #[staticmethod]
    fn concat(parts: Vec<PyTensor>, axis: i64) -> PyResult<PyTensor> {
        let parts: Vec<Tensor> = parts.into_iter().map(|p| p.tensor).collect();
        tensor_guarded(|| Tensor::concat(&parts, axis))
    }

    #[staticmethod]
    fn stack(parts: Vec<PyTensor>, axis: i64) -> PyResult<PyTensor> {
        let parts: Vec<Tensor> = parts.into_iter().map(|p| p.tensor).collect();
        tensor_guarded(|| Tensor::stack(&parts, axis))
    }

    /// Images decoded into [images, height, width, channels] uint8 (the GIL released).
    #[staticmethod]
    #[pyo3(signature = (path, parallel, size, mode))]
    fn read_images(
        py: Python<'_>,
        path: &str,
        parallel: bool,
        size: Option<(usize, usize)>,
        mode: &str,
    ) -> PyResult<PyTensor> {
        guarded(|| {
            let mode = ColorMode::parse(mode).or_raise()?;
            let data = py
                .detach(|| vision::read_images(path, parallel, size, mode))
                .or_raise()?;
            Ok(wrap(Tensor::from_data(data)))
        })
    }

    #[pyo3(signature = (size, method, antialias, layout))]
    fn resize(
        &self,
        size: (usize, usize),
        method: &str,
        antialias: bool,
        layout: &str,
    ) -> PyResult<PyTensor> {
        tensor_guarded(|| {
            let method = ResizeMethod::parse(method)?;
            self.tensor.resize(size, method, antialias, layout)
        })
    }

    fn matmul(&self, other: &PyTensor) -> PyResult<PyTensor> {
        tensor_guarded(|| self.tensor.matmul(&other.tensor))
    }

    /// The realized tensor (the GIL released while it computes); kernels placed on
    /// `device` with the `gpu_fallback` policy ("warn", "raise", "silent").
    #[pyo3(signature = (device="cpu", gpu_fallback="warn"))]
    fn compute(&self, py: Python<'_>, device: &str, gpu_fallback: &str) -> PyResult<PyTensor> {
        let tensor = self.tensor.clone();
        guarded(|| {
            let options = corepy_engine::gpu::GpuOptions {
                placement: crate::gpu::placement(Some(device))?.expect("given"),
                fallback: gpu_fallback.parse().or_raise()?,
            };
            let jit = corepy_engine::session::jit_default();
            let data = py
                .detach(|| engine_tensor::realize_on(&tensor, jit, options))
                .or_raise()?;
            Ok(wrap(Tensor::from_data(data)))
        })
    }

    #[pyo3(signature = (kernels=false, device="cpu"))]
    fn explain(&self, kernels: bool, device: &str) -> PyResult<String> {
        guarded(|| {
            let device = crate::gpu::placement(Some(device))?.expect("given");
            engine_tensor::explain(&self.tensor, kernels, device).or_raise()
        })
    }

    /// NumPy's view of a realized tensor: (address, shape, strides in bytes), read-only.
    fn memory(&self) -> PyResult<(usize, Vec<usize>, Vec<i64>)> {
        guarded(|| {
            let data = self
                .tensor
                .data()
                .ok_or_else(|| CorepyError::internal("memory() of a tensor not realized"))
                .or_raise()?;
            let size = data.dtype.size();
            let address = data.buffer.address() + data.offset * size;
            let strides = data.strides.iter().map(|s| s * size as i64).collect();
            Ok((address, data.shape.clone(), strides))
        })
    }
}

pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyTensor>()
}
