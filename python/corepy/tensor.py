"""Lazy n-dimensional tensors with NumPy's names and semantics, compiled through the same
kernel IR as the frames' fused stages.

Operations build a graph; ``.compute()`` realizes it: elementwise chains and a trailing
reduction fuse into one kernel, views (transpose, slicing, broadcasting, reshape) fold into
strides, and ``.explain()`` shows the graph and the kernels.

>>> import corepy as cp
>>> x = cp.arange(6, dtype="float32").reshape(2, 3)
>>> y = ((x - 1.0) * 2.0).clip(0.0, 6.0)
>>> y.compute().tolist()
[[0.0, 0.0, 2.0], [4.0, 6.0, 6.0]]
>>> y.sum(axis=-1).compute().tolist()
[2.0, 16.0]
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from corepy import _core
from corepy.exceptions import SchemaError

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "Tensor",
    "arange",
    "asarray",
    "eye",
    "from_dlpack",
    "full",
    "linspace",
    "ones",
    "tensor",
    "zeros",
]

Scalar = bool | int | float
"""A Python number: in an operation with a tensor it is *weak* (NumPy 2, NEP 50): the
tensor's dtype wins where the number's kind fits it."""

Axis = int | Sequence[int] | None
"""One axis, several, or ``None`` for all of them; negative axes count from the end."""

_TYPESTR = {
    "bool": "|b1",
    "int8": "|i1",
    "int16": "<i2",
    "int32": "<i4",
    "int64": "<i8",
    "uint8": "|u1",
    "uint16": "<u2",
    "uint32": "<u4",
    "uint64": "<u8",
    "float32": "<f4",
    "float64": "<f8",
}


def _dtype_name(dtype: Any) -> str | None:
    """A dtype given as a string, a corepy DataType, or a NumPy dtype or type, by name."""
    if dtype is None:
        return None
    if isinstance(dtype, str):
        return dtype
    owner = dtype if isinstance(dtype, type) else type(dtype)
    if owner.__module__.startswith("corepy"):
        text = str(dtype).lower()
        return "bool" if text == "boolean" else text
    try:
        import numpy as np

        return str(np.dtype(dtype).name)
    except (ImportError, TypeError):
        return str(dtype)


def _axes(axis: Axis) -> list[int] | None:
    if axis is None:
        return None
    if isinstance(axis, int):
        return [axis]
    return [int(a) for a in axis]


def _is_scalar(value: object) -> bool:
    return isinstance(value, bool | int | float) and not hasattr(value, "dtype")


class _Memory:
    """A realized tensor's memory as NumPy's array interface (NumPy keeps it alive)."""

    def __init__(self, node: Any, readonly: bool) -> None:
        address, shape, strides = node.memory()
        self._node = node
        self.__array_interface__ = {
            "version": 3,
            "typestr": _TYPESTR[node.dtype],
            "shape": tuple(shape),
            "strides": tuple(strides),
            "data": (address, readonly),
        }


class Tensor:
    """A lazy n-dimensional tensor (build with :func:`tensor`, :func:`asarray`, …).

    Arithmetic, comparisons and functions follow NumPy: broadcasting, type promotion,
    ``axis``/``keepdims`` on reductions, views for indexing and reshapes.

    >>> import corepy as cp
    >>> t = cp.tensor([[1, 2], [3, 4]])
    >>> (t * 10 + t.T).compute().tolist()
    [[11, 23], [32, 44]]
    >>> t.shape, t.dtype
    ((2, 2), 'int64')
    """

    __slots__ = ("_node",)
    # NumPy defers to our reflected operators (``ndarray + Tensor`` is a Tensor).
    __array_priority__ = 1000

    def __init__(self, node: Any) -> None:
        self._node = node

    # ----- properties -----------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The size of each dimension.

        >>> import corepy as cp
        >>> cp.ones((2, 3)).shape
        (2, 3)
        """
        return tuple(self._node.shape)

    @property
    def dtype(self) -> str:
        """The element type, by NumPy's name (``"float32"``, ``"int64"``, ``"bool"``, …).

        >>> import corepy as cp
        >>> cp.tensor([1.5]).dtype
        'float64'
        """
        return str(self._node.dtype)

    @property
    def ndim(self) -> int:
        """The number of dimensions.

        >>> import corepy as cp
        >>> cp.ones((2, 3)).ndim
        2
        """
        return len(self._node.shape)

    @property
    def size(self) -> int:
        """The number of elements.

        >>> import corepy as cp
        >>> cp.ones((2, 3)).size
        6
        """
        n = 1
        for d in self._node.shape:
            n *= d
        return n

    @property
    def T(self) -> Tensor:  # noqa: N802 (NumPy's name)
        """The dimensions reversed (a view).

        >>> import corepy as cp
        >>> cp.arange(6).reshape(2, 3).T.shape
        (3, 2)
        """
        return Tensor(self._node.permute(None))

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self) -> str:
        state = "realized" if self._node.is_realized else "lazy"
        return f"Tensor(shape={self.shape}, dtype={self.dtype}, {state})"

    def __bool__(self) -> bool:
        if self.size != 1:
            raise ValueError(
                "the truth value of a tensor with more than one element is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self.item())

    __hash__ = None  # type: ignore[assignment]  # == is elementwise, as in NumPy

    # ----- operators ------------------------------------------------------------------
    def _binary(self, name: str, other: object, reflected: bool = False) -> Tensor:
        if _is_scalar(other):
            return Tensor(self._node.binary_scalar(name, other, reflected))
        node = _operand(other)
        if reflected:
            return Tensor(node.binary(name, self._node))
        return Tensor(self._node.binary(name, node))

    def __add__(self, other: object) -> Tensor:
        return self._binary("add", other)

    def __radd__(self, other: object) -> Tensor:
        return self._binary("add", other, True)

    def __sub__(self, other: object) -> Tensor:
        return self._binary("sub", other)

    def __rsub__(self, other: object) -> Tensor:
        return self._binary("sub", other, True)

    def __mul__(self, other: object) -> Tensor:
        return self._binary("mul", other)

    def __rmul__(self, other: object) -> Tensor:
        return self._binary("mul", other, True)

    def __truediv__(self, other: object) -> Tensor:
        return self._binary("truediv", other)

    def __rtruediv__(self, other: object) -> Tensor:
        return self._binary("truediv", other, True)

    def __pow__(self, other: object) -> Tensor:
        return self._binary("pow", other)

    def __rpow__(self, other: object) -> Tensor:
        return self._binary("pow", other, True)

    def __matmul__(self, other: object) -> Tensor:
        return Tensor(self._node.matmul(_operand(other)))

    def __rmatmul__(self, other: object) -> Tensor:
        return Tensor(_operand(other).matmul(self._node))

    def __floordiv__(self, other: object) -> Tensor:
        return self._binary("floordiv", other)

    def __rfloordiv__(self, other: object) -> Tensor:
        return self._binary("floordiv", other, True)

    def __mod__(self, other: object) -> Tensor:
        return self._binary("mod", other)

    def __rmod__(self, other: object) -> Tensor:
        return self._binary("mod", other, True)

    # & | ^ ~ are bitwise on integers and logical on bools, as NumPy's.
    def __and__(self, other: object) -> Tensor:
        return self._binary("bitand", other)

    def __rand__(self, other: object) -> Tensor:
        return self._binary("bitand", other, True)

    def __or__(self, other: object) -> Tensor:
        return self._binary("bitor", other)

    def __ror__(self, other: object) -> Tensor:
        return self._binary("bitor", other, True)

    def __xor__(self, other: object) -> Tensor:
        return self._binary("bitxor", other)

    def __rxor__(self, other: object) -> Tensor:
        return self._binary("bitxor", other, True)

    def __invert__(self) -> Tensor:
        return Tensor(self._node.unary("invert"))

    def __neg__(self) -> Tensor:
        return Tensor(self._node.unary("neg"))

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return Tensor(self._node.unary("abs"))

    def __eq__(self, other: object) -> Tensor:  # type: ignore[override]
        return self._binary("eq", other)

    def __ne__(self, other: object) -> Tensor:  # type: ignore[override]
        return self._binary("ne", other)

    def __lt__(self, other: object) -> Tensor:
        return self._binary("lt", other)

    def __le__(self, other: object) -> Tensor:
        return self._binary("le", other)

    def __gt__(self, other: object) -> Tensor:
        return self._binary("gt", other)

    def __ge__(self, other: object) -> Tensor:
        return self._binary("ge", other)

    def __getitem__(self, key: Any) -> Tensor:
        """Basic indexing: ints, slices (with steps, negative too), ``None`` and ``...``.

        >>> import corepy as cp
        >>> t = cp.arange(12).reshape(3, 4)
        >>> t[::-1, 1].compute().tolist()
        [9, 5, 1]
        >>> t[..., None, -1].shape
        (3, 1)
        """
        items = list(key) if isinstance(key, tuple) else [key]
        return Tensor(self._node.index(items))

    # ----- elementwise functions -----------------------------------------------------
    def _unary(self, name: str) -> Tensor:
        return Tensor(self._node.unary(name))

    def abs(self) -> Tensor:
        """Absolute value.

        >>> import corepy as cp
        >>> cp.tensor([-1, 2]).abs().compute().tolist()
        [1, 2]
        """
        return self._unary("abs")

    def sqrt(self) -> Tensor:
        """Square root (NaN below zero).

        >>> import corepy as cp
        >>> cp.tensor([4.0, 9.0]).sqrt().compute().tolist()
        [2.0, 3.0]
        """
        return self._unary("sqrt")

    def exp(self) -> Tensor:
        """e raised to each element.

        >>> import corepy as cp
        >>> cp.tensor([0.0]).exp().compute().tolist()
        [1.0]
        """
        return self._unary("exp")

    def log(self) -> Tensor:
        """Natural logarithm (-inf at 0, NaN below).

        >>> import corepy as cp
        >>> cp.tensor([1.0]).log().compute().tolist()
        [0.0]
        """
        return self._unary("log")

    def sin(self) -> Tensor:
        """Sine, in radians.

        >>> import corepy as cp
        >>> cp.tensor([0.0]).sin().compute().tolist()
        [0.0]
        """
        return self._unary("sin")

    def cos(self) -> Tensor:
        """Cosine, in radians.

        >>> import corepy as cp
        >>> cp.tensor([0.0]).cos().compute().tolist()
        [1.0]
        """
        return self._unary("cos")

    def tanh(self) -> Tensor:
        """Hyperbolic tangent.

        >>> import corepy as cp
        >>> cp.tensor([0.0]).tanh().compute().tolist()
        [0.0]
        """
        return self._unary("tanh")

    def floor(self) -> Tensor:
        """The largest integral value not above each element.

        >>> import corepy as cp
        >>> cp.tensor([1.5, -1.5]).floor().compute().tolist()
        [1.0, -2.0]
        """
        return self._unary("floor")

    def ceil(self) -> Tensor:
        """The smallest integral value not below each element.

        >>> import corepy as cp
        >>> cp.tensor([1.5, -1.5]).ceil().compute().tolist()
        [2.0, -1.0]
        """
        return self._unary("ceil")

    def isnan(self) -> Tensor:
        """Whether each element is NaN.

        >>> import corepy as cp
        >>> cp.tensor([1.0, float('nan')]).isnan().compute().tolist()
        [False, True]
        """
        return self._unary("isnan")

    def sigmoid(self) -> Tensor:
        """``1 / (1 + exp(-x))``.

        >>> import corepy as cp
        >>> cp.tensor([0.0]).sigmoid().compute().tolist()
        [0.5]
        """
        x = self if self.dtype in ("float32", "float64") else self.astype("float64")
        return 1.0 / (1.0 + (-x).exp())

    def relu(self) -> Tensor:
        """``maximum(x, 0)``.

        >>> import corepy as cp
        >>> cp.tensor([-1.0, 2.0]).relu().compute().tolist()
        [0.0, 2.0]
        """
        return self.maximum(0)

    def maximum(self, other: object) -> Tensor:
        """Elementwise larger value; NaN wins, as NumPy's ``maximum``.

        >>> import corepy as cp
        >>> cp.tensor([1, 5]).maximum(3).compute().tolist()
        [3, 5]
        """
        return self._binary("maximum", other)

    def minimum(self, other: object) -> Tensor:
        """Elementwise smaller value; NaN wins, as NumPy's ``minimum``.

        >>> import corepy as cp
        >>> cp.tensor([1, 5]).minimum(3).compute().tolist()
        [1, 3]
        """
        return self._binary("minimum", other)

    def clip(self, min: object = None, max: object = None) -> Tensor:
        """Values limited to ``[min, max]`` (either may be ``None``).

        >>> import corepy as cp
        >>> cp.tensor([-2, 5, 12]).clip(0, 10).compute().tolist()
        [0, 5, 10]
        """
        out = self
        if min is not None:
            out = out.maximum(min)
        if max is not None:
            out = out.minimum(max)
        return out

    def astype(self, dtype: Any) -> Tensor:
        """The elements converted to ``dtype`` (floats truncate toward zero, integers wrap).

        >>> import corepy as cp
        >>> cp.tensor([1.7, -1.7]).astype("int32").compute().tolist()
        [1, -1]
        """
        name = _dtype_name(dtype)
        assert name is not None
        return Tensor(self._node.astype(name))

    # ----- reductions -----------------------------------------------------------------
    def _reduce(self, name: str, axis: Axis, keepdims: bool) -> Tensor:
        return Tensor(self._node.reduce(name, _axes(axis), keepdims))

    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """The sum over ``axis`` (small integers sum as int64 or uint64, as in NumPy).

        >>> import corepy as cp
        >>> cp.tensor([[1, 2], [3, 4]]).sum(axis=0).compute().tolist()
        [4, 6]
        """
        return self._reduce("sum", axis, keepdims)

    def prod(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """The product over ``axis``.

        >>> import corepy as cp
        >>> cp.tensor([2, 3]).prod().compute().item()
        6
        """
        return self._reduce("prod", axis, keepdims)

    def min(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """The smallest element over ``axis`` (NaN if any is NaN).

        >>> import corepy as cp
        >>> cp.tensor([[4, 2], [3, 5]]).min(axis=1).compute().tolist()
        [2, 3]
        """
        return self._reduce("min", axis, keepdims)

    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """The largest element over ``axis`` (NaN if any is NaN).

        >>> import corepy as cp
        >>> cp.tensor([[4, 2], [3, 5]]).max(axis=0).compute().tolist()
        [4, 5]
        """
        return self._reduce("max", axis, keepdims)

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """The index of the first smallest element (over the flattened tensor by default).

        >>> import corepy as cp
        >>> cp.tensor([3, 1, 2]).argmin().compute().item()
        1
        """
        return self._arg("argmin", axis, keepdims)

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """The index of the first largest element (over the flattened tensor by default).

        >>> import corepy as cp
        >>> cp.tensor([[1, 9, 9], [7, 2, 3]]).argmax(axis=1).compute().tolist()
        [1, 0]
        """
        return self._arg("argmax", axis, keepdims)

    def _arg(self, name: str, axis: int | None, keepdims: bool) -> Tensor:
        if axis is None:
            flat = self.reshape(-1)
            out = flat._reduce(name, 0, False)
            return out.reshape(*([1] * self.ndim)) if keepdims else out
        return self._reduce(name, axis, keepdims)

    def any(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Whether any element over ``axis`` is true (non-zero).

        >>> import corepy as cp
        >>> cp.tensor([0, 2]).any().compute().item()
        True
        """
        return self._reduce("any", axis, keepdims)

    def all(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Whether every element over ``axis`` is true (non-zero).

        >>> import corepy as cp
        >>> cp.tensor([0, 2]).all().compute().item()
        False
        """
        return self._reduce("all", axis, keepdims)

    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """The mean over ``axis`` (float64 for integers; NaN over no elements).

        >>> import corepy as cp
        >>> cp.tensor([1, 2, 3, 4]).mean().compute().item()
        2.5
        """
        return Tensor(self._node.mean(_axes(axis), keepdims))

    def var(self, axis: Axis = None, keepdims: bool = False, ddof: float = 0) -> Tensor:
        """The variance over ``axis`` (two passes, as NumPy); ``ddof`` as NumPy's.

        >>> import corepy as cp
        >>> cp.tensor([1.0, 3.0]).var().compute().item()
        1.0
        """
        return Tensor(self._node.var(_axes(axis), keepdims, float(ddof), False))

    def std(self, axis: Axis = None, keepdims: bool = False, ddof: float = 0) -> Tensor:
        """The standard deviation over ``axis``.

        >>> import corepy as cp
        >>> cp.tensor([1.0, 3.0]).std().compute().item()
        1.0
        """
        return Tensor(self._node.var(_axes(axis), keepdims, float(ddof), True))

    def softmax(self, axis: int = -1) -> Tensor:
        """``exp(x - max) / sum(exp(x - max))`` along ``axis``.

        >>> import corepy as cp
        >>> cp.tensor([0.0, 0.0]).softmax().compute().tolist()
        [0.5, 0.5]
        """
        return Tensor(self._node.softmax(axis, False))

    def log_softmax(self, axis: int = -1) -> Tensor:
        """The logarithm of :meth:`softmax`, computed without overflow.

        >>> import corepy as cp
        >>> cp.tensor([0.0, 0.0]).log_softmax().exp().compute().tolist()
        [0.5, 0.5]
        """
        return Tensor(self._node.softmax(axis, True))

    # ----- views ----------------------------------------------------------------------
    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        """The same elements in row-major order under ``shape`` (one entry may be -1).

        >>> import corepy as cp
        >>> cp.arange(6).reshape(2, -1).shape
        (2, 3)
        """
        dims = _shape_args(shape)
        return Tensor(self._node.reshape(dims))

    def transpose(self, *axes: int | Sequence[int]) -> Tensor:
        """The dimensions permuted (reversed with no arguments); a view.

        >>> import corepy as cp
        >>> cp.ones((2, 3, 4)).transpose(2, 0, 1).shape
        (4, 2, 3)
        """
        order = _shape_args(axes) if axes else None
        return Tensor(self._node.permute(order))

    def permute(self, *axes: int | Sequence[int]) -> Tensor:
        """The dimensions in the order ``axes`` (PyTorch's name for :meth:`transpose`).

        >>> import corepy as cp
        >>> cp.ones((2, 3)).permute(1, 0).shape
        (3, 2)
        """
        return self.transpose(*axes)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        """Two dimensions exchanged; a view.

        >>> import corepy as cp
        >>> cp.ones((2, 3, 4)).swapaxes(0, 2).shape
        (4, 3, 2)
        """
        return Tensor(self._node.swapaxes(axis1, axis2))

    def squeeze(self, axis: Axis = None) -> Tensor:
        """Size-1 dimensions removed (all of them, or those named).

        >>> import corepy as cp
        >>> cp.ones((1, 3, 1)).squeeze().shape
        (3,)
        """
        return Tensor(self._node.squeeze(_axes(axis)))

    def unsqueeze(self, axis: int) -> Tensor:
        """A size-1 dimension inserted at ``axis``.

        >>> import corepy as cp
        >>> cp.ones(3).unsqueeze(0).shape
        (1, 3)
        """
        return Tensor(self._node.unsqueeze(axis))

    def expand_dims(self, axis: int) -> Tensor:
        """NumPy's name for :meth:`unsqueeze`.

        >>> import corepy as cp
        >>> cp.ones(3).expand_dims(-1).shape
        (3, 1)
        """
        return self.unsqueeze(axis)

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        """This tensor repeated (stride 0) to ``shape``; a view.

        >>> import corepy as cp
        >>> cp.tensor([1, 2]).broadcast_to((2, 2)).compute().tolist()
        [[1, 2], [1, 2]]
        """
        return Tensor(self._node.broadcast_to([int(n) for n in shape]))

    def flatten(self) -> Tensor:
        """The elements as one dimension.

        >>> import corepy as cp
        >>> cp.ones((2, 3)).flatten().shape
        (6,)
        """
        return self.reshape(-1)

    # ----- realization ----------------------------------------------------------------
    def compute(self, device: str | None = None, *, gpu_fallback: str = "warn") -> Tensor:
        """The realized tensor: every kernel run, the values in memory.

        ``device`` is where the kernels run: ``"cpu"``, ``"cuda"``/``"gpu"``, ``"cuda:N"``
        or ``"auto"`` (default: :func:`corepy.get_backend`). Matrix products, resampling
        and concatenation run on the CPU; the result is in host memory. A kernel the GPU
        cannot take runs on the CPU with a :class:`GpuFallbackWarning`
        (``gpu_fallback="warn"``), quietly (``"silent"``), or raises :class:`DeviceError`
        (``"raise"``).

        >>> import corepy as cp
        >>> (cp.ones((2,)) * 3).compute().tolist()
        [3.0, 3.0]
        """
        from corepy.device import get_backend, issue_warnings

        if self._node.is_realized:
            _core.parse_device(device or "cpu")
            return self
        try:
            return Tensor(self._node.compute(device or get_backend(), gpu_fallback))
        finally:
            issue_warnings()

    def to_device(self, device: str, *, gpu_fallback: str = "warn") -> Tensor:
        """The tensor computed on ``device`` (see :meth:`compute`).

        The values come back to host memory after each computation: tensors do not yet
        stay resident on the GPU between operations.

        >>> import corepy as cp
        >>> cp.arange(3).to_device("cpu").tolist()
        [0, 1, 2]
        """
        return self.compute(device, gpu_fallback=gpu_fallback)

    def explain(self, kernels: bool = False, device: str = "cpu") -> str:
        """The graph, and the steps that realize it; ``kernels=True`` adds each kernel's IR,
        and with ``device="cuda"`` its PTX (rendering needs no GPU).

        >>> import corepy as cp
        >>> print(((cp.ones((4, 4)) + 1.0) * 2.0).explain())  # doctest: +ELLIPSIS
        Tensor graph: mul(add(broadcast(1.0), 1.0), 2.0)
        ...
        Program: 1 step(s)
          step0 = kernel over [16] reading [] -> [4, 4] float64
        ...
        """
        return str(self._node.explain(kernels, device))

    def numpy(self) -> np.ndarray[Any, Any]:
        """The values as a NumPy array: the tensor's own memory, read-only, no copy.

        >>> import corepy as cp
        >>> cp.arange(3).numpy()
        array([0, 1, 2])
        """
        import numpy as np

        node = self.compute()._node
        return np.asarray(_Memory(node, readonly=True))

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray[Any, Any]:
        import numpy as np

        array = self.numpy()
        if dtype is not None and np.dtype(dtype) != array.dtype:
            return array.astype(dtype)
        return array.copy() if copy else array

    def __arrow_array__(self, type: Any = None) -> Any:
        """The tensor as an Arrow column (pyarrow's protocol, so ``pa.array(t)`` and
        ``cp.from_dict({"x": t})`` take tensors): 1-D as a plain array, ``[rows, *shape]``
        as a fixed-shape tensor extension array.

        >>> import corepy as cp, pyarrow as pa
        >>> pa.array(cp.arange(3)).to_pylist()
        [0, 1, 2]
        """
        from corepy.tensor_columns import tensor_to_arrow

        array = tensor_to_arrow(self)
        return array if type is None else array.cast(type)

    def tolist(self) -> Any:
        """The values as (nested) Python lists.

        >>> import corepy as cp
        >>> cp.tensor([[1, 2]]).tolist()
        [[1, 2]]
        """
        return self.numpy().tolist()

    def item(self) -> bool | int | float:
        """The value of a one-element tensor as a Python number.

        >>> import corepy as cp
        >>> cp.tensor([7]).item()
        7
        """
        if self.size != 1:
            raise ValueError(f"item() needs a tensor of one element, this one has {self.size}")
        value: bool | int | float = self.numpy().reshape(-1)[0].item()
        return value

    def __dlpack__(self, **kwargs: Any) -> Any:
        """The tensor as a DLPack capsule (CPU memory, shared, not copied)."""
        import numpy as np

        node = self.compute()._node
        return np.asarray(_Memory(node, readonly=False)).__dlpack__(**kwargs)

    def __dlpack_device__(self) -> tuple[int, int]:
        """DLPack's device: the CPU (kDLCPU = 1, device 0)."""
        return (1, 0)


def _shape_args(shape: Sequence[int | Sequence[int]]) -> list[int]:
    if len(shape) == 1 and not isinstance(shape[0], int):
        return [int(n) for n in shape[0]]
    return [int(n) for n in shape]  # type: ignore[arg-type]


def _operand(value: object) -> Any:
    """The graph node of a tensor, or of anything :func:`asarray` accepts."""
    if isinstance(value, Tensor):
        return value._node
    return asarray(value)._node


def _from_numpy_array(array: Any, copy: bool) -> Tensor:
    import numpy as np

    if array.dtype.byteorder == ">" or (array.dtype.byteorder == "=" and not _little_endian()):
        array = array.astype(array.dtype.newbyteorder("<"))
        copy = False
    name = str(array.dtype.name)
    if name not in _TYPESTR:
        raise SchemaError(f"unsupported tensor dtype '{name}'; supported: {', '.join(_TYPESTR)}")
    if copy and not array.flags.c_contiguous:
        array = np.ascontiguousarray(array)  # (never for 0-d arrays, which it makes 1-d)
    interface = array.__array_interface__
    strides = interface["strides"] or tuple(_row_major_strides(array.shape, array.dtype.itemsize))
    node = _core.TensorNode.from_memory(
        interface["data"][0], name, list(array.shape), list(strides), array, copy
    )
    return Tensor(node)


def _little_endian() -> bool:
    import sys

    return sys.byteorder == "little"


def _row_major_strides(shape: Sequence[int], itemsize: int) -> list[int]:
    strides = []
    step = itemsize
    for n in reversed(shape):
        strides.append(step)
        step *= builtins.max(n, 1)
    return list(reversed(strides))


def tensor(data: Any, dtype: Any = None) -> Tensor:
    """A tensor holding a copy of ``data``: nested lists, numbers, NumPy arrays, tensors.

    >>> import corepy as cp
    >>> cp.tensor([[1.5, 2.0]], dtype="float32").dtype
    'float32'
    """
    import numpy as np

    if isinstance(data, Tensor):
        data = data.numpy()
    array = np.array(data, dtype=_dtype_name(dtype))
    return _from_numpy_array(array, copy=True)


def asarray(data: Any, dtype: Any = None) -> Tensor:
    """A tensor over ``data`` without a copy where the layout allows: NumPy arrays (any
    strides), Arrow arrays without nulls, DLPack producers (PyTorch CPU tensors); other
    data is copied as :func:`tensor` does.

    >>> import corepy as cp, numpy as np
    >>> a = np.arange(4.0)
    >>> t = cp.asarray(a[::2])
    >>> t.numpy().tolist()
    [0.0, 2.0]
    """
    import numpy as np

    if isinstance(data, Tensor):
        return data if dtype is None else data.astype(dtype)
    if _is_scalar(data) or isinstance(data, list | tuple):
        return tensor(data, dtype)
    if not isinstance(data, np.ndarray):
        if hasattr(data, "__dlpack__"):
            data = np.from_dlpack(data)
        elif hasattr(data, "to_numpy") and hasattr(data, "null_count"):
            if data.null_count:
                raise SchemaError("an Arrow array with nulls has no tensor form (fill them first)")
            data = data.to_numpy(zero_copy_only=False)
        else:
            data = np.asarray(data)
    result = _from_numpy_array(data, copy=False)
    return result if dtype is None else result.astype(dtype)


def from_dlpack(data: Any) -> Tensor:
    """A tensor over a DLPack producer's memory (a PyTorch CPU tensor, a NumPy array…),
    without a copy.

    >>> import corepy as cp, numpy as np
    >>> cp.from_dlpack(np.ones(2, dtype="float32")).dtype
    'float32'
    """
    import numpy as np

    return _from_numpy_array(np.from_dlpack(data), copy=False)


def _shape(shape: int | Sequence[int]) -> list[int]:
    return [shape] if isinstance(shape, int) else [int(n) for n in shape]


def full(shape: int | Sequence[int], fill_value: Scalar, dtype: Any = None) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value`` (dtype from the value by default).

    >>> import corepy as cp
    >>> cp.full((2,), 7).compute().tolist()
    [7, 7]
    """
    name = _dtype_name(dtype)
    if name is None:
        name = (
            "bool"
            if isinstance(fill_value, bool)
            else ("int64" if isinstance(fill_value, int) else "float64")
        )
    return Tensor(_core.TensorNode.full(_shape(shape), fill_value, name))


def zeros(shape: int | Sequence[int], dtype: Any = "float64") -> Tensor:
    """A tensor of zeros (float64 by default, as NumPy).

    >>> import corepy as cp
    >>> cp.zeros(2).compute().tolist()
    [0.0, 0.0]
    """
    return full(shape, 0, dtype)


def ones(shape: int | Sequence[int], dtype: Any = "float64") -> Tensor:
    """A tensor of ones (float64 by default, as NumPy).

    >>> import corepy as cp
    >>> cp.ones((1, 2), dtype='int8').compute().tolist()
    [[1, 1]]
    """
    return full(shape, 1, dtype)


def arange(start: float, stop: float | None = None, step: float = 1, dtype: Any = None) -> Tensor:
    """Evenly spaced values in ``[start, stop)``; int64 for integer arguments.

    >>> import corepy as cp
    >>> cp.arange(1, 7, 2).compute().tolist()
    [1, 3, 5]
    """
    if stop is None:
        start, stop = 0, start
    name = _dtype_name(dtype)
    if name is None:
        integral = builtins.all(isinstance(v, int) for v in (start, stop, step))
        name = "int64" if integral else "float64"
    return Tensor(_core.TensorNode.arange(float(start), float(stop), float(step), name))


def linspace(
    start: float, stop: float, num: int = 50, endpoint: bool = True, dtype: Any = "float64"
) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop``.

    >>> import corepy as cp
    >>> cp.linspace(0, 1, 5).compute().tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    name = _dtype_name(dtype) or "float64"
    return Tensor(_core.TensorNode.linspace(float(start), float(stop), num, endpoint, name))


def eye(n: int, m: int | None = None, k: int = 0, dtype: Any = "float64") -> Tensor:
    """An ``n`` by ``m`` tensor with ones on diagonal ``k``.

    >>> import corepy as cp
    >>> cp.eye(2, dtype="int32").compute().tolist()
    [[1, 0], [0, 1]]
    """
    name = _dtype_name(dtype) or "float64"
    return Tensor(_core.TensorNode.eye(n, n if m is None else m, k, name))


# ----- functions: each unary both as ``cp.exp(t)`` and ``t.exp()`` ------------------------
def _as_tensor(x: object) -> Tensor:
    return x if isinstance(x, Tensor) else asarray(x)


def abs(x: object) -> Tensor:
    """Absolute value (see :meth:`Tensor.abs`).

    >>> import corepy as cp
    >>> cp.abs(cp.tensor([-3])).compute().tolist()
    [3]
    """
    return _as_tensor(x).abs()


def exp(x: object) -> Tensor:
    """e raised to each element (see :meth:`Tensor.exp`).

    >>> import corepy as cp
    >>> cp.exp(cp.tensor([0.0])).compute().tolist()
    [1.0]
    """
    return _as_tensor(x).exp()


def log(x: object) -> Tensor:
    """Natural logarithm (see :meth:`Tensor.log`).

    >>> import corepy as cp
    >>> cp.log(cp.tensor([1.0])).compute().tolist()
    [0.0]
    """
    return _as_tensor(x).log()


def sqrt(x: object) -> Tensor:
    """Square root (see :meth:`Tensor.sqrt`).

    >>> import corepy as cp
    >>> cp.sqrt(cp.tensor([16.0])).compute().tolist()
    [4.0]
    """
    return _as_tensor(x).sqrt()


def sin(x: object) -> Tensor:
    """Sine (see :meth:`Tensor.sin`).

    >>> import corepy as cp
    >>> cp.sin(cp.tensor([0.0])).compute().tolist()
    [0.0]
    """
    return _as_tensor(x).sin()


def cos(x: object) -> Tensor:
    """Cosine (see :meth:`Tensor.cos`).

    >>> import corepy as cp
    >>> cp.cos(cp.tensor([0.0])).compute().tolist()
    [1.0]
    """
    return _as_tensor(x).cos()


def tanh(x: object) -> Tensor:
    """Hyperbolic tangent (see :meth:`Tensor.tanh`).

    >>> import corepy as cp
    >>> cp.tanh(cp.tensor([0.0])).compute().tolist()
    [0.0]
    """
    return _as_tensor(x).tanh()


def floor(x: object) -> Tensor:
    """Floor (see :meth:`Tensor.floor`).

    >>> import corepy as cp
    >>> cp.floor(cp.tensor([2.7])).compute().tolist()
    [2.0]
    """
    return _as_tensor(x).floor()


def ceil(x: object) -> Tensor:
    """Ceiling (see :meth:`Tensor.ceil`).

    >>> import corepy as cp
    >>> cp.ceil(cp.tensor([2.2])).compute().tolist()
    [3.0]
    """
    return _as_tensor(x).ceil()


def isnan(x: object) -> Tensor:
    """Whether each element is NaN (see :meth:`Tensor.isnan`).

    >>> import corepy as cp
    >>> cp.isnan(cp.tensor([float('nan')])).compute().tolist()
    [True]
    """
    return _as_tensor(x).isnan()


def sigmoid(x: object) -> Tensor:
    """The logistic function (see :meth:`Tensor.sigmoid`).

    >>> import corepy as cp
    >>> cp.sigmoid(cp.tensor([0.0])).compute().tolist()
    [0.5]
    """
    return _as_tensor(x).sigmoid()


def relu(x: object) -> Tensor:
    """``maximum(x, 0)`` (see :meth:`Tensor.relu`).

    >>> import corepy as cp
    >>> cp.relu(cp.tensor([-2.0, 2.0])).compute().tolist()
    [0.0, 2.0]
    """
    return _as_tensor(x).relu()


def maximum(a: object, b: object) -> Tensor:
    """Elementwise larger value, NaN-propagating.

    >>> import corepy as cp
    >>> cp.maximum(cp.tensor([1, 5]), 3).compute().tolist()
    [3, 5]
    """
    if isinstance(a, Tensor) or not isinstance(b, Tensor):
        return _as_tensor(a).maximum(b)
    return b._binary("maximum", a, True)


def minimum(a: object, b: object) -> Tensor:
    """Elementwise smaller value, NaN-propagating.

    >>> import corepy as cp
    >>> cp.minimum(cp.tensor([1, 5]), 3).compute().tolist()
    [1, 3]
    """
    if isinstance(a, Tensor) or not isinstance(b, Tensor):
        return _as_tensor(a).minimum(b)
    return b._binary("minimum", a, True)


def power(a: object, b: object) -> Tensor:
    """``a ** b`` elementwise.

    >>> import corepy as cp
    >>> cp.power(cp.tensor([2, 3]), 2).compute().tolist()
    [4, 9]
    """
    if isinstance(a, Tensor) or not isinstance(b, Tensor):
        return _as_tensor(a) ** b
    return b.__rpow__(a)


def clip(x: object, min: object = None, max: object = None) -> Tensor:
    """Values limited to ``[min, max]`` (see :meth:`Tensor.clip`).

    >>> import corepy as cp
    >>> cp.clip(cp.tensor([-1.0, 0.5, 2.0]), 0.0, 1.0).compute().tolist()
    [0.0, 0.5, 1.0]
    """
    return _as_tensor(x).clip(min, max)


def where(condition: object, a: object, b: object) -> Tensor:
    """``a`` where ``condition`` is true, else ``b``, broadcast together.

    >>> import corepy as cp
    >>> t = cp.tensor([1.0, -2.0, 3.0])
    >>> cp.where(t > 0, t, 0.0).compute().tolist()
    [1.0, 0.0, 3.0]
    """
    cond = _as_tensor(condition)
    left = a if isinstance(a, Tensor) else _weak(a, b)
    right = b if isinstance(b, Tensor) else _weak(b, left)
    return Tensor(cond._node.where_(left._node, right._node))


def _weak(value: object, other: object) -> Tensor:
    """A Python scalar in ``where`` takes the other branch's dtype where its kind fits."""
    if isinstance(value, bool | int | float) and isinstance(other, Tensor):
        return Tensor(_core.TensorNode.scalar(value, _weak_dtype(value, other.dtype)))
    return _as_tensor(value)


def _weak_dtype(value: object, dtype: str) -> str:
    floats = ("float32", "float64")
    if isinstance(value, bool):
        return dtype
    if isinstance(value, int):
        return dtype if dtype != "bool" else "int64"
    return dtype if dtype in floats else "float64"


def matmul(a: object, b: object) -> Tensor:
    """Matrix product with NumPy's rules (see ``@``).

    >>> import corepy as cp
    >>> cp.matmul(cp.eye(2), cp.tensor([[1.0], [2.0]])).compute().tolist()
    [[1.0], [2.0]]
    """
    return _as_tensor(a) @ b


def softmax(x: object, axis: int = -1) -> Tensor:
    """Softmax along ``axis`` (see :meth:`Tensor.softmax`).

    >>> import corepy as cp
    >>> cp.softmax(cp.tensor([1.0, 1.0])).compute().tolist()
    [0.5, 0.5]
    """
    return _as_tensor(x).softmax(axis)


def log_softmax(x: object, axis: int = -1) -> Tensor:
    """Log-softmax along ``axis`` (see :meth:`Tensor.log_softmax`).

    >>> import corepy as cp
    >>> cp.log_softmax(cp.tensor([0.0])).compute().tolist()
    [0.0]
    """
    return _as_tensor(x).log_softmax(axis)


def concatenate(tensors: Sequence[object], axis: int = 0) -> Tensor:
    """Tensors joined along an existing axis (dtypes promoted).

    >>> import corepy as cp
    >>> cp.concatenate([cp.tensor([1, 2]), cp.tensor([3])]).compute().tolist()
    [1, 2, 3]
    """
    nodes = [_operand(t) for t in tensors]
    return Tensor(_core.TensorNode.concat(nodes, axis))


def stack(tensors: Sequence[object], axis: int = 0) -> Tensor:
    """Tensors of one shape joined along a new axis.

    >>> import corepy as cp
    >>> cp.stack([cp.tensor([1, 2]), cp.tensor([3, 4])], axis=1).compute().tolist()
    [[1, 3], [2, 4]]
    """
    nodes = [_operand(t) for t in tensors]
    return Tensor(_core.TensorNode.stack(nodes, axis))
