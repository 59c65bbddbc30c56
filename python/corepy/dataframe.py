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
import os
from typing import TYPE_CHECKING, Any, Literal

from corepy import _core
from corepy.datatypes import Schema
from corepy.exceptions import ColumnNotFoundError, InvalidArgumentError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import polars as pl
    import pyarrow as pa

    from corepy.frame import LazyFrame

__all__ = ["DataFrame"]

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

    def collect_schema(self) -> Schema:
        """The schema as Polars gives it: a :class:`~corepy.Schema`, ``name -> data type``.

        >>> import corepy as cp
        >>> cp.from_dict({"a": [1], "b": ["x"]}).compute().collect_schema()
        Schema([('a', Int64), ('b', String)])
        """
        return Schema.from_arrow(self.schema)

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
    ) -> None:
        """Writes this result to a CSV file, atomically.

        >>> import corepy as cp, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "out.csv")
        >>> cp.from_dict({"a": [1, 2], "b": ["x", "y"]}).sort("a").compute().write_csv(path)
        >>> print(open(path).read(), end="")
        a,b
        1,x
        2,y
        """
        self.lazy().sink_csv(path, include_header=include_header, separator=separator)

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
