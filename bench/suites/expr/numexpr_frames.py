"""The expression cases with numexpr over NumPy arrays, on all threads (no NULLs in
NumPy: the cases over the table with nulls are missing)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numexpr as ne
import numpy as np

from bench.suites.expr import CASES, Case

Tables = Mapping[str, Mapping[str, np.ndarray]]


def _query(case: Case) -> Callable[[Tables], np.ndarray]:
    def build(t: Tables) -> np.ndarray:
        arrays = t[case.table]
        if case.predicate is not None:
            keep = ne.evaluate(case.predicate, local_dict=arrays)
            arrays = {name: values[keep] for name, values in arrays.items()}
        return ne.evaluate(case.expression, local_dict=arrays)

    return build


QUERIES = {name: _query(case) for name, case in CASES.items() if case.table == "dense"}
MISSING = {name: "NumPy has no NULLs" for name, case in CASES.items() if case.table != "dense"}
