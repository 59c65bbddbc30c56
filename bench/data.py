"""Benchmark data, generated once and cached under ``bench/data/`` (ignored by git).

* TPC-H: ``corepy gen tpch`` (the ``tpchgen`` crates), one Parquet file per table.
* H2O db-benchmark group-by table G1: our own generator of the same distributions
  (see :func:`write_h2o_groupby`).
* Expressions: four float columns ``a b c d`` uniform in [0, 1), without and with nulls.

A data set is written into a temporary sibling directory and renamed into place when
complete, so an interrupted generation never leaves a half-written data set behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

DATA_DIR = Path(os.environ.get("COREPY_BENCH_DATA", Path(__file__).parent / "data"))

TPCH_TABLES = ("region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem")


def scale_name(scale: float) -> str:
    """``1.0`` → ``"1"``, ``0.01`` → ``"0.01"``, ``1e7`` → ``"1e7"``, ``12345678`` →
    ``"12345678"``: the scale as written in paths and results, exact."""
    if scale == int(scale):
        digits = str(int(scale))
        zeros = len(digits) - len(digits.rstrip("0"))
        return f"{digits[: len(digits) - zeros]}e{zeros}" if zeros >= 3 else digits
    return repr(scale)


def cached(name: str, write: Callable[[Path], None]) -> Path:
    """The data set ``DATA_DIR/name``, written by ``write(tmp_dir)`` if it is not there yet."""
    target = DATA_DIR / name
    if target.is_dir():
        return target
    partial = DATA_DIR / f".{name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    started = time.perf_counter()
    print(f"generating {name} in {target} …", file=sys.stderr, flush=True)
    try:
        write(partial)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    partial.rename(target)
    print(f"generated {name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return target


def tpch(scale: float) -> Path:
    """TPC-H at ``scale``: ``<dir>/<table>.parquet`` for the eight tables."""

    def write(directory: Path) -> None:
        command = [sys.executable, "-m", "corepy.cli", "gen", "tpch"]
        command += ["--scale", scale_name(scale), "--output", str(directory)]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

    return cached(f"tpch-sf{scale_name(scale)}", write)


def h2o_groupby(rows: int, groups: int = 100, seed: int = 1) -> Path:
    """The H2O db-benchmark group-by table G1 with ``rows`` rows and ``groups`` groups
    (``G1_1e7_1e2_0_0`` for ``h2o_groupby(10**7)``), as one Parquet file ``x.parquet``."""

    def write(directory: Path) -> None:
        write_h2o_groupby(directory / "x.parquet", rows, groups, seed)

    return cached(f"h2o-groupby-{scale_name(rows)}-{groups}", write)


def write_h2o_groupby(path: Path, rows: int, groups: int, seed: int) -> None:
    """Writes G1 with the distributions of the db-benchmark's ``groupby-datagen.R`` (no NAs,
    unsorted): ``id1``, ``id2`` strings ``id001 …`` of ``groups`` values, ``id3`` strings
    ``id0000000001 …`` of ``rows / groups`` values, ``id4``, ``id5`` integers 1…``groups``,
    ``id6`` integers 1…``rows / groups``, ``v1`` 1…5, ``v2`` 1…15, ``v3`` uniform in
    [0, 100) rounded to 6 decimals. Each column is drawn uniformly with replacement, as R's
    ``sample(…, replace=TRUE)``; only the random stream differs from R's."""
    rng = np.random.default_rng(seed)
    small = groups
    large = max(rows // groups, 1)
    writer: pq.ParquetWriter | None = None
    chunk = 1_000_000
    small_names = np.array([f"id{i:03d}" for i in range(1, small + 1)], dtype=object)
    large_names = np.array([f"id{i:010d}" for i in range(1, large + 1)], dtype=object)
    try:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            batch = pa.table(
                {
                    "id1": pa.array(small_names[rng.integers(0, small, n)], pa.string()),
                    "id2": pa.array(small_names[rng.integers(0, small, n)], pa.string()),
                    "id3": pa.array(large_names[rng.integers(0, large, n)], pa.string()),
                    "id4": rng.integers(1, small + 1, n, dtype=np.int64),
                    "id5": rng.integers(1, small + 1, n, dtype=np.int64),
                    "id6": rng.integers(1, large + 1, n, dtype=np.int64),
                    "v1": rng.integers(1, 6, n, dtype=np.int64),
                    "v2": rng.integers(1, 16, n, dtype=np.int64),
                    "v3": np.round(rng.uniform(0, 100, n), 6),
                }
            )
            if writer is None:
                writer = pq.ParquetWriter(path, batch.schema)
            writer.write_table(batch, row_group_size=chunk)
    finally:
        if writer is not None:
            writer.close()


def expressions(rows: int, seed: int = 7) -> Path:
    """Four float columns ``a b c d`` uniform in [0, 1): ``dense.parquet`` without nulls and
    ``nulls.parquet`` with 10% nulls in each column (the expression benchmark's data)."""

    def write(directory: Path) -> None:
        rng = np.random.default_rng(seed)
        columns = {name: rng.random(rows) for name in "abcd"}
        pq.write_table(pa.table(columns), directory / "dense.parquet", compression="none")
        masked = {
            name: pa.array(values, mask=rng.random(rows) < 0.1) for name, values in columns.items()
        }
        pq.write_table(pa.table(masked), directory / "nulls.parquet", compression="none")

    return cached(f"expr-{scale_name(rows)}", write)
