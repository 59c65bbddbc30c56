"""Aggregation shorthands, as in Polars: ``cp.mean("price")`` is
``cp.col("price").mean()``.

>>> import corepy as cp
>>> lf = cp.from_dict({"g": ["a", "a", "b"], "x": [1.0, 3.0, 5.0]})
>>> lf.group_by("g").agg(cp.mean("x"), cp.max("x").alias("top")).sort("g").compute().to_pydict()
{'g': ['a', 'b'], 'x': [2.0, 5.0], 'top': [3.0, 5.0]}
"""

from __future__ import annotations

from typing import Literal

from corepy.expr import Expr, col

__all__ = ["count", "max", "mean", "median", "min", "n_unique", "quantile", "std", "sum", "var"]


def _column(name: str, function: str) -> Expr:
    if not isinstance(name, str):
        raise TypeError(
            f"cp.{function}() takes a column name; for an expression use "
            f"expr.{function}() (got {type(name).__name__})"
        )
    return col(name)


def sum(column: str) -> Expr:
    """``cp.col(column).sum()``.

    >>> import corepy as cp
    >>> cp.from_dict({"x": [1, 2, None]}).select(cp.sum("x")).compute().to_pydict()
    {'x': [3]}
    """
    return _column(column, "sum").sum()


def mean(column: str) -> Expr:
    """``cp.col(column).mean()``.

    >>> import corepy as cp
    >>> cp.from_dict({"x": [1, 2, None]}).select(cp.mean("x")).compute().to_pydict()
    {'x': [1.5]}
    """
    return _column(column, "mean").mean()


def min(column: str) -> Expr:
    """``cp.col(column).min()``.

    >>> import corepy as cp
    >>> cp.from_dict({"x": [3, 1, None]}).select(cp.min("x")).compute().to_pydict()
    {'x': [1]}
    """
    return _column(column, "min").min()


def max(column: str) -> Expr:
    """``cp.col(column).max()``.

    >>> import corepy as cp
    >>> cp.from_dict({"x": [3, 1, None]}).select(cp.max("x")).compute().to_pydict()
    {'x': [3]}
    """
    return _column(column, "max").max()


def median(column: str) -> Expr:
    """``cp.col(column).median()``.

    >>> import corepy as cp
    >>> cp.from_dict({"x": [1.0, 2.0, 4.0, 10.0]}).select(cp.median("x")).compute().to_pydict()
    {'x': [3.0]}
    """
    return _column(column, "median").median()


def std(column: str, ddof: int = 1) -> Expr:
    """``cp.col(column).std(ddof)``: the sample standard deviation by default.

    >>> import corepy as cp
    >>> cp.from_dict({"x": [1.0, 3.0]}).select(cp.std("x")).compute().item()
    1.4142135623730951
    """
    return _column(column, "std").std(ddof)


def var(column: str, ddof: int = 1) -> Expr:
    """``cp.col(column).var(ddof)``: the sample variance by default.

    >>> import corepy as cp
    >>> lf = cp.from_dict({"x": [1.0, 3.0]})
    >>> lf.select(cp.var("x"), cp.var("x", ddof=0).alias("pop")).compute().to_pydict()
    {'x': [2.0], 'pop': [1.0]}
    """
    return _column(column, "var").var(ddof)


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
