"""Compares an engine's answer with the reference (DuckDB's), column by column.

Answers are normalized first, since engines differ in physical types for the same value:
decimals become float64, every integer type int64 (float64 when the other side has
floats), string types large_string, dates and timestamps timestamp[us]. Names are not
compared (the SQL and the lazy forms name some columns differently); the number of
columns, rows and every value is. Floats are equal within a relative tolerance; NaN
equals NaN, and NULL equals only NULL. Unordered answers are sorted by all columns,
non-float columns first, so that float noise cannot reorder rows.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

RELATIVE_TOLERANCE = 1e-6
ABSOLUTE_TOLERANCE = 1e-9


def _normalize(column: pa.ChunkedArray, as_float: bool) -> pa.ChunkedArray:
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = column.type
    if pa.types.is_decimal(kind) or pa.types.is_floating(kind):
        return column.cast(pa.float64())
    if pa.types.is_integer(kind):
        return column.cast(pa.float64() if as_float else pa.int64())
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return column.cast(pa.large_string())
    if pa.types.is_date(kind):
        return column.cast(pa.timestamp("ms")).cast(pa.timestamp("us"))
    if pa.types.is_timestamp(kind):
        return column.cast(pa.timestamp("us", tz=None) if kind.tz is None else kind)
    if pa.types.is_null(kind):
        return column
    return column


def _is_float(kind: pa.DataType) -> bool:
    return pa.types.is_floating(kind) or pa.types.is_decimal(kind)


def normalize_pair(actual: pa.Table, expected: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Both tables with positional names ``c0 …`` and matching normalized types."""
    names = [f"c{i}" for i in range(expected.num_columns)]
    got, want = [], []
    for a, e in zip(actual.columns, expected.columns, strict=True):
        as_float = _is_float(a.type) or _is_float(e.type)
        got.append(_normalize(a, as_float))
        want.append(_normalize(e, as_float))
    return pa.table(got, names=names), pa.table(want, names=names)


def _sorted(table: pa.Table) -> pa.Table:
    floats = [n for n in table.column_names if pa.types.is_floating(table.schema.field(n).type)]
    others = [n for n in table.column_names if n not in floats]
    if table.num_rows == 0:
        return table
    # DuckDB sorts a 1e7-row answer ten times faster than pyarrow's sort_by.
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.register("answer", table)
    order = ", ".join(f'"{n}" ASC NULLS LAST' for n in others + floats)
    ordered = con.sql(f"SELECT * FROM answer ORDER BY {order}").to_arrow_table()
    return ordered.cast(table.schema)


def _first_difference(got: pa.ChunkedArray, want: pa.ChunkedArray) -> int | None:
    """The index of the first row where the two columns differ, or None."""
    got_nulls = np.asarray(got.is_null().to_numpy(zero_copy_only=False))
    want_nulls = np.asarray(want.is_null().to_numpy(zero_copy_only=False))
    differ = got_nulls != want_nulls
    if pa.types.is_floating(got.type):
        g = np.asarray(got.fill_null(0.0).to_numpy(zero_copy_only=False), dtype=np.float64)
        w = np.asarray(want.fill_null(0.0).to_numpy(zero_copy_only=False), dtype=np.float64)
        close = np.isclose(g, w, rtol=RELATIVE_TOLERANCE, atol=ABSOLUTE_TOLERANCE, equal_nan=True)
        differ |= ~close
    else:
        equal = pc.fill_null(pc.equal(got, want), True)
        differ |= ~np.asarray(equal.to_numpy(zero_copy_only=False), dtype=bool)
    hits = np.flatnonzero(differ)
    return int(hits[0]) if len(hits) else None


class SortedReference:
    """Sorts the reference once per normalized type list, for comparing many answers with
    it (sorting a 1e7-row answer is the most expensive part of a check)."""

    def __init__(self) -> None:
        self.tables: dict[tuple[pa.DataType, ...], pa.Table] = {}

    def sorted(self, want: pa.Table) -> pa.Table:
        key = tuple(want.schema.types)
        if key not in self.tables:
            self.tables[key] = _sorted(want)
        return self.tables[key]


def compare(
    actual: pa.Table,
    expected: pa.Table,
    *,
    ordered: bool,
    reference: SortedReference | None = None,
) -> str | None:
    """None when ``actual`` holds the answer ``expected``; otherwise what differs. Give the
    same ``reference`` for every comparison with one ``expected`` to sort it only once."""
    if actual.num_columns != expected.num_columns:
        return (
            f"{actual.num_columns} columns {actual.column_names}, "
            f"expected {expected.num_columns} {expected.column_names}"
        )
    if actual.num_rows != expected.num_rows:
        return f"{actual.num_rows} rows, expected {expected.num_rows}"
    try:
        got, want = normalize_pair(actual, expected)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        return f"types {actual.schema.types} do not compare with {expected.schema.types}: {error}"
    for g, w, name in zip(got.columns, want.columns, expected.column_names, strict=True):
        if g.type != w.type:
            return f"column {name!r} is {g.type}, expected {w.type}"
    if not ordered:
        got = _sorted(got)
        want = (reference or SortedReference()).sorted(want)
    for index, name in enumerate(expected.column_names):
        row = _first_difference(got.column(index), want.column(index))
        if row is not None:
            return (
                f"row {row}, column {name!r}: {got.slice(row, 1).to_pylist()[0]} "
                f"!= expected {want.slice(row, 1).to_pylist()[0]}"
            )
    return None
