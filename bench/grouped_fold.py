"""What folding an aggregation into the fused kernel gives: grouped and ungrouped
aggregates over an in-memory table (no file decoding in the times), corepy (folded, and
with the JIT off: DataFusion's partial aggregation over the same build) against DuckDB and
Polars, in one process, interleaved.

N rows: ``k`` an Int64 key of 100 values (H2O's ``id4``), ``many`` an Int64 key of N/10
values, ``v1`` Int64 in 1..5, ``v2`` Int64 in 1..15, ``v3`` Float64 in [0, 100). Cases:

* ``avg_by_int``  — H2O q4 in memory: ``avg`` of three columns by ``k``;
* ``sum_by_int``  — three sums by ``k`` over the rows where ``v3 > 1``;
* ``std_by_int``  — ``stddev(v3)``, ``var_samp(v1)`` by ``k`` where ``v3 > 1``;
* ``std_all``     — ``stddev(v3)``, ``var_pop(v3 * 2)`` where ``v3 > 1``, no keys;
* ``many_groups`` — ``sum(v3)`` by ``many`` where ``v3 > 1``: past a few thousand groups a
  partition goes back to DataFusion's aggregation, so this shows what that costs.

Every answer is checked against DuckDB's (column sums, relative 1e-9) before it is timed.
Times include producing an Arrow result. Medians of ``--repeat`` runs, each engine's runs
interleaved with the others.

    python bench/grouped_fold.py [--rows 10000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

# Run as a script (`python bench/...py`): its folder is on the path.
from interleaved import time_cases

import corepy as cp

CASES = {
    "avg_by_int": "SELECT k, avg(v1) AS a, avg(v2) AS b, avg(v3) AS c FROM t GROUP BY k",
    "sum_by_int": "SELECT k, sum(v1) AS a, sum(v2) AS b, sum(v3) AS c FROM t "
    "WHERE v3 > 1 GROUP BY k",
    "std_by_int": "SELECT k, stddev(v3) AS a, var_samp(v1) AS b FROM t WHERE v3 > 1 GROUP BY k",
    "std_all": "SELECT stddev(v3) AS a, var_pop(v3 * 2) AS b FROM t WHERE v3 > 1",
    "many_groups": "SELECT many, sum(v3) AS a FROM t WHERE v3 > 1 GROUP BY many",
}


def data(rows: int) -> pa.Table:
    rng = np.random.default_rng(1)
    return pa.table(
        {
            "k": rng.integers(1, 101, rows),
            "many": rng.integers(0, max(rows // 10, 1), rows),
            "v1": rng.integers(1, 6, rows),
            "v2": rng.integers(1, 16, rows),
            "v3": rng.random(rows) * 100,
        }
    )


def polars_query(frame: pl.LazyFrame, case: str) -> pl.LazyFrame:
    v1, v2, v3 = pl.col("v1"), pl.col("v2"), pl.col("v3")
    if case == "avg_by_int":
        return frame.group_by("k").agg(
            v1.mean().alias("a"), v2.mean().alias("b"), v3.mean().alias("c")
        )
    kept = frame.filter(v3 > 1)
    if case == "sum_by_int":
        return kept.group_by("k").agg(v1.sum().alias("a"), v2.sum().alias("b"), v3.sum().alias("c"))
    if case == "std_by_int":
        return kept.group_by("k").agg(v3.std().alias("a"), v1.var().alias("b"))
    if case == "std_all":
        return kept.select(v3.std().alias("a"), (v3 * 2).var(ddof=0).alias("b"))
    return kept.group_by("many").agg(v3.sum().alias("a"))


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


def checksums(result: pa.Table) -> list[float]:
    """Each column's sum (the groups' order does not matter) and the row count."""
    sums = [float(pc.sum(pc.cast(c, pa.float64())).as_py() or 0.0) for c in result.columns]
    return [*sums, float(result.num_rows)]


def agrees(got: list[float], want: list[float]) -> bool:
    return len(got) == len(want) and all(
        math.isclose(a, b, rel_tol=1e-9) for a, b in zip(got, want, strict=True)
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    table = data(args.rows)
    runs = engines(table)
    print(f"{args.rows} rows, medians of {args.repeat} runs (s); ratio = corepy / engine")
    time_cases(runs, CASES, args.repeat, checksums, agrees, digits=4)


if __name__ == "__main__":
    main()
