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

import os
from typing import TYPE_CHECKING, Any, Literal

from corepy import _core

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl
    import pyarrow as pa

    from corepy.frame import LazyFrame

__all__ = ["DataFrame"]

_REPR_ROWS = 20


class DataFrame:
    """The result of :meth:`LazyFrame.compute`."""

    __slots__ = ("_df",)

    def __init__(self, inner: _core.DataFrame) -> None:
        self._df = inner

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """Exports the data as an Arrow C stream (zero-copy), for pyarrow, Polars, DuckDB…"""
        return self._df.__arrow_c_stream__(requested_schema)

    def to_arrow(self) -> pa.Table:
        """The data as a ``pyarrow.Table`` (zero-copy)."""
        import pyarrow as pa

        table: pa.Table = pa.table(self)
        return table

    def to_pandas(self, **kwargs: Any) -> pd.DataFrame:
        """The data as a ``pandas.DataFrame``; ``kwargs`` go to ``pyarrow.Table.to_pandas``."""
        frame: pd.DataFrame = self.to_arrow().to_pandas(**kwargs)
        return frame

    def to_polars(self) -> pl.DataFrame:
        """The data as a ``polars.DataFrame`` (zero-copy where Polars allows)."""
        import polars as pl

        frame = pl.from_arrow(self.to_arrow())
        assert isinstance(frame, pl.DataFrame)
        return frame

    def to_pydict(self) -> dict[str, list[Any]]:
        """The data as ``{column: [values]}``."""
        columns: dict[str, list[Any]] = self.to_arrow().to_pydict()
        return columns

    def to_pylist(self) -> list[dict[str, Any]]:
        """The data as a list of ``{column: value}`` rows."""
        rows: list[dict[str, Any]] = self.to_arrow().to_pylist()
        return rows

    def lazy(self) -> LazyFrame:
        """A lazy frame over this result, for further queries (no copy)."""
        from corepy.frame import LazyFrame

        return LazyFrame(self._df.lazy())

    def write_parquet(
        self,
        path: str | os.PathLike[str],
        *,
        compression: Literal["zstd", "snappy", "uncompressed"] = "zstd",
    ) -> None:
        """Writes this result to a Parquet file, atomically (see
        :meth:`LazyFrame.sink_parquet`)."""
        self.lazy().sink_parquet(path, compression=compression)

    def write_ipc(self, path: str | os.PathLike[str]) -> None:
        """Writes this result to an Arrow IPC file, atomically."""
        self.lazy().sink_ipc(path)

    def write_csv(
        self,
        path: str | os.PathLike[str],
        *,
        include_header: bool = True,
        separator: str = ",",
    ) -> None:
        """Writes this result to a CSV file, atomically."""
        self.lazy().sink_csv(path, include_header=include_header, separator=separator)

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, columns)``."""
        return (self._df.num_rows, self._df.num_columns)

    @property
    def height(self) -> int:
        """The number of rows."""
        return int(self._df.num_rows)

    @property
    def width(self) -> int:
        """The number of columns."""
        return int(self._df.num_columns)

    def __len__(self) -> int:
        return self.height

    @property
    def columns(self) -> list[str]:
        """The column names."""
        return self._df.columns()

    @property
    def schema(self) -> pa.Schema:
        """The schema, as a ``pyarrow.Schema``."""
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
