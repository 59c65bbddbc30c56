"""What every engine of the runner provides, and the two ways of running a query: SQL
text, or a function of the suite's ``<engine>_*.py`` module over the engine's tables."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from bench.suites import Suite


class Engine(ABC):
    """One engine in its worker process.

    ``run`` is what is timed: the query from start until its answer is materialized in the
    engine's own result type; ``to_arrow`` (not timed) turns that into a pyarrow Table for
    the answer check. ``settings`` are engine configuration options (``SET key = value``
    for the SQL engines that have them).
    """

    #: The name of the engine's library (its version goes into the results).
    library = ""
    #: Whether the engine takes ``SET key = value`` settings.
    takes_settings = False

    def __init__(self, threads: int, settings: Mapping[str, str]) -> None:
        self.threads = threads
        self.settings = dict(settings)
        self.suite: Suite | None = None

    def describe(self) -> dict[str, str]:
        """What the engine runs with, for the results: threads, partitions, settings."""
        return {"threads": str(self.threads), **self.settings}

    def version(self) -> str:
        module = __import__(self.library)
        return str(getattr(module, "__version__", "?"))

    @abstractmethod
    def load(self, suite: Suite, directory: Path) -> None:
        """Opens (or reads, for an in-memory suite) the suite's tables in ``directory``."""

    def missing(self, query: str) -> str | None:
        """Why this engine cannot run ``query``, or None when it can."""
        return None

    @abstractmethod
    def run(self, query: str) -> Any:
        """Runs ``query`` to a materialized answer in the engine's own result type."""

    @abstractmethod
    def to_arrow(self, result: Any) -> pa.Table:
        """``run``'s answer as a pyarrow Table."""

    def first_run(self, query: str) -> float | None:
        """The query's first, untimed run; engines that compile kernels run it so as to
        measure that and return their compile time, the others return None."""
        self.run(query)
        return None

    def _paths(self, suite: Suite, directory: Path) -> dict[str, Path]:
        self.suite = suite
        return {table: directory / file for table, file in suite.tables.items()}


class SqlEngine(Engine):
    """Runs the suite's SQL texts."""

    def sql_text(self, query: str) -> str:
        assert self.suite is not None
        return self.suite.sql(query)


class FrameEngine(Engine):
    """Runs the suite's functions for this engine over ``self.tables``."""

    #: The key of the suite's ``frame_modules`` for this engine.
    frames = ""

    def __init__(self, threads: int, settings: Mapping[str, str]) -> None:
        super().__init__(threads, settings)
        self.tables: Mapping[str, Any] = {}
        self.functions: Mapping[str, Callable[..., Any]] = {}
        self.absent: Mapping[str, str] = {}

    def _load_functions(self, suite: Suite) -> None:
        if self.frames not in suite.frame_modules:
            self.functions, self.absent = {}, {}
            return
        self.functions, self.absent = suite.frame_queries(self.frames)

    def missing(self, query: str) -> str | None:
        if query in self.absent:
            return self.absent[query]
        if query not in self.functions:
            return f"no {self.frames} form of {query} in the suite"
        return None

    def build(self, query: str) -> Any:
        return self.functions[query](self.tables)
