"""Frames ↔ tensors: numeric columns as one 2-D tensor, a tensor column as an n-d tensor, and
tensors as frame columns — a 1-D tensor as a plain column, an n-d one (``[rows, *shape]``)
as an Arrow *fixed-shape tensor* extension column (``arrow.fixed_shape_tensor``), which
Arrow-aware tools (pyarrow, Polars' Array, DuckDB) read as such.

>>> import corepy as cp
>>> df = cp.from_dict({"a": [1.0, 2.0], "b": [3, 4]}).sort("a").compute()
>>> df.to_tensor(["a", "b"]).compute().tolist()
[[1.0, 3.0], [2.0, 4.0]]
>>> images = cp.arange(8, dtype="uint8").reshape(2, 2, 2)
>>> frame = cp.from_dict({"id": [1, 2], "image": images}).sort("id").compute()
>>> frame.to_tensor("image").shape
(2, 2, 2)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from corepy.exceptions import ComputeError, SchemaError, ShapeError
from corepy.tensor import Tensor, asarray

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

__all__ = ["column_tensor", "columns_tensor", "tensor_to_arrow"]

FIXED_SHAPE_TENSOR = "arrow.fixed_shape_tensor"


def tensor_to_arrow(tensor: Tensor) -> pa.Array:
    """``tensor`` as one Arrow column: a 1-D tensor as a plain array, a tensor
    ``[rows, *shape]`` as a fixed-shape tensor extension array (one element a row).

    >>> import corepy as cp
    >>> from corepy.tensor_columns import tensor_to_arrow
    >>> column = tensor_to_arrow(cp.zeros((3, 2, 2)))
    >>> column.type.extension_name, column.type.shape, len(column)
    ('arrow.fixed_shape_tensor', [2, 2], 3)
    """
    import numpy as np
    import pyarrow as pa

    values = tensor.numpy()
    if values.ndim == 0:
        raise ShapeError("a 0-d tensor is not a column; reshape it to (1,) first")
    if values.ndim == 1:
        return pa.array(values)
    return pa.FixedShapeTensorArray.from_numpy_ndarray(np.ascontiguousarray(values))


def column_tensor(column: pa.ChunkedArray, name: str) -> Tensor:
    """One column as a tensor: a fixed-shape tensor column as ``[rows, *shape]``, a
    fixed-size list column as ``[rows, size]``, a numeric one as ``[rows]``."""
    import numpy as np
    import pyarrow as pa

    if isinstance(column.type, pa.FixedShapeTensorType):
        _check_no_nulls(column, name)
        shape = (len(column), *column.type.shape)
        storage = column.combine_chunks().storage if len(column) else None
        if storage is None:
            values = np.empty(shape, dtype=column.type.value_type.to_pandas_dtype())
            return asarray(values)
        flat = storage.flatten().to_numpy(zero_copy_only=False)
        return asarray(flat.reshape(shape))
    if pa.types.is_fixed_size_list(column.type):
        _check_no_nulls(column, name)
        size = column.type.list_size
        flat = column.combine_chunks().flatten().to_numpy(zero_copy_only=False)
        return asarray(flat.reshape(len(column), size))
    return asarray(_numeric(column, name))


def columns_tensor(
    get: Callable[[str], pa.ChunkedArray], names: Sequence[str], rows: int
) -> Tensor:
    """Numeric columns side by side: a 2-D tensor ``[rows, len(names)]`` of their common
    NumPy type."""
    import numpy as np

    arrays = [_numeric(get(name), name) for name in names]
    if not arrays:
        return asarray(np.empty((rows, 0)))
    dtype = np.result_type(*arrays)
    return asarray(np.column_stack([a.astype(dtype, copy=False) for a in arrays]))


def _numeric(column: pa.ChunkedArray, name: str) -> np.ndarray[Any, Any]:
    """A numeric or boolean column as NumPy values; a null is NaN in a float column and an
    error elsewhere (a tensor has no nulls)."""
    import pyarrow as pa

    kind = column.type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)):
        raise SchemaError(
            f"column {name!r} is {kind}; tensors take numeric and boolean columns "
            "(cast it, or leave it out)"
        )
    if pa.types.is_float16(kind):
        column = column.cast(pa.float32())
    if column.null_count and not pa.types.is_floating(kind):
        _check_no_nulls(column, name)
    values: np.ndarray[Any, Any] = column.to_numpy()
    return values


def _check_no_nulls(column: pa.ChunkedArray, name: str) -> None:
    if column.null_count:
        raise ComputeError(
            f"column {name!r} has {column.null_count} null(s) and a tensor has none; "
            "fill them first (fill_null), or cast a numeric column to float (nulls become NaN)"
        )
