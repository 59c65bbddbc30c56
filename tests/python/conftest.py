"""Shared fixtures: TPC-H scale 0.01 generated once per test run, and DuckDB over the same
files as the golden reference."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

import corepy as cp

TPCH_TABLES = ["region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem"]


@pytest.fixture(scope="session")
def tpch_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """TPC-H at scale 0.01 as Parquet, written by corepy's generator."""
    directory = tmp_path_factory.mktemp("tpch")
    rows = cp.gen_tpch(0.01, directory)
    assert rows["nation"] == 25 and rows["lineitem"] > 50_000
    return directory


@pytest.fixture(scope="session")
def duck(tpch_dir: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection with a view per TPC-H table over the same Parquet files."""
    connection = duckdb.connect()
    for table in TPCH_TABLES:
        connection.execute(
            f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{tpch_dir / table}.parquet')"
        )
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def session(tpch_dir: Path) -> cp.Session:
    """A corepy session with the TPC-H tables registered under their names."""
    s = cp.Session()
    for table in TPCH_TABLES:
        s.register_parquet(table, tpch_dir / f"{table}.parquet")
    return s


def _normal(value: Any) -> Any:
    """Values as comparable Python objects: aware datetimes in UTC without a zone; decimals
    stay ``decimal.Decimal``, compared exactly."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def rows_of(table: pa.Table) -> list[tuple[Any, ...]]:
    return [tuple(_normal(v) for v in row.values()) for row in table.to_pylist()]


def _sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(_sort_value(v) for v in row)


def _sort_value(v: Any) -> tuple[int, Any]:
    """Values first, then NaN, then NULL: NaN compares false with everything, so it must
    not reach the comparison (rows holding it would sort in input order)."""
    if v is None:
        return (2, "")
    if isinstance(v, float):
        return (1, 0.0) if math.isnan(v) else (0, round(v, 6))
    return (0, v)


def same_value(a: Any, b: Any) -> bool:
    """Whether two result values agree: floats to 1e-9 (relative or absolute, NaN equal to
    NaN); everything else exactly. Decimals compare by numeric value, so scales may differ
    (``Decimal("1.50")`` equals ``Decimal("1.5")`` and the integer 2 equals ``Decimal("2")``,
    DuckDB's 128-bit sums) but ``Decimal("1.501")`` does not equal ``Decimal("1.50")``. A float
    never equals a decimal or an integer: one engine computing in double precision what the
    other keeps exact is a difference."""
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, float) or isinstance(b, float):
        return False
    return bool(a == b)


def assert_same_rows(
    actual: pa.Table, expected: pa.Table, *, ordered: bool = False, check_names: bool = True
) -> None:
    """Asserts two results hold the same rows (in the same order when ``ordered``), values
    compared by ``same_value``: floats to 1e-9, decimals and everything else exactly."""
    if check_names:
        assert actual.column_names == expected.column_names
    got, want = rows_of(actual), rows_of(expected)
    assert len(got) == len(want), f"{len(got)} rows, expected {len(want)}"
    if not ordered:
        got, want = sorted(got, key=_sort_key), sorted(want, key=_sort_key)
    for index, (g, w) in enumerate(zip(got, want, strict=True)):
        assert len(g) == len(w)
        assert all(same_value(x, y) for x, y in zip(g, w, strict=True)), f"row {index}: {g} != {w}"
