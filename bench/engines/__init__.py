"""The engines the runner compares, by name. ``corepy`` stands for both of corepy's forms
(``corepy-sql`` and ``corepy-lazy``). Any other engine is named ``module:Class`` (a
subclass of :class:`bench.engines.base.Engine`), as the tests do with a deliberately wrong
one. A name may carry settings: ``corepy-sql@datafusion.execution.batch_size=16384``
(several joined by ``;``), which make it a variant of its own in the results; a label
before a slash names the variant in the tables: ``join16m/corepy-sql@…``."""

from __future__ import annotations

import importlib

from bench.engines.base import Engine

BUILTIN = {
    "duckdb": "bench.engines.duckdb_engine:DuckDB",
    "datafusion": "bench.engines.datafusion_engine:DataFusion",
    "corepy-sql": "bench.engines.corepy_engine:CorepySql",
    "corepy-lazy": "bench.engines.corepy_engine:CorepyLazy",
    "corepy-nojit": "bench.engines.corepy_engine:CorepyNoJit",
    "polars": "bench.engines.polars_engine:Polars",
    "pandas": "bench.engines.pandas_engine:Pandas",
    "numexpr": "bench.engines.numexpr_engine:Numexpr",
}
ALIASES = {"corepy": ("corepy-sql", "corepy-lazy")}
REFERENCE = "duckdb"
#: corepy's two forms, whose ratios to every other engine the reports give.
COREPY_FORMS = ALIASES["corepy"]


def expand(names: list[str]) -> list[str]:
    """The engine list with aliases expanded, duplicates dropped, order kept."""
    out: list[str] = []
    for name in names:
        for each in ALIASES.get(name, (name,)):
            if each not in out:
                out.append(each)
    return out


def split(spec: str) -> tuple[str, dict[str, str]]:
    """``"[label/]name@k=v;k2=v2"`` → ``("name", {"k": "v", "k2": "v2"})``."""
    base, _, rest = spec.partition("@")
    base = base.rpartition("/")[2]
    settings: dict[str, str] = {}
    for item in filter(None, rest.split(";")):
        key, equals, value = item.partition("=")
        if not equals:
            raise SystemExit(f"engine setting {item!r} in {spec!r} is not key=value")
        settings[key.strip()] = value.strip()
    return base, settings


def label(spec: str) -> str:
    """How a variant is named in tables: its label, or the whole spec."""
    base = spec.partition("@")[0]
    return base.partition("/")[0] if "/" in base else spec


def validate(spec: str) -> None:
    """Exits with a message naming the problem when ``spec`` names no engine, or gives
    settings to an engine that has none."""
    base, settings = split(spec)
    if base not in BUILTIN and ":" not in base:
        known = ", ".join([*BUILTIN, *ALIASES])
        raise SystemExit(f"unknown engine {base!r}; the engines are {known} (or module:Class)")
    if settings and not _engine_class(base).takes_settings:
        raise SystemExit(f"{base} takes no settings (in {spec!r})")


def _engine_class(base: str) -> type[Engine]:
    module_name, _, class_name = BUILTIN.get(base, base).partition(":")
    engine_class: type[Engine] = getattr(importlib.import_module(module_name), class_name)
    return engine_class


def describe(spec: str, threads: int) -> dict[str, str]:
    """The settings the engine runs with (thread and partition counts, ``SET`` options)."""
    return create(spec, threads).describe()


def create(spec: str, threads: int) -> Engine:
    base, settings = split(spec)
    return _engine_class(base)(threads, settings)
