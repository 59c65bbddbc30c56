"""Time windows (rolling, group_by_dynamic) and as-of joins against Polars, on data with
nulls, duplicate times and several groups; the design-paper example as written."""

from __future__ import annotations

import datetime as dt
import math
import random
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import corepy as cp

START = dt.datetime(2024, 3, 1, 9, 30)


def _ticks(n: int, seed: int) -> list[dt.datetime]:
    rng = random.Random(seed)
    return [START + dt.timedelta(milliseconds=rng.randrange(0, 20_000)) for _ in range(n)]


def _data(n: int = 300, seed: int = 7) -> pa.Table:
    rng = random.Random(seed)
    times = _ticks(n, seed)
    # Some exact duplicates of times, within and across groups.
    times[5] = times[3]
    times[6] = times[3]
    return pa.table(
        {
            "symbol": [rng.choice(["AAPL", "MSFT", "NVDA"]) for _ in range(n)],
            "timestamp": pa.array(times, pa.timestamp("us")),
            "price": [
                None if rng.random() < 0.1 else round(rng.uniform(90, 110), 2) for _ in range(n)
            ],
            "size": [rng.randrange(1, 500) for _ in range(n)],
        }
    )


def _rows(table: Any, keys: list[str]) -> list[tuple[Any, ...]]:
    data = pa.table(table) if not isinstance(table, pa.Table) else table
    rows = list(zip(*(data.column(c).to_pylist() for c in data.column_names), strict=True))
    index = [data.column_names.index(k) for k in keys]
    return sorted(
        rows, key=lambda r: (*tuple((v is None, v) for v in (r[i] for i in index)), repr(r))
    )


def _same(ours: Any, theirs: Any, keys: list[str]) -> None:
    ours_t, theirs_t = pa.table(ours), theirs.to_arrow()
    assert ours_t.column_names == theirs_t.column_names
    a, b = _rows(ours_t, keys), _rows(theirs_t, keys)
    assert len(a) == len(b), (len(a), len(b))
    for x, y in zip(a, b, strict=True):
        for u, v in zip(x, y, strict=True):
            if isinstance(u, float) and isinstance(v, float):
                assert math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-9) or (
                    math.isnan(u) and math.isnan(v)
                ), (x, y)
            else:
                assert u == v, (x, y)


ROLLING = [
    dict(period="2s"),
    dict(period="500ms", closed="both"),
    dict(period="1s", offset="-500ms", closed="left"),
    dict(period="3s", offset="0s", closed="none"),
    dict(period="1s", offset="1s"),
]


@pytest.mark.parametrize("options", ROLLING, ids=[str(o) for o in ROLLING])
def test_rolling_by_group_matches_polars(options: dict[str, str]) -> None:
    table = _data()
    ours = (
        cp.from_arrow(table)
        .rolling("timestamp", group_by="symbol", **options)  # type: ignore[arg-type]
        .agg(
            cp.mean("price"),
            cp.col("price").sum().alias("total"),
            cp.col("size").max().alias("biggest"),
            cp.col("price").count().alias("n"),
            cp.len(),
        )
        .compute()
    )
    theirs = (
        pl.from_arrow(table)
        .sort("symbol", "timestamp")  # type: ignore[union-attr]
        .rolling("timestamp", group_by="symbol", **options)  # type: ignore[arg-type]
        .agg(
            pl.mean("price"),
            pl.col("price").sum().alias("total"),
            pl.col("size").max().alias("biggest"),
            pl.col("price").count().cast(pl.Int64).alias("n"),
            pl.len().cast(pl.Int64),
        )
    )
    _same(ours, theirs, ["symbol", "timestamp"])


def test_rolling_over_dates_and_integers() -> None:
    dates = cp.from_dict(
        {"d": [dt.date(2024, 1, d) for d in (1, 3, 9, 9, 20)], "x": [1, 2, 3, 4, 5]}
    )
    out = dates.rolling("d", period="7d").agg(cp.sum("x")).compute().to_pydict()
    assert out == {"d": [dt.date(2024, 1, d) for d in (1, 3, 9, 9, 20)], "x": [1, 3, 9, 9, 5]}
    ints = cp.from_dict({"i": [1, 2, 5, 9], "x": [1, 2, 3, 4]})
    out = ints.rolling("i", period="3i").agg(cp.sum("x")).compute().to_pydict()
    assert out == {"i": [1, 2, 5, 9], "x": [1, 3, 3, 4]}


def test_rows_without_an_index_value_have_no_window() -> None:
    t = [dt.datetime(2024, 1, 1, 9, 0, 0), None, dt.datetime(2024, 1, 1, 9, 0, 1), None]
    lf = cp.from_dict({"t": t, "x": [1, 2, 3, 4]})
    out = lf.rolling("t", period="2s").agg(cp.sum("x"), cp.len()).compute().to_pydict()
    assert out["x"] == [None, None, 1, 4] and out["len"] == [None, None, 1, 2]
    windows = lf.group_by_dynamic("t", every="1m").agg(cp.sum("x")).compute().to_pydict()
    assert windows["x"] == [4]


def test_group_by_then_rolling_takes_the_period_alone() -> None:
    table = _data(60)
    lf = cp.from_arrow(table)
    short = lf.group_by("symbol").rolling("1s").agg(cp.std("price")).compute()
    long = lf.rolling("timestamp", period="1s", group_by="symbol").agg(cp.std("price")).compute()
    assert short.to_pydict() == long.to_pydict()
    named = lf.group_by("symbol").rolling("timestamp", period="1s").agg(cp.std("price")).compute()
    assert named.to_pydict() == long.to_pydict()


def test_the_design_paper_example_works_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = _data()
    pq.write_table(table, tmp_path / "trades.parquet")
    monkeypatch.chdir(tmp_path)
    df = cp.scan_parquet("trades.parquet")

    features = (
        df.select("symbol", "price", "timestamp")
        .group_by("symbol")
        .rolling("1s")  # index column: the frame's single temporal column, or index_column=
        .agg([cp.mean("price").alias("vwap"), cp.std("price").alias("volatility")])
    )
    features.write_parquet("features.parquet")

    written = pq.read_table(tmp_path / "features.parquet")
    assert written.column_names == ["symbol", "timestamp", "vwap", "volatility"]
    theirs = (
        pl.from_arrow(table)
        .sort("symbol", "timestamp")  # type: ignore[union-attr]
        .rolling("timestamp", period="1s", group_by="symbol")
        .agg(pl.mean("price").alias("vwap"), pl.std("price").alias("volatility"))
    )
    _same(written, theirs, ["symbol", "timestamp"])


DYNAMIC = [
    dict(every="5s"),
    dict(every="5s", period="12s", include_boundaries=True),
    dict(every="5s", closed="right"),
    dict(every="5s", period="12s", closed="right", label="right"),
    dict(every="4s", closed="both"),
    dict(every="5s", period="3s", closed="none"),
    dict(every="5s", offset="2s"),
    dict(every="5s", offset="-2s", label="datapoint"),
    dict(every="3s", period="1s"),
]


@pytest.mark.parametrize("options", DYNAMIC, ids=[str(o) for o in DYNAMIC])
def test_group_by_dynamic_matches_polars(options: dict[str, Any]) -> None:
    table = _data()
    ours = (
        cp.from_arrow(table)
        .group_by_dynamic("timestamp", group_by="symbol", **options)
        .agg(cp.col("price").sum(), cp.col("size").mean().alias("avg"), cp.len())
        .compute()
    )
    theirs = (
        pl.from_arrow(table)
        .sort("symbol", "timestamp")  # type: ignore[union-attr]
        .group_by_dynamic("timestamp", group_by="symbol", **options)
        .agg(pl.col("price").sum(), pl.col("size").mean().alias("avg"), pl.len().cast(pl.Int64))
    )
    _same(ours, theirs, ["symbol", "timestamp"])


@pytest.mark.parametrize("every", ["1w", "2w", "1mo", "1q", "1y", "3d"])
def test_calendar_and_weekly_windows_over_dates(every: str) -> None:
    rng = random.Random(3)
    days = [dt.date(2023, 11, 1) + dt.timedelta(days=rng.randrange(0, 500)) for _ in range(200)]
    table = pa.table({"d": days, "x": [rng.randrange(0, 100) for _ in days]})
    for label in ["left", "right"]:
        ours = (
            cp.from_arrow(table)
            .group_by_dynamic("d", every=every, label=label, include_boundaries=True)  # type: ignore[arg-type]
            .agg(cp.col("x").sum())
            .compute()
        )
        theirs = (
            pl.from_arrow(table)
            .sort("d")  # type: ignore[union-attr]
            .group_by_dynamic("d", every=every, label=label, include_boundaries=True)  # type: ignore[arg-type]
            .agg(pl.col("x").sum())
        )
        _same(ours, theirs, ["d"])


def test_integer_index_dynamic_windows() -> None:
    lf = cp.from_dict({"i": [1, 2, 5, 9, -3], "x": [1, 2, 3, 4, 5]})
    out = lf.group_by_dynamic("i", every="4i").agg(cp.sum("x")).compute().to_pydict()
    theirs = pl.DataFrame({"i": [1, 2, 5, 9, -3], "x": [1, 2, 3, 4, 5]}).sort("i")
    expected = theirs.group_by_dynamic("i", every="4i").agg(pl.col("x").sum())
    assert out == expected.to_dict(as_series=False)


def test_time_window_bad_input() -> None:
    lf = cp.from_arrow(_data(20))
    with pytest.raises(cp.ColumnNotFoundError, match="timestmp"):
        lf.rolling("timestmp", period="1s").agg(cp.mean("price"))
    with pytest.raises(cp.SchemaError, match="must be a date"):
        lf.rolling("symbol", period="1s").agg(cp.mean("price"))
    with pytest.raises(ValueError, match=r"accepted|units"):
        lf.rolling("timestamp", period="1x").agg(cp.mean("price"))
    with pytest.raises(cp.InvalidArgumentError, match="row-wise"):
        lf.rolling("timestamp", period="1s").agg(cp.col("price"))
    with pytest.raises(cp.InvalidArgumentError, match="integer index"):
        lf.rolling("timestamp", period="3i").agg(cp.mean("price"))
    with pytest.raises(cp.InvalidArgumentError, match="whole number"):
        lf.rolling("timestamp", period="10ns").agg(cp.mean("price"))
    with pytest.raises(cp.InvalidArgumentError, match="several temporal"):
        lf.with_columns(cp.col("timestamp").alias("t2")).group_by("symbol").rolling("1s").agg(
            cp.mean("price")
        )
    with pytest.raises(cp.InvalidArgumentError, match="positive"):
        lf.group_by_dynamic("timestamp", every="-1s").agg(cp.mean("price"))
    with pytest.raises(ValueError, match="names a column"):
        lf.group_by("symbol").rolling("timestamp")


def _trades_quotes(seed: int) -> tuple[pa.Table, pa.Table]:
    rng = random.Random(seed)
    left_keys = rng.sample(range(0, 400), 80)
    right_keys = rng.sample(range(0, 400), 60)
    trades = pa.table(
        {
            "t": left_keys,
            "sym": [rng.choice("ab") for _ in left_keys],
            "qty": [rng.randrange(1, 9) for _ in left_keys],
        }
    )
    quotes = pa.table(
        {
            "t": right_keys,
            "sym": [rng.choice("abc") for _ in right_keys],
            "bid": [None if rng.random() < 0.1 else rng.uniform(1, 2) for _ in right_keys],
            "qty": [rng.randrange(10, 20) for _ in right_keys],
        }
    )
    return trades, quotes


ASOF = [
    dict(),
    dict(strategy="forward"),
    dict(strategy="nearest"),
    dict(by="sym"),
    dict(by="sym", strategy="forward", tolerance=7),
    dict(by="sym", strategy="nearest", tolerance=5),
    dict(tolerance=3),
    dict(allow_exact_matches=False),
    dict(strategy="forward", allow_exact_matches=False, by="sym"),
    dict(coalesce=False),
]


@pytest.mark.filterwarnings("ignore:Sortedness of columns cannot be checked")
@pytest.mark.parametrize("options", ASOF, ids=[str(o) for o in ASOF])
def test_join_asof_matches_polars(options: dict[str, Any]) -> None:
    trades, quotes = _trades_quotes(11)
    # Exact matches exist: some keys are on both sides.
    assert set(trades.column("t").to_pylist()) & set(quotes.column("t").to_pylist())
    ours = cp.from_arrow(trades).join_asof(cp.from_arrow(quotes), on="t", **options).compute()
    theirs = (
        pl.from_arrow(trades)
        .sort("t")  # type: ignore[union-attr]
        .join_asof(pl.from_arrow(quotes).sort("t"), on="t", **options)  # type: ignore[union-attr]
    )
    _same(ours, theirs, ["t"])


def test_join_asof_on_datetimes_with_left_on_right_on_and_a_duration_tolerance() -> None:
    left = pa.table({"t": pa.array(_ticks(50, 1), pa.timestamp("us")), "x": list(range(50))})
    right = pa.table({"rt": pa.array(_ticks(40, 2), pa.timestamp("us")), "y": list(range(40))})
    ours = (
        cp.from_arrow(left)
        .join_asof(cp.from_arrow(right), left_on="t", right_on="rt", tolerance="300ms")
        .compute()
    )
    theirs = (
        pl.from_arrow(left)
        .sort("t")  # type: ignore[union-attr]
        .join_asof(pl.from_arrow(right).sort("rt"), left_on="t", right_on="rt", tolerance="300ms")  # type: ignore[union-attr]
    )
    _same(ours, theirs, ["t", "x"])


def test_join_asof_bad_input() -> None:
    trades, quotes = _trades_quotes(1)
    lf, other = cp.from_arrow(trades), cp.from_arrow(quotes)
    with pytest.raises(cp.ColumnNotFoundError):
        lf.join_asof(other, on="time")
    with pytest.raises(cp.SchemaError, match="numbers, dates"):
        lf.join_asof(other, left_on="sym", right_on="t")
    with pytest.raises(cp.InvalidArgumentError, match="strategy"):
        lf.join_asof(other, on="t", strategy="closest")  # type: ignore[arg-type]
    with pytest.raises(cp.InvalidArgumentError, match="tolerance"):
        lf.join_asof(other, on="t", tolerance="1s")
    with pytest.raises(ValueError, match="on="):
        lf.join_asof(other)
