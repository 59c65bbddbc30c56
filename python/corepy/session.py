"""Sessions: where tables are registered and queries run.

The module-level functions (``cp.sql``, ``cp.scan_parquet``, …) use a default session
created on first use; create a :class:`Session` for separate catalogs or other settings.

>>> import corepy as cp
>>> s = cp.Session(target_partitions=2)
>>> s.register("t", cp.from_dict({"x": [1, 2, 3]}))
>>> s.sql("SELECT sum(x) AS total FROM t").compute().to_pydict()
{'total': [6]}
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from corepy import _core
from corepy.datatypes import is_dtype, to_dtype
from corepy.exceptions import InvalidArgumentError
from corepy.expr import DType
from corepy.frame import LazyFrame

__all__ = ["Config", "Session", "default_session"]

PathLike = str | os.PathLike[str]

#: A ``schema=`` argument: ``{name: dtype}``, or a sequence of names and
#: ``(name, dtype)`` pairs, in column order.
SchemaLike = Mapping[str, DType | None] | Sequence[str | tuple[str, DType | None]]


def _path(path: PathLike) -> str:
    return os.fspath(path)


@dataclass(frozen=True)
class Config:
    """Compiler settings of a session.

    Args:
        jit: fuse row-wise work (filters, projections) into compiled kernels. ``None``
            means on, unless the environment variable ``COREPY_JIT`` is ``0``. Turn it off
            to compare results and speed with DataFusion's own evaluation on one build.
        device: where fused stages run: ``"cpu"``, ``"cuda"``/``"gpu"``, ``"cuda:N"`` or
            ``"auto"``. ``None`` means the first device of ``COREPY_DEVICE_PRIORITY``
            (e.g. ``gpu,cpu``), else the CPU.
        gpu_fallback: what a stage placed on the GPU does when it cannot run there:
            ``"warn"`` (run it on the CPU with a :class:`GpuFallbackWarning`), ``"raise"``
            (:class:`DeviceError`) or ``"silent"``.

    >>> import corepy as cp
    >>> cp.Session(config=cp.Config(jit=False)).jit
    False
    >>> cp.Session(config=cp.Config(device="auto", gpu_fallback="raise")).gpu_fallback
    'raise'
    """

    jit: bool | None = None
    device: str | None = None
    gpu_fallback: str = "warn"


class Session:
    """A catalog of tables and the settings queries run with.

    Args:
        target_partitions: partitions each query is split into (default: twice the cores,
            which the benchmark suite found fastest).
        batch_size: rows per Arrow batch (default 8192).
        memory_limit: bytes operators may hold before they spill or fail (default: none).
        spill_dir: where spill files go (default: the system temporary directory).
        config: compiler settings (:class:`Config`), e.g. ``Config(jit=False)``.

    >>> import corepy as cp
    >>> s = cp.Session(target_partitions=4, batch_size=1024)
    >>> s.sql("SELECT 1 AS one").compute().to_pydict()
    {'one': [1]}
    """

    __slots__ = ("_session",)

    def __init__(
        self,
        *,
        target_partitions: int | None = None,
        batch_size: int | None = None,
        memory_limit: int | None = None,
        spill_dir: PathLike | None = None,
        config: Config | None = None,
    ) -> None:
        self._session = _core.Session(
            target_partitions,
            batch_size,
            memory_limit,
            None if spill_dir is None else _path(spill_dir),
            None if config is None else config.jit,
            None if config is None else config.device,
            None if config is None else config.gpu_fallback,
        )

    @property
    def jit(self) -> bool:
        """Whether this session compiles fused kernels (see :class:`Config`).

        >>> import corepy as cp
        >>> cp.Session(config=cp.Config(jit=True)).jit
        True
        """
        return bool(self._session.jit)

    @property
    def device(self) -> str:
        """Where this session's fused stages run: ``"cpu"``, ``"cuda:N"`` or ``"auto"``.

        >>> import corepy as cp
        >>> cp.Session(config=cp.Config(device="gpu")).device
        'cuda:0'
        """
        return str(self._session.device)

    @property
    def gpu_fallback(self) -> str:
        """What a stage placed on the GPU does when it cannot run there (see
        :class:`Config`).

        >>> import corepy as cp
        >>> cp.Session().gpu_fallback
        'warn'
        """
        return str(self._session.gpu_fallback)

    @property
    def target_partitions(self) -> int:
        """The number of partitions queries are split into.

        >>> import corepy as cp
        >>> cp.Session(target_partitions=3).target_partitions
        3
        """
        return int(self._session.target_partitions)

    def sql(self, query: str) -> LazyFrame:
        """A lazy frame for one SQL statement. Quoted file paths and globs are tables:
        ``SELECT * FROM 'data/*.parquet'``. ``CREATE``/``DROP``/``SET`` run at once.
        ``EXPLAIN [VERBOSE|ANALYZE] …`` computes to the plans; print the result to read them.

        >>> import corepy as cp
        >>> s = cp.Session()
        >>> s.sql("CREATE TABLE t AS VALUES (1), (2)").compute().height
        0
        >>> s.sql("SELECT sum(column1) AS total FROM t").compute().to_pydict()
        {'total': [3]}
        """
        return LazyFrame(self._session.sql(query))

    def scan_parquet(self, path: PathLike) -> LazyFrame:
        """A lazy frame over a Parquet file or glob (checked now, read when computed).

        >>> import corepy as cp, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "t.parquet")
        >>> cp.from_dict({"a": [1, 2]}).sink_parquet(path)
        >>> cp.Session().scan_parquet(path).select(cp.sum("a")).compute().to_pydict()
        {'a': [3]}
        """
        return LazyFrame(self._session.scan(_path(path), "parquet"))

    def scan_ipc(self, path: PathLike) -> LazyFrame:
        """A lazy frame over an Arrow IPC (Feather v2) file or glob.

        >>> import corepy as cp, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "t.arrow")
        >>> cp.from_dict({"a": [1, 2]}).sink_ipc(path)
        >>> cp.Session().scan_ipc(path).select(cp.sum("a")).compute().to_pydict()
        {'a': [3]}
        """
        return LazyFrame(self._session.scan(_path(path), "ipc"))

    def scan_csv(
        self,
        path: PathLike,
        *,
        has_header: bool = True,
        separator: str = ",",
        schema: Mapping[str, DType] | None = None,
        schema_overrides: Mapping[str, DType] | None = None,
    ) -> LazyFrame:
        """A lazy frame over a CSV file or glob; column types are inferred, or given as in
        Polars: ``schema`` names and types every column in file order (nothing is
        inferred), ``schema_overrides`` the types of some columns, by name. A value that
        does not parse as its column's type is an error when the query runs.

        >>> import corepy as cp, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
        >>> _ = open(path, "w").write("a;b\\n1;007\\n2;010\\n")
        >>> cp.Session().scan_csv(path, separator=";").sort("a").compute().to_pydict()
        {'a': [1, 2], 'b': [7, 10]}
        >>> lf = cp.Session().scan_csv(path, separator=";", schema_overrides={"b": cp.String})
        >>> lf.sort("a").compute().to_pydict()
        {'a': [1, 2], 'b': ['007', '010']}
        """
        return LazyFrame(
            self._session.scan(
                _path(path),
                "csv",
                has_header,
                separator,
                _arrow_schema(schema),
                _arrow_schema(schema_overrides),
            )
        )

    def scan_ndjson(
        self,
        path: PathLike,
        *,
        schema: Mapping[str, DType] | None = None,
        schema_overrides: Mapping[str, DType] | None = None,
    ) -> LazyFrame:
        """A lazy frame over newline-delimited JSON (one object per line) in a file or glob;
        column types are inferred, or given as :meth:`scan_csv` takes them.

        >>> import corepy as cp, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "t.ndjson")
        >>> _ = open(path, "w").write('{"a": 2, "b": "y"}\\n{"a": 1, "b": "x"}\\n')
        >>> cp.Session().scan_ndjson(path).sort("a").compute().to_pydict()
        {'a': [1, 2], 'b': ['x', 'y']}
        """
        return LazyFrame(
            self._session.scan(
                _path(path),
                "ndjson",
                schema=_arrow_schema(schema),
                overrides=_arrow_schema(schema_overrides),
            )
        )

    def register_parquet(self, name: str, path: PathLike) -> None:
        """Makes a Parquet file or glob the table ``name`` for SQL.

        >>> import corepy as cp, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "t.parquet")
        >>> cp.from_dict({"a": [1, 2]}).sink_parquet(path)
        >>> s = cp.Session()
        >>> s.register_parquet("t", path)
        >>> s.sql("SELECT max(a) AS top FROM t").compute().to_pydict()
        {'top': [2]}
        """
        self._session.register_file(name, _path(path), "parquet")

    def register_ipc(self, name: str, path: PathLike) -> None:
        """Makes an Arrow IPC file or glob the table ``name`` for SQL.

        >>> import corepy as cp, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "t.arrow")
        >>> cp.from_dict({"a": [1, 2]}).sink_ipc(path)
        >>> s = cp.Session()
        >>> s.register_ipc("t", path)
        >>> s.sql("SELECT max(a) AS top FROM t").compute().to_pydict()
        {'top': [2]}
        """
        self._session.register_file(name, _path(path), "ipc")

    def register_csv(
        self, name: str, path: PathLike, *, has_header: bool = True, separator: str = ","
    ) -> None:
        """Makes a CSV file or glob the table ``name`` for SQL.

        >>> import corepy as cp, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
        >>> _ = open(path, "w").write("1,x\\n2,y\\n")
        >>> s = cp.Session()
        >>> s.register_csv("t", path, has_header=False)
        >>> s.sql("SELECT count(*) AS n FROM t").compute().to_pydict()
        {'n': [2]}
        """
        self._session.register_file(name, _path(path), "csv", has_header, separator)

    def register(self, name: str, data: Any) -> None:
        """Makes a lazy frame (as a view), a computed DataFrame, a pandas or Polars DataFrame,
        or Arrow data (anything with ``__arrow_c_stream__`` / ``__arrow_c_array__``) the
        table ``name`` for SQL.

        >>> import corepy as cp, pyarrow as pa
        >>> s = cp.Session()
        >>> s.register("t", pa.table({"a": [1, 2]}))
        >>> s.sql("SELECT sum(a) AS total FROM t").compute().to_pydict()
        {'total': [3]}
        """
        if isinstance(data, LazyFrame):
            self._session.register_frame(name, data._lf)
        else:
            self._session.register_arrow(name, _arrow_input(data))

    def deregister(self, name: str) -> None:
        """Removes the table ``name`` (no error if there is none).

        >>> import corepy as cp
        >>> s = cp.Session()
        >>> s.register("t", cp.from_dict({"a": [1]}))
        >>> s.deregister("t"), s.deregister("missing"), s.tables()
        (None, None, [])
        """
        self._session.deregister(name)

    def tables(self) -> list[str]:
        """The names of the registered tables.

        >>> import corepy as cp
        >>> s = cp.Session()
        >>> s.register("t", cp.from_dict({"a": [1]}))
        >>> s.tables()
        ['t']
        """
        return self._session.tables()

    def from_arrow(self, data: Any) -> LazyFrame:
        """A lazy frame over Arrow data: a pyarrow Table or RecordBatch, a Polars DataFrame,
        or anything with ``__arrow_c_stream__`` / ``__arrow_c_array__``. Not copied.

        >>> import corepy as cp, pyarrow as pa
        >>> lf = cp.Session().from_arrow(pa.table({"a": [1, 2]}))
        >>> lf.select(cp.sum("a")).compute().to_pydict()
        {'a': [3]}
        """
        return LazyFrame(self._session.scan_arrow(_arrow_input(data)))

    def from_dict(
        self,
        data: Mapping[str, Sequence[Any]],
        schema: SchemaLike | None = None,
        *,
        schema_overrides: Mapping[str, DType] | None = None,
    ) -> LazyFrame:
        """A lazy frame from ``{column: values}``; types are inferred by pyarrow, or given,
        as Polars: ``schema`` names every column in order (``{name: dtype}``, or a list
        of names and ``(name, dtype)`` pairs; a name without a type keeps the inferred
        one, and a new name renames the column), ``schema_overrides`` the types of some
        columns, by name.

        >>> import corepy as cp
        >>> cp.Session().from_dict({"a": [1, 2], "b": ["x", None]}).schema
        a: int64
        b: string
        >>> cp.Session().from_dict({"a": [1, 2]}, schema={"a": cp.Float32}).collect_schema()
        Schema([('a', Float32)])
        """
        import pyarrow as pa

        columns = dict(data)
        types: dict[str, DType | None] = {name: None for name in columns}
        if schema is not None:
            columns, types = _apply_schema(columns, schema)
        for name, dtype in (schema_overrides or {}).items():
            if name not in columns:
                raise InvalidArgumentError(
                    f"from_dict() schema_overrides names {name!r}, which is not a column"
                )
            types[name] = dtype
        arrays = {name: _typed(values, types[name]) for name, values in columns.items()}
        return self.from_arrow(pa.table(arrays))

    def __repr__(self) -> str:
        return self._session.__repr__()


def _apply_schema(
    columns: dict[str, Sequence[Any]], schema: SchemaLike
) -> tuple[dict[str, Sequence[Any]], dict[str, DType | None]]:
    """The columns renamed in order after ``schema``, and each one's type (None: infer)."""
    pairs: list[tuple[str, DType | None]] = (
        list(schema.items())
        if isinstance(schema, Mapping)
        else [(item, None) if isinstance(item, str) else (item[0], item[1]) for item in schema]
    )
    if len(pairs) != len(columns):
        raise InvalidArgumentError(
            f"from_dict() got a schema of {len(pairs)} columns for {len(columns)} columns"
        )
    renamed = {name: values for (name, _), values in zip(pairs, columns.values(), strict=True)}
    return renamed, dict(pairs)


def _arrow_schema(types: Mapping[str, DType] | None) -> Any:
    """``{name: dtype}`` as a pyarrow schema (None stays None)."""
    import pyarrow as pa

    if types is None:
        return None
    return pa.schema([(name, _pyarrow_type(dtype)) for name, dtype in types.items()])


def _typed(values: Sequence[Any], dtype: DType | None) -> Any:
    """A column's values as given (pyarrow infers the type), or as an array of ``dtype``."""
    import pyarrow as pa

    if dtype is None:
        return values
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values.cast(_pyarrow_type(dtype))
    return pa.array(values, type=_pyarrow_type(dtype))


def _pyarrow_type(dtype: DType) -> Any:
    """The pyarrow type of a corepy type, a pyarrow type or a type name."""
    import pyarrow as pa

    if is_dtype(dtype):
        return to_dtype(dtype).to_arrow()
    if isinstance(dtype, str):
        return pa.type_for_alias(dtype)
    return dtype


def _arrow_input(data: Any) -> Any:
    if type(data).__module__.startswith("pandas") and type(data).__name__ == "DataFrame":
        import pyarrow as pa

        return pa.Table.from_pandas(data, preserve_index=False)
    if hasattr(data, "__arrow_c_stream__") or hasattr(data, "__arrow_c_array__"):
        return data
    raise TypeError(
        f"expected Arrow data (an object with __arrow_c_stream__ or __arrow_c_array__, such "
        f"as a pyarrow Table or a Polars DataFrame), got {type(data).__name__}"
    )


_default: Session | None = None


def default_session() -> Session:
    """The session behind the module-level functions, created on first use.

    >>> import corepy as cp
    >>> cp.default_session() is cp.default_session()
    True
    >>> cp.register("default_session_demo", cp.from_dict({"a": [1]}))
    >>> "default_session_demo" in cp.default_session().tables()
    True
    """
    global _default
    if _default is None:
        _default = Session()
    return _default
