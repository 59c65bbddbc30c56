"""Hypothesis properties against DuckDB: group-by aggregations and multi-key sorts on
generated data with nulls, NaN, ties and empty inputs."""

from __future__ import annotations

import math
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import corepy as cp

groups = st.one_of(st.none(), st.sampled_from(["a", "b", "c"]))
ints = st.one_of(st.none(), st.integers(-1_000, 1_000))
floats = st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False), st.just(float("nan")))


def _table(draw: Any, n: int) -> pa.Table:
    return pa.table(
        {
            "g": pa.array(draw(st.lists(groups, min_size=n, max_size=n)), pa.string()),
            "h": pa.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)), pa.int64()),
            "x": pa.array(draw(st.lists(ints, min_size=n, max_size=n)), pa.int64()),
            "f": pa.array(draw(st.lists(floats, min_size=n, max_size=n)), pa.float64()),
        }
    )


@st.composite
def tables(draw: Any) -> pa.Table:
    return _table(draw, draw(st.integers(0, 30)))


def _key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, float) and math.isnan(value):
        return (2, 0)
    return (1, value)


def _same_value(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)
    return bool(a == b)


def _rows(table: pa.Table) -> list[tuple[Any, ...]]:
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    rows = list(zip(*columns, strict=True))
    return sorted(rows, key=lambda row: tuple(_key(v) for v in row))


def _duck(table: pa.Table, sql: str) -> pa.Table:
    con = duckdb.connect()
    con.register("t", table)
    return con.sql(sql).to_arrow_table()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables())
def test_group_by_aggregations_match_duckdb(table: pa.Table) -> None:
    ours = (
        cp.from_arrow(table)
        .group_by("g", "h")
        .agg(
            cp.col("x").sum().alias("sum_x"),
            cp.col("x").min().alias("min_x"),
            cp.col("x").max().alias("max_x"),
            cp.col("x").count().alias("n_x"),
            cp.len(),
            cp.col("x").mean().alias("mean_x"),
            (cp.col("x") * 2 + 1).sum().alias("expr"),
            cp.col("x").n_unique().alias("distinct_x"),
            cp.col("x").filter(cp.col("h") > 0).count().alias("filtered"),
        )
        .compute()
        .to_arrow()
    )
    # Polars' answers where SQL differs: the sum of no values is 0, n_unique counts NULL.
    expected = _duck(
        table,
        """
        SELECT g, h, coalesce(sum(x), 0) AS sum_x, min(x) AS min_x, max(x) AS max_x,
               count(x) AS n_x, count(*) AS len, avg(x) AS mean_x,
               coalesce(sum(x * 2 + 1), 0) AS expr,
               count(DISTINCT x) + (count(*) > count(x))::INT AS distinct_x,
               count(x) FILTER (WHERE h > 0) AS filtered
        FROM t GROUP BY g, h
        """,
    )
    a, b = _rows(ours), _rows(expected)
    assert len(a) == len(b)
    for row_a, row_b in zip(a, b, strict=True):
        assert all(_same_value(x, y) for x, y in zip(row_a, row_b, strict=True)), (row_a, row_b)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    table=tables(),
    descending=st.lists(st.booleans(), min_size=3, max_size=3),
    nulls_last=st.lists(st.booleans(), min_size=3, max_size=3),
)
def test_sort_by_several_keys_matches_duckdb(
    table: pa.Table, descending: list[bool], nulls_last: list[bool]
) -> None:
    keys = ["g", "f", "x"]
    # DataFusion sorts -0.0 below 0.0 (IEEE total order) where DuckDB ties them, so the
    # next key decides: a known difference, left out here (-0.0 + 0.0 is 0.0).
    f = pc.add(table.column("f"), 0.0)
    table = table.set_column(table.schema.get_field_index("f"), "f", f)
    ours = cp.from_arrow(table).sort(keys, descending=descending, nulls_last=nulls_last)
    result = ours.compute().to_arrow()
    order = ", ".join(
        f"{k} {'DESC' if d else 'ASC'} NULLS {'LAST' if n else 'FIRST'}"
        for k, d, n in zip(keys, descending, nulls_last, strict=True)
    )
    expected = _duck(table, f"SELECT * FROM t ORDER BY {order}")

    def key_columns(t: pa.Table) -> list[tuple[Any, ...]]:
        return list(zip(*(t.column(k).to_pylist() for k in keys), strict=True))

    got, want = key_columns(result), key_columns(expected)
    # The key columns come out in exactly DuckDB's order (NaN sorts above every number in
    # both); rows with equal keys may come in any order, so whole rows are compared as sets.
    assert len(got) == len(want)
    for row_a, row_b in zip(got, want, strict=True):
        assert all(_same_value(x, y) for x, y in zip(row_a, row_b, strict=True)), (got, want)
    for row_a, row_b in zip(_rows(result), _rows(expected), strict=True):
        assert all(_same_value(x, y) for x, y in zip(row_a, row_b, strict=True)), (row_a, row_b)
