"""Times engines on the same cases in one process, each engine's runs interleaved with the
others', after checking each engine's answer against a reference engine's (a wrong answer
is reported and not timed). Used by the one-file benchmarks (`checked_integers.py`,
`grouped_fold.py`)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

import pyarrow as pa

T = TypeVar("T")


def time_cases(
    runs: dict[str, Callable[[str], pa.Table]],
    cases: Iterable[str],
    repeat: int,
    summary: Callable[[pa.Table], T],
    agree: Callable[[T, T], bool],
    *,
    reference: str = "duckdb",
    digits: int = 3,
) -> None:
    """Prints, per case, each engine's median of ``repeat`` runs and corepy's time over it."""
    cases = list(cases)
    width = max(map(len, cases))
    for case in cases:
        expected = summary(runs[reference](case))
        times: dict[str, list[float]] = {name: [] for name in runs}
        for name, run in runs.items():
            if not agree(summary(run(case)), expected):
                print(f"{case}: {name} answers wrongly; not timed")
                times.pop(name)
        for _ in range(repeat):
            for name in times:
                started = time.perf_counter()
                runs[name](case)
                times[name].append(time.perf_counter() - started)
        medians = {name: statistics.median(t) for name, t in times.items()}
        line = ", ".join(
            f"{name} {m:.{digits}f}"
            + ("" if name == "corepy" else f" ({medians['corepy'] / m:.2f})")
            for name, m in medians.items()
        )
        print(f"{case:{width}s} {line}")
