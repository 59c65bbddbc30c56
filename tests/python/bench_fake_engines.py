"""Engines that misbehave on purpose, for the benchmark runner's tests (the runner's
workers import them as ``bench_fake_engines:Class``)."""

from __future__ import annotations

import os
import time
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from bench.engines.duckdb_engine import DuckDB


class OffByOne(DuckDB):
    """DuckDB's answer with 1 added to the first row of the last numeric column."""

    def to_arrow(self, result: Any) -> pa.Table:
        table: pa.Table = result
        index = max(
            i
            for i, f in enumerate(table.schema)
            if pa.types.is_integer(f.type)
            or pa.types.is_floating(f.type)
            or pa.types.is_decimal(f.type)
        )
        column = table.column(index).combine_chunks().cast(pa.float64())
        values = pa.concat_arrays([pc.add(column.slice(0, 1), 1.0), column.slice(1)])
        return table.set_column(index, table.field(index).name, values)


class Failing(DuckDB):
    """Raises on every query."""

    def run(self, query: str) -> Any:
        raise RuntimeError(f"this engine always fails ({query})")


class Sleeping(DuckDB):
    """Takes far longer than the runner's timeout on q02 (answers q01 and others)."""

    def run(self, query: str) -> Any:
        if query == "q02":
            time.sleep(60)
        return super().run(query)


class Crashing(DuckDB):
    """Dies on q02, as an engine killed for memory would."""

    def run(self, query: str) -> Any:
        if query == "q02":
            os._exit(3)
        return super().run(query)
