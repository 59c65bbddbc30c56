"""Polars: the suite's lazy-API functions over ``scan_parquet`` frames (or in-memory ones).
The thread count is set by the runner through ``POLARS_MAX_THREADS``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from bench.engines.base import FrameEngine
from bench.suites import Suite


class Polars(FrameEngine):
    library = "polars"
    frames = "polars"

    def load(self, suite: Suite, directory: Path) -> None:
        import polars as pl

        paths = self._paths(suite, directory)
        if suite.in_memory:
            self.tables = {t: pl.read_parquet(p).rechunk().lazy() for t, p in paths.items()}
        else:
            self.tables = {t: pl.scan_parquet(p) for t, p in paths.items()}
        self._load_functions(suite)

    def run(self, query: str) -> Any:
        return self.build(query).collect()

    def to_arrow(self, result: Any) -> pa.Table:
        return result.to_arrow()
