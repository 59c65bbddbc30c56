"""The expression suite: fused row-wise work, the JIT's home ground.

Four float columns ``a b c d`` (uniform in [0, 1), 2e7 rows by default), once without
nulls (table ``dense``) and once with 10% nulls in each column (table ``nulls``);
expressions of 2, 5 and 10 operators, and the 5-operator one under filters keeping 1% and
50% of the rows. Each case is one SQL text and one Python expression over columns, used
by the frame engines (corepy, Polars, numexpr).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

EXPRESSIONS = {
    "ops2": "a * b + c",
    "ops5": "(a + b) * (c - d) / (a + 1.0)",
    "ops10": "((a + b) * (c - d) + (a * c - b * d)) / (d + 1.0) - a",
}
FILTERS = {"filter1pct": "a < 0.01", "filter50pct": "a < 0.5"}


@dataclass(frozen=True)
class Case:
    expression: str
    predicate: str | None
    table: str

    def sql(self) -> str:
        where = f" WHERE {self.predicate}" if self.predicate else ""
        return f"SELECT {self.expression} AS x FROM {self.table}{where}"


def _cases() -> dict[str, Case]:
    cases: dict[str, Case] = {}
    for table in ("dense", "nulls"):
        suffix = "" if table == "dense" else "-nulls"
        for name, expression in EXPRESSIONS.items():
            cases[name + suffix] = Case(expression, None, table)
        for name, predicate in FILTERS.items():
            cases[name + suffix] = Case(EXPRESSIONS["ops5"], predicate, table)
    return cases


CASES = _cases()


def frame_queries(col: Callable[[str], Any]) -> dict[str, Callable[[Mapping[str, Any]], Any]]:
    """The cases as functions of an engine's lazy frames, for an API with Polars' shape
    (``col``, ``filter``, ``select``, ``alias``): corepy's and Polars'."""
    columns = {name: col(name) for name in "abcd"}

    def query(case: Case) -> Callable[[Mapping[str, Any]], Any]:
        expression = eval(case.expression, {}, columns)
        predicate = None if case.predicate is None else eval(case.predicate, {}, columns)

        def build(t: Mapping[str, Any]) -> Any:
            frame = t[case.table]
            if predicate is not None:
                frame = frame.filter(predicate)
            return frame.select(expression.alias("x"))

        return build

    return {name: query(case) for name, case in CASES.items()}
