"""An aggregation among row-wise expressions is broadcast to every row, as in Polars:
``filter(x == x.max())``, ``with_columns(x.sum())``, ``select(x, x.mean())``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl
import pytest

import corepy as cp

DATA = {"g": ["a", "b", "a", "b", "c"], "x": [4, 9, 1, 9, None], "y": [0.5, 1.5, 2.5, 3.5, 4.5]}

CASES: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("filter_max", lambda lf, m: lf.filter(m.col("x") == m.col("x").max())),
    ("filter_mean", lambda lf, m: lf.filter(m.col("y") > m.col("y").mean())),
    ("filter_only_aggregate", lambda lf, m: lf.filter(m.col("x").sum() > 100)),
    ("with_columns_sum", lambda lf, m: lf.with_columns(m.col("x").sum().alias("total"))),
    (
        "with_columns_share",
        lambda lf, m: lf.with_columns((m.col("y") / m.col("y").sum()).alias("share")),
    ),
    (
        "with_columns_mixed",
        lambda lf, m: lf.with_columns(
            (m.col("x") - m.col("x").min()).alias("above_min"),
            m.len().alias("n"),
            m.col("y").max().over("g").alias("group_max"),
        ),
    ),
    (
        "select_mixed",
        lambda lf, m: lf.select("g", m.col("y").mean().alias("avg"), m.col("x").count()),
    ),
    ("select_all_aggregates", lambda lf, m: lf.select(m.col("x").sum(), m.col("y").max())),
]


@pytest.mark.parametrize(("name", "call"), CASES, ids=[n for n, _ in CASES])
def test_aggregations_broadcast_as_in_polars(name: str, call: Callable[[Any, Any], Any]) -> None:
    ours = call(cp.from_dict(DATA), cp).compute()
    theirs = call(pl.DataFrame(DATA).lazy(), pl).collect()
    assert ours.columns == theirs.columns, name
    assert sorted(ours.rows(), key=repr) == sorted(theirs.rows(), key=repr)


def test_row_order_is_kept_and_plans_without_aggregations_are_unchanged() -> None:
    lf = cp.from_dict(DATA)
    out = lf.with_columns(cp.col("x").max().alias("top")).compute()
    assert out.to_pydict()["g"] == DATA["g"]
    plain = lf.with_columns(cp.col("x") + 1)
    assert "OVER" not in plain.explain(optimized=False).upper()


def test_what_cannot_broadcast_is_still_an_error() -> None:
    lf = cp.from_dict(DATA)
    with pytest.raises(cp.InvalidArgumentError, match="row-wise"):
        lf.group_by("g").agg(cp.col("x") * 2)
    with pytest.raises(cp.InvalidArgumentError, match="filtered"):
        lf.with_columns(cp.col("x").filter(cp.col("x") > 1))
