"""What checked integer arithmetic costs: integer expressions and sums over Int64 columns,
corepy (fused, and with the JIT off) against DuckDB (which also fails on overflow) and
Polars (which wraps), on the same data, in one process, interleaved.

Three Int64 columns ``a b c`` uniform in [-10^6, 10^6] (no overflow), N rows. Cases:

* ``expr``   — ``a * 3 + b - c``;
* ``filter`` — the same over the rows where ``a > 0``;
* ``sum``    — ``sum(a * 3 + b - c)`` (checked grouped-free sum).

Every answer is checked against DuckDB's before it is timed. Times include producing an
Arrow result. Medians of ``--repeat`` runs, each engine's runs interleaved with the others.

    python bench/checked_integers.py [--rows 20000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

# Run as a script (`python bench/...py`): its folder is on the path.
from interleaved import time_cases

import corepy as cp

CASES = {
    "expr": "SELECT a * 3 + b - c AS x FROM t",
    "filter": "SELECT a * 3 + b - c AS x FROM t WHERE a > 0",
    "sum": "SELECT sum(a * 3 + b - c) AS x FROM t",
}


def data(rows: int) -> pa.Table:
    rng = np.random.default_rng(1)
    columns = {n: rng.integers(-1_000_000, 1_000_000, rows, dtype=np.int64) for n in "abc"}
    return pa.table(columns)


def polars_query(frame: pl.LazyFrame, case: str) -> pl.LazyFrame:
    x = pl.col("a") * 3 + pl.col("b") - pl.col("c")
    if case == "filter":
        frame = frame.filter(pl.col("a") > 0)
    return frame.select(x.sum().alias("x") if case == "sum" else x.alias("x"))


def engines(table: pa.Table) -> dict[str, Callable[[str], pa.Table]]:
    jit = cp.Session()
    nojit = cp.Session(config=cp.Config(jit=False))
    for session in (jit, nojit):
        session.register("t", table)
    con = duckdb.connect()
    con.register("t", table)
    frame = pl.from_arrow(table).lazy()
    assert isinstance(frame, pl.LazyFrame)
    return {
        "corepy": lambda case: jit.sql(CASES[case]).compute().to_arrow(),
        "corepy-nojit": lambda case: nojit.sql(CASES[case]).compute().to_arrow(),
        "duckdb": lambda case: con.sql(CASES[case]).to_arrow_table(),
        "polars": lambda case: polars_query(frame, case).collect().to_arrow(),
    }


def checksum(result: pa.Table) -> int:
    return int(pa.compute.sum(result.column(0)).as_py() or 0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    table = data(args.rows)
    runs = engines(table)
    print(f"{args.rows} rows, medians of {args.repeat} runs (s); ratio = corepy / engine")
    time_cases(runs, CASES, args.repeat, checksum, lambda got, want: got == want, digits=3)


if __name__ == "__main__":
    main()
