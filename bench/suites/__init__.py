"""The benchmark suites: what data each needs, its queries, and each engine's form of them.

A query is a SQL file (``<suite>/sql/<query>.sql``, run by the SQL engines) and, for the
engines with a DataFrame API, a function in ``<suite>/<engine>_*.py`` building the same
answer. A suite names the modules of those functions; a module's ``QUERIES`` maps query
names to functions and its ``MISSING`` (optional) names the queries that engine's API
cannot express yet, with the reason.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import data
from bench.suites import expr

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Suite:
    """One benchmark suite."""

    name: str
    #: Writes (once) and returns the data directory for a scale.
    make_data: Callable[[float], Path]
    #: Table name → file name inside the data directory.
    tables: Mapping[str, str]
    queries: tuple[str, ...]
    #: Whether answers have a defined row order (then rows compare in order).
    ordered: bool
    default_scale: float
    smoke_scale: float
    #: Engine → module with that engine's DataFrame form of the queries.
    frame_modules: Mapping[str, str] = field(default_factory=dict)
    #: Engines that do not run this suite, with the reason.
    not_for: Mapping[str, str] = field(default_factory=dict)
    #: Engines that run this suite only up to a scale.
    max_scale: Mapping[str, float] = field(default_factory=dict)
    #: Tables are read into memory before timing (the expression suite measures compute).
    in_memory: bool = False
    #: Query → SQL text, when not read from ``sql/`` files.
    sql_texts: Mapping[str, str] = field(default_factory=dict)

    def sql(self, query: str) -> str:
        if query in self.sql_texts:
            return self.sql_texts[query]
        return (HERE / self.name / "sql" / f"{query}.sql").read_text()

    def frame_queries(
        self, engine: str
    ) -> tuple[Mapping[str, Callable[..., Any]], Mapping[str, str]]:
        """The engine's query functions and its missing queries with their reasons."""
        module = importlib.import_module(self.frame_modules[engine])
        return module.QUERIES, getattr(module, "MISSING", {})


#: Rows of the H2O smoke data: 10 groups there, so that every id2, id4 group holds enough
#: rows for q9's correlation; every other scale has the db-benchmark's 100 groups.
H2O_SMOKE_ROWS = 100_000


def _h2o_data(scale: float) -> Path:
    # The scale is the row count (1e7 for the db-benchmark's G1_1e7_1e2).
    rows = int(scale)
    return data.h2o_groupby(rows, groups=10 if rows == H2O_SMOKE_ROWS else 100)


SUITES: dict[str, Suite] = {
    "tpch": Suite(
        name="tpch",
        make_data=data.tpch,
        tables={t: f"{t}.parquet" for t in data.TPCH_TABLES},
        queries=tuple(f"q{i:02d}" for i in range(1, 23)),
        ordered=True,
        default_scale=1,
        smoke_scale=0.05,
        frame_modules={
            "corepy": "bench.suites.tpch.corepy_lazy",
            "polars": "bench.suites.tpch.polars_lazy",
            "pandas": "bench.suites.tpch.pandas_queries",
        },
        not_for={"numexpr": "numexpr runs the expression suite only"},
        max_scale={"pandas": 1},
    ),
    "h2o": Suite(
        name="h2o",
        make_data=_h2o_data,
        tables={"x": "x.parquet"},
        queries=tuple(f"q{i:02d}" for i in range(1, 11)),
        ordered=False,
        default_scale=1e7,
        smoke_scale=H2O_SMOKE_ROWS,
        frame_modules={
            "corepy": "bench.suites.h2o.corepy_lazy",
            "polars": "bench.suites.h2o.polars_lazy",
        },
        not_for={
            "pandas": "pandas runs TPC-H only",
            "numexpr": "numexpr runs the expression suite only",
        },
    ),
    "expr": Suite(
        name="expr",
        make_data=lambda scale: data.expressions(int(scale)),
        tables={"dense": "dense.parquet", "nulls": "nulls.parquet"},
        queries=tuple(expr.CASES),
        # Engines split in-memory tables into partitions: the row order is not defined.
        ordered=False,
        default_scale=2e7,
        smoke_scale=1e4,
        frame_modules={
            "corepy": "bench.suites.expr.corepy_frames",
            "polars": "bench.suites.expr.polars_frames",
            "numexpr": "bench.suites.expr.numexpr_frames",
        },
        not_for={"pandas": "pandas runs TPC-H only"},
        in_memory=True,
        sql_texts={name: case.sql() for name, case in expr.CASES.items()},
    ),
}


def get(name: str) -> Suite:
    try:
        return SUITES[name]
    except KeyError:
        raise SystemExit(f"unknown suite {name!r}; the suites are {', '.join(SUITES)}") from None
