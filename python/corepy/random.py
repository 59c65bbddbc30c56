"""Random tensors (``cp.random.rand``, ``cp.random.randn``): the same ``seed`` gives the
same values on every machine.

>>> import corepy as cp
>>> a = cp.random.rand((2, 3), seed=7)
>>> b = cp.random.rand((2, 3), seed=7)
>>> bool((a == b).all())
True
>>> a.shape, a.dtype
((2, 3), 'float64')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from corepy import _core
from corepy.tensor import Tensor, _dtype_name, _shape

__all__ = ["rand", "randn"]


def rand(shape: int | Sequence[int], seed: int | None = None, dtype: Any = "float64") -> Tensor:
    """Uniform values in ``[0, 1)`` (xoshiro256**; a fresh seed when none is given)."""
    return Tensor(
        _core.TensorNode.random(_shape(shape), seed, False, _dtype_name(dtype) or "float64")
    )


def randn(shape: int | Sequence[int], seed: int | None = None, dtype: Any = "float64") -> Tensor:
    """Standard normal values (Box-Muller over the same generator as :func:`rand`).

    >>> import corepy as cp
    >>> abs(cp.random.randn(10000, seed=1).mean().compute().item()) < 0.05
    True
    """
    return Tensor(
        _core.TensorNode.random(_shape(shape), seed, True, _dtype_name(dtype) or "float64")
    )
