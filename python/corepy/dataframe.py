"""Materialized results.

A :class:`DataFrame` holds Arrow record batches computed by corepy. It converts to pyarrow,
pandas and Polars, and exports itself through the Arrow PyCapsule stream interface, so any
Arrow-aware library can read it without a copy.

>>> import corepy as cp
>>> df = cp.sql("SELECT 1 AS a, 'x' AS b").compute()
>>> df.shape
(1, 2)
"""

from __future__ import annotations

import difflib
import inspect
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Concatenate, Literal, ParamSpec, overload

from corepy import _core
from corepy.datatypes import Schema
from corepy.exceptions import ColumnNotFoundError, InvalidArgumentError
from corepy.expr import Expr, IntoExpr, Scalar
from corepy.frame import GroupBy, LazyFrame, PivotAgg, TextCompression
from corepy.time_windows import Closed, DynamicGroupBy, RollingGroupBy, Span

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import polars as pl
    import pyarrow as pa

    from corepy.tensor import Tensor

__all__ = ["DataFrame", "DataFrameGroupBy", "DataFrameWindows"]

P = ParamSpec("P")


def _computed(
    method: Callable[Concatenate[LazyFrame, P], LazyFrame], data: str, call: str, result: str
) -> Callable[Concatenate[DataFrame, P], DataFrame]:
    """The eager form of a :class:`LazyFrame` method: planned over the frame, computed at
    once. Its docstring is the lazy method's summary and an example on ``data``."""
    name = method.__name__

    def run(self: DataFrame, /, *args: P.args, **kwargs: P.kwargs) -> DataFrame:
        return method(self.lazy(), *args, **kwargs).compute()

    summary = (inspect.getdoc(method) or "").split("\n\n")[0]
    run.__name__ = name
    run.__qualname__ = f"DataFrame.{name}"
    run.__doc__ = (
        f"{summary}\n\nComputed at once: ``self.lazy().{name}(...).compute()`` (see "
        f":meth:`LazyFrame.{name}`).\n\n"
        f">>> import corepy as cp\n"
        f">>> df = cp.from_dict({data}).compute()\n"
        f">>> df.{call}.to_pydict()\n"
        f"{result}\n"
    )
    lazy_signature = inspect.signature(method)
    run.__signature__ = lazy_signature.replace(return_annotation="DataFrame")  # type: ignore[attr-defined]
    return run


_REPR_ROWS = 20


def _row_index(index: int, height: int) -> int:
    position = index + height if index < 0 else index
    if not 0 <= position < height:
        raise IndexError(f"row {index} is out of range for a frame of {height} rows")
    return position


class DataFrame:
    """The result of :meth:`LazyFrame.compute`.

    >>> import corepy as cp
    >>> df = cp.from_dict({"a": [2, 1], "b": ["y", "x"]}).sort("a").compute()
    >>> len(df), df.to_pydict()
    (2, {'a': [1, 2], 'b': ['x', 'y']})
    """

    __slots__ = ("_df",)

    def __init__(self, inner: _core.DataFrame) -> None:
        self._df = inner

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """Exports the data as an Arrow C stream (zero-copy), for pyarrow, Polars, DuckDB…

        >>> import corepy as cp, pyarrow as pa
        >>> df = cp.from_dict({"a": [1, 2]}).compute()
        >>> pa.RecordBatchReader.from_stream(df).read_all().to_pydict()
        {'a': [1, 2]}
        """
        return self._df.__arrow_c_stream__(requested_schema)

    def to_arrow(self) -> pa.Table:
        """The data as a ``pyarrow.Table`` (zero-copy).

        >>> import corepy as cp
        >>> table = cp.from_dict({"a": [1, 2]}).compute().to_arrow()
        >>> table.num_rows, table.schema.field("a").type
        (2, DataType(int64))
        """
        import pyarrow as pa

        table: pa.Table = pa.table(self)
        return table

    def to_pandas(self, **kwargs: Any) -> pd.DataFrame:
        """The data as a ``pandas.DataFrame``; ``kwargs`` go to ``pyarrow.Table.to_pandas``.

        >>> import corepy as cp
        >>> cp.from_dict({"a": [1, 2]}).compute().to_pandas().to_dict("list")
        {'a': [1, 2]}
        """
        frame: pd.DataFrame = self.to_arrow().to_pandas(**kwargs)
        return frame

    def to_polars(self) -> pl.DataFrame:
        """The data as a ``polars.DataFrame`` (zero-copy where Polars allows).

        >>> import corepy as cp
        >>> cp.from_dict({"a": [1, 2]}).compute().to_polars().to_dict(as_series=False)
        {'a': [1, 2]}
        """
        import polars as pl

        frame = pl.from_arrow(self.to_arrow())
        assert isinstance(frame, pl.DataFrame)
        return frame

    def to_pydict(self) -> dict[str, list[Any]]:
        """The data as ``{column: [values]}``.

        >>> import corepy as cp
        >>> cp.from_dict({"a": [1, 2], "b": ["x", "y"]}).sort("a").compute().to_pydict()
        {'a': [1, 2], 'b': ['x', 'y']}
        """
        columns: dict[str, list[Any]] = self.to_arrow().to_pydict()
        return columns

    def to_pylist(self) -> list[dict[str, Any]]:
        """The data as a list of ``{column: value}`` rows.

        >>> import corepy as cp
        >>> cp.from_dict({"a": [1, 2], "b": ["x", "y"]}).sort("a").compute().to_pylist()
        [{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'y'}]
        """
        rows: list[dict[str, Any]] = self.to_arrow().to_pylist()
        return rows

    def to_dicts(self) -> list[dict[str, Any]]:
        """The rows as ``{column: value}`` dicts (same as :meth:`to_pylist`), as Polars.

        >>> import corepy as cp
        >>> cp.from_dict({"a": [1, 2], "b": ["x", "y"]}).sort("a").compute().to_dicts()
        [{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'y'}]
        """
        return self.to_pylist()

    def to_numpy(self) -> np.ndarray[Any, Any]:
        """The data as a 2-D NumPy array (rows by columns), as Polars. One numeric column
        without nulls, in one chunk, is not copied.

        >>> import corepy as cp
        >>> cp.from_dict({"a": [1, 2], "b": [3, 4]}).compute().to_numpy().tolist()
        [[1, 3], [2, 4]]
        """
        import numpy as np

        table = self.to_arrow()
        columns = [c.to_numpy() for c in table.columns]
        if not columns:
            return np.empty((table.num_rows, 0))
        if len(columns) == 1:
            single: np.ndarray[Any, Any] = columns[0].reshape(-1, 1)
            return single
        return np.column_stack(columns)

    def to_tensor(self, columns: str | Sequence[str] | None = None, dtype: Any = None) -> Tensor:
        """Columns as a tensor: several numeric columns (all when ``columns`` is None) as a
        2-D tensor ``[rows, columns]`` of their common NumPy type; one column named as a
        string as a 1-D tensor, or, when it holds fixed-shape tensors, as ``[rows, *shape]``.
        ``dtype`` casts the result. Nulls in a float column become NaN; in other columns
        they are an error (a tensor has no nulls).

        >>> import corepy as cp
        >>> df = cp.from_dict({"a": [1, 2], "b": [0.5, 1.5]}).sort("a").compute()
        >>> df.to_tensor(["a", "b"]).compute().tolist()
        [[1.0, 0.5], [2.0, 1.5]]
        >>> df.to_tensor("a", dtype="float32").dtype
        'float32'
        """
        from corepy.tensor_columns import column_tensor, columns_tensor

        if isinstance(columns, str):
            tensor = column_tensor(self.get_column(columns), columns)
        else:
            names = self.columns if columns is None else list(columns)
            tensor = columns_tensor(self.get_column, names, self.height)
        return tensor if dtype is None else tensor.astype(dtype)

    def item(self, row: int | None = None, column: int | str | None = None) -> Any:
        """One value: the only one of a 1-by-1 frame, or the one at ``row`` and ``column``.

        >>> import corepy as cp
        >>> cp.sql("SELECT 42 AS answer").compute().item()
        42
        """
        if row is None and column is None:
            if self.shape != (1, 1):
                raise InvalidArgumentError(
                    f"item() without row and column needs a 1×1 frame, this one is "
                    f"{self.shape[0]}×{self.shape[1]}; give row= and column="
                )
            row, column = 0, 0
        if row is None or column is None:
            raise InvalidArgumentError("item() takes both row= and column=, or neither")
        return self.get_column(column)[_row_index(row, self.height)].as_py()

    def row(self, index: int, *, named: bool = False) -> tuple[Any, ...] | dict[str, Any]:
        """Row ``index`` (negative counts from the end) as a tuple, or a dict when ``named``.

        >>> import corepy as cp
        >>> df = cp.from_dict({"a": [1, 2], "b": ["x", "y"]}).compute()
        >>> df.row(-1), df.row(0, named=True)
        ((2, 'y'), {'a': 1, 'b': 'x'})
        """
        table = self.to_arrow().slice(_row_index(index, self.height), 1)
        values = {
            name: column[0].as_py()
            for name, column in zip(table.column_names, table.columns, strict=True)
        }
        return values if named else tuple(values.values())

    def get_column(self, name: int | str) -> pa.ChunkedArray:
        """One column, by name or position, as a pyarrow ChunkedArray (not copied).

        >>> import corepy as cp
        >>> df = cp.from_dict({"a": [1, 2], "b": ["x", "y"]}).sort("a").compute()
        >>> df.get_column("b").to_pylist(), df.get_column(0).to_pylist()
        (['x', 'y'], [1, 2])
        """
        table = self.to_arrow()
        if isinstance(name, int):
            return table.column(name)
        if name not in table.column_names:
            suggestion = difflib.get_close_matches(name, table.column_names, n=3)
            hint = f"; did you mean {', '.join(map(repr, suggestion))}?" if suggestion else ""
            error = ColumnNotFoundError(f"column {name!r} not found{hint}")
            error.column, error.candidates = name, suggestion
            error.available = list(table.column_names)
            raise error
        return table.column(name)

    def __getitem__(self, name: str) -> pa.ChunkedArray:
        """``df["a"]``: the column ``a`` (see :meth:`get_column`).

        >>> import corepy as cp
        >>> cp.from_dict({"a": [1, 2]}).sort("a").compute()["a"].to_pylist()
        [1, 2]
        """
        return self.get_column(name)

    def lazy(self) -> LazyFrame:
        """A lazy frame over this result, for further queries (no copy).

        >>> import corepy as cp
        >>> df = cp.from_dict({"a": [1, 2, 3]}).compute()
        >>> df.lazy().filter(cp.col("a") > 1).sort("a").compute().to_pydict()
        {'a': [2, 3]}
        """
        from corepy.frame import LazyFrame

        return LazyFrame(self._df.lazy())

    # -- the frame API, computed at once: each method plans over self.lazy() -------------
    select = _computed(
        LazyFrame.select,
        '{"a": [1, 2], "b": [3, 4]}',
        'select("a", (cp.col("b") * 10).alias("b10"))',
        "{'a': [1, 2], 'b10': [30, 40]}",
    )
    with_columns = _computed(
        LazyFrame.with_columns,
        '{"a": [1, 2]}',
        'with_columns(cp.col("a") * 2, cp.col("a").sum().alias("total"))',
        "{'a': [2, 4], 'total': [3, 3]}",
    )
    filter = _computed(
        LazyFrame.filter,
        '{"a": [1, 2, 3]}',
        'filter(cp.col("a") >= 2)',
        "{'a': [2, 3]}",
    )
    sort = _computed(
        LazyFrame.sort,
        '{"a": [2, None, 1]}',
        'sort("a", descending=True)',
        "{'a': [None, 2, 1]}",
    )
    limit = _computed(LazyFrame.limit, '{"a": [4, 1, 3]}', "limit(2)", "{'a': [4, 1]}")
    head = _computed(LazyFrame.head, '{"a": [4, 1, 3]}', "head(1)", "{'a': [4]}")
    tail = _computed(LazyFrame.tail, '{"a": [4, 1, 3]}', "tail(2)", "{'a': [1, 3]}")
    slice = _computed(LazyFrame.slice, '{"a": [4, 1, 3]}', "slice(1, 1)", "{'a': [1]}")
    with_row_index = _computed(
        LazyFrame.with_row_index,
        '{"a": ["x", "y"]}',
        "with_row_index()",
        "{'index': [0, 1], 'a': ['x', 'y']}",
    )
    drop = _computed(LazyFrame.drop, '{"a": [1], "b": [2]}', 'drop("a")', "{'b': [2]}")
    rename = _computed(
        LazyFrame.rename, '{"a": [1], "b": [2]}', 'rename({"a": "x"})', "{'x': [1], 'b': [2]}"
    )
    cast = _computed(
        LazyFrame.cast, '{"a": [1, 2]}', 'cast({"a": cp.Float64})', "{'a': [1.0, 2.0]}"
    )
    drop_nulls = _computed(
        LazyFrame.drop_nulls, '{"a": [1, None, 3]}', "drop_nulls()", "{'a': [1, 3]}"
    )
    fill_null = _computed(
        LazyFrame.fill_null,
        '{"a": [1, None], "s": [None, "x"]}',
        "fill_null(0)",
        "{'a': [1, 0], 's': [None, 'x']}",
    )
    fill_nan = _computed(
        LazyFrame.fill_nan, '{"x": [1.0, float("nan")]}', "fill_nan(0.0)", "{'x': [1.0, 0.0]}"
    )
    unique = _computed(
        LazyFrame.unique,
        '{"a": [1, 1, 2], "b": ["x", "z", "y"]}',
        'unique("a", keep="first", maintain_order=True)',
        "{'a': [1, 2], 'b': ['x', 'y']}",
    )
    top_k = _computed(LazyFrame.top_k, '{"a": [3, 7, 1]}', 'top_k(2, by="a")', "{'a': [7, 3]}")
    bottom_k = _computed(
        LazyFrame.bottom_k, '{"a": [3, 7, 1]}', 'bottom_k(2, by="a")', "{'a': [1, 3]}"
    )
    unpivot = _computed(
        LazyFrame.unpivot,
        '{"id": [1], "q1": [10], "q2": [11]}',
        'unpivot(index="id").sort("variable")',
        "{'id': [1, 1], 'variable': ['q1', 'q2'], 'value': [10, 11]}",
    )
    explode = _computed(
        LazyFrame.explode,
        '{"k": [1, 2], "v": [[1, 2], [3]]}',
        'explode("v").sort("v")',
        "{'k': [1, 1, 2], 'v': [1, 2, 3]}",
    )
    join = _computed(
        LazyFrame.join,
        '{"id": [1, 2], "cust": [10, 20]}',
        'join(cp.from_dict({"cust": [10], "name": ["Ada"]}), on="cust")',
        "{'id': [1], 'cust': [10], 'name': ['Ada']}",
    )
    join_asof = _computed(
        LazyFrame.join_asof,
        '{"t": [1, 5], "qty": [100, 200]}',
        'join_asof(cp.from_dict({"t": [0, 4], "bid": [9.5, 9.8]}), on="t").sort("t")',
        "{'t': [1, 5], 'qty': [100, 200], 'bid': [9.5, 9.8]}",
    )
    sql = _computed(
        LazyFrame.sql,
        '{"a": [1, 2, 3]}',
        'sql("SELECT sum(a) AS total FROM self WHERE a > 1")',
        "{'total': [5]}",
    )

    def group_by(
        self, *keys: IntoExpr | Iterable[IntoExpr], maintain_order: bool = False
    ) -> DataFrameGroupBy:
        """Groups rows by the keys (see :meth:`LazyFrame.group_by`); ``.agg(...)`` computes
        at once.

        >>> import corepy as cp
        >>> df = cp.from_dict({"k": ["x", "y", "x"], "v": [1, 2, 3]}).compute()
        >>> df.group_by("k", maintain_order=True).agg(cp.col("v").sum()).to_pydict()
        {'k': ['x', 'y'], 'v': [4, 2]}
        """
        return DataFrameGroupBy(self.lazy().group_by(*keys, maintain_order=maintain_order))

    def rolling(
        self,
        index_column: str,
        *,
        period: Span,
        offset: Span | None = None,
        closed: Closed = "right",
        group_by: IntoExpr | Iterable[IntoExpr] | None = None,
    ) -> DataFrameWindows:
        """Rolling windows over ``index_column`` (see :meth:`LazyFrame.rolling`);
        ``.agg(...)`` computes at once.

        >>> import corepy as cp
        >>> df = cp.from_dict({"i": [1, 2, 5], "x": [1, 2, 3]}).compute()
        >>> df.rolling("i", period="3i").agg(cp.sum("x")).to_pydict()
        {'i': [1, 2, 5], 'x': [1, 3, 3]}
        """
        windows = self.lazy().rolling(
            index_column, period=period, offset=offset, closed=closed, group_by=group_by
        )
        return DataFrameWindows(windows)

    def group_by_dynamic(
        self,
        index_column: str,
        *,
        every: Span,
        period: Span | None = None,
        offset: Span | None = None,
        include_boundaries: bool = False,
        closed: Closed = "left",
        label: Literal["left", "right", "datapoint"] = "left",
        group_by: IntoExpr | Iterable[IntoExpr] | None = None,
        start_by: Literal["window"] = "window",
    ) -> DataFrameWindows:
        """Windows on a grid over ``index_column`` (see :meth:`LazyFrame.group_by_dynamic`);
        ``.agg(...)`` computes at once.

        >>> import corepy as cp
        >>> df = cp.from_dict({"i": [1, 2, 5, 9], "x": [1, 2, 3, 4]}).compute()
        >>> df.group_by_dynamic("i", every="4i").agg(cp.sum("x")).to_pydict()
        {'i': [0, 4, 8], 'x': [3, 3, 4]}
        """
        windows = self.lazy().group_by_dynamic(
            index_column,
            every=every,
            period=period,
            offset=offset,
            include_boundaries=include_boundaries,
            closed=closed,
            label=label,
            group_by=group_by,
            start_by=start_by,
        )
        return DataFrameWindows(windows)

    def pivot(
        self,
        on: str,
        on_columns: Sequence[Scalar] | None = None,
        *,
        index: str | Sequence[str] | None = None,
        values: str | Sequence[str] | None = None,
        aggregate_function: PivotAgg | None = None,
        maintain_order: bool = True,
        sort_columns: bool = False,
        separator: str = "_",
    ) -> DataFrame:
        """From long to wide, as Polars' ``DataFrame.pivot``: :meth:`LazyFrame.pivot`, with
        one column per distinct value of ``on`` found in the data (in order of first
        appearance, or sorted with ``sort_columns``) unless ``on_columns`` lists them.
        Without ``aggregate_function`` each cell must hold at most one value; a cell with
        several is a :class:`~corepy.ComputeError` naming it (its index and ``on``
        values). Rows come in the order of each index's first appearance
        (``maintain_order``, as Polars).

        >>> import corepy as cp
        >>> df = cp.from_dict({"id": [1, 1, 2], "q": ["b", "a", "b"], "v": [10, 20, 30]}).compute()
        >>> df.pivot("q", index="id", values="v").to_pydict()
        {'id': [1, 2], 'b': [10, 30], 'a': [20, None]}
        """
        lazy = self.lazy()
        if on_columns is None:
            found = lazy.unique(on, keep="first", maintain_order=True)
            column = found.select(on).compute().get_column(on).to_pylist()
            on_columns = sorted(column, key=lambda v: (v is None, v)) if sort_columns else column
        if not on_columns:
            raise InvalidArgumentError(f"pivot(): the column {on!r} holds no values")
        wide = lazy.pivot(
            on,
            on_columns,
            index=index,
            values=values,
            aggregate_function=aggregate_function,
            separator=separator,
            maintain_order=maintain_order,
        )
        return wide.compute()

    def collect_schema(self) -> Schema:
        """The schema as Polars gives it: a :class:`~corepy.Schema`, ``name -> data type``.

        >>> import corepy as cp
        >>> cp.from_dict({"a": [1], "b": ["x"]}).compute().collect_schema()
        Schema([('a', Int64), ('b', String)])
        """
        return Schema.from_arrow(self.schema)

    @overload
    def rows(self, *, named: Literal[False] = False) -> list[tuple[Any, ...]]: ...

    @overload
    def rows(self, *, named: Literal[True]) -> list[dict[str, Any]]: ...

    def rows(self, *, named: bool = False) -> list[tuple[Any, ...]] | list[dict[str, Any]]:
        """Every row, as a tuple, or as a ``{column: value}`` dict when ``named``.

        >>> import corepy as cp
        >>> df = cp.from_dict({"a": [1, 2], "b": ["x", "y"]}).compute()
        >>> df.rows(), df.rows(named=True)
        ([(1, 'x'), (2, 'y')], [{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'y'}])
        """
        if named:
            return self.to_pylist()
        return list(zip(*self.to_pydict().values(), strict=True)) if self.width else []

    @overload
    def iter_rows(self, *, named: Literal[False] = False) -> Iterator[tuple[Any, ...]]: ...

    @overload
    def iter_rows(self, *, named: Literal[True]) -> Iterator[dict[str, Any]]: ...

    def iter_rows(
        self, *, named: bool = False
    ) -> Iterator[tuple[Any, ...]] | Iterator[dict[str, Any]]:
        """The rows one at a time, as tuples or, when ``named``, dicts; converted to Python
        a batch at a time.

        >>> import corepy as cp
        >>> df = cp.from_dict({"a": [1, 2], "b": ["x", "y"]}).compute()
        >>> [a for a, _ in df.iter_rows()], next(df.iter_rows(named=True))
        ([1, 2], {'a': 1, 'b': 'x'})
        """
        batches = self.to_arrow().to_batches()
        if named:
            return (row for batch in batches for row in batch.to_pylist())
        return (row for batch in batches for row in zip(*batch.to_pydict().values(), strict=True))

    def write_parquet(
        self,
        path: str | os.PathLike[str],
        *,
        compression: Literal["zstd", "snappy", "uncompressed"] = "zstd",
    ) -> None:
        """Writes this result to a Parquet file, atomically (see
        :meth:`LazyFrame.sink_parquet`).

        >>> import corepy as cp, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "out.parquet")
        >>> cp.from_dict({"a": [1, 2]}).compute().write_parquet(path, compression="snappy")
        >>> cp.scan_parquet(path).sort("a").compute().to_pydict()
        {'a': [1, 2]}
        """
        self.lazy().sink_parquet(path, compression=compression)

    def write_ipc(self, path: str | os.PathLike[str]) -> None:
        """Writes this result to an Arrow IPC file, atomically.

        >>> import corepy as cp, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "out.arrow")
        >>> cp.from_dict({"a": [1, 2]}).compute().write_ipc(path)
        >>> cp.scan_ipc(path).sort("a").compute().to_pydict()
        {'a': [1, 2]}
        """
        self.lazy().sink_ipc(path)

    def write_csv(
        self,
        path: str | os.PathLike[str],
        *,
        include_header: bool = True,
        separator: str = ",",
        compression: TextCompression | None = None,
    ) -> None:
        """Writes this result to a CSV file, atomically; compressed as
        :meth:`LazyFrame.sink_csv` says (``out.csv.gz``).

        >>> import corepy as cp, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "out.csv")
        >>> cp.from_dict({"a": [1, 2], "b": ["x", "y"]}).sort("a").compute().write_csv(path)
        >>> print(open(path).read(), end="")
        a,b
        1,x
        2,y
        """
        self.lazy().sink_csv(
            path,
            include_header=include_header,
            separator=separator,
            compression=compression,
        )

    def write_ndjson(
        self,
        path: str | os.PathLike[str],
        *,
        compression: TextCompression | None = None,
    ) -> None:
        """Writes this result as newline-delimited JSON (one object per row), atomically;
        compressed as :meth:`LazyFrame.sink_csv` says (``out.ndjson.gz``).

        >>> import corepy as cp, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "out.ndjson")
        >>> cp.from_dict({"a": [1, 2]}).compute().write_ndjson(path)
        >>> print(open(path).read(), end="")
        {"a":1}
        {"a":2}
        """
        self.lazy().sink_ndjson(path, compression=compression)

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, columns)``.

        >>> import corepy as cp
        >>> cp.from_dict({"a": [1, 2, 3], "b": ["x", "y", "z"]}).compute().shape
        (3, 2)
        """
        return (self._df.num_rows, self._df.num_columns)

    @property
    def height(self) -> int:
        """The number of rows.

        >>> import corepy as cp
        >>> cp.from_dict({"a": [1, 2, 3]}).compute().height
        3
        """
        return int(self._df.num_rows)

    @property
    def width(self) -> int:
        """The number of columns.

        >>> import corepy as cp
        >>> cp.from_dict({"a": [1], "b": [2]}).compute().width
        2
        """
        return int(self._df.num_columns)

    def __len__(self) -> int:
        return self.height

    @property
    def columns(self) -> list[str]:
        """The column names.

        >>> import corepy as cp
        >>> cp.from_dict({"a": [1], "b": [2]}).compute().columns
        ['a', 'b']
        """
        return self._df.columns()

    @property
    def schema(self) -> pa.Schema:
        """The schema, as a ``pyarrow.Schema``.

        >>> import corepy as cp
        >>> cp.from_dict({"a": [1], "b": ["x"]}).compute().schema
        a: int64
        b: string
        """
        return self._df.schema()

    def __repr__(self) -> str:
        if self._df.is_explain():
            return str(self._df.explain_text())
        rows, columns = self.shape
        shown = min(rows, _REPR_ROWS)
        table = self._df.format_table(_REPR_ROWS)
        more = f", first {shown} shown" if rows > shown else ""
        return f"corepy.DataFrame: {rows} rows × {columns} columns{more}\n{table}"

    def _repr_html_(self) -> str:
        rows, columns = self.shape
        shown = min(rows, _REPR_ROWS)
        more = f", first {shown} shown" if rows > shown else ""
        caption = f"<small>corepy.DataFrame: {rows} rows × {columns} columns{more}</small>"
        return f"<div>{caption}\n{self._df.format_html(_REPR_ROWS)}</div>"


class DataFrameGroupBy:
    """The groups of a computed :class:`DataFrame` (:meth:`DataFrame.group_by`); its
    methods compute at once and return a :class:`DataFrame`.

    >>> import corepy as cp
    >>> groups = cp.from_dict({"k": ["x", "y", "x"], "v": [1, 2, 3]}).compute().group_by("k")
    >>> groups.agg(cp.col("v").max()).sort("k").to_pydict()
    {'k': ['x', 'y'], 'v': [3, 2]}
    """

    __slots__ = ("_groups",)

    def __init__(self, groups: GroupBy) -> None:
        self._groups = groups

    def agg(self, *aggregations: Expr | Iterable[Expr]) -> DataFrame:
        """One row per group, computed (see :meth:`GroupBy.agg`).

        >>> import corepy as cp
        >>> df = cp.from_dict({"k": ["x", "y", "x"], "v": [1, 2, 3]}).compute()
        >>> df.group_by("k").agg(cp.len()).sort("k").to_pydict()
        {'k': ['x', 'y'], 'len': [2, 1]}
        """
        return self._groups.agg(*aggregations).compute()

    def rolling(
        self,
        index_column: str | Span | None = None,
        *,
        period: Span | None = None,
        offset: Span | None = None,
        closed: Closed = "right",
    ) -> DataFrameWindows:
        """Rolling windows within each group (see :meth:`GroupBy.rolling`): ``rolling("1s")``
        takes the frame's one date or datetime column as the index.

        >>> import corepy as cp, datetime as dt
        >>> t = [dt.datetime(2024, 1, 1, 9, 0, s) for s in (0, 1, 3)]
        >>> df = cp.from_dict({"sym": ["A", "A", "A"], "t": t, "p": [1.0, 3.0, 5.0]}).compute()
        >>> df.group_by("sym").rolling("2s").agg(cp.mean("p")).to_pydict()["p"]
        [1.0, 2.0, 5.0]
        """
        windows = self._groups.rolling(index_column, period=period, offset=offset, closed=closed)
        return DataFrameWindows(windows)

    def group_by_dynamic(
        self,
        index_column: str,
        *,
        every: Span,
        period: Span | None = None,
        offset: Span | None = None,
        include_boundaries: bool = False,
        closed: Closed = "left",
        label: Literal["left", "right", "datapoint"] = "left",
    ) -> DataFrameWindows:
        """Windows on a grid within each group (see :meth:`GroupBy.group_by_dynamic`).

        >>> import corepy as cp
        >>> df = cp.from_dict({"g": ["a", "a", "b"], "i": [1, 6, 5], "x": [1, 2, 3]}).compute()
        >>> df.group_by("g").group_by_dynamic("i", every="4i").agg(cp.sum("x")).to_pydict()
        {'g': ['a', 'a', 'b'], 'i': [0, 4, 4], 'x': [1, 2, 3]}
        """
        windows = self._groups.group_by_dynamic(
            index_column,
            every=every,
            period=period,
            offset=offset,
            include_boundaries=include_boundaries,
            closed=closed,
            label=label,
        )
        return DataFrameWindows(windows)


class DataFrameWindows:
    """Time windows over a computed :class:`DataFrame` (:meth:`DataFrame.rolling`,
    :meth:`DataFrame.group_by_dynamic`), waiting for :meth:`agg`, which computes at once.

    >>> import corepy as cp
    >>> df = cp.from_dict({"i": [1, 2, 5], "x": [1, 2, 3]}).compute()
    >>> type(df.rolling("i", period="2i")).__name__
    'DataFrameWindows'
    """

    __slots__ = ("_windows",)

    def __init__(self, windows: RollingGroupBy | DynamicGroupBy) -> None:
        self._windows = windows

    def agg(self, *aggregations: IntoExpr | Iterable[IntoExpr]) -> DataFrame:
        """The windows' aggregations, computed (see :meth:`RollingGroupBy.agg`,
        :meth:`DynamicGroupBy.agg`).

        >>> import corepy as cp
        >>> df = cp.from_dict({"i": [1, 2, 5], "x": [1, 2, 3]}).compute()
        >>> df.rolling("i", period="2i").agg(cp.max("x")).to_pydict()
        {'i': [1, 2, 5], 'x': [1, 2, 3]}
        """
        return self._windows.agg(*aggregations).compute()
