//! Building the graph: every operation checks its operands and computes its result's shape
//! and dtype as NumPy does (broadcasting, promotion), so errors surface where they are made.

use corepy_codegen::ir::Literal;

use super::dtype::{promote, promote_scalar, scalar_dtype, DType, PyScalar};
use super::graph::{BinaryFn, Kind, ReduceFn, Tensor, UnaryFn};
use super::view::{SliceDim, ViewOp};
use crate::error::{CorepyError, Result};

fn shape_error(message: String) -> CorepyError {
    CorepyError::Shape { message }
}

fn show(shape: &[usize]) -> String {
    let parts: Vec<String> = shape.iter().map(|n| n.to_string()).collect();
    if parts.len() == 1 {
        format!("({},)", parts[0])
    } else {
        format!("({})", parts.join(", "))
    }
}

/// NumPy broadcasting of two shapes; the error shows both.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let rank = a.len().max(b.len());
    let dim = |s: &[usize], i: usize| i.checked_sub(rank - s.len()).map_or(1, |j| s[j]);
    (0..rank)
        .map(|i| match (dim(a, i), dim(b, i)) {
            (x, y) if x == y || y == 1 => Ok(x),
            (1, y) => Ok(y),
            _ => Err(shape_error(format!(
                "operands could not be broadcast together with shapes {} {}",
                show(a),
                show(b)
            ))),
        })
        .collect()
}

/// `axis` (negative counts from the end) as an index below `rank`.
pub fn normalize_axis(axis: i64, rank: usize) -> Result<usize> {
    let r = rank as i64;
    if axis < -r || axis >= r {
        return Err(shape_error(format!(
            "axis {axis} is out of bounds for a tensor of dimension {rank}"
        )));
    }
    Ok(if axis < 0 { axis + r } else { axis } as usize)
}

/// Axes (ints, negative from the end) as ascending distinct indices; `None`: all of them.
pub fn normalize_axes(axes: Option<&[i64]>, rank: usize) -> Result<Vec<usize>> {
    let Some(axes) = axes else {
        return Ok((0..rank).collect());
    };
    let mut out = Vec::new();
    for &a in axes {
        let axis = normalize_axis(a, rank)?;
        if out.contains(&axis) {
            return Err(shape_error(format!("axis {a} appears twice")));
        }
        out.push(axis);
    }
    out.sort_unstable();
    Ok(out)
}

/// One item of `t[…]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Index {
    Int(i64),
    Slice {
        start: Option<i64>,
        stop: Option<i64>,
        step: Option<i64>,
    },
    /// `None`: a new axis of size 1.
    NewAxis,
    Ellipsis,
}

impl Tensor {
    /// A 0-d constant.
    pub fn scalar(value: PyScalar, dtype: Option<DType>) -> Result<Tensor> {
        let dtype = match dtype {
            Some(d) => d,
            None => scalar_dtype(value),
        };
        Ok(Tensor::new(
            Kind::Scalar(literal(value, dtype)),
            Vec::new(),
            dtype,
        ))
    }

    /// This tensor's elements as `dtype` (NumPy's `astype`, an unsafe cast).
    pub fn cast(&self, dtype: DType) -> Tensor {
        if dtype == self.dtype() {
            return self.clone();
        }
        if let Kind::Scalar(l) = self.kind() {
            return Tensor::new(Kind::Scalar(cast_literal(*l, dtype)), Vec::new(), dtype);
        }
        Tensor::new(Kind::Cast(self.clone()), self.shape().to_vec(), dtype)
    }

    pub fn unary(&self, f: UnaryFn) -> Result<Tensor> {
        let d = self.dtype();
        let (input, dtype) = match f {
            UnaryFn::Neg if d == DType::Bool => {
                return Err(CorepyError::schema(
                    "negative of a bool tensor is not supported; use logical_not (~)",
                ))
            }
            UnaryFn::Neg | UnaryFn::Abs => (self.clone(), d),
            UnaryFn::Not => (self.truthy(), DType::Bool),
            UnaryFn::Invert if d == DType::Bool => return self.unary(UnaryFn::Not),
            UnaryFn::Invert if d.is_float() => {
                return Err(CorepyError::schema(format!(
                    "~ (bitwise not) takes integer or bool tensors, not {}",
                    d.name()
                )))
            }
            UnaryFn::Invert => (self.clone(), d),
            UnaryFn::IsNan => (self.clone(), DType::Bool),
            UnaryFn::Floor | UnaryFn::Ceil if !d.is_float() => return Ok(self.clone()),
            UnaryFn::Sqrt
            | UnaryFn::Exp
            | UnaryFn::Log
            | UnaryFn::Sin
            | UnaryFn::Cos
            | UnaryFn::Tanh
            | UnaryFn::Floor
            | UnaryFn::Ceil => (self.cast(d.float_of()), d.float_of()),
        };
        if (f == UnaryFn::Abs && !d.is_signed() && !d.is_float())
            || (f == UnaryFn::IsNan && !d.is_float())
        {
            return match f {
                UnaryFn::IsNan => {
                    Ok(Tensor::scalar(PyScalar::Bool(false), None)?.broadcast_to(self.shape())?)
                }
                _ => Ok(self.clone()),
            };
        }
        let shape = input.shape().to_vec();
        Ok(Tensor::new(Kind::Unary(f, input), shape, dtype))
    }

    /// Whether each element is non-zero (a bool tensor as is).
    pub fn truthy(&self) -> Tensor {
        if self.dtype() == DType::Bool {
            return self.clone();
        }
        let zero = Tensor::new(
            Kind::Scalar(literal(PyScalar::Int(0), self.dtype())),
            Vec::new(),
            self.dtype(),
        );
        let shape = self.shape().to_vec();
        Tensor::new(
            Kind::Binary(BinaryFn::Ne, self.clone(), zero),
            shape,
            DType::Bool,
        )
    }

    /// `self ⊕ other` with broadcasting and promotion.
    pub fn binary(&self, f: BinaryFn, other: &Tensor) -> Result<Tensor> {
        let shape = broadcast_shapes(self.shape(), other.shape())?;
        let common = promote(self.dtype(), other.dtype());
        self.binary_as(f, other, common, shape)
    }

    /// `self ⊕ value` where a Python scalar is weak (NEP 50); `reflected`: `value ⊕ self`.
    pub fn binary_scalar(&self, f: BinaryFn, value: PyScalar, reflected: bool) -> Result<Tensor> {
        let common = scalar_operation_dtype(f, self.dtype(), value)?;
        let other = Tensor::scalar(value, Some(common))?;
        let shape = self.shape().to_vec();
        if reflected {
            other.binary_as(f, self, common, shape)
        } else {
            self.binary_as(f, &other, common, shape)
        }
    }

    fn binary_as(
        &self,
        f: BinaryFn,
        other: &Tensor,
        common: DType,
        shape: Vec<usize>,
    ) -> Result<Tensor> {
        use BinaryFn::*;
        let (operand, result) = match f {
            // True division: a float keeps its type, integers and booleans give float64.
            Div if common.is_float() => (common, common),
            Div => (DType::F64, DType::F64),
            Eq | Ne | Lt | Le | Gt | Ge => (common, DType::Bool),
            And | Or => {
                let (a, b) = (self.truthy(), other.truthy());
                return Ok(Tensor::new(Kind::Binary(f, a, b), shape, DType::Bool));
            }
            Sub if common == DType::Bool => {
                return Err(CorepyError::schema(
                    "subtraction of bool tensors is not supported; use logical_xor or astype",
                ))
            }
            // NumPy: + on booleans is OR, * is AND, ** is int8.
            Add | Maximum if common == DType::Bool => {
                return self.binary_as(Or, other, common, shape)
            }
            Mul | Minimum if common == DType::Bool => {
                return self.binary_as(And, other, common, shape)
            }
            Pow | FloorDiv | Mod if common == DType::Bool => (DType::I8, DType::I8),
            BitAnd | BitOr | BitXor if common.is_float() => {
                return Err(CorepyError::schema(format!(
                    "bitwise {} takes integer or bool tensors, not {}",
                    match f {
                        BitAnd => "&",
                        BitOr => "|",
                        _ => "^",
                    },
                    common.name()
                )))
            }
            BitAnd if common == DType::Bool => return self.binary_as(And, other, common, shape),
            BitOr if common == DType::Bool => return self.binary_as(Or, other, common, shape),
            _ => (common, common),
        };
        let (a, b) = (self.cast(operand), other.cast(operand));
        Ok(Tensor::new(Kind::Binary(f, a, b), shape, result))
    }

    /// `where(self, a, b)`: `a` where this tensor is true (non-zero), else `b`.
    pub fn where_(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        let shape = broadcast_shapes(&broadcast_shapes(self.shape(), a.shape())?, b.shape())?;
        let dtype = promote(a.dtype(), b.dtype());
        Ok(Tensor::new(
            Kind::Where(self.truthy(), a.cast(dtype), b.cast(dtype)),
            shape,
            dtype,
        ))
    }

    /// A reduction over `axes` (`None`: all).
    pub fn reduce(&self, op: ReduceFn, axes: Option<&[i64]>, keepdims: bool) -> Result<Tensor> {
        let axes = normalize_axes(axes, self.ndim())?;
        let reduced: usize = axes.iter().map(|&a| self.shape()[a]).product();
        let name = format!("{op:?}").to_lowercase();
        if reduced == 0
            && matches!(
                op,
                ReduceFn::Min | ReduceFn::Max | ReduceFn::ArgMin | ReduceFn::ArgMax
            )
        {
            return Err(shape_error(format!(
                "zero-size tensor to reduction operation {name} which has no identity"
            )));
        }
        let d = self.dtype();
        let (input, dtype) = match op {
            ReduceFn::Sum | ReduceFn::Prod => {
                let acc = match d {
                    DType::Bool | DType::I8 | DType::I16 | DType::I32 => DType::I64,
                    DType::U8 | DType::U16 | DType::U32 => DType::U64,
                    other => other,
                };
                (self.cast(acc), acc)
            }
            ReduceFn::Min | ReduceFn::Max => (self.clone(), d),
            ReduceFn::ArgMin | ReduceFn::ArgMax => (self.clone(), DType::I64),
            ReduceFn::Any | ReduceFn::All => (self.truthy(), DType::Bool),
        };
        let shape = reduced_shape(self.shape(), &axes, keepdims);
        Ok(Tensor::new(
            Kind::Reduce {
                op,
                input,
                axes,
                keepdims,
            },
            shape,
            dtype,
        ))
    }

    /// How many elements a reduction over `axes` combines.
    pub fn count(&self, axes: Option<&[i64]>) -> Result<usize> {
        let axes = normalize_axes(axes, self.ndim())?;
        Ok(axes.iter().map(|&a| self.shape()[a]).product())
    }

    pub fn mean(&self, axes: Option<&[i64]>, keepdims: bool) -> Result<Tensor> {
        let n = self.count(axes)?;
        let float = if self.dtype().is_float() {
            self.dtype()
        } else {
            DType::F64
        };
        let sum = self.cast(float).reduce(ReduceFn::Sum, axes, keepdims)?;
        sum.binary_scalar(BinaryFn::Div, PyScalar::Float(n as f64), false)
    }

    /// Variance with `ddof` delta degrees of freedom (two passes, as NumPy).
    pub fn var(&self, axes: Option<&[i64]>, keepdims: bool, ddof: f64) -> Result<Tensor> {
        let n = self.count(axes)? as f64;
        let float = if self.dtype().is_float() {
            self.dtype()
        } else {
            DType::F64
        };
        let x = self.cast(float);
        let centered = x.binary(BinaryFn::Sub, &x.mean(axes, true)?)?;
        let squares = centered.binary(BinaryFn::Mul, &centered)?;
        let sum = squares.reduce(ReduceFn::Sum, axes, keepdims)?;
        sum.binary_scalar(BinaryFn::Div, PyScalar::Float((n - ddof).max(0.0)), false)
    }

    pub fn std(&self, axes: Option<&[i64]>, keepdims: bool, ddof: f64) -> Result<Tensor> {
        self.var(axes, keepdims, ddof)?.unary(UnaryFn::Sqrt)
    }

    /// `exp(x - max) / sum(exp(x - max))` along `axis`; `log`: its logarithm, computed as
    /// `(x - max) - log(sum(exp(x - max)))`.
    pub fn softmax(&self, axis: i64, log: bool) -> Result<Tensor> {
        let x = if self.dtype().is_float() {
            self.clone()
        } else {
            self.cast(self.dtype().float_of())
        };
        let axes = [axis];
        let shifted = x.binary(BinaryFn::Sub, &x.reduce(ReduceFn::Max, Some(&axes), true)?)?;
        let exp = shifted.unary(UnaryFn::Exp)?;
        let total = exp.reduce(ReduceFn::Sum, Some(&axes), true)?;
        if log {
            shifted.binary(BinaryFn::Sub, &total.unary(UnaryFn::Log)?)
        } else {
            exp.binary(BinaryFn::Div, &total)
        }
    }

    fn view(&self, op: ViewOp) -> Tensor {
        let shape = op.shape(self.shape());
        Tensor::new(Kind::View(op, self.clone()), shape, self.dtype())
    }

    /// The same elements under `shape`; one dimension may be -1 (inferred).
    pub fn reshape(&self, shape: &[i64]) -> Result<Tensor> {
        let total = self.len();
        let unknown: Vec<usize> = (0..shape.len()).filter(|&i| shape[i] == -1).collect();
        let bad = || {
            shape_error(format!(
                "cannot reshape a tensor of size {total} (shape {}) into shape {shape:?}",
                show(self.shape())
            ))
        };
        if unknown.len() > 1 || shape.iter().any(|&n| n < -1) {
            return Err(bad());
        }
        let known: usize = shape
            .iter()
            .filter(|&&n| n >= 0)
            .map(|&n| n as usize)
            .product();
        let mut out: Vec<usize> = shape.iter().map(|&n| n.max(0) as usize).collect();
        if let Some(&i) = unknown.first() {
            if known == 0 || !total.is_multiple_of(known) {
                return Err(bad());
            }
            out[i] = total / known;
        } else if known != total {
            return Err(bad());
        }
        if out == self.shape() {
            return Ok(self.clone());
        }
        Ok(self.view(ViewOp::Reshape(out)))
    }

    /// Dimensions reordered (`None`: reversed, as `.T`).
    pub fn permute(&self, order: Option<&[i64]>) -> Result<Tensor> {
        let rank = self.ndim();
        let order: Vec<usize> = match order {
            None => (0..rank).rev().collect(),
            Some(o) => {
                if o.len() != rank {
                    return Err(shape_error(format!(
                        "axes {o:?} do not match a tensor of dimension {rank}"
                    )));
                }
                let axes = o
                    .iter()
                    .map(|&a| normalize_axis(a, rank))
                    .collect::<Result<Vec<_>>>()?;
                let mut seen = axes.clone();
                seen.sort_unstable();
                seen.dedup();
                if seen.len() != rank {
                    return Err(shape_error(format!("repeated axis in permutation {o:?}")));
                }
                axes
            }
        };
        if order.iter().enumerate().all(|(i, &a)| i == a) {
            return Ok(self.clone());
        }
        Ok(self.view(ViewOp::Permute(order)))
    }

    /// Two axes swapped.
    pub fn swapaxes(&self, a: i64, b: i64) -> Result<Tensor> {
        let rank = self.ndim();
        let (a, b) = (normalize_axis(a, rank)?, normalize_axis(b, rank)?);
        let mut order: Vec<i64> = (0..rank as i64).collect();
        order.swap(a, b);
        self.permute(Some(&order))
    }

    /// Size-1 dimensions removed (`None`: all of them; a named axis must have size 1).
    pub fn squeeze(&self, axes: Option<&[i64]>) -> Result<Tensor> {
        let drop: Vec<usize> = match axes {
            None => (0..self.ndim()).filter(|&a| self.shape()[a] == 1).collect(),
            Some(axes) => {
                let axes = normalize_axes(Some(axes), self.ndim())?;
                if let Some(&a) = axes.iter().find(|&&a| self.shape()[a] != 1) {
                    return Err(shape_error(format!(
                        "cannot select an axis to squeeze out which has size not equal to one (axis {a} of shape {})",
                        show(self.shape())
                    )));
                }
                axes
            }
        };
        let shape: Vec<i64> = (0..self.ndim())
            .filter(|a| !drop.contains(a))
            .map(|a| self.shape()[a] as i64)
            .collect();
        self.reshape(&shape)
    }

    /// A size-1 dimension inserted at `axis` (NumPy's `expand_dims`).
    pub fn unsqueeze(&self, axis: i64) -> Result<Tensor> {
        let axis = normalize_axis(axis, self.ndim() + 1)?;
        let mut shape: Vec<i64> = self.shape().iter().map(|&n| n as i64).collect();
        shape.insert(axis, 1);
        self.reshape(&shape)
    }

    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Tensor> {
        let joined = broadcast_shapes(self.shape(), shape);
        if joined.as_deref().ok() != Some(shape) {
            return Err(shape_error(format!(
                "cannot broadcast a tensor of shape {} to shape {}",
                show(self.shape()),
                show(shape)
            )));
        }
        if shape == self.shape() {
            return Ok(self.clone());
        }
        Ok(self.view(ViewOp::BroadcastTo(shape.to_vec())))
    }

    /// `t[items]`: ints, slices, `None` (new axes) and one Ellipsis, as NumPy's basic
    /// indexing; always a view.
    pub fn index(&self, items: &[Index]) -> Result<Tensor> {
        let ellipses = items.iter().filter(|i| **i == Index::Ellipsis).count();
        if ellipses > 1 {
            return Err(CorepyError::invalid_argument(
                "an index can only have a single ellipsis ('...')",
            ));
        }
        let consuming = items
            .iter()
            .filter(|i| matches!(i, Index::Int(_) | Index::Slice { .. }))
            .count();
        if consuming > self.ndim() {
            return Err(shape_error(format!(
                "too many indices for tensor: tensor is {}-dimensional, but {consuming} were indexed",
                self.ndim()
            )));
        }
        let mut expanded = Vec::new();
        for item in items {
            if *item == Index::Ellipsis {
                for _ in 0..self.ndim() - consuming {
                    expanded.push(Index::Slice {
                        start: None,
                        stop: None,
                        step: None,
                    });
                }
            } else {
                expanded.push(*item);
            }
        }
        while expanded
            .iter()
            .filter(|i| !matches!(i, Index::NewAxis))
            .count()
            < self.ndim()
        {
            expanded.push(Index::Slice {
                start: None,
                stop: None,
                step: None,
            });
        }
        let mut slices = Vec::new();
        let mut result_shape: Vec<i64> = Vec::new();
        let mut axis = 0;
        for item in &expanded {
            match *item {
                Index::NewAxis => result_shape.push(1),
                Index::Int(i) => {
                    let n = self.shape()[axis] as i64;
                    if i < -n || i >= n {
                        return Err(shape_error(format!(
                            "index {i} is out of bounds for axis {axis} with size {n}"
                        )));
                    }
                    let start = if i < 0 { i + n } else { i } as usize;
                    slices.push(SliceDim {
                        start,
                        step: 1,
                        len: 1,
                    });
                    axis += 1;
                }
                Index::Slice { start, stop, step } => {
                    let d = slice_dim(self.shape()[axis], start, stop, step)?;
                    result_shape.push(d.len as i64);
                    slices.push(d);
                    axis += 1;
                }
                Index::Ellipsis => unreachable!("expanded"),
            }
        }
        let whole = slices
            .iter()
            .zip(self.shape())
            .all(|(d, &n)| d.start == 0 && d.step == 1 && d.len == n);
        let sliced = if whole {
            self.clone()
        } else {
            self.view(ViewOp::Slice(slices))
        };
        sliced.reshape(&result_shape)
    }

    /// Tensors joined along an existing axis, promoted to one dtype.
    pub fn concat(parts: &[Tensor], axis: i64) -> Result<Tensor> {
        let first = parts.first().ok_or_else(|| {
            CorepyError::invalid_argument("need at least one tensor to concatenate")
        })?;
        if first.ndim() == 0 {
            return Err(shape_error(
                "zero-dimensional tensors cannot be concatenated".into(),
            ));
        }
        let axis = normalize_axis(axis, first.ndim())?;
        let mut shape = first.shape().to_vec();
        shape[axis] = 0;
        let mut dtype = first.dtype();
        for p in parts {
            let same_rank = p.ndim() == first.ndim();
            let same_dims =
                same_rank && (0..p.ndim()).all(|a| a == axis || p.shape()[a] == first.shape()[a]);
            if !same_dims {
                return Err(shape_error(format!(
                    "all the input tensor dimensions except for the concatenation axis must match exactly, but shapes {} and {} differ",
                    show(first.shape()),
                    show(p.shape())
                )));
            }
            shape[axis] += p.shape()[axis];
            dtype = promote(dtype, p.dtype());
        }
        if parts.len() == 1 {
            return Ok(first.cast(dtype));
        }
        let parts = parts.iter().map(|p| p.cast(dtype)).collect();
        Ok(Tensor::new(Kind::Concat { axis, parts }, shape, dtype))
    }

    /// Tensors of one shape joined along a new axis.
    pub fn stack(parts: &[Tensor], axis: i64) -> Result<Tensor> {
        let first = parts
            .first()
            .ok_or_else(|| CorepyError::invalid_argument("need at least one tensor to stack"))?;
        if let Some(p) = parts.iter().find(|p| p.shape() != first.shape()) {
            return Err(shape_error(format!(
                "all input tensors must have the same shape, but {} and {} differ",
                show(first.shape()),
                show(p.shape())
            )));
        }
        let axis = normalize_axis(axis, first.ndim() + 1)? as i64;
        let expanded = parts
            .iter()
            .map(|p| p.unsqueeze(axis))
            .collect::<Result<Vec<_>>>()?;
        Tensor::concat(&expanded, axis)
    }

    /// Matrix product (`@`): NumPy's matmul, batch dimensions broadcast; 1-d operands are
    /// promoted to matrices and the added dimension removed from the result.
    pub fn matmul(&self, other: &Tensor) -> Result<Tensor> {
        if self.ndim() == 0 || other.ndim() == 0 {
            return Err(shape_error(
                "matmul: an operand is 0-dimensional (use * for scalars)".into(),
            ));
        }
        let a = if self.ndim() == 1 {
            self.unsqueeze(0)?
        } else {
            self.clone()
        };
        let b = if other.ndim() == 1 {
            other.unsqueeze(1)?
        } else {
            other.clone()
        };
        let (m, k) = (a.shape()[a.ndim() - 2], a.shape()[a.ndim() - 1]);
        let (k2, n) = (b.shape()[b.ndim() - 2], b.shape()[b.ndim() - 1]);
        if k != k2 {
            return Err(shape_error(format!(
                "matmul: the last dimension of {} (size {k}) does not match the second-to-last of {} (size {k2})",
                show(self.shape()),
                show(other.shape())
            )));
        }
        let batch = broadcast_shapes(&a.shape()[..a.ndim() - 2], &b.shape()[..b.ndim() - 2])?;
        let mut dtype = promote(a.dtype(), b.dtype());
        if dtype == DType::Bool {
            dtype = DType::I64;
        }
        let full = |t: &Tensor, rows: usize, cols: usize| -> Result<Tensor> {
            let mut s = batch.clone();
            s.extend([rows, cols]);
            t.cast(dtype).broadcast_to(&s)
        };
        let (a, b) = (full(&a, m, k)?, full(&b, k, n)?);
        let mut shape = batch.clone();
        shape.extend([m, n]);
        let product = Tensor::new(Kind::MatMul(a, b), shape.clone(), dtype);
        let mut result: Vec<i64> = batch.iter().map(|&d| d as i64).collect();
        if self.ndim() > 1 {
            result.push(m as i64);
        }
        if other.ndim() > 1 {
            result.push(n as i64);
        }
        product.reshape(&result)
    }
}

/// The dtype `tensor ⊕ scalar` computes in. NEP 50, except where NumPy 2 looks at the
/// value: true division of integers is float64 whatever the integer, and a comparison with
/// an integer outside the tensor's range is answered in a wider type (not refused).
fn scalar_operation_dtype(f: BinaryFn, tensor: DType, value: PyScalar) -> Result<DType> {
    use BinaryFn::*;
    let integral = !tensor.is_float();
    match (f, value) {
        (Div, PyScalar::Int(_)) if integral => Ok(DType::F64),
        (Eq | Ne | Lt | Le | Gt | Ge, PyScalar::Int(v)) if tensor.is_integer() => {
            let (lo, hi) = tensor.int_range().expect("integer");
            if v >= lo && v <= hi {
                Ok(tensor)
            } else if v >= i64::MIN as i128 && v <= i64::MAX as i128 && tensor != DType::U64 {
                Ok(DType::I64)
            } else {
                Ok(DType::F64)
            }
        }
        _ => promote_scalar(tensor, value),
    }
}

/// NumPy's slice normalization for a dimension of `n`.
fn slice_dim(
    n: usize,
    start: Option<i64>,
    stop: Option<i64>,
    step: Option<i64>,
) -> Result<SliceDim> {
    let n = n as i64;
    let step = step.unwrap_or(1);
    if step == 0 {
        return Err(CorepyError::invalid_argument("slice step cannot be zero"));
    }
    let clamp = |v: i64, low: i64, high: i64| v.clamp(low, high);
    let norm = |v: i64| if v < 0 { v + n } else { v };
    let (start, stop) = if step > 0 {
        (
            start.map_or(0, |s| clamp(norm(s), 0, n)),
            stop.map_or(n, |s| clamp(norm(s), 0, n)),
        )
    } else {
        (
            start.map_or(n - 1, |s| clamp(norm(s), -1, n - 1)),
            stop.map_or(-1, |s| clamp(norm(s), -1, n - 1)),
        )
    };
    let len = if step > 0 {
        if stop > start {
            (stop - start + step - 1) / step
        } else {
            0
        }
    } else if start > stop {
        (start - stop + (-step) - 1) / (-step)
    } else {
        0
    };
    Ok(SliceDim {
        start: if len == 0 { 0 } else { start as usize },
        step,
        len: len as usize,
    })
}

fn reduced_shape(shape: &[usize], axes: &[usize], keepdims: bool) -> Vec<usize> {
    shape
        .iter()
        .enumerate()
        .filter_map(|(a, &n)| match (axes.contains(&a), keepdims) {
            (false, _) => Some(n),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect()
}

/// A Python scalar as a literal of `dtype` (the value converted as NumPy would).
pub fn literal(value: PyScalar, dtype: DType) -> Literal {
    let as_f64 = match value {
        PyScalar::Bool(b) => b as i32 as f64,
        PyScalar::Int(i) => i as f64,
        PyScalar::Float(f) => f,
    };
    match dtype {
        DType::F64 => Literal::F64(as_f64.to_bits()),
        DType::F32 => Literal::F32((as_f64 as f32).to_bits()),
        DType::Bool => Literal::Bool(as_f64 != 0.0),
        int => {
            let v = match value {
                PyScalar::Int(i) => i,
                PyScalar::Bool(b) => b as i128,
                PyScalar::Float(f) => f.trunc() as i128,
            };
            Literal::Int(corepy_codegen::interp::wrap_int(v, int.scalar()))
        }
    }
}

fn cast_literal(l: Literal, dtype: DType) -> Literal {
    let value = match l {
        Literal::Bool(b) => PyScalar::Bool(b),
        Literal::Int(i) => PyScalar::Int(i),
        Literal::F32(bits) => PyScalar::Float(f32::from_bits(bits) as f64),
        Literal::F64(bits) => PyScalar::Float(f64::from_bits(bits)),
        Literal::Null => PyScalar::Int(0),
    };
    literal(value, dtype)
}
