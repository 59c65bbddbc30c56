"""Type names for annotations: the tensor class and the element types.

>>> import corepy as cp
>>> from corepy.schema import Tensor, Float32
>>> def double(t: Tensor) -> Tensor:
...     return t * 2
>>> double(cp.ones(2, dtype=Float32)).compute().tolist()
[2.0, 2.0]
"""

from __future__ import annotations

from corepy.datatypes import (
    Boolean,
    Float32,
    Float64,
    Int8,
    Int16,
    Int32,
    Int64,
    UInt8,
    UInt16,
    UInt32,
    UInt64,
)
from corepy.tensor import Tensor

__all__ = [
    "Boolean",
    "Float32",
    "Float64",
    "Int8",
    "Int16",
    "Int32",
    "Int64",
    "Tensor",
    "UInt8",
    "UInt16",
    "UInt32",
    "UInt64",
]
