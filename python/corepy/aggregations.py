"""Aggregation shorthands, as in Polars: ``cp.mean("price")`` is
``cp.col("price").mean()``. Given a tensor, ``sum``, ``mean``, ``min``, ``max``, ``std``
and ``var`` are NumPy's reductions (``cp.sum(t, axis=0)`` is ``t.sum(axis=0)``).

>>> import corepy as cp
>>> lf = cp.from_dict({"g": ["a", "a", "b"], "x": [1.0, 3.0, 5.0]})
>>> lf.group_by("g").agg(cp.mean("x"), cp.max("x").alias("top")).sort("g").compute().to_pydict()
{'g': ['a', 'b'], 'x': [2.0, 5.0], 'top': [3.0, 5.0]}
"""

from __future__ import annotations

from typing import Literal, overload

from corepy.exceptions import InvalidArgumentError
from corepy.expr import Expr, col
from corepy.tensor import Axis, Tensor

__all__ = [
    "corr",
    "count",
    "max",
    "mean",
    "median",
    "min",
    "n_unique",
    "quantile",
    "std",
    "sum",
    "var",
]


def _column(name: str, function: str) -> Expr:
    if not isinstance(name, str):
        raise TypeError(
            f"cp.{function}() takes a column name; for an expression use "
            f"expr.{function}() (got {type(name).__name__})"
        )
    return col(name)


@overload
def sum(column: str) -> Expr: ...
@overload
def sum(column: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor: ...
def sum(column: str | Tensor, axis: Axis = None, keepdims: bool = False) -> Expr | Tensor:
    """``cp.col(column).sum()``; of a tensor, ``t.sum(axis, keepdims)`` (NumPy's ``np.sum``).

    >>> import corepy as cp
    >>> cp.from_dict({"x": [1, 2, None]}).select(cp.sum("x")).compute().to_pydict()
    {'x': [3]}
    >>> cp.sum(cp.tensor([[1, 2], [3, 4]]), axis=0).tolist()
    [4, 6]
    """
    if isinstance(column, Tensor):
        return column.sum(axis=axis, keepdims=keepdims)
    return _column(column, "sum").sum()


@overload
def mean(column: str) -> Expr: ...
@overload
def mean(column: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor: ...
def mean(column: str | Tensor, axis: Axis = None, keepdims: bool = False) -> Expr | Tensor:
    """``cp.col(column).mean()``; of a tensor, ``t.mean(axis, keepdims)`` (NumPy's ``np.mean``).

    >>> import corepy as cp
    >>> cp.from_dict({"x": [1, 2, None]}).select(cp.mean("x")).compute().to_pydict()
    {'x': [1.5]}
    >>> cp.mean(cp.tensor([[1, 2], [3, 4]]), axis=1).tolist()
    [1.5, 3.5]
    """
    if isinstance(column, Tensor):
        return column.mean(axis=axis, keepdims=keepdims)
    return _column(column, "mean").mean()


@overload
def min(column: str) -> Expr: ...
@overload
def min(column: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor: ...
def min(column: str | Tensor, axis: Axis = None, keepdims: bool = False) -> Expr | Tensor:
    """``cp.col(column).min()``; of a tensor, ``t.min(axis, keepdims)`` (NumPy's ``np.min``).

    >>> import corepy as cp
    >>> cp.from_dict({"x": [3, 1, None]}).select(cp.min("x")).compute().to_pydict()
    {'x': [1]}
    >>> cp.min(cp.tensor([3, 1, 2])).item()
    1
    """
    if isinstance(column, Tensor):
        return column.min(axis=axis, keepdims=keepdims)
    return _column(column, "min").min()


@overload
def max(column: str) -> Expr: ...
@overload
def max(column: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor: ...
def max(column: str | Tensor, axis: Axis = None, keepdims: bool = False) -> Expr | Tensor:
    """``cp.col(column).max()``; of a tensor, ``t.max(axis, keepdims)`` (NumPy's ``np.max``).

    >>> import corepy as cp
    >>> cp.from_dict({"x": [3, 1, None]}).select(cp.max("x")).compute().to_pydict()
    {'x': [3]}
    >>> cp.max(cp.tensor([3, 1, 2])).item()
    3
    """
    if isinstance(column, Tensor):
        return column.max(axis=axis, keepdims=keepdims)
    return _column(column, "max").max()


def median(column: str) -> Expr:
    """``cp.col(column).median()``.

    >>> import corepy as cp
    >>> cp.from_dict({"x": [1.0, 2.0, 4.0, 10.0]}).select(cp.median("x")).compute().to_pydict()
    {'x': [3.0]}
    """
    return _column(column, "median").median()


@overload
def std(column: str, ddof: int | None = None) -> Expr: ...
@overload
def std(
    column: Tensor, ddof: int | None = None, axis: Axis = None, keepdims: bool = False
) -> Tensor: ...
def std(
    column: str | Tensor, ddof: int | None = None, axis: Axis = None, keepdims: bool = False
) -> Expr | Tensor:
    """``cp.col(column).std(ddof)``: the sample standard deviation by default (``ddof=1``,
    as Polars'). Of a tensor, NumPy's ``np.std`` (``ddof=0`` by default, as NumPy's).

    >>> import corepy as cp
    >>> cp.from_dict({"x": [1.0, 3.0]}).select(cp.std("x")).compute().item()
    1.4142135623730951
    >>> cp.std(cp.tensor([1.0, 3.0])).item()
    1.0
    """
    if isinstance(column, Tensor):
        return column.std(axis=axis, keepdims=keepdims, ddof=0 if ddof is None else ddof)
    return _column(column, "std").std(1 if ddof is None else ddof)


@overload
def var(column: str, ddof: int | None = None) -> Expr: ...
@overload
def var(
    column: Tensor, ddof: int | None = None, axis: Axis = None, keepdims: bool = False
) -> Tensor: ...
def var(
    column: str | Tensor, ddof: int | None = None, axis: Axis = None, keepdims: bool = False
) -> Expr | Tensor:
    """``cp.col(column).var(ddof)``: the sample variance by default (``ddof=1``, as
    Polars'). Of a tensor, NumPy's ``np.var`` (``ddof=0`` by default, as NumPy's).

    >>> import corepy as cp
    >>> lf = cp.from_dict({"x": [1.0, 3.0]})
    >>> lf.select(cp.var("x"), cp.var("x", ddof=0).alias("pop")).compute().to_pydict()
    {'x': [2.0], 'pop': [1.0]}
    >>> cp.var(cp.tensor([1.0, 3.0])).item()
    1.0
    """
    if isinstance(column, Tensor):
        return column.var(axis=axis, keepdims=keepdims, ddof=0 if ddof is None else ddof)
    return _column(column, "var").var(1 if ddof is None else ddof)


def count(column: str) -> Expr:
    """``cp.col(column).count()``: the non-null values (``cp.len()`` counts rows).

    >>> import corepy as cp
    >>> cp.from_dict({"x": [1, None, 3]}).select(cp.count("x"), cp.len()).compute().to_pydict()
    {'x': [2], 'len': [3]}
    """
    return _column(column, "count").count()


def n_unique(column: str) -> Expr:
    """``cp.col(column).n_unique()``.

    >>> import corepy as cp
    >>> cp.from_dict({"x": ["a", "b", "a"]}).select(cp.n_unique("x")).compute().to_pydict()
    {'x': [2]}
    """
    return _column(column, "n_unique").n_unique()


def quantile(
    column: str,
    quantile: float,
    interpolation: Literal["nearest", "lower", "higher", "midpoint", "linear"] = "nearest",
) -> Expr:
    """``cp.col(column).quantile(quantile, interpolation)``.

    >>> import corepy as cp
    >>> lf = cp.from_dict({"x": [1, 2, 3, 4]})
    >>> lf.select(cp.quantile("x", 0.25, "linear")).compute().to_pydict()
    {'x': [1.75]}
    """
    return _column(column, "quantile").quantile(quantile, interpolation)


def corr(a: str | Expr, b: str | Expr, *, method: Literal["pearson"] = "pearson") -> Expr:
    """Pearson's correlation of ``a`` and ``b`` (column names or expressions) over the rows
    where both are non-null, as Polars' ``pl.corr``: null where there is no such row, NaN
    for one such row, a constant column or a NaN in one of them. Named after ``a``. Only
    ``method="pearson"``.

    >>> import corepy as cp
    >>> lf = cp.from_dict({"g": [1, 1, 1, 2], "x": [1.0, 2.0, 3.0, 1.0], "y": [1.0, 3.0, 5.0, 9.0]})
    >>> lf.group_by("g").agg(cp.corr("x", "y")).sort("g").compute().to_pydict()
    {'g': [1, 2], 'x': [1.0, nan]}
    """
    if method != "pearson":
        raise InvalidArgumentError(f"corr() computes method='pearson' only, not {method!r}")
    left, right = (_operand(v) for v in (a, b))
    return Expr(left._expr.corr(right._expr))


def _operand(value: str | Expr) -> Expr:
    if isinstance(value, str):
        return col(value)
    if isinstance(value, Expr):
        return value
    raise TypeError(f"cp.corr() takes column names or expressions, got {type(value).__name__}")
