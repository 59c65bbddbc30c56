"""corepy.data runs Polars-style feature code as written: read a file eagerly, select,
rolling windows per group, write Parquet. Checked against Polars on the same data."""

from __future__ import annotations

import datetime as dt
import math
import os
import random
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.feather as feather
import pytest


def _trades(path: Path) -> pl.DataFrame:
    """Trades of three symbols over a minute, some sharing a timestamp, in time order
    with symbols interleaved (an extra column the example drops)."""
    rng = random.Random(7)
    start = dt.datetime(2024, 3, 1, 9, 30)
    rows = []
    for _ in range(400):
        t = start + dt.timedelta(milliseconds=rng.randrange(0, 60_000, 50))
        rows.append((rng.choice(["AAPL", "MSFT", "NVDA"]), round(rng.uniform(90, 110), 2), t))
    rows.sort(key=lambda r: r[2])
    table = pa.table(
        {
            "symbol": [r[0] for r in rows],
            "price": [r[1] for r in rows],
            "timestamp": pa.array([r[2] for r in rows], pa.timestamp("us")),
            "size": [rng.randrange(1, 500) for _ in rows],
        }
    )
    feather.write_feather(table, path, compression="uncompressed")
    return pl.from_arrow(table)  # type: ignore[return-value]


def test_the_feature_example_runs_verbatim_and_matches_polars(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trades = _trades(tmp_path / "trade_data.arrow")
    monkeypatch.chdir(tmp_path)

    # The example, exactly as users write it.
    # fmt: off
    import corepy as cp
    import corepy.data as cpd
    df = cpd.read_ipc("trade_data.arrow")
    features = (df.select("symbol", "price", "timestamp").group_by("symbol").rolling("1s")
        .agg([cp.mean("price").alias("vwap"), cp.std("price").alias("volatility")]))
    features.write_parquet("features.parquet")
    # fmt: on

    assert isinstance(features, cp.DataFrame)
    assert os.path.exists("features.parquet")
    written = pl.read_parquet("features.parquet")
    expected = (
        trades.sort("timestamp")
        .rolling("timestamp", period="1s", group_by="symbol")
        .agg(pl.col("price").mean().alias("vwap"), pl.col("price").std().alias("volatility"))
    )
    assert written.columns == expected.columns == ["symbol", "timestamp", "vwap", "volatility"]
    assert written.height == expected.height == trades.height

    def rows(frame: pl.DataFrame) -> list[tuple[object, ...]]:
        return sorted(frame.rows(), key=lambda r: (r[0], r[1], r[2], r[3] or 0.0))

    for got, want in zip(rows(written), rows(expected), strict=True):
        assert got[:2] == want[:2]
        for a, b in zip(got[2:], want[2:], strict=True):
            assert (a is None and b is None) or math.isclose(a, b, rel_tol=1e-9), (got, want)


def test_corepy_data_exposes_the_readers() -> None:
    import corepy as cp
    import corepy.data as cpd

    for name in cpd.__all__:
        assert getattr(cpd, name) is getattr(cp, name)
    assert {"read_ipc", "read_parquet", "read_csv", "scan_ipc", "from_dict"} <= set(cpd.__all__)
