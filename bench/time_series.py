"""Time-series benchmark: rolling windows, dynamic (grid) windows and as-of joins, corepy
against Polars and DuckDB on the same data, in one process, interleaved.

Trades: N rows over 100 symbols and one trading day of microsecond timestamps, with a
price and a size; quotes: N / 2 rows. Cases:

* ``rolling 1s``  — per symbol, mean and std of the price over (t - 1 s, t];
* ``dynamic 1m``  — per symbol, one-minute bars (high, low, sum of size, count);
* ``asof``        — each trade with the last quote of its symbol at or before it.

Every engine's answer is checked against Polars' (row count and a checksum) before it is
timed; a mismatch is reported, not timed. Times include producing an Arrow result.
Polars and DuckDB get sorted inputs (they need them; corepy does not), sorted outside the
timing.

    python bench/time_series.py [--rows 2000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
import warnings
from collections.abc import Callable

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

import corepy as cp

DAY_US = 6 * 3600 * 1_000_000


def data(rows: int, seed: int = 1) -> tuple[pa.Table, pa.Table]:
    rng = np.random.default_rng(seed)
    symbols = np.array([f"S{i:03d}" for i in range(100)])

    def side(n: int) -> dict[str, object]:
        start = np.datetime64("2024-03-01T09:30:00", "us")
        offsets = np.sort(rng.integers(0, DAY_US, n))
        return {
            "symbol": symbols[rng.integers(0, 100, n)],
            "timestamp": start + offsets.astype("timedelta64[us]"),
        }

    trades = side(rows)
    trades["price"] = rng.normal(100, 5, rows)
    trades["size"] = rng.integers(1, 1000, rows)
    quotes = side(rows // 2)
    quotes["bid"] = rng.normal(100, 5, rows // 2)
    return pa.table(trades), pa.table(quotes)


def corepy_cases(trades: pa.Table, quotes: pa.Table) -> dict[str, Callable[[], pa.Table]]:
    t, q = cp.from_arrow(trades), cp.from_arrow(quotes)
    return {
        "rolling 1s": lambda: (
            t.group_by("symbol")
            .rolling("1s")
            .agg(cp.mean("price").alias("m"), cp.std("price").alias("s"))
            .compute()
            .to_arrow()
        ),
        "dynamic 1m": lambda: (
            t.group_by_dynamic("timestamp", every="1m", group_by="symbol")
            .agg(
                cp.max("price").alias("hi"),
                cp.min("price").alias("lo"),
                cp.sum("size").alias("v"),
                cp.len(),
            )
            .compute()
            .to_arrow()
        ),
        "asof": lambda: t.join_asof(q, on="timestamp", by="symbol").compute().to_arrow(),
    }


def polars_cases(trades: pa.Table, quotes: pa.Table) -> dict[str, Callable[[], pa.Table]]:
    t = pl.from_arrow(trades).sort("symbol", "timestamp")  # type: ignore[union-attr]
    by_time = pl.from_arrow(trades).sort("timestamp")  # type: ignore[union-attr]
    q = pl.from_arrow(quotes).sort("timestamp")  # type: ignore[union-attr]
    return {
        "rolling 1s": lambda: (
            t.rolling("timestamp", period="1s", group_by="symbol")
            .agg(pl.mean("price").alias("m"), pl.std("price").alias("s"))
            .to_arrow()
        ),
        "dynamic 1m": lambda: (
            t.group_by_dynamic("timestamp", every="1m", group_by="symbol")
            .agg(
                pl.max("price").alias("hi"),
                pl.min("price").alias("lo"),
                pl.sum("size").alias("v"),
                pl.len(),
            )
            .to_arrow()
        ),
        "asof": lambda: by_time.join_asof(q, on="timestamp", by="symbol").to_arrow(),
    }


def duckdb_cases(trades: pa.Table, quotes: pa.Table) -> dict[str, Callable[[], pa.Table]]:
    con = duckdb.connect()
    con.register("trades", trades)
    con.register("quotes", quotes)
    return {
        "rolling 1s": lambda: con.sql(
            """SELECT symbol, timestamp,
                 avg(price) OVER w AS m, stddev_samp(price) OVER w AS s FROM trades
               WINDOW w AS (PARTITION BY symbol ORDER BY timestamp
                 RANGE BETWEEN INTERVAL 999999 MICROSECONDS PRECEDING AND CURRENT ROW)"""
        ).to_arrow_table(),
        "dynamic 1m": lambda: con.sql(
            """SELECT symbol, time_bucket(INTERVAL 1 MINUTE, timestamp) AS timestamp,
                 max(price) AS hi, min(price) AS lo, sum(size)::BIGINT AS v, count(*) AS len
               FROM trades GROUP BY ALL"""
        ).to_arrow_table(),
        "asof": lambda: con.sql(
            """SELECT t.*, q.bid FROM trades t ASOF LEFT JOIN quotes q
               ON t.symbol = q.symbol AND t.timestamp >= q.timestamp"""
        ).to_arrow_table(),
    }


def checksum(table: pa.Table) -> tuple[int, float]:
    total = 0.0
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_floating(column.type) or pa.types.is_integer(column.type):
            values = column.to_numpy(zero_copy_only=False)
            total += float(np.nansum(values.astype("float64")))
    return table.num_rows, total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    # Polars warns that it cannot check sortedness within `by` groups; the data is sorted.
    warnings.filterwarnings("ignore", message="Sortedness of columns cannot be checked")
    trades, quotes = data(args.rows)
    engines = {
        "corepy": corepy_cases(trades, quotes),
        "polars": polars_cases(trades, quotes),
        "duckdb": duckdb_cases(trades, quotes),
    }
    print(f"{args.rows:,} trades, {args.rows // 2:,} quotes; medians of {args.repeat}\n")
    print("| case | corepy | polars | duckdb | corepy / polars | corepy / duckdb |")
    print("|---|---|---|---|---|---|")
    for case in engines["corepy"]:
        expected = checksum(engines["polars"][case]())
        times: dict[str, list[float]] = {name: [] for name in engines}
        wrong: set[str] = set()
        for name, cases in engines.items():
            rows, total = checksum(cases[case]())
            if rows != expected[0] or not math.isclose(total, expected[1], rel_tol=1e-6):
                wrong.add(name)
        for _ in range(args.repeat):
            for name, cases in engines.items():
                if name in wrong:
                    continue
                started = time.perf_counter()
                cases[case]()
                times[name].append(time.perf_counter() - started)
        med = {n: statistics.median(v) if v else math.nan for n, v in times.items()}
        shown = {n: "wrong" if n in wrong else f"{med[n]:.3f} s" for n in engines}
        ratio = {
            n: "—" if {n, "corepy"} & wrong else f"{med['corepy'] / med[n]:.2f}×"
            for n in ("polars", "duckdb")
        }
        print(
            f"| {case} | {shown['corepy']} | {shown['polars']} | {shown['duckdb']} | "
            f"{ratio['polars']} | {ratio['duckdb']} |"
        )


if __name__ == "__main__":
    main()
