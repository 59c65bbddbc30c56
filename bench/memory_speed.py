"""Fused expressions against memory speed, in one process: corepy's fused f64 expressions end
to end (a query over in-memory columns in corepy's default session, ``.compute()`` to its
result) against STREAM's triad (``a = b + s·c``) on every core, interleaved run by run so
that both see the same host.

A row-wise expression over columns in memory can go no faster than the memory lets it read
its inputs and write its output, so the triad is its ceiling. Each run is counted in the
bytes it names (STREAM's convention: every column read once, the output written once; the
triad's three arrays), and the figure is the expression's bytes per second over the
triad's, medians of ``--repeat`` interleaved runs. 1.0 would be memory speed end to end:
planning, scheduling, output allocation and the kernel together.

Cases, on four float64 columns ``a b c d`` of ``--rows`` (2e7) uniform values in 65 536-row
batches (as the ``expr`` suite loads them): the ``expr`` suite's 2-, 5- and 10-operator
expressions, by SQL and (the 10-operator one) by the lazy API. Each answer is checked
against NumPy's before it is timed.

    python -m bench run memory [--runs 9] [--smoke]
    python -m bench.memory_speed [--rows 20000000] [--threads 2] [--repeat 9]
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

import corepy as cp
from bench import runner
from bench.suites.expr import EXPRESSIONS
from corepy import _core

#: The input columns each expression reads.
COLUMNS = {name: sorted(set(text) & set("abcd")) for name, text in EXPRESSIONS.items()}


def cases(session: cp.Session) -> dict[str, tuple[Callable[[], Any], int]]:
    """Each case's run (returning its computed result) and the columns it reads."""
    table = session.sql("SELECT * FROM dense")
    runs: dict[str, tuple[Callable[[], Any], int]] = {}
    for name, text in EXPRESSIONS.items():
        sql = f"SELECT {text} AS x FROM dense"
        runs[f"{name}-sql"] = (lambda q=sql: session.sql(q).compute(), len(COLUMNS[name]))
    columns = {c: cp.col(c) for c in "abcd"}
    ops10 = eval(EXPRESSIONS["ops10"], {}, columns)
    runs["ops10-lazy"] = (
        lambda: table.select(ops10.alias("x")).compute(),
        len(COLUMNS["ops10"]),
    )
    return runs


def check(name: str, result: Any, data: dict[str, np.ndarray[Any, Any]]) -> None:
    expression = EXPRESSIONS[name.split("-")[0]]
    expected = eval(expression, {}, data)
    got = result.to_arrow().column("x").to_numpy()
    # Sorted, as the expr suite compares: a query without ORDER BY promises no row order.
    np.testing.assert_allclose(np.sort(got), np.sort(expected), rtol=1e-12)


def run(rows: int, threads: int, repeat: int) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    data = {c: rng.random(rows) for c in "abcd"}
    table = pa.table(data)
    # corepy as a user gets it: the default session (partitions: twice the cores).
    session = cp.Session()
    batches = table.to_batches(max_chunksize=1 << 16)
    session.register("dense", pa.Table.from_batches(batches, table.schema))
    triad = _core._Triad(rows, threads)
    runs = cases(session)
    for name, (fn, _) in runs.items():
        check(name, fn(), data)
    times: dict[str, list[float]] = {name: [] for name in ["triad", *runs]}
    paired: dict[str, list[float]] = {name: [] for name in runs}
    triad.run()
    for _ in range(repeat):
        for name, (fn, inputs) in runs.items():
            times["triad"].append(triad.run())
            times[name].append(_timed(fn))
            # This run's rate over the triad run just before it: robust to the host's drift.
            case_rate = (inputs + 1) * 8 * rows / times[name][-1]
            paired[name].append(case_rate / (triad.bytes() / times["triad"][-1]))
    triad_rate = triad.bytes() / statistics.median(times["triad"])
    result: dict[str, Any] = {
        "triad": {"seconds": statistics.median(times["triad"]), "bytes_per_s": triad_rate},
    }
    for name, (_, inputs) in runs.items():
        seconds = statistics.median(times[name])
        rate = (inputs + 1) * 8 * rows / seconds
        result[name] = {
            "seconds": seconds,
            "bytes_per_s": rate,
            "fraction_of_triad": rate / triad_rate,
            "paired_fraction": statistics.median(paired[name]),
            "all_seconds": times[name],
        }
    result["triad"]["all_seconds"] = times["triad"]
    return result


def _timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    del result
    return seconds


def markdown(result: dict[str, Any]) -> str:
    details = (
        f"{result['rows']:,} rows, the triad on {result['threads']} threads, corepy's default "
        f"session; medians of {result['repeat']} interleaved runs."
    )
    lines = [
        *runner.in_process_header(result, "memory-speed suite", details),
        "| case | seconds | GB/s (named bytes) | fraction of the triad: medians "
        "| median of each run over the triad run before it |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, figures in result["times"].items():
        fraction = figures.get("fraction_of_triad", 1.0)
        paired = figures.get("paired_fraction", 1.0)
        lines.append(
            f"| {name} | {figures['seconds']:.4f} | {figures['bytes_per_s'] / 1e9:.1f} "
            f"| {fraction:.2f} | {paired:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None, out: Path | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="the triad's")
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args(argv)
    result = {
        "suite": "memory",
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": runner.machine(),
        "provenance": runner.provenance(),
        "rows": args.rows,
        "threads": args.threads,
        "repeat": args.repeat,
        "times": run(args.rows, args.threads, args.repeat),
    }
    text = markdown(result)
    print(text)
    if out is not None:
        print(f"results: {runner.write_in_process(result, text, out)}")


if __name__ == "__main__":
    main()
