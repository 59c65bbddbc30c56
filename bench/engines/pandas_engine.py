"""pandas: the suite's pandas functions over DataFrames read once before timing (pandas has
no lazy scan; reading is not timed, while the other engines read Parquet in every run)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pyarrow as pa

from bench.engines.base import FrameEngine
from bench.suites import Suite


class Pandas(FrameEngine):
    library = "pandas"
    frames = "pandas"

    def load(self, suite: Suite, directory: Path) -> None:
        self._load_functions(suite)
        if not self.functions:
            return
        module = importlib.import_module(suite.frame_modules[self.frames])
        self.tables = {t: module.load(p) for t, p in self._paths(suite, directory).items()}

    def run(self, query: str) -> Any:
        return self.build(query)

    def to_arrow(self, result: Any) -> pa.Table:
        return pa.Table.from_pandas(result, preserve_index=False)
