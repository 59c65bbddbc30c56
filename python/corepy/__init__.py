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

import builtins
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import corepy.schema  # noqa: F401  (type names for annotations: corepy.schema.Tensor)
from corepy import _core
from corepy import random as random  # cp.random.rand / randn
from corepy import vision as vision  # cp.vision.resize
from corepy.aggregations import (
    corr,
    count,
    max,
    mean,
    median,
    min,
    n_unique,
    quantile,
    std,
    sum,
    var,
)
from corepy.dataframe import DataFrame, DataFrameGroupBy, DataFrameWindows
from corepy.datatypes import (
    Binary,
    Boolean,
    DataType,
    Date,
    Datetime,
    Decimal,
    Duration,
    Float32,
    Float64,
    Int8,
    Int16,
    Int32,
    Int64,
    List,
    Null,
    Schema,
    String,
    Struct,
    Time,
    UInt8,
    UInt16,
    UInt32,
    UInt64,
    Utf8,
)
from corepy.device import get_backend, gpu_available, gpu_info, set_backend
from corepy.exceptions import (
    CancelledError,
    ColumnNotFoundError,
    ComputeError,
    CorepyError,
    DeviceError,
    FileFormatError,
    GpuFallbackWarning,
    InternalError,
    InvalidArgumentError,
    PathNotFoundError,
    PlanError,
    SchemaError,
    ShapeError,
    SQLError,
)
from corepy.expr import (
    DType,
    Expr,
    Then,
    When,
    coalesce,
    col,
    concat_str,
    len,
    lit,
    max_horizontal,
    min_horizontal,
    row_number,
    sum_horizontal,
    when,
)
from corepy.frame import GroupBy, LazyFrame, concat
from corepy.session import Config, SchemaLike, Session, default_session
from corepy.sql_context import SQLContext
from corepy.tensor import (
    Tensor,
    abs,
    arange,
    asarray,
    ceil,
    clip,
    concatenate,
    cos,
    exp,
    eye,
    floor,
    from_dlpack,
    full,
    isnan,
    linspace,
    log,
    log_softmax,
    matmul,
    maximum,
    minimum,
    ones,
    power,
    relu,
    sigmoid,
    sin,
    softmax,
    sqrt,
    stack,
    tanh,
    tensor,
    where,
    zeros,
)
from corepy.time_windows import DynamicGroupBy, RollingGroupBy
from corepy.vision import read_images

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import polars as pl

__version__: str = _core.__version__

__all__ = [
    "Binary",
    "Boolean",
    "CancelledError",
    "ColumnNotFoundError",
    "ComputeError",
    "Config",
    "CorepyError",
    "DType",
    "DataFrame",
    "DataFrameGroupBy",
    "DataFrameWindows",
    "DataType",
    "Date",
    "Datetime",
    "Decimal",
    "DeviceError",
    "Duration",
    "DynamicGroupBy",
    "Expr",
    "FileFormatError",
    "Float32",
    "Float64",
    "GpuFallbackWarning",
    "GroupBy",
    "Int8",
    "Int16",
    "Int32",
    "Int64",
    "InternalError",
    "InvalidArgumentError",
    "LazyFrame",
    "List",
    "Null",
    "PathNotFoundError",
    "PlanError",
    "RollingGroupBy",
    "SQLContext",
    "SQLError",
    "Schema",
    "SchemaError",
    "Session",
    "ShapeError",
    "String",
    "Struct",
    "Tensor",
    "Then",
    "Time",
    "UInt8",
    "UInt16",
    "UInt32",
    "UInt64",
    "Utf8",
    "When",
    "__version__",
    "abs",
    "arange",
    "asarray",
    "ceil",
    "clip",
    "coalesce",
    "col",
    "concat",
    "concat_str",
    "concatenate",
    "corr",
    "cos",
    "count",
    "default_session",
    "exp",
    "eye",
    "floor",
    "from_arrow",
    "from_dict",
    "from_dlpack",
    "from_numpy",
    "from_pandas",
    "from_polars",
    "full",
    "gen_tpch",
    "get_backend",
    "gpu_available",
    "gpu_info",
    "isnan",
    "len",
    "linspace",
    "lit",
    "log",
    "log_softmax",
    "matmul",
    "max",
    "max_horizontal",
    "maximum",
    "mean",
    "median",
    "min",
    "min_horizontal",
    "minimum",
    "n_unique",
    "ones",
    "power",
    "quantile",
    "read_csv",
    "read_images",
    "read_ipc",
    "read_ndjson",
    "read_parquet",
    "register",
    "register_csv",
    "register_ipc",
    "register_parquet",
    "relu",
    "row_number",
    "scan_csv",
    "scan_ipc",
    "scan_ndjson",
    "scan_parquet",
    "set_backend",
    "sigmoid",
    "sin",
    "softmax",
    "sql",
    "sqrt",
    "stack",
    "std",
    "sum",
    "sum_horizontal",
    "tanh",
    "tensor",
    "var",
    "when",
    "where",
    "zeros",
]


def sql(query: str) -> LazyFrame:
    """A lazy frame for one SQL statement on the default session; quoted paths are tables.

    >>> import corepy as cp
    >>> cp.sql("SELECT 1 + 1 AS two").compute().to_pydict()
    {'two': [2]}
    """
    return default_session().sql(query)


def scan_parquet(path: str | os.PathLike[str]) -> LazyFrame:
    """A lazy frame over a Parquet file or glob. Every scan also takes a URL: ``https://…``
    (one file), or ``s3://bucket/key`` (a file or a glob such as ``s3://b/data/*.parquet``,
    with credentials, region and endpoint from the usual ``AWS_*`` environment variables).

    >>> import corepy as cp, tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> for i in (1, 2):
    ...     cp.from_dict({"a": [i]}).sink_parquet(os.path.join(folder, f"part{i}.parquet"))
    >>> cp.scan_parquet(os.path.join(folder, "*.parquet")).sort("a").compute().to_pydict()
    {'a': [1, 2]}
    """
    return default_session().scan_parquet(path)


def scan_ipc(path: str | os.PathLike[str]) -> LazyFrame:
    """A lazy frame over an Arrow IPC (Feather v2) file or glob.

    >>> import corepy as cp, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "t.arrow")
    >>> cp.from_dict({"a": [1, 2]}).sink_ipc(path)
    >>> cp.scan_ipc(path).filter(cp.col("a") > 1).compute().to_pydict()
    {'a': [2]}
    """
    return default_session().scan_ipc(path)


def scan_csv(
    path: str | os.PathLike[str],
    *,
    has_header: bool = True,
    separator: str = ",",
    schema: Mapping[str, DType] | None = None,
    schema_overrides: Mapping[str, DType] | None = None,
) -> LazyFrame:
    """A lazy frame over a CSV file or glob; ``.csv.gz``, ``.bz2``, ``.xz`` and ``.zst``
    files are decompressed as they are read. ``schema`` / ``schema_overrides`` give column
    types (see :meth:`Session.scan_csv`).

    >>> import corepy as cp, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> _ = open(path, "w").write("a,b\\n1,x\\n2,y\\n")
    >>> cp.scan_csv(path).sort("a").compute().to_pydict()
    {'a': [1, 2], 'b': ['x', 'y']}
    """
    return default_session().scan_csv(
        path,
        has_header=has_header,
        separator=separator,
        schema=schema,
        schema_overrides=schema_overrides,
    )


def scan_ndjson(
    path: str | os.PathLike[str],
    *,
    schema: Mapping[str, DType] | None = None,
    schema_overrides: Mapping[str, DType] | None = None,
) -> LazyFrame:
    """A lazy frame over newline-delimited JSON (one object per line) in a file or glob,
    compressed or not (``.ndjson.gz``, ``.jsonl.zst``, …).

    >>> import corepy as cp, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "t.jsonl")
    >>> _ = open(path, "w").write('{"a": 1}\\n{"a": 2}\\n')
    >>> cp.scan_ndjson(path).filter(cp.col("a") > 1).compute().to_pydict()
    {'a': [2]}
    """
    return default_session().scan_ndjson(path, schema=schema, schema_overrides=schema_overrides)


def read_ndjson(
    path: str | os.PathLike[str],
    *,
    schema: Mapping[str, DType] | None = None,
    schema_overrides: Mapping[str, DType] | None = None,
) -> DataFrame:
    """Reads newline-delimited JSON now: ``scan_ndjson(path).compute()``.

    >>> import corepy as cp, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "t.ndjson")
    >>> cp.from_dict({"a": [1, 2], "b": ["x", None]}).write_ndjson(path)
    >>> cp.read_ndjson(path).to_pydict()
    {'a': [1, 2], 'b': ['x', None]}
    """
    return scan_ndjson(path, schema=schema, schema_overrides=schema_overrides).compute()


def read_parquet(path: str | os.PathLike[str]) -> DataFrame:
    """Reads a Parquet file or glob now: ``scan_parquet(path).compute()``.

    >>> import corepy as cp, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "t.parquet")
    >>> cp.from_dict({"a": [1, 2]}).write_parquet(path)
    >>> cp.read_parquet(path).to_pydict()
    {'a': [1, 2]}
    """
    return scan_parquet(path).compute()


def read_ipc(path: str | os.PathLike[str]) -> DataFrame:
    """Reads an Arrow IPC file or glob now: ``scan_ipc(path).compute()``.

    >>> import corepy as cp, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "t.arrow")
    >>> cp.from_dict({"a": [1, 2]}).write_ipc(path)
    >>> cp.read_ipc(path).shape
    (2, 1)
    """
    return scan_ipc(path).compute()


def read_csv(
    path: str | os.PathLike[str],
    *,
    has_header: bool = True,
    separator: str = ",",
    schema: Mapping[str, DType] | None = None,
    schema_overrides: Mapping[str, DType] | None = None,
) -> DataFrame:
    """Reads a CSV file or glob now: ``scan_csv(path, ...).compute()``.

    >>> import corepy as cp, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "t.tsv")
    >>> _ = open(path, "w").write("1\\tx\\n")
    >>> cp.read_csv(path, has_header=False, separator="\\t").to_pylist()
    [{'column_1': 1, 'column_2': 'x'}]
    """
    return scan_csv(
        path,
        has_header=has_header,
        separator=separator,
        schema=schema,
        schema_overrides=schema_overrides,
    ).compute()


def from_arrow(data: Any) -> LazyFrame:
    """A lazy frame over Arrow data (pyarrow, Polars, … anything with the PyCapsule interface).

    >>> import corepy as cp, pyarrow as pa
    >>> cp.from_arrow(pa.table({"a": [1, 2]})).select(cp.sum("a")).compute().to_pydict()
    {'a': [3]}
    """
    return default_session().from_arrow(data)


def from_pandas(data: pd.DataFrame) -> LazyFrame:
    """A lazy frame over a pandas DataFrame (converted to Arrow; the index is dropped).

    >>> import corepy as cp, pandas as pd
    >>> cp.from_pandas(pd.DataFrame({"a": [1, 2]})).compute().to_pydict()
    {'a': [1, 2]}
    """
    import pyarrow as pa

    return from_arrow(pa.Table.from_pandas(data, preserve_index=False))


def from_polars(data: pl.DataFrame | pl.LazyFrame) -> LazyFrame:
    """A lazy frame over a Polars DataFrame (through the Arrow PyCapsule interface, no copy
    of numeric columns); a Polars LazyFrame is collected first.

    >>> import corepy as cp, polars as pl
    >>> cp.from_polars(pl.DataFrame({"a": [1, 2]})).compute().to_pydict()
    {'a': [1, 2]}
    """
    if hasattr(data, "collect"):
        data = data.collect()
    return from_arrow(data)


def from_numpy(
    data: np.ndarray[Any, Any] | Mapping[str, np.ndarray[Any, Any]],
    schema: Sequence[str] | None = None,
) -> LazyFrame:
    """A lazy frame over NumPy data: ``{name: 1-D array}``, or a 2-D array whose columns are
    named by ``schema`` (default ``column_0``, ``column_1``, … as Polars). 1-D numeric
    arrays are not copied.

    >>> import corepy as cp, numpy as np
    >>> cp.from_numpy(np.array([[1, 2], [3, 4]]), schema=["a", "b"]).compute().to_pydict()
    {'a': [1, 3], 'b': [2, 4]}
    """
    import numpy as np
    import pyarrow as pa

    if isinstance(data, Mapping):
        return from_arrow(pa.table({name: pa.array(values) for name, values in data.items()}))
    array = np.asarray(data)
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2:
        raise InvalidArgumentError(
            f"from_numpy() takes a 1-D or 2-D array, got {array.ndim} dimensions"
        )
    names = list(schema) if schema is not None else [f"column_{i}" for i in range(array.shape[1])]
    if builtins.len(names) != array.shape[1]:
        raise InvalidArgumentError(
            f"from_numpy() got {builtins.len(names)} names for {array.shape[1]} columns"
        )
    return from_arrow(pa.table({n: array[:, i] for i, n in enumerate(names)}))


def from_dict(
    data: Mapping[str, Sequence[Any]],
    schema: SchemaLike | None = None,
    *,
    schema_overrides: Mapping[str, DType] | None = None,
) -> LazyFrame:
    """A lazy frame from ``{column: values}``; ``schema`` and ``schema_overrides`` give
    column types, as Polars (see :meth:`Session.from_dict`).

    >>> import corepy as cp
    >>> cp.from_dict({"a": [1, 2]}).compute().shape
    (2, 1)
    >>> cp.from_dict({"a": [1, 2]}, schema_overrides={"a": cp.UInt8}).collect_schema()
    Schema([('a', UInt8)])
    """
    return default_session().from_dict(data, schema, schema_overrides=schema_overrides)


def register_parquet(name: str, path: str | os.PathLike[str]) -> None:
    """Registers a Parquet file or glob as the table ``name`` of the default session.

    >>> import corepy as cp, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "t.parquet")
    >>> cp.from_dict({"a": [1, 2]}).sink_parquet(path)
    >>> cp.register_parquet("demo_parquet", path)
    >>> cp.sql("SELECT sum(a) AS total FROM demo_parquet").compute().to_pydict()
    {'total': [3]}
    """
    default_session().register_parquet(name, path)


def register_ipc(name: str, path: str | os.PathLike[str]) -> None:
    """Registers an Arrow IPC file or glob as the table ``name`` of the default session.

    >>> import corepy as cp, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "t.arrow")
    >>> cp.from_dict({"a": [1, 2]}).sink_ipc(path)
    >>> cp.register_ipc("demo_ipc", path)
    >>> cp.sql("SELECT sum(a) AS total FROM demo_ipc").compute().to_pydict()
    {'total': [3]}
    """
    default_session().register_ipc(name, path)


def register_csv(
    name: str, path: str | os.PathLike[str], *, has_header: bool = True, separator: str = ","
) -> None:
    """Registers a CSV file or glob as the table ``name`` of the default session.

    >>> import corepy as cp, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> _ = open(path, "w").write("a|b\\n1|x\\n2|y\\n")
    >>> cp.register_csv("demo_csv", path, separator="|")
    >>> cp.sql("SELECT b FROM demo_csv WHERE a = 2").compute().to_pydict()
    {'b': ['y']}
    """
    default_session().register_csv(name, path, has_header=has_header, separator=separator)


def register(name: str, data: Any) -> None:
    """Registers a lazy frame or Arrow data as the table ``name`` of the default session.

    >>> import corepy as cp
    >>> cp.register("demo_frame", cp.from_dict({"a": [1, 2, 3]}))
    >>> cp.sql("SELECT count(*) AS n FROM demo_frame WHERE a > 1").compute().to_pydict()
    {'n': [2]}
    """
    default_session().register(name, data)


def gen_tpch(scale: float, output: str | os.PathLike[str]) -> dict[str, int]:
    """Writes the eight TPC-H tables at ``scale`` as ``<output>/<table>.parquet`` and
    returns the row count of each table. Runs in-process; needs no network.

    >>> import corepy as cp, tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> rows = cp.gen_tpch(0.001, folder)
    >>> rows["nation"], cp.read_parquet(os.path.join(folder, "nation.parquet")).height
    (25, 25)
    """
    written = _core.gen_tpch(float(scale), os.fspath(output))
    return {table: rows for table, rows, _path in written}
