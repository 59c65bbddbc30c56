"""corepy, two ways: its SQL (``corepy-sql``) and its lazy API (``corepy-lazy``); and
``corepy-nojit``, the SQL with the JIT off (DataFusion's evaluation on the same build)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from bench.engines.base import FrameEngine
from bench.suites import Suite

_COMPILE_TIME = re.compile(r"compile_time=([\d.]+)(ns|µs|ms|s)\b")
_UNIT = {"ns": 1e-9, "µs": 1e-6, "ms": 1e-3, "s": 1.0}


def _partitions(threads: int) -> int:
    """corepy's default rule (twice the cores) applied to the thread count."""
    return 2 * threads


def _session(threads: int, settings: Mapping[str, str], jit: bool) -> Any:
    import corepy as cp

    session = cp.Session(target_partitions=_partitions(threads), config=cp.Config(jit=jit))
    for key, value in settings.items():
        session.sql(f"SET {key} = {value}").compute()
    return session


class CorepyLazy(FrameEngine):
    """The lazy API; ``sql = True`` in the subclasses runs the SQL texts instead."""

    takes_settings = True
    library = "corepy"
    frames = "corepy"
    sql = False
    jit = True

    def describe(self) -> dict[str, str]:
        extra = {"target_partitions": str(_partitions(self.threads)), "jit": str(self.jit)}
        return {**extra, **super().describe()}

    def load(self, suite: Suite, directory: Path) -> None:
        self.session = _session(self.threads, self.settings, self.jit)
        tables: dict[str, Any] = {}
        for table, path in self._paths(suite, directory).items():
            if suite.in_memory:
                arrow = pq.read_table(path)
                batches = arrow.to_batches(max_chunksize=1 << 16)
                self.session.register(table, pa.Table.from_batches(batches, arrow.schema))
                tables[table] = self.session.sql(f"SELECT * FROM {table}")
            else:
                self.session.register_parquet(table, path)
                tables[table] = self.session.scan_parquet(path)
        self.tables = tables
        self._load_functions(suite)

    def missing(self, query: str) -> str | None:
        return None if self.sql else super().missing(query)

    def frame(self, query: str) -> Any:
        if self.sql:
            assert self.suite is not None
            return self.session.sql(self.suite.sql(query))
        return self.build(query)

    def run(self, query: str) -> Any:
        return self.frame(query).compute()

    def to_arrow(self, result: Any) -> pa.Table:
        return result.to_arrow()

    def first_run(self, query: str) -> float | None:
        if not self.jit:
            return super().first_run(query)
        text = self.frame(query).explain(analyze=True)
        times = [float(v) * _UNIT[unit] for v, unit in _COMPILE_TIME.findall(text)]
        return sum(times)


class CorepySql(CorepyLazy):
    sql = True


class CorepyNoJit(CorepyLazy):
    sql = True
    jit = False
