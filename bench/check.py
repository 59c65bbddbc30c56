"""Compares an engine's answer with the reference (DuckDB's), column by column.

Engines differ in physical types for the same value, so each pair of columns is brought to
one type first:

* integers and decimals on both sides compare **exactly**: as int64 when both have no
  fractional digits (DuckDB's ``sum(BIGINT)`` is a decimal(38, 0)), else as decimals of the
  larger scale;
* when either side is a float, both become float64 and compare within a relative tolerance
  (``RELATIVE_TOLERANCE``); NaN equals NaN;
* strings of any kind become large_string; dates and timestamps timestamp[us];
* a column of type null (an engine's all-NULL answer) takes the other side's type.

NULL equals only NULL. Names are not compared (the SQL and the frame forms name some columns
differently); the number of columns and rows and every value are. Unordered answers are
sorted by all columns, non-float columns first, so that float noise cannot reorder rows.
Ordered answers compare row by row, except that two neighbouring rows may be swapped when
they are equal within the tolerance on every column that differs (ties of a float sort key
that an exact decimal in the reference breaks the other way).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

RELATIVE_TOLERANCE = 1e-9
ABSOLUTE_TOLERANCE = 1e-9


def _is_float(kind: pa.DataType) -> bool:
    return pa.types.is_floating(kind)


def _is_exact_number(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_decimal(kind)


def _scale(kind: pa.DataType) -> int:
    return kind.scale if pa.types.is_decimal(kind) else 0


def _plain(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Dictionaries decoded, strings as large_string, dates and timestamps in µs."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return column.cast(pa.large_string())
    if pa.types.is_date(kind):
        return column.cast(pa.timestamp("ms")).cast(pa.timestamp("us"))
    if pa.types.is_timestamp(kind):
        return column.cast(pa.timestamp("us", tz=kind.tz))
    return column


def _common(a: pa.ChunkedArray, e: pa.ChunkedArray) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    a, e = _plain(a), _plain(e)
    if pa.types.is_null(a.type) and not pa.types.is_null(e.type):
        a = a.cast(e.type)
    elif pa.types.is_null(e.type) and not pa.types.is_null(a.type):
        e = e.cast(a.type)
    if _is_float(a.type) or _is_float(e.type):
        numeric = _is_exact_number(a.type) or _is_float(a.type)
        if numeric and (_is_exact_number(e.type) or _is_float(e.type)):
            return a.cast(pa.float64()), e.cast(pa.float64())
    if _is_exact_number(a.type) and _is_exact_number(e.type):
        scale = max(_scale(a.type), _scale(e.type))
        if scale == 0:
            return a.cast(pa.int64()), e.cast(pa.int64())
        kind = pa.decimal128(38, scale)
        return a.cast(kind), e.cast(kind)
    return a, e


def normalize_pair(actual: pa.Table, expected: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Both tables with positional names ``c0 …`` and matching types."""
    names = [f"c{i}" for i in range(expected.num_columns)]
    pairs = [_common(a, e) for a, e in zip(actual.columns, expected.columns, strict=True)]
    got = pa.table([a for a, _ in pairs], names=names)
    want = pa.table([e for _, e in pairs], names=names)
    return got, want


def _sorted(table: pa.Table) -> pa.Table:
    if table.num_rows == 0:
        return table
    floats = [n for n in table.column_names if _is_float(table.schema.field(n).type)]
    others = [n for n in table.column_names if n not in floats]
    # DuckDB sorts a 1e7-row answer several times faster than pyarrow's sort_by.
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.register("answer", table)
    order = ", ".join(f'"{n}" ASC NULLS LAST' for n in others + floats)
    ordered = con.sql(f"SELECT * FROM answer ORDER BY {order}").to_arrow_table()
    return ordered.cast(table.schema)


def _differing_rows(got: pa.ChunkedArray, want: pa.ChunkedArray) -> np.ndarray:
    """A boolean mask of the rows where the two columns differ."""
    got_nulls = np.asarray(got.is_null().to_numpy(zero_copy_only=False))
    want_nulls = np.asarray(want.is_null().to_numpy(zero_copy_only=False))
    differ = got_nulls != want_nulls
    if _is_float(got.type):
        g = np.asarray(got.fill_null(0.0).to_numpy(zero_copy_only=False), dtype=np.float64)
        w = np.asarray(want.fill_null(0.0).to_numpy(zero_copy_only=False), dtype=np.float64)
        close = np.isclose(g, w, rtol=RELATIVE_TOLERANCE, atol=ABSOLUTE_TOLERANCE, equal_nan=True)
        differ |= ~close
    else:
        equal = pc.fill_null(pc.equal(got, want), True)
        differ |= ~np.asarray(equal.to_numpy(zero_copy_only=False), dtype=bool)
    return differ


def _row_differences(got: pa.Table, want: pa.Table) -> np.ndarray:
    rows = np.zeros(want.num_rows, dtype=bool)
    for index in range(want.num_columns):
        rows |= _differing_rows(got.column(index), want.column(index))
    return rows


def _float_tie(want: pa.Table, a: int, b: int) -> bool:
    """Whether rows ``a`` and ``b`` of ``want`` are equal within the tolerance on every
    float column (so a float sort key may order them either way)."""
    first, second = want.slice(a, 1), want.slice(b, 1)
    floats = [i for i in range(want.num_columns) if _is_float(want.schema.types[i])]
    return bool(floats) and not any(
        _differing_rows(first.column(i), second.column(i))[0] for i in floats
    )


def _only_neighbour_swaps(got: pa.Table, want: pa.Table, differing: np.ndarray) -> bool:
    """Whether every differing row of ``got`` is the reference's row just above or below
    it, where those two reference rows tie on their float columns."""
    for row in np.flatnonzero(differing):
        here = got.slice(row, 1)
        if not any(
            0 <= other < want.num_rows
            and _float_tie(want, row, other)
            and not _row_differences(here, want.slice(other, 1))[0]
            for other in (row - 1, row + 1)
        ):
            return False
    return True


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


def _describe(got: pa.Table, want: pa.Table, names: list[str], row: int) -> str:
    columns = [
        names[i]
        for i in range(want.num_columns)
        if _differing_rows(got.column(i).slice(row, 1), want.column(i).slice(row, 1))[0]
    ]
    return (
        f"row {row}, column {columns[0]!r}: {list(got.slice(row, 1).to_pylist()[0].values())} "
        f"!= expected {list(want.slice(row, 1).to_pylist()[0].values())}"
    )


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
    for index, name in enumerate(expected.column_names):
        if got.schema.types[index] != want.schema.types[index]:
            kind, wanted = actual.schema.types[index], expected.schema.types[index]
            return f"column {name!r} is {kind}, expected {wanted}"
    if not ordered:
        got = _sorted(got)
        want = (reference or SortedReference()).sorted(want)
    differing = _row_differences(got, want)
    if not differing.any():
        return None
    if ordered and _only_neighbour_swaps(got, want, differing):
        return None
    return _describe(got, want, expected.column_names, int(np.flatnonzero(differing)[0]))
