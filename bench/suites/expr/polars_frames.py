"""The expression cases as polars lazy frames (the answers of the cases' SQL)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import polars as pl

from bench.suites.expr import CASES, Case

Tables = Mapping[str, pl.LazyFrame]


def _query(case: Case) -> Callable[[Tables], pl.LazyFrame]:
    columns = {name: pl.col(name) for name in "abcd"}
    expression = eval(case.expression, {}, columns)
    predicate = None if case.predicate is None else eval(case.predicate, {}, columns)

    def build(t: Tables) -> pl.LazyFrame:
        frame = t[case.table]
        if predicate is not None:
            frame = frame.filter(predicate)
        return frame.select(expression.alias("x"))

    return build


QUERIES = {name: _query(case) for name, case in CASES.items()}
