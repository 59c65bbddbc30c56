"""Window expressions against Polars, on data with nulls and ties; a Hypothesis property
test of partitioned running sums and ranks against DuckDB."""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import corepy as cp

DATA = {
    "g": ["a", "b", "a", "a", "b", "c", "a", "b"],
    "t": [3, 1, 1, 2, 2, 1, 4, 3],
    "x": [10, 5, None, 30, 5, 7, 30, -2],
    "f": [1.5, 2.0, 3.0, None, 4.0, 0.5, 8.0, 1.0],
}

# (corepy, Polars) window expressions of the same meaning; Polars runs them over the frame
# sorted by t, which is the order corepy gets from order_by="t".
CASES: dict[str, tuple[cp.Expr, pl.Expr]] = {
    "sum over g": (cp.col("x").sum().over("g"), pl.col("x").sum().over("g")),
    "mean over g": (cp.col("f").mean().over("g"), pl.col("f").mean().over("g")),
    "max - min": (
        (cp.col("x") - cp.col("x").min()).over("g"),
        (pl.col("x") - pl.col("x").min()).over("g"),
    ),
    "len over g": (cp.len().over("g"), pl.len().over("g")),
    "cum_sum": (
        cp.col("x").cum_sum().over("g", order_by="t"),
        pl.col("x").cum_sum().over("g"),
    ),
    "cum_sum reverse": (
        cp.col("x").cum_sum(reverse=True).over("g", order_by="t"),
        pl.col("x").cum_sum(reverse=True).over("g"),
    ),
    "cum_max": (
        cp.col("f").cum_max().over("g", order_by="t"),
        pl.col("f").cum_max().over("g"),
    ),
    "cum_min whole": (
        cp.col("x").cum_min().over(order_by="t"),
        pl.col("x").cum_min(),
    ),
    "cum_count": (
        cp.col("x").cum_count().over("g", order_by="t"),
        pl.col("x").cum_count().over("g"),
    ),
    "shift": (cp.col("x").shift().over("g", order_by="t"), pl.col("x").shift().over("g")),
    "shift -2 fill": (
        cp.col("x").shift(-2, fill_value=0).over("g", order_by="t"),
        pl.col("x").shift(-2, fill_value=0).over("g"),
    ),
    "diff": (cp.col("x").diff().over("g", order_by="t"), pl.col("x").diff().over("g")),
    "rank average": (cp.col("x").rank().over("g"), pl.col("x").rank().over("g")),
    "rank min desc": (
        cp.col("x").rank("min", descending=True).over("g"),
        pl.col("x").rank("min", descending=True).over("g"),
    ),
    "rank max": (cp.col("x").rank("max"), pl.col("x").rank("max")),
    "rank dense": (cp.col("x").rank("dense").over("g"), pl.col("x").rank("dense").over("g")),
    "rolling_mean": (
        cp.col("f").rolling_mean(2).over("g", order_by="t"),
        pl.col("f").rolling_mean(2).over("g"),
    ),
    "rolling_sum min 1": (
        cp.col("x").rolling_sum(3, min_samples=1).over("g", order_by="t"),
        pl.col("x").rolling_sum(3, min_samples=1).over("g"),
    ),
    "rolling_max": (
        cp.col("f").rolling_max(2).over(order_by="t"),
        pl.col("f").rolling_max(2),
    ),
}


def _key(value: Any) -> tuple[bool, Any]:
    return (value is None, value)


@pytest.mark.parametrize("name", sorted(CASES))
def test_window_matches_polars(name: str) -> None:
    ours, theirs = CASES[name]
    got = (
        cp.from_dict(DATA).select("g", "t", ours.alias("out")).sort("g", "t").compute().to_pydict()
    )
    expected = (
        pl.DataFrame(DATA)
        .sort("t", maintain_order=True)
        .select("g", "t", theirs.alias("out"))
        .sort("g", "t")
        .to_dict(as_series=False)
    )
    assert got["g"] == expected["g"] and got["t"] == expected["t"]
    for ours_value, their_value in zip(got["out"], expected["out"], strict=True):
        if isinstance(their_value, float):
            assert ours_value == pytest.approx(their_value), (got, expected)
        else:
            assert ours_value == their_value, (got, expected)


def test_windows_in_with_columns_and_filter() -> None:
    lf = cp.from_dict(DATA)
    out = lf.with_columns(cp.col("x").max().over("g").alias("top")).sort("g", "t").compute()
    assert out.columns == ["g", "t", "x", "f", "top"]
    assert out.to_pydict()["top"] == [30, 30, 30, 30, 5, 5, 5, 7]
    above = lf.filter(cp.col("x") > cp.col("x").mean().over("g")).sort("g", "t").compute()
    assert above.columns == ["g", "t", "x", "f"]
    assert above.to_pydict()["x"] == [30, 30, 5, 5]


def test_pct_change_and_row_number() -> None:
    lf = cp.from_dict({"t": [1, 2, 3, 4], "x": [10, 20, 10, 40]})
    out = lf.select(
        "t",
        cp.col("x").pct_change().over(order_by="t").alias("p"),
        cp.row_number().over(order_by="t", descending=True).alias("n"),
    )
    assert out.sort("t").compute().to_pydict() == {
        "t": [1, 2, 3, 4],
        "p": [None, 1.0, -0.5, 3.0],
        "n": [4, 3, 2, 1],
    }


def test_order_dependent_functions_need_an_order() -> None:
    lf = cp.from_dict(DATA)
    for expr in [cp.col("x").cum_sum(), cp.col("x").shift().over("g"), cp.row_number()]:
        with pytest.raises(cp.InvalidArgumentError, match=r"order of rows.*order_by"):
            lf.select(expr.alias("out"))
    with pytest.raises(cp.InvalidArgumentError, match="needs partition_by, order_by"):
        cp.col("x").sum().over()
    with pytest.raises(cp.InvalidArgumentError, match="applies to aggregations"):
        cp.col("x").over("g")
    with pytest.raises(cp.InvalidArgumentError, match="window_size >= 1"):
        cp.col("x").rolling_mean(0)
    with pytest.raises(cp.InvalidArgumentError, match="unknown rank method"):
        cp.col("x").rank("top")  # type: ignore[arg-type]
    with pytest.raises(cp.ColumnNotFoundError, match="'gg'"):
        lf.select(cp.col("x").sum().over("gg"))


# -- properties against DuckDB ------------------------------------------------------------

rows = st.lists(st.tuples(st.integers(0, 2), st.one_of(st.none(), st.integers(-5, 5))), max_size=25)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows)
def test_partitioned_running_sums_and_ranks_match_duckdb(
    rows: list[tuple[int, int | None]],
) -> None:
    table = pa.table(
        {
            "g": pa.array([g for g, _ in rows], pa.int64()),
            "t": pa.array(range(len(rows)), pa.int64()),
            "x": pa.array([x for _, x in rows], pa.int64()),
        }
    )
    ours = (
        cp.from_arrow(table)
        .select(
            "t",
            cp.col("x").cum_sum().over("g", order_by="t").alias("s"),
            cp.col("x").rank("min").over("g").alias("r"),
        )
        .sort("t")
        .compute()
        .to_pydict()
    )
    con = duckdb.connect()
    con.register("w", table)
    expected = con.sql(
        "SELECT t, CASE WHEN x IS NULL THEN NULL ELSE "
        "sum(x) OVER (PARTITION BY g ORDER BY t ROWS UNBOUNDED PRECEDING) END AS s, "
        "CASE WHEN x IS NULL THEN NULL ELSE "
        "rank() OVER (PARTITION BY g ORDER BY x NULLS LAST) END AS r "
        "FROM w ORDER BY t"
    ).to_arrow_table()
    assert ours == expected.to_pydict()
