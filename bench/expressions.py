"""Expression benchmark: fused JIT kernels against DataFusion's own evaluation and peers.

20M rows of four f64 columns (once without nulls, once with 10% nulls); expressions of
2, 5 and 10 operators; and a 5-operator projection under filters keeping 1% and 50% of
the rows. Every engine computes the same result column in one process, interleaved, and
the STREAM triad (``a = b + 3 * c`` over preallocated arrays, numexpr on all cores) is
measured between them as the memory-bandwidth ceiling. Reported: median seconds,
effective GB/s (bytes of the columns read plus the result written), and ratios.

    python bench/expressions.py [--rows 20000000] [--repeat 5] [--json out.json]

Peers: corepy with ``Config(jit=False)`` (DataFusion's evaluation on the same build),
NumPy, numexpr, Polars, DuckDB. NumPy and numexpr have no NULLs: they run the no-null
cases only. Times include producing the result as an array (Arrow for the engines).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import numexpr as ne
import numpy as np
import polars as pl
import pyarrow as pa

import corepy as cp

EXPRESSIONS = {
    "2 ops": "a * b + c",
    "5 ops": "(a + b) * (c - d) / (a + 1.0)",
    "10 ops": "((a + b) * (c - d) + (a * c - b * d)) / (d + 1.0) - a",
}
FILTERS = {"filter 1%": "a < 0.01", "filter 50%": "a < 0.5"}
FILTERED_EXPRESSION = EXPRESSIONS["5 ops"]
COLUMNS = "abcd"
_FRESH = itertools.count(1)


@dataclass
class Case:
    name: str
    expression: str
    predicate: str | None
    nulls: bool

    def columns_read(self) -> int:
        text = self.expression + (self.predicate or "")
        return sum(1 for c in COLUMNS if re.search(rf"\b{c}\b", text))


def sql_text(case: Case) -> str:
    where = f" WHERE {case.predicate}" if case.predicate else ""
    return f"SELECT {case.expression} AS x FROM t{where}"


def make_data(rows: int, nulls: bool, seed: int = 7) -> pa.Table:
    rng = np.random.default_rng(seed)
    arrays = {}
    for name in COLUMNS:
        values = rng.random(rows)
        mask = rng.random(rows) < 0.10 if nulls else None
        arrays[name] = pa.array(values, mask=mask)
    table = pa.table(arrays)
    # Many batches, so that every engine can use every core.
    return pa.Table.from_batches(table.to_batches(max_chunksize=1 << 16))


def polars_expr(text: str) -> pl.Expr:
    env = {c: pl.col(c) for c in COLUMNS}
    return eval(text, {}, env)


def numpy_eval(text: str, arrays: dict[str, np.ndarray]) -> Callable[[], object]:
    code = compile(text, "<expr>", "eval")
    return lambda: eval(code, {}, arrays)


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def runners(case: Case, table: pa.Table) -> dict[str, Callable[[], object]]:
    sql = sql_text(case)
    jit = cp.Session(config=cp.Config(jit=True))
    nojit = cp.Session(config=cp.Config(jit=False))
    for session in (jit, nojit):
        session.register("t", table)
    con = duckdb.connect()
    con.register("t", table)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    lazy = frame.lazy()
    query = lazy.filter(polars_expr(case.predicate)) if case.predicate else lazy
    query = query.select(polars_expr(case.expression).alias("x"))
    out: dict[str, Callable[[], object]] = {
        "corepy jit": lambda: jit.sql(sql).compute(),
        "corepy jit=False": lambda: nojit.sql(sql).compute(),
        "polars": lambda: query.collect(),
        "duckdb": lambda: con.sql(sql).to_arrow_table(),
    }
    if not case.nulls:
        arrays = {c: table.column(c).to_numpy() for c in COLUMNS}
        if case.predicate:
            mask_code = compile(case.predicate, "<p>", "eval")
            expr_code = compile(case.expression, "<e>", "eval")

            def numpy_filtered() -> object:
                keep = eval(mask_code, {}, arrays)
                return eval(expr_code, {}, {c: v[keep] for c, v in arrays.items()})

            out["numpy"] = numpy_filtered
            predicate, expression = case.predicate, case.expression

            def numexpr_filtered() -> object:
                keep = ne.evaluate(predicate, local_dict=arrays)
                return ne.evaluate(expression, local_dict={c: v[keep] for c, v in arrays.items()})

            out["numexpr"] = numexpr_filtered
        else:
            out["numpy"] = numpy_eval(case.expression, arrays)
            out["numexpr"] = lambda: ne.evaluate(case.expression, local_dict=arrays)
    return out


def compile_time_ms(table: pa.Table, case: Case) -> float | None:
    """The compile time EXPLAIN ANALYZE reports for this case's kernel in a fresh process
    state (the kernel cache is per process, so each distinct expression compiles once)."""
    session = cp.Session()
    session.register("t", table.slice(0, 1000))
    # A constant of its own makes the kernel new to the process-wide kernel cache.
    sql = f"SELECT {case.expression} + {next(_FRESH)}.5 AS x FROM t"
    if case.predicate:
        sql += f" WHERE {case.predicate}"
    text = session.sql(sql).explain(analyze=True)
    m = re.search(r"compile_time=([\d.]+)(ns|µs|ms|s)\b", text)
    if not m:
        return None
    scale = {"ns": 1e-6, "µs": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
    return float(m.group(1)) * scale


def triad(rows: int) -> Callable[[], object]:
    a = np.empty(rows)
    b = np.random.default_rng(1).random(rows)
    c = np.random.default_rng(2).random(rows)
    ne.evaluate("b + 3.0 * c", out=a)  # touch the output pages once
    return lambda: ne.evaluate("b + 3.0 * c", local_dict={"b": b, "c": c}, out=a)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", help="write the results here as JSON")
    args = parser.parse_args()
    rows = args.rows
    cases = [Case(n, e, None, nul) for nul in (False, True) for n, e in EXPRESSIONS.items()]
    cases += [
        Case(n, FILTERED_EXPRESSION, p, nul) for nul in (False, True) for n, p in FILTERS.items()
    ]
    print(f"rows={rows:,} repeat={args.repeat} cores={os.cpu_count()} numexpr={ne.nthreads}")
    stream = triad(rows)
    triad_times: list[float] = []
    results = []
    tables = {False: make_data(rows, False), True: make_data(rows, True)}
    for case in cases:
        table = tables[case.nulls]
        engines = runners(case, table)
        for run in engines.values():
            run()  # warm up: compile, page in
        times: dict[str, list[float]] = {name: [] for name in engines}
        for _ in range(args.repeat):
            triad_times.append(timed(stream))
            for name, run in engines.items():
                times[name].append(timed(run))
        medians = {name: statistics.median(t) for name, t in times.items()}
        kept = 1.0 if case.predicate is None else (0.01 if "1%" in case.name else 0.5)
        bytes_moved = rows * 8 * case.columns_read() + rows * 8 * kept
        results.append(
            {
                "case": case.name,
                "nulls": case.nulls,
                "sql": sql_text(case),
                "seconds": medians,
                "gb_per_s": {n: bytes_moved / s / 1e9 for n, s in medians.items()},
                "compile_ms": compile_time_ms(table, case),
            }
        )
    triad_gbs = 3 * rows * 8 / statistics.median(triad_times) / 1e9
    report(results, triad_gbs)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "triad_gb_per_s": triad_gbs, "results": results}, f, indent=2)


NAMES = ["corepy jit", "corepy jit=False", "numpy", "numexpr", "polars", "duckdb"]
RATIOS = ["jit vs jit=False", "jit vs numexpr", "jit vs polars", "jit % of triad", "compile ms"]


def ratio(secs: dict[str, float], peer: str) -> str:
    return f"{secs[peer] / secs['corepy jit']:.2f}×" if peer in secs else "—"


def report(results: list[dict[str, object]], triad_gbs: float) -> None:
    print(f"\nSTREAM triad (numexpr, all cores): {triad_gbs:.1f} GB/s\n")
    print("| case | nulls | " + " | ".join(NAMES + RATIOS) + " |")
    print("|---" * (len(NAMES) + len(RATIOS) + 2) + "|")
    for r in results:
        secs: dict[str, float] = r["seconds"]  # type: ignore[assignment]
        gbs: dict[str, float] = r["gb_per_s"]  # type: ignore[assignment]
        cells = [f"{secs[n]:.3f} s ({gbs[n]:.1f} GB/s)" if n in secs else "—" for n in NAMES]
        compile_ms = r["compile_ms"]
        cells += [
            ratio(secs, "corepy jit=False"),
            ratio(secs, "numexpr"),
            ratio(secs, "polars"),
            f"{100 * gbs['corepy jit'] / triad_gbs:.0f}%",
            f"{compile_ms:.3f}" if isinstance(compile_ms, float) else "—",
        ]
        print(f"| {r['case']} | {'10%' if r['nulls'] else '0%'} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
