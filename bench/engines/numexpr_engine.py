"""numexpr over NumPy arrays in memory (the expression suite's bandwidth reference)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bench.engines.base import FrameEngine
from bench.suites import Suite


class Numexpr(FrameEngine):
    library = "numexpr"
    frames = "numexpr"

    def load(self, suite: Suite, directory: Path) -> None:
        import numexpr

        numexpr.set_num_threads(self.threads)
        self._load_functions(suite)
        self.tables = {}
        for table, path in self._paths(suite, directory).items():
            arrow = pq.read_table(path)
            if all(column.null_count == 0 for column in arrow.columns):
                self.tables[table] = {n: arrow.column(n).to_numpy() for n in arrow.column_names}

    def run(self, query: str) -> Any:
        return self.build(query)

    def to_arrow(self, result: Any) -> pa.Table:
        return pa.table({"x": np.asarray(result)})
