"""explode, pivot, fill_nan, floor division and the eager read_* forms, against Polars."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pytest

import corepy as cp

LISTS = {"k": [1, 2, 3, 4], "v": [[1, 2], [], None, [5]], "w": ["a", "b", "c", "d"]}


def _sorted(d: dict[str, list[Any]]) -> list[tuple[Any, ...]]:
    return sorted(zip(*d.values(), strict=True), key=repr)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"empty_as_null": True},
        {"keep_nulls": False},
        {"empty_as_null": True, "keep_nulls": False},
    ],
)
def test_explode_matches_polars(options: dict[str, bool]) -> None:
    ours = cp.from_dict(LISTS).explode("v", **options).compute().to_pydict()
    theirs = pl.DataFrame(LISTS).explode("v", **options).to_dict(as_series=False)
    assert list(ours) == list(theirs)
    assert _sorted(ours) == _sorted(theirs)


def test_explode_bad_input() -> None:
    with pytest.raises(cp.SchemaError, match="list columns"):
        cp.from_dict(LISTS).explode("w")
    with pytest.raises(cp.ColumnNotFoundError):
        cp.from_dict(LISTS).explode("vv")


LONG = {
    "id": [1, 1, 2, 2, 2, 3, None],
    "q": ["a", "b", "a", "a", "c", "b", "a"],
    "v": [10, 20, 30, None, 50, 60, 70],
    "u": [1.5, 2.5, None, 4.5, 5.5, 6.5, 7.5],
}


@pytest.mark.parametrize(
    "function", ["sum", "mean", "min", "max", "len", "median", "first", "last"]
)
def test_pivot_matches_polars(function: str) -> None:
    ours = (
        cp.from_dict(LONG)
        .pivot("q", ["a", "b", "c", "z"], index="id", values="v", aggregate_function=function)  # type: ignore[arg-type]
        .compute()
        .to_pydict()
    )
    theirs = (
        pl.DataFrame(LONG)
        .lazy()
        .pivot(
            "q",
            on_columns=["a", "b", "c", "z"],
            index="id",
            values="v",
            aggregate_function=function,
        )  # type: ignore[arg-type]
        .collect()
    )
    expected = theirs.to_dict(as_series=False)
    assert list(ours) == list(expected)

    def by_id(columns: dict[str, list[Any]]) -> list[tuple[Any, ...]]:
        rows = zip(*columns.values(), strict=True)
        return sorted(rows, key=lambda r: (r[0] is None, r[0] or 0))

    got, want = by_id(ours), by_id(expected)
    assert len(got) == len(want)
    for row, other in zip(got, want, strict=True):
        for a, b in zip(row, other, strict=True):
            assert (a is None and b is None) or a == b or math.isclose(a, b), (row, other)


def test_pivot_of_several_value_columns_names_them_after_the_value() -> None:
    out = (
        cp.from_dict(LONG)
        .pivot("q", ["a", "b"], index="id", values=["v", "u"], aggregate_function="max")
        .columns
    )
    assert out == ["id", "v_a", "v_b", "u_a", "u_b"]


def test_pivot_bad_input() -> None:
    lf = cp.from_dict(LONG)
    with pytest.raises(ValueError, match="on_columns"):
        lf.pivot("q", [], index="id", values="v", aggregate_function="sum")
    with pytest.raises(ValueError, match="aggregate_function"):
        lf.pivot("q", ["a"], index="id", values="v", aggregate_function="mode")  # type: ignore[arg-type]
    with pytest.raises(cp.ColumnNotFoundError):
        lf.pivot("qq", ["a"], index="id", values="v", aggregate_function="sum")


SINGLE = {
    "id": [1, 1, 2, None, 3],
    "day": [dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 1), None, None],
    "q": ["a", "b", "a", "b", "a"],
    "v": [10, None, 30, 40, 50],
    "d": [dt.date(2024, 5, d) for d in (1, 2, 3, 4, 5)],
    "s": ["p", "q", "r", "s", "t"],
}


@pytest.mark.parametrize("values", ["v", "d", "s", ["v", "s"]])
def test_pivot_without_aggregation_takes_each_cells_value_as_polars(values: Any) -> None:
    ours = cp.from_dict(SINGLE).pivot("q", ["a", "b", "z"], index="id", values=values)
    theirs = (
        pl.DataFrame(SINGLE)
        .lazy()
        .pivot("q", on_columns=["a", "b", "z"], index="id", values=values)
        .collect()
    )
    got = ours.sort("id").compute()
    assert got.columns == theirs.columns
    assert got.rows() == theirs.sort("id").rows()


def test_pivot_cell_with_several_values_is_an_error_naming_it() -> None:
    lf = cp.from_dict(SINGLE).with_columns(cp.lit("k").alias("key"))
    for values in ["v", "d", "s"]:
        wide = lf.pivot("key", ["k"], index="q", values=values)
        with pytest.raises(cp.ComputeError, match=r"pivot\(\): the cell \(q=(a|b), key='k'\)"):
            wide.compute()
    two_keys = cp.from_dict(SINGLE).pivot("q", ["a"], index=["day"], values="v")
    with pytest.raises(
        cp.ComputeError, match=r"cell \(day=2024-01-01, q='a'\) holds 2 values"
    ) as error:
        two_keys.compute()
    # The message is the cell's, not a failed cast's.
    assert str(error.value).startswith("pivot(): the cell"), str(error.value)
    eager = cp.from_dict(SINGLE).compute()
    with pytest.raises(cp.ComputeError, match=r"cell \(day=2024-01-01, q='a'\)"):
        eager.pivot("q", index="day", values="v")
    with pytest.raises(pl.exceptions.ComputeError):
        pl.DataFrame(SINGLE).pivot("q", index="day", values="v")


def test_fill_nan_and_is_nan_match_polars() -> None:
    data = {"x": [1.0, float("nan"), None, -0.0], "n": [1, 2, 3, 4]}
    ours = cp.from_dict(data).fill_nan(9.0).compute().to_pydict()
    theirs = pl.DataFrame(data).fill_nan(9.0).to_dict(as_series=False)
    assert ours == theirs
    flags = cp.from_dict(data).select(
        cp.col("x").is_nan().alias("a"), cp.col("x").is_not_nan().alias("b")
    )
    expected = pl.DataFrame(data).select(
        pl.col("x").is_nan().alias("a"), pl.col("x").is_not_nan().alias("b")
    )
    assert flags.compute().to_pydict() == expected.to_dict(as_series=False)


def test_floor_division_matches_polars() -> None:
    data = {
        "a": [7, -7, 7, -7, 0, None, 9_007_199_254_740_993],
        "b": [2, 2, -2, -2, 3, 1, 2],
        "f": [7.5, -7.5, 7.5, -7.5, 0.0, None, 1e300],
    }
    exprs_cp = [
        (cp.col("a") // cp.col("b")).alias("ii"),
        (cp.col("f") // cp.col("b")).alias("fi"),
        (cp.col("a") // 2).alias("il"),
        (100 // cp.col("b")).alias("li"),
    ]
    exprs_pl = [
        (pl.col("a") // pl.col("b")).alias("ii"),
        (pl.col("f") // pl.col("b")).alias("fi"),
        (pl.col("a") // 2).alias("il"),
        (100 // pl.col("b")).alias("li"),
    ]
    ours = cp.from_dict(data).select(exprs_cp)
    assert ours.schema.field("ii").type == pa.int64()
    assert ours.compute().to_pydict() == pl.DataFrame(data).select(exprs_pl).to_dict(
        as_series=False
    )


def test_read_forms_run_at_once(tmp_path: Path) -> None:
    lf = cp.from_dict({"a": [1, 2], "s": ["x", "y"]})
    lf.write_parquet(tmp_path / "t.parquet")
    lf.write_ipc(tmp_path / "t.arrow")
    lf.write_csv(tmp_path / "t.csv")
    for frame in [
        cp.read_parquet(tmp_path / "t.parquet"),
        cp.read_ipc(tmp_path / "t.arrow"),
        cp.read_csv(tmp_path / "t.csv"),
    ]:
        assert isinstance(frame, cp.DataFrame)
        assert sorted(frame.to_pydict()["a"]) == [1, 2]
    with pytest.raises(cp.PathNotFoundError):
        cp.read_parquet(tmp_path / "missing.parquet")


def _hive(root: Path) -> pa.Table:
    import pyarrow.parquet as pq

    rows = []
    for year in (2023, 2024):
        for region in ("eu", "us"):
            part = root / f"year={year}" / f"region={region}"
            part.mkdir(parents=True)
            values = [year * 10 + i for i in range(3)]
            pq.write_table(pa.table({"v": values, "s": [region] * 3}), part / "data-0.parquet")
            rows += [(v, region, year, region) for v in values]
    (root / "_SUCCESS").write_text("")
    return pa.table(
        {
            "v": [r[0] for r in rows],
            "s": [r[1] for r in rows],
            "year": [r[2] for r in rows],
            "region": [r[3] for r in rows],
        }
    )


def test_hive_partitioned_directory_matches_polars(tmp_path: Path) -> None:
    _hive(tmp_path)
    lf = cp.scan_parquet(tmp_path)
    assert lf.columns == ["v", "s", "year", "region"]
    assert lf.schema.field("year").type == pa.int64()
    ours = lf.filter(cp.col("year") == 2024).sort("v", "region").compute().to_pydict()
    theirs = (
        pl.scan_parquet(tmp_path, hive_partitioning=True)
        .filter(pl.col("year") == 2024)
        .sort("v", "region")
        .collect()
        .to_dict(as_series=False)
    )
    assert ours == theirs
    sql = cp.sql(f"SELECT count(*) AS n FROM '{tmp_path}' WHERE region = 'eu'").compute()
    assert sql.to_pydict() == {"n": [6]}


def test_hive_partition_filters_prune_directories_in_the_plan(tmp_path: Path) -> None:
    _hive(tmp_path)
    plan = cp.scan_parquet(tmp_path).filter(cp.col("year") == 2024).explain()
    physical = plan.split("== Physical plan ==")[-1]
    assert "year=2024" in physical
    assert "year=2023" not in physical


def test_mixed_partitioning_is_an_error_naming_the_files(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    (tmp_path / "year=2024").mkdir()
    (tmp_path / "month=1").mkdir()
    pq.write_table(pa.table({"v": [1]}), tmp_path / "year=2024" / "a.parquet")
    pq.write_table(pa.table({"v": [1]}), tmp_path / "month=1" / "b.parquet")
    with pytest.raises(cp.FileFormatError, match="not partitioned alike"):
        cp.scan_parquet(tmp_path)
