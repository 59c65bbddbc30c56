"""Reading and writing compressed CSV: corepy against DuckDB and Polars on the same files,
in one process, interleaved.

A CSV of N rows (``id`` Int64, ``x`` Float64, ``name`` short text) is written plain, gzip
and zstd. Cases:

* ``read-<codec>``  — ``count(*)``, ``sum(id)``, ``sum(x)`` over the file (every byte is
  decoded and parsed). Polars cannot scan a compressed CSV lazily; its ``read_csv``
  decompresses the file into memory first, which is what is timed for it.
* ``write-<codec>`` — the N rows, held in memory, written to ``out.csv.<codec>``
  (corepy's ``sink_csv``, DuckDB's ``COPY … (COMPRESSION …)``; Polars writes no
  compressed CSV, so it is left out).

Every engine's answer is checked against DuckDB's before it is timed; every written file
is read back by DuckDB and counted. Medians of ``--repeat`` runs.

    python bench/compressed_files.py [--rows 5000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

import corepy as cp

CODECS = {"plain": "", "gzip": ".gz", "zstd": ".zst"}


def data(rows: int) -> pa.Table:
    rng = np.random.default_rng(7)
    return pa.table(
        {
            "id": np.arange(rows, dtype=np.int64),
            "x": rng.normal(size=rows).round(6),
            "name": pa.array(rng.choice(["alpha", "beta", "gamma", "delta"], rows)),
        }
    )


def write_inputs(table: pa.Table, folder: Path) -> dict[str, Path]:
    con = duckdb.connect()
    con.register("t", table)
    paths = {}
    for codec, suffix in CODECS.items():
        path = folder / f"in.csv{suffix}"
        compression = "none" if codec == "plain" else codec
        con.sql(f"COPY t TO '{path}' (FORMAT csv, HEADER, COMPRESSION {compression})")
        paths[codec] = path
    return paths


def summary(result: pa.Table) -> tuple[int, int, float]:
    row = result.to_pylist()[0]
    return int(row["n"]), int(row["s"]), round(float(row["x"]), 3)


def readers(path: Path) -> dict[str, Callable[[], tuple[int, int, float]]]:
    query = "SELECT count(*) AS n, sum(id) AS s, sum(x) AS x FROM {}"

    def polars() -> tuple[int, int, float]:
        frame = pl.read_csv(path).select(
            pl.len().alias("n"), pl.col("id").sum().alias("s"), pl.col("x").sum().alias("x")
        )
        return summary(frame.to_arrow())

    return {
        "corepy": lambda: summary(cp.sql(query.format(f"'{path}'")).compute().to_arrow()),
        "duckdb": lambda: summary(duckdb.sql(query.format(f"read_csv('{path}')")).to_arrow_table()),
        "polars": polars,
    }


def writers(table: pa.Table, folder: Path, codec: str) -> dict[str, Callable[[], Path]]:
    frame = cp.from_arrow(table)
    con = duckdb.connect()
    con.register("t", table)

    def corepy() -> Path:
        path = folder / f"corepy.csv{CODECS[codec]}"
        frame.sink_csv(path)
        return path

    def duck() -> Path:
        path = folder / f"duckdb.csv{CODECS[codec]}"
        compression = "none" if codec == "plain" else codec
        con.sql(f"COPY t TO '{path}' (FORMAT csv, HEADER, COMPRESSION {compression})")
        return path

    return {"corepy": corepy, "duckdb": duck}


def timed(runs: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(t) for name, t in times.items()}


def report(case: str, medians: dict[str, float]) -> None:
    line = ", ".join(
        f"{name} {m:.3f}" + ("" if name == "corepy" else f" ({medians['corepy'] / m:.2f})")
        for name, m in medians.items()
    )
    print(f"{case:12s} {line}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    table = data(args.rows)
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        inputs = write_inputs(table, folder)
        sizes = ", ".join(f"{c} {p.stat().st_size / 1e6:.0f} MB" for c, p in inputs.items())
        print(f"{args.rows} rows ({sizes}); medians of {args.repeat} runs (s);")
        print("ratio = corepy / engine (below 1: corepy is faster)")
        for codec, path in inputs.items():
            runs = readers(path)
            expected = runs["duckdb"]()
            for name, run in runs.items():
                assert run() == expected, f"read-{codec}: {name} answers {run()} != {expected}"
            report(f"read-{codec}", timed(dict(runs), args.repeat))
        for codec in CODECS:
            outputs = writers(table, folder, codec)
            for name, write in outputs.items():
                written = write()
                count = duckdb.sql(f"SELECT count(*) FROM read_csv('{written}')").fetchall()[0]
                assert count == (args.rows,), f"write-{codec}: {name} wrote {count} rows"
            report(f"write-{codec}", timed(dict(outputs), args.repeat))


if __name__ == "__main__":
    main()
