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
    """``cp.col(column).sum()``."""
    return _column(column, "sum").sum()


def mean(column: str) -> Expr:
    """``cp.col(column).mean()``."""
    return _column(column, "mean").mean()


def min(column: str) -> Expr:
    """``cp.col(column).min()``."""
    return _column(column, "min").min()


def max(column: str) -> Expr:
    """``cp.col(column).max()``."""
    return _column(column, "max").max()


def median(column: str) -> Expr:
    """``cp.col(column).median()``."""
    return _column(column, "median").median()


def std(column: str, ddof: int = 1) -> Expr:
    """``cp.col(column).std(ddof)``: the sample standard deviation by default.

    >>> import corepy as cp
    >>> cp.from_dict({"x": [1.0, 3.0]}).select(cp.std("x")).compute().item()
    1.4142135623730951
    """
    return _column(column, "std").std(ddof)


def var(column: str, ddof: int = 1) -> Expr:
    """``cp.col(column).var(ddof)``: the sample variance by default."""
    return _column(column, "var").var(ddof)


def count(column: str) -> Expr:
    """``cp.col(column).count()``: the non-null values (``cp.len()`` counts rows)."""
    return _column(column, "count").count()


def n_unique(column: str) -> Expr:
    """``cp.col(column).n_unique()``."""
    return _column(column, "n_unique").n_unique()


def quantile(
    column: str,
    quantile: float,
    interpolation: Literal["nearest", "lower", "higher", "midpoint", "linear"] = "nearest",
) -> Expr:
    """``cp.col(column).quantile(quantile, interpolation)``."""
    return _column(column, "quantile").quantile(quantile, interpolation)
