"""corepy: lazy frames and SQL over Arrow, Parquet and CSV files, planned and optimized by a
Rust core on DataFusion, with every plan on show.

>>> import corepy as cp
>>> lf = cp.from_dict({"city": ["Oslo", "Lima", "Oslo"], "temp": [3.0, 19.5, 5.0]})
>>> lf.group_by("city").agg(cp.col("temp").mean()).sort("city").compute().to_pydict()
{'city': ['Lima', 'Oslo'], 'temp': [19.5, 4.0]}
>>> cp.sql("SELECT 6 * 7 AS answer").compute().to_pydict()
{'answer': [42]}
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from corepy import _core
from corepy.dataframe import DataFrame
from corepy.exceptions import (
    CancelledError,
    ColumnNotFoundError,
    ComputeError,
    CorepyError,
    FileFormatError,
    InternalError,
    InvalidArgumentError,
    PathNotFoundError,
    PlanError,
    SchemaError,
    SQLError,
)
from corepy.expr import DType, Expr, Then, When, coalesce, col, len, lit, row_number, when
from corepy.frame import GroupBy, LazyFrame
from corepy.session import Config, Session, default_session

__version__: str = _core.__version__

__all__ = [
    "CancelledError",
    "ColumnNotFoundError",
    "ComputeError",
    "Config",
    "CorepyError",
    "DType",
    "DataFrame",
    "Expr",
    "FileFormatError",
    "GroupBy",
    "InternalError",
    "InvalidArgumentError",
    "LazyFrame",
    "PathNotFoundError",
    "PlanError",
    "SQLError",
    "SchemaError",
    "Session",
    "Then",
    "When",
    "__version__",
    "coalesce",
    "col",
    "default_session",
    "from_arrow",
    "from_dict",
    "gen_tpch",
    "len",
    "lit",
    "register",
    "register_csv",
    "register_ipc",
    "register_parquet",
    "row_number",
    "scan_csv",
    "scan_ipc",
    "scan_parquet",
    "sql",
    "when",
]


def sql(query: str) -> LazyFrame:
    """A lazy frame for one SQL statement on the default session; quoted paths are tables.

    >>> import corepy as cp
    >>> cp.sql("SELECT 1 + 1 AS two").compute().to_pydict()
    {'two': [2]}
    """
    return default_session().sql(query)


def scan_parquet(path: str | os.PathLike[str]) -> LazyFrame:
    """A lazy frame over a Parquet file or glob."""
    return default_session().scan_parquet(path)


def scan_ipc(path: str | os.PathLike[str]) -> LazyFrame:
    """A lazy frame over an Arrow IPC (Feather v2) file or glob."""
    return default_session().scan_ipc(path)


def scan_csv(
    path: str | os.PathLike[str], *, has_header: bool = True, separator: str = ","
) -> LazyFrame:
    """A lazy frame over a CSV file or glob."""
    return default_session().scan_csv(path, has_header=has_header, separator=separator)


def from_arrow(data: Any) -> LazyFrame:
    """A lazy frame over Arrow data (pyarrow, Polars, … anything with the PyCapsule interface)."""
    return default_session().from_arrow(data)


def from_dict(data: Mapping[str, Sequence[Any]]) -> LazyFrame:
    """A lazy frame from ``{column: values}``.

    >>> import corepy as cp
    >>> cp.from_dict({"a": [1, 2]}).compute().shape
    (2, 1)
    """
    return default_session().from_dict(data)


def register_parquet(name: str, path: str | os.PathLike[str]) -> None:
    """Registers a Parquet file or glob as the table ``name`` of the default session."""
    default_session().register_parquet(name, path)


def register_ipc(name: str, path: str | os.PathLike[str]) -> None:
    """Registers an Arrow IPC file or glob as the table ``name`` of the default session."""
    default_session().register_ipc(name, path)


def register_csv(
    name: str, path: str | os.PathLike[str], *, has_header: bool = True, separator: str = ","
) -> None:
    """Registers a CSV file or glob as the table ``name`` of the default session."""
    default_session().register_csv(name, path, has_header=has_header, separator=separator)


def register(name: str, data: Any) -> None:
    """Registers a lazy frame or Arrow data as the table ``name`` of the default session."""
    default_session().register(name, data)


def gen_tpch(scale: float, output: str | os.PathLike[str]) -> dict[str, int]:
    """Writes the eight TPC-H tables at ``scale`` as ``<output>/<table>.parquet`` and
    returns the row count of each table. Runs in-process; needs no network."""
    written = _core.gen_tpch(float(scale), os.fspath(output))
    return {table: rows for table, rows, _path in written}
