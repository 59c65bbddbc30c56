"""Reading data: the readers and scanners of corepy in one module, for code written as
``import corepy.data as cpd``.

``read_*`` compute at once and return a :class:`~corepy.DataFrame`, whose frame methods
(``select``, ``group_by(...).agg``, ``rolling``, …) compute too; ``scan_*`` and
``from_*`` return a lazy :class:`~corepy.LazyFrame`.

>>> import corepy as cp, corepy.data as cpd, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "t.arrow")
>>> cp.from_dict({"k": ["a", "b", "a"], "x": [1, 2, 3]}).write_ipc(path)
>>> cpd.read_ipc(path).group_by("k").agg(cp.sum("x")).sort("k").to_pydict()
{'k': ['a', 'b'], 'x': [4, 2]}
"""

from __future__ import annotations

from corepy import (
    from_arrow,
    from_dict,
    from_numpy,
    from_pandas,
    from_polars,
    read_csv,
    read_ipc,
    read_ndjson,
    read_parquet,
    scan_csv,
    scan_ipc,
    scan_ndjson,
    scan_parquet,
)

__all__ = [
    "from_arrow",
    "from_dict",
    "from_numpy",
    "from_pandas",
    "from_polars",
    "read_csv",
    "read_ipc",
    "read_ndjson",
    "read_parquet",
    "scan_csv",
    "scan_ipc",
    "scan_ndjson",
    "scan_parquet",
]
