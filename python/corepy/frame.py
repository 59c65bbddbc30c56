"""Lazy frames: a query plan built step by step, run by :meth:`LazyFrame.compute`.

>>> import corepy as cp
>>> lf = cp.from_dict({"g": ["a", "b", "a"], "x": [1, 2, 3]})
>>> out = lf.filter(cp.col("x") > 1).group_by("g").agg(cp.col("x").sum()).sort("g").compute()
>>> out.to_pydict()
{'g': ['a', 'b'], 'x': [3, 2]}
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, get_args, overload

from corepy import _core
from corepy.datatypes import DataType, Schema
from corepy.exceptions import InvalidArgumentError
from corepy.expr import (
    DType,
    Expr,
    IntoExpr,
    Scalar,
    Selector,
    coalesce,
    col,
    concat_str,
    into_expr,
    lit,
    row_number,
    when,
)
from corepy.expr import len as len_
from corepy.time_windows import Closed, DynamicGroupBy, RollingGroupBy, Span

if TYPE_CHECKING:
    import pyarrow as pa

    from corepy.dataframe import DataFrame
    from corepy.tensor import Tensor

__all__ = ["GroupBy", "LazyFrame", "concat"]


def _exprs(
    items: tuple[IntoExpr | Iterable[IntoExpr], ...], frame: LazyFrame | None = None
) -> list[_core.Expr]:
    """Flattens ``f("a", cp.col("b"))`` and ``f(["a", "b"])`` alike; a selector
    (``cp.col(cp.Float64)``) becomes one expression per column of ``frame`` it selects."""
    flat: list[Expr] = []
    for item in items:
        if isinstance(item, (str, Expr)):
            flat.append(into_expr(item))
        else:
            flat.extend(into_expr(i) for i in item)
    if any(isinstance(e, Selector) for e in flat):
        if frame is None:
            raise InvalidArgumentError("a column selector cannot be used here; name the columns")
        schema = _typed_columns(frame)
        flat = [x for e in flat for x in (e.expand(schema) if isinstance(e, Selector) else [e])]
    return [e._expr for e in flat]


def _typed_columns(frame: LazyFrame) -> Schema:
    """The frame's columns that have a corepy data type (every column but exotic Arrow
    types such as intervals), for type selectors to pick from."""
    columns: list[tuple[str, DataType]] = []
    for field in frame.schema:
        try:
            columns.append((field.name, DataType.from_arrow(field.type)))
        except InvalidArgumentError:
            continue  # no corepy type: no type selector can pick the column
    return Schema(columns)


#: The planner's words when it refuses an aggregation among row-wise expressions.
def _over_whole_frame(expr: _core.Expr) -> _core.Expr:
    """``expr`` with its aggregations as windows over the whole frame, so that
    ``x - x.mean()`` gives a value per row, as Polars broadcasts."""
    return expr.over([lit(True)._expr], [], [], [])


def _broadcasting(
    plan: Callable[[list[_core.Expr]], _core.LazyFrame], exprs: list[_core.Expr]
) -> LazyFrame:
    """``plan(exprs)``; if the planner refuses it and some expressions hold aggregations,
    plans again with those aggregations broadcast over the frame (Polars' rule). Frames
    whose expressions are all row-wise, or all aggregations in a select, are planned as
    they are."""
    try:
        return LazyFrame(plan(exprs))
    except InvalidArgumentError:
        if not any(e.is_aggregate() for e in exprs):
            raise
    return LazyFrame(plan([_over_whole_frame(e) if e.is_aggregate() else e for e in exprs]))


@overload
def concat(
    items: Iterable[LazyFrame],
    *,
    how: Literal["vertical", "diagonal", "horizontal"] = "vertical",
    axis: int = 0,
) -> LazyFrame: ...


@overload
def concat(
    items: Iterable[Tensor],
    *,
    how: Literal["vertical", "diagonal", "horizontal"] = "vertical",
    axis: int = 0,
) -> Tensor: ...


def concat(
    items: Iterable[Any],
    *,
    how: Literal["vertical", "diagonal", "horizontal"] = "vertical",
    axis: int = 0,
) -> Any:
    """The frames combined: ``"vertical"`` stacks their rows, and needs the same column
    names in the same order (types are unified, as SQL's ``UNION ALL``); ``"diagonal"``
    stacks them matching columns by name and fills a frame's missing columns with nulls;
    ``"horizontal"`` puts their columns side by side, row *i* with row *i* in each frame's
    row order (see :meth:`LazyFrame.with_row_index`), a shorter frame padded with nulls;
    column names must not repeat.

    >>> import corepy as cp
    >>> a = cp.from_dict({"x": [1], "y": ["p"]})
    >>> b = cp.from_dict({"x": [2]})
    >>> cp.concat([a, b], how="diagonal").sort("x").compute().to_pydict()
    {'x': [1, 2], 'y': ['p', None]}
    >>> cp.concat([b, cp.from_dict({"z": [7, 8]})], how="horizontal").compute().to_pydict()
    {'x': [2, None], 'z': [7, 8]}

    Tensors are joined along ``axis`` (see :func:`corepy.concatenate`):

    >>> cp.concat([cp.tensor([1, 2]), cp.tensor([3])]).compute().tolist()
    [1, 2, 3]
    """
    frames = list(items)
    from corepy.tensor import Tensor, concatenate

    if frames and isinstance(frames[0], Tensor):
        return concatenate(frames, axis)
    for frame in frames:
        if not isinstance(frame, LazyFrame):
            raise TypeError(f"concat() takes lazy frames, got {type(frame).__name__}")
    if how == "horizontal":
        return _concat_horizontal(frames)
    return LazyFrame(_core.concat([f._lf for f in frames], how))


#: The hidden column that carries a frame's row order (see ``planner/src/frame/row_index.rs``).
_ROW = "__corepy_row"


def _concat_horizontal(frames: list[LazyFrame]) -> LazyFrame:
    """Full joins on each frame's row index, in row order."""
    if not frames:
        raise InvalidArgumentError("concat() needs at least one frame")
    seen: set[str] = set()
    for frame in frames:
        clash = seen & set(frame.columns)
        if clash:
            raise InvalidArgumentError(
                f"concat(how='horizontal') got column {sorted(clash)[0]!r} twice; rename one"
            )
        seen |= set(frame.columns)
    joined = frames[0].with_row_index(_ROW)
    for frame in frames[1:]:
        joined = joined.join(frame.with_row_index(_ROW), on=_ROW, how="full", coalesce=True)
    return joined.sort(_ROW).drop(_ROW)


def _lazy(frame: LazyFrame | DataFrame, method: str) -> LazyFrame:
    """A join's other side as a lazy frame (a computed DataFrame is not copied)."""
    from corepy.dataframe import DataFrame

    if isinstance(frame, DataFrame):
        return frame.lazy()
    if not isinstance(frame, LazyFrame):
        raise TypeError(f"{method}() takes a LazyFrame or a DataFrame, got {type(frame).__name__}")
    return frame


def _names(items: tuple[str | Iterable[str], ...]) -> list[str]:
    """Flattens ``f("a", "b")`` and ``f(["a", "b"])`` alike."""
    flat: list[str] = []
    for item in items:
        flat.extend([item] if isinstance(item, str) else item)
    return flat


def _fills(value: Scalar | Expr, dtype: pa.DataType) -> bool:
    """Whether ``fill_null(value)`` fills a column of ``dtype`` (Polars' rule of kinds)."""
    import pyarrow as pa

    if isinstance(value, Expr) or value is None:
        return True
    if isinstance(value, bool):
        return bool(pa.types.is_boolean(dtype))
    if isinstance(value, (int, float, decimal.Decimal)):
        return bool(
            pa.types.is_integer(dtype) or pa.types.is_floating(dtype) or pa.types.is_decimal(dtype)
        )
    if isinstance(value, str):
        return bool(
            pa.types.is_string(dtype)
            or pa.types.is_large_string(dtype)
            or pa.types.is_string_view(dtype)
        )
    if isinstance(value, dt.datetime):
        return bool(pa.types.is_timestamp(dtype))
    if isinstance(value, dt.date):
        return bool(pa.types.is_date(dtype))
    if isinstance(value, dt.timedelta):
        return bool(pa.types.is_duration(dtype))
    return False


def _keys(keys: IntoExpr | Sequence[IntoExpr]) -> list[_core.Expr]:
    if isinstance(keys, (str, Expr)):
        return [into_expr(keys)._expr]
    return [into_expr(k)._expr for k in keys]


#: How :meth:`LazyFrame.fill_null` fills without a value.
FillNullStrategy = Literal["forward", "backward", "min", "max", "mean", "zero", "one"]

#: The aggregations :meth:`LazyFrame.pivot` applies to each cell.
PivotAgg = Literal[
    "sum", "mean", "min", "max", "count", "len", "median", "n_unique", "first", "last"
]

_PIVOT_AGGREGATIONS: tuple[str, ...] = get_args(PivotAgg)


def _single_value(
    kept: Expr, dtype: pa.DataType, index: list[str], on: str, on_value: Scalar
) -> Expr:
    """A pivot cell without an aggregation: its one value, or, where it has several, an
    error naming the cell when the query runs (``raise_error`` fails only where reached)."""
    rows = kept.len()
    # A key is the same on every row of the cell: min() reads it inside the aggregation.
    shown = [coalesce(col(k).min().cast("utf8"), lit("null")) for k in index]
    keys = [concat_str(lit(f"{k}="), value) for k, value in zip(index, shown, strict=True)]
    message = concat_str(
        lit("pivot(): the cell ("),
        concat_str(keys, separator=", "),
        lit(f", {on}={on_value!r}) holds "),
        rows.cast("utf8"),
        lit(" values; pass aggregate_function= to combine them"),
        separator="",
    )
    failure = Expr(_core.raise_error(message._expr, dtype))
    return when(rows > 1).then(failure).otherwise(kept.first())


#: Whole-file codecs of written CSV and NDJSON files.
TextCompression = Literal["gzip", "bzip2", "xz", "zstd", "uncompressed"]

#: The kinds of :meth:`LazyFrame.join`.
JoinHow = Literal["inner", "left", "right", "full", "semi", "anti", "cross"]


class LazyFrame:
    """A lazy query. Every method returns a new frame; nothing runs until :meth:`compute`.

    Methods check column names and types as they are called, so a mistake is reported
    at the line that makes it.

    >>> import corepy as cp
    >>> lf = cp.from_dict({"a": [3, 1, 2]}).filter(cp.col("a") > 1).sort("a")
    >>> lf.compute().to_pydict()
    {'a': [2, 3]}
    """

    __slots__ = ("_lf",)

    def __init__(self, inner: _core.LazyFrame) -> None:
        self._lf = inner

    def select(self, *exprs: IntoExpr | Iterable[IntoExpr]) -> LazyFrame:
        """Keeps only the given columns or expressions. If every expression is an
        aggregation, the result has one row.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"a": [1, 2], "b": [3, 4]})
        >>> lf.select("a", (cp.col("b") * 10).alias("b10")).compute().to_pydict()
        {'a': [1, 2], 'b10': [30, 40]}
        """
        return _broadcasting(self._lf.select, _exprs(exprs, self))

    def with_columns(self, *exprs: IntoExpr | Iterable[IntoExpr]) -> LazyFrame:
        """Adds columns; an expression named like an existing column replaces it in place.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"a": [1, 2]})
        >>> lf.with_columns(cp.col("a") * 2, (cp.col("a") + 1).alias("c")).compute().to_pydict()
        {'a': [2, 4], 'c': [2, 3]}
        """
        return _broadcasting(self._lf.with_columns, _exprs(exprs, self))

    def filter(self, predicate: Expr) -> LazyFrame:
        """Keeps the rows where ``predicate`` is true (null counts as false).

        >>> import corepy as cp
        >>> cp.from_dict({"a": [1, 2, None]}).filter(cp.col("a") >= 2).compute().to_pydict()
        {'a': [2]}
        """
        if not isinstance(predicate, Expr):
            raise TypeError(f"filter() takes an expression, got {type(predicate).__name__}")
        return _broadcasting(lambda p: self._lf.filter(p[0]), [predicate._expr])

    def sort(
        self,
        by: IntoExpr | Sequence[IntoExpr],
        *more_by: IntoExpr,
        descending: bool | Sequence[bool] = False,
        nulls_last: bool | Sequence[bool] = False,
    ) -> LazyFrame:
        """Sorts by one or more keys, the first most significant. ``descending`` and
        ``nulls_last`` take one flag, or one per key; by default nulls come first, as in
        Polars.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"a": [2, None, 1]})
        >>> lf.sort("a", nulls_last=True).compute().to_pydict()
        {'a': [1, 2, None]}
        """
        keys = _exprs((by, *more_by), self)
        flags_desc = [descending] if isinstance(descending, bool) else list(descending)
        flags_nulls = [nulls_last] if isinstance(nulls_last, bool) else list(nulls_last)
        return LazyFrame(self._lf.sort(keys, flags_desc, flags_nulls))

    def limit(self, n: int, offset: int = 0) -> LazyFrame:
        """Keeps at most ``n`` rows, after skipping ``offset`` rows, in the frame's row order
        (a sorted frame's order, else the source's: see :meth:`with_row_index`); reading
        stops once the rows are found.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"a": [4, 1, 3, 2]})
        >>> lf.sort("a").limit(2, offset=1).compute().to_pydict()
        {'a': [2, 3]}
        """
        if n < 0 or offset < 0:
            raise InvalidArgumentError("limit() takes non-negative n and offset")
        return LazyFrame(self._lf.limit(n, offset))

    def head(self, n: int = 5) -> LazyFrame:
        """The first ``n`` rows (same as :meth:`limit`).

        >>> import corepy as cp
        >>> cp.from_dict({"a": [4, 1, 3, 2]}).sort("a").head(3).compute().to_pydict()
        {'a': [1, 2, 3]}
        """
        return self.limit(n)

    def with_row_index(self, name: str = "index", offset: int = 0) -> LazyFrame:
        """Adds a first column ``name`` numbering the rows ``offset``, ``offset + 1``, … in
        the frame's row order, as Polars (UInt64). The row order of a scan is its files'
        order (files sorted by name, each file's rows in order), of an in-memory frame its
        rows' order, of a sorted frame the sort order; after a join or a group-by it is
        not defined.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"a": ["x", "y", "z"]})
        >>> lf.with_row_index().compute().to_pydict()
        {'index': [0, 1, 2], 'a': ['x', 'y', 'z']}
        >>> lf.filter(cp.col("a") != "x").with_row_index("n", offset=1).compute().to_pydict()
        {'n': [1, 2], 'a': ['y', 'z']}
        """
        if offset < 0:
            raise InvalidArgumentError("with_row_index() takes a non-negative offset")
        if name in self.columns:
            raise InvalidArgumentError(f"with_row_index(): the frame already has a column {name!r}")
        return LazyFrame(self._lf.with_row_index(name, offset))

    def tail(self, n: int = 5) -> LazyFrame:
        """The last ``n`` rows in the frame's row order (see :meth:`with_row_index`), in
        that order.

        >>> import corepy as cp
        >>> cp.from_dict({"a": [5, 6, 7, 8]}).tail(2).compute().to_pydict()
        {'a': [7, 8]}
        """
        if n < 0:
            raise InvalidArgumentError("tail() takes a non-negative n")
        last = self.sort(col(_ROW), descending=True).limit(n)
        return last.sort(col(_ROW)).drop(_ROW)

    def slice(self, offset: int, length: int | None = None) -> LazyFrame:
        """``length`` rows (all the rest when None) starting at row ``offset``, in the
        frame's row order.

        >>> import corepy as cp
        >>> cp.from_dict({"a": [1, 2, 3, 4]}).slice(1, 2).compute().to_pydict()
        {'a': [2, 3]}
        """
        if offset < 0:
            raise InvalidArgumentError(
                "slice() takes a non-negative offset (a negative one counts from the end, "
                "which needs the row count: compute first, or sort descending and use head())"
            )
        if length is not None and length < 0:
            raise InvalidArgumentError("slice() takes a non-negative length")
        return LazyFrame(self._lf.limit(length, offset))

    def drop(self, *columns: str | Iterable[str], strict: bool = True) -> LazyFrame:
        """Removes columns. An unknown name is an error, unless ``strict=False``.

        >>> import corepy as cp
        >>> cp.from_dict({"a": [1], "b": [2], "c": [3]}).drop("a", "c").columns
        ['b']
        """
        names = _names(columns)
        if strict:
            self._check_columns(names)
        kept = [c for c in self.columns if c not in set(names)]
        if not kept:
            raise InvalidArgumentError("drop() would remove every column")
        return self.select(kept)

    def rename(self, mapping: Mapping[str, str], *, strict: bool = True) -> LazyFrame:
        """Renames columns, ``{old: new}``; the order of columns is kept. An unknown old
        name is an error, unless ``strict=False``.

        >>> import corepy as cp
        >>> cp.from_dict({"a": [1], "b": [2]}).rename({"a": "x"}).columns
        ['x', 'b']
        """
        if strict:
            self._check_columns(list(mapping))
        return self.select([col(c).alias(mapping.get(c, c)) for c in self.columns])

    def drop_nulls(self, subset: str | Iterable[str] | None = None) -> LazyFrame:
        """Removes the rows with a null in any of ``subset`` (every column by default).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"a": [1, None, 3], "b": ["x", "y", None]})
        >>> lf.drop_nulls("a").compute().to_pydict()
        {'a': [1, 3], 'b': ['x', None]}
        """
        names = self.columns if subset is None else _names((subset,))
        self._check_columns(names)
        if not names:
            return self
        keep = col(names[0]).is_not_null()
        for name in names[1:]:
            keep = keep & col(name).is_not_null()
        return self.filter(keep)

    def fill_null(
        self, value: Scalar | Expr = None, *, strategy: FillNullStrategy | None = None
    ) -> LazyFrame:
        """Replaces nulls with ``value`` in the columns of its kind: a number fills numeric
        columns, a string string columns, a bool boolean columns, a date or datetime the
        temporal ones, as Polars does; an expression fills every column. Or by
        ``strategy``: ``"forward"`` / ``"backward"`` (the previous / next non-null value
        in the frame's row order, every column), ``"zero"``, ``"one"``, ``"min"``,
        ``"max"``, ``"mean"`` (numeric columns).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"a": [1, None], "s": [None, "x"]})
        >>> lf.fill_null(0).compute().to_pydict()
        {'a': [1, 0], 's': [None, 'x']}
        >>> lf.fill_null(strategy="backward").compute().to_pydict()
        {'a': [1, None], 's': ['x', 'x']}
        """
        import pyarrow as pa

        if strategy is not None:
            if value is not None:
                raise InvalidArgumentError("fill_null() takes a value or a strategy, not both")
            numeric_only = strategy not in ("forward", "backward")
            fills = [
                col(f.name).fill_null(strategy=strategy)
                for f in self.schema
                if not numeric_only or pa.types.is_integer(f.type) or pa.types.is_floating(f.type)
            ]
            return self.with_columns(fills) if fills else self
        if value is None:
            raise InvalidArgumentError("fill_null() needs a value or a strategy")
        filled = [
            coalesce(col(f.name), value if isinstance(value, Expr) else lit(value)).alias(f.name)
            for f in self.schema
            if _fills(value, f.type)
        ]
        return self.with_columns(filled) if filled else self

    def unique(
        self,
        subset: str | Iterable[str] | None = None,
        *,
        keep: Literal["any", "first", "last", "none"] = "any",
        maintain_order: bool = False,
    ) -> LazyFrame:
        """Removes duplicate rows; with ``subset``, keeps one row for each distinct value of
        those columns: ``keep="any"`` any one of them (the fastest), ``"first"`` /
        ``"last"`` the first / last in the frame's row order (see :meth:`with_row_index`),
        ``"none"`` only rows that have no duplicate. ``maintain_order=True`` keeps the rows
        in the frame's order; otherwise row order is not defined.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"a": [1, 1, 2], "b": ["x", "z", "y"]})
        >>> lf.unique("a", keep="last", maintain_order=True).compute().to_pydict()
        {'a': [1, 2], 'b': ['z', 'y']}
        """
        names = [] if subset is None else _names((subset,))
        self._check_columns(names)
        if keep == "any" and not maintain_order:
            return LazyFrame(self._lf.unique([col(n)._expr for n in names]))
        if keep not in ("any", "first", "last", "none"):
            raise InvalidArgumentError(
                f"unique(keep={keep!r}); use 'any', 'first', 'last' or 'none'"
            )
        keys = names or self.columns
        ordered = self.with_columns(col(_ROW))
        if keep == "none":
            kept = ordered.filter(len_().over(keys) == 1)
        else:
            first = row_number().over(keys, order_by=_ROW, descending=keep == "last")
            kept = ordered.filter(first == 1)
        if maintain_order:
            kept = kept.sort(_ROW)
        return kept.drop(_ROW)

    #: The same as :meth:`unique` (SQL's name).
    distinct = unique

    def top_k(
        self, k: int, *, by: IntoExpr | Sequence[IntoExpr], reverse: bool = False
    ) -> LazyFrame:
        """The ``k`` rows with the largest values of ``by`` (the smallest with
        ``reverse``), largest first; nulls count as smallest, as in Polars.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"a": [3, None, 7, 1]})
        >>> lf.top_k(2, by="a").compute().to_pydict()
        {'a': [7, 3]}
        """
        if k < 0:
            raise InvalidArgumentError("top_k() takes a non-negative k")
        return self.sort(by, descending=not reverse, nulls_last=True).limit(k)

    def bottom_k(
        self, k: int, *, by: IntoExpr | Sequence[IntoExpr], reverse: bool = False
    ) -> LazyFrame:
        """The ``k`` rows with the smallest values of ``by`` (the largest with ``reverse``),
        smallest first; nulls count as largest, as in Polars.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"a": [3, None, 7, 1]})
        >>> lf.bottom_k(2, by="a").compute().to_pydict()
        {'a': [1, 3]}
        """
        if k < 0:
            raise InvalidArgumentError("bottom_k() takes a non-negative k")
        return self.sort(by, descending=reverse, nulls_last=True).limit(k)

    def unpivot(
        self,
        on: str | Sequence[str] | None = None,
        *,
        index: str | Sequence[str] | None = None,
        variable_name: str = "variable",
        value_name: str = "value",
    ) -> LazyFrame:
        """From wide to long, as Polars: one row per (row, ``on`` column), holding the
        ``index`` columns, the column's name in ``variable_name`` and its value in
        ``value_name``. ``on`` defaults to every column not in ``index``; the values take
        the columns' common type. Row order is not defined.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"id": [1, 2], "q1": [10, 20], "q2": [11, 21]})
        >>> long = lf.unpivot(["q1", "q2"], index="id", variable_name="quarter")
        >>> long.sort("id", "quarter").compute().to_pydict()
        {'id': [1, 1, 2, 2], 'quarter': ['q1', 'q2', 'q1', 'q2'], 'value': [10, 11, 20, 21]}
        """
        keys = [] if index is None else _names((index,))
        columns = [c for c in self.columns if c not in keys] if on is None else _names((on,))
        self._check_columns(keys + columns)
        if not columns:
            raise InvalidArgumentError("unpivot() has no columns to unpivot")
        if variable_name == value_name or {variable_name, value_name} & set(keys):
            raise InvalidArgumentError(
                f"unpivot() names {variable_name!r} and {value_name!r} must differ from each "
                "other and from the index columns"
            )
        parts = [
            self.select(*keys, lit(name).alias(variable_name), col(name).alias(value_name))
            for name in columns
        ]
        return concat(parts)

    def explode(
        self,
        columns: str | Iterable[str],
        *more_columns: str,
        empty_as_null: bool = False,
        keep_nulls: bool = True,
    ) -> LazyFrame:
        """One row per element of the list column(s), the other columns repeated, as
        Polars: a null list gives one null row (unless ``keep_nulls=False``), an empty list
        none (one null row with ``empty_as_null=True``). Several columns are unnested side
        by side (a shorter list is padded with nulls; Polars raises on unequal lengths).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"k": [1, 2, 3], "v": [[1, 2], [], None]})
        >>> lf.explode("v").sort("k", "v").compute().to_pydict()
        {'k': [1, 1, 3], 'v': [1, 2, None]}
        """
        names = _names((columns, *more_columns))
        return LazyFrame(self._lf.explode(names, empty_as_null, keep_nulls))

    def pivot(
        self,
        on: str,
        on_columns: Sequence[Scalar],
        *,
        index: str | Sequence[str] | None = None,
        values: str | Sequence[str] | None = None,
        aggregate_function: PivotAgg | None = None,
        separator: str = "_",
        maintain_order: bool = False,
    ) -> LazyFrame:
        """From long to wide: one row per distinct ``index``, one column per value of
        ``on`` listed in ``on_columns`` (declared up front, so that the lazy schema is
        known; :meth:`DataFrame.pivot` finds them in the data). Each cell holds the one
        value of ``values`` in the rows with that index and ``on`` value (null if there is
        none; a cell with several values is a :class:`~corepy.ComputeError` that names
        it, as Polars), or ``aggregate_function`` of them: ``"sum"``, ``"mean"``,
        ``"min"``, ``"max"``, ``"median"``, ``"count"``, ``"len"``, ``"n_unique"``, or
        ``"first"`` / ``"last"`` in the frame's row order (see :meth:`with_row_index`).
        A sum or a count of no rows is 0, a mean null, as Polars.
        Columns are named after the ``on`` value, or
        ``{values}{separator}{on value}`` for several ``values``. ``index`` defaults to
        the columns that are neither ``on`` nor ``values``; ``values`` to those that are
        neither ``on`` nor ``index``. Rows come in no defined order, or with
        ``maintain_order=True`` in the order of each index's first row.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"id": [1, 1, 2], "q": ["a", "b", "a"], "v": [10, 20, 30]})
        >>> lf.pivot("q", ["a", "b"], index="id", values="v").sort("id").compute().to_pydict()
        {'id': [1, 2], 'a': [10, 30], 'b': [20, None]}
        >>> wide = lf.pivot("q", ["a"], values="v", aggregate_function="sum")
        >>> wide.sort("id").compute().to_pydict()
        {'id': [1, 2], 'a': [10, 30]}
        """
        self._check_columns([on])
        if not on_columns:
            raise InvalidArgumentError(
                "pivot() needs on_columns=, the values of the `on` column that become "
                "columns (the lazy schema must be known before the query runs)"
            )
        if aggregate_function is not None and aggregate_function not in _PIVOT_AGGREGATIONS:
            raise InvalidArgumentError(
                f"pivot() aggregate_function={aggregate_function!r}; use one of "
                f"{', '.join(_PIVOT_AGGREGATIONS)}, or None for one value per cell"
            )
        index_names, value_names = self._pivot_columns(on, index, values)
        schema = self.schema
        cells = []
        for name in value_names:
            for value in on_columns:
                # A null `on` value has its column too, named "null", as in Polars.
                label = "null" if value is None else str(value)
                if len(value_names) > 1:
                    label = f"{name}{separator}{label}"
                cell_rows = col(on).is_null() if value is None else col(on) == lit(value)
                kept = col(name).filter(cell_rows)
                if aggregate_function is None:
                    cell = _single_value(kept, schema.field(name).type, index_names, on, value)
                else:
                    cell = getattr(kept, aggregate_function)()
                cells.append(cell.alias(label))
        return self.group_by(index_names, maintain_order=maintain_order).agg(cells)

    def _pivot_columns(
        self,
        on: str,
        index: str | Sequence[str] | None,
        values: str | Sequence[str] | None,
    ) -> tuple[list[str], list[str]]:
        """pivot()'s index and values columns, defaults filled in and checked."""
        if index is None and values is None:
            raise InvalidArgumentError("pivot() needs index= or values=")
        if index is None:
            value_names = _names((values,))  # type: ignore[arg-type]
            index_names = [c for c in self.columns if c != on and c not in value_names]
        else:
            index_names = _names((index,))
            value_names = (
                _names((values,))
                if values is not None
                else [c for c in self.columns if c != on and c not in index_names]
            )
        self._check_columns(index_names + value_names)
        if not index_names or not value_names:
            raise InvalidArgumentError(
                "pivot() needs at least one index column and one values column"
            )
        return index_names, value_names

    def fill_nan(self, value: Scalar | Expr) -> LazyFrame:
        """Replaces NaN with ``value`` in every float column (nulls stay null).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"x": [1.0, float("nan")], "n": [1, 2]})
        >>> lf.fill_nan(0.0).compute().to_pydict()
        {'x': [1.0, 0.0], 'n': [1, 2]}
        """
        import pyarrow as pa

        filled = [
            col(f.name).fill_nan(value if isinstance(value, Expr) else lit(value))
            for f in self.schema
            if pa.types.is_floating(f.type)
        ]
        return self.with_columns(filled) if filled else self

    def collect_schema(self) -> Schema:
        """The output schema, without running the query, as Polars': a :class:`Schema`
        mapping each column name to its corepy data type (:attr:`schema` is the
        ``pyarrow.Schema``).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"a": [1], "b": ["x"]}).with_columns(cp.col("a").cast("float64"))
        >>> lf.collect_schema()
        Schema([('a', Float64), ('b', String)])
        >>> lf.collect_schema().names(), lf.collect_schema()["a"] == cp.Float64
        (['a', 'b'], True)
        """
        return Schema.from_arrow(self.schema)

    def cast(self, dtypes: Mapping[str, DType] | DType, *, strict: bool = True) -> LazyFrame:
        """Casts columns: ``{name: dtype}``, or one dtype for every column (see
        :data:`~corepy.expr.DType`: ``cp.Int32``, ``"float64"``, a pyarrow type…). An
        unknown name is an error, unless ``strict=False``.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"a": [1, 2], "b": [0.5, 1.5]})
        >>> lf.cast({"a": cp.Float64, "b": cp.Int64}).compute().to_pydict()
        {'a': [1.0, 2.0], 'b': [0, 1]}
        """
        if isinstance(dtypes, Mapping):
            if strict:
                self._check_columns(list(dtypes))
            wanted = {n: d for n, d in dtypes.items() if n in self.columns}
        else:
            wanted = {n: dtypes for n in self.columns}
        if not wanted:
            return self
        return self.with_columns([col(n).cast(d) for n, d in wanted.items()])

    def _check_columns(self, names: list[str]) -> None:
        """Raises ColumnNotFoundError, with suggestions, for a name the frame lacks."""
        for name in names:
            if name not in self.columns:
                self._lf.select([col(name)._expr])

    def group_by(
        self, *keys: IntoExpr | Iterable[IntoExpr], maintain_order: bool = False
    ) -> GroupBy:
        """Groups rows by the keys; follow with :meth:`GroupBy.agg`. Groups come in no
        defined order, or with ``maintain_order=True`` in the order of each group's first
        row (see :meth:`with_row_index`), as Polars.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"k": ["x", "y", "x"], "v": [1.0, 2.0, 4.0]})
        >>> lf.group_by("k").agg(cp.col("v").mean(), cp.len()).sort("k").compute().to_pydict()
        {'k': ['x', 'y'], 'v': [2.5, 2.0], 'len': [2, 1]}
        """
        return GroupBy(self, _exprs(keys, self), maintain_order)

    def join(
        self,
        other: LazyFrame | DataFrame,
        on: IntoExpr | Sequence[IntoExpr] | None = None,
        how: JoinHow = "inner",
        *,
        left_on: IntoExpr | Sequence[IntoExpr] | None = None,
        right_on: IntoExpr | Sequence[IntoExpr] | None = None,
        suffix: str = "_right",
        coalesce: bool | None = None,
        nulls_equal: bool = False,
    ) -> LazyFrame:
        """Joins with ``other`` on equal keys, as Polars does.

        ``how`` is ``"inner"``, ``"left"``, ``"right"``, ``"full"``, ``"semi"`` (left rows
        with a match), ``"anti"`` (left rows without one) or ``"cross"`` (every pair, no
        keys). Keys are ``on`` (same names on both sides) or ``left_on`` / ``right_on``;
        null keys match nothing unless ``nulls_equal=True``.

        Output columns: the left frame's, then the right frame's; a right-side name already
        taken gets ``suffix``. Inner, left and right joins *coalesce* the keys into one
        column (for a right join, the right key's); a full join keeps both unless
        ``coalesce=True``. Row order is not defined; sort the result if it matters.

        >>> import corepy as cp
        >>> orders = cp.from_dict({"id": [1, 2, 3], "cust": [10, 20, 10]})
        >>> names = cp.from_dict({"cust": [10, 20], "name": ["Ada", "Bo"]})
        >>> orders.join(names, on="cust").sort("id").compute().to_pydict()
        {'id': [1, 2, 3], 'cust': [10, 20, 10], 'name': ['Ada', 'Bo', 'Ada']}
        """
        other = _lazy(other, "join")
        if on is not None and (left_on is not None or right_on is not None):
            raise InvalidArgumentError(
                "join() takes either on= or left_on= and right_on=, not both"
            )
        if on is not None:
            left_keys = right_keys = _keys(on)
        elif (left_on is None) != (right_on is None):
            raise InvalidArgumentError("join() needs both left_on= and right_on=")
        else:
            left_keys = _keys(left_on) if left_on is not None else []
            right_keys = _keys(right_on) if right_on is not None else []
        return LazyFrame(
            self._lf.join(other._lf, how, left_keys, right_keys, suffix, coalesce, nulls_equal)
        )

    def join_asof(
        self,
        other: LazyFrame | DataFrame,
        *,
        left_on: str | None = None,
        right_on: str | None = None,
        on: str | None = None,
        by_left: str | Sequence[str] | None = None,
        by_right: str | Sequence[str] | None = None,
        by: str | Sequence[str] | None = None,
        strategy: Literal["backward", "forward", "nearest"] = "backward",
        suffix: str = "_right",
        tolerance: str | int | float | dt.timedelta | None = None,
        allow_exact_matches: bool = True,
        coalesce: bool = True,
    ) -> LazyFrame:
        """Joins each row with the row of ``other`` whose key is nearest before it
        (``"backward"``: the last key ≤ this one), after it (``"forward"``: the first key ≥)
        or either (``"nearest"``; on a tie the later one, as Polars), among the rows with
        equal ``by`` values, and at most ``tolerance`` away (a number for numeric keys, a
        duration such as ``"2s"`` for temporal ones). ``allow_exact_matches=False`` skips
        equal keys. Rows without a match get nulls.

        Output columns are Polars': the left ones, then the right ones except the key and
        ``by`` columns named as on the left (``coalesce=False`` keeps the key); clashing
        names get ``suffix``. The inputs need not be sorted; right rows with equal keys are
        matched in no defined order; the result's row order is not defined.

        >>> import corepy as cp
        >>> trades = cp.from_dict({"t": [1, 5, 10], "qty": [100, 200, 300]})
        >>> quotes = cp.from_dict({"t": [0, 4, 9], "bid": [9.5, 9.8, 10.1]})
        >>> trades.join_asof(quotes, on="t").sort("t").compute().to_pydict()
        {'t': [1, 5, 10], 'qty': [100, 200, 300], 'bid': [9.5, 9.8, 10.1]}
        """
        other = _lazy(other, "join_asof")
        if on is not None:
            if left_on is not None or right_on is not None:
                raise InvalidArgumentError("join_asof() takes either on= or left_on= and right_on=")
            left_on = right_on = on
        if left_on is None or right_on is None:
            raise InvalidArgumentError("join_asof() needs on= or both left_on= and right_on=")
        if by is not None:
            if by_left is not None or by_right is not None:
                raise InvalidArgumentError("join_asof() takes either by= or by_left= and by_right=")
            by_left = by_right = by
        if (by_left is None) != (by_right is None):
            raise InvalidArgumentError("join_asof() needs both by_left= and by_right=")
        left_by = [] if by_left is None else _names((by_left,))
        right_by = [] if by_right is None else _names((by_right,))
        span: float | tuple[int, int, int, int | None] | None
        if tolerance is None:
            span = None
        elif isinstance(tolerance, (str, dt.timedelta)):
            from corepy.time_windows import to_span

            span = to_span(tolerance, "tolerance")
        elif isinstance(tolerance, (int, float)) and not isinstance(tolerance, bool):
            span = float(tolerance)
        else:
            raise TypeError(
                f"join_asof() tolerance must be a number or a duration, got {tolerance!r}"
            )
        return LazyFrame(
            self._lf.join_asof(
                other._lf,
                left_on,
                right_on,
                left_by,
                right_by,
                strategy,
                span,
                allow_exact_matches,
                suffix,
                coalesce,
            )
        )

    def rolling(
        self,
        index_column: str,
        *,
        period: Span,
        offset: Span | None = None,
        closed: Closed = "right",
        group_by: IntoExpr | Iterable[IntoExpr] | None = None,
    ) -> RollingGroupBy:
        """Rolling windows over ``index_column`` (a date, datetime or integer column): for
        each row at time ``t``, the rows of its group with index in
        ``(t + offset, t + offset + period]``, by default ``(t - period, t]``
        (``closed`` says which ends belong). Follow with ``.agg(...)``; see
        :mod:`corepy.time_windows`.

        >>> import corepy as cp, datetime as dt
        >>> t = [dt.date(2024, 1, d) for d in (1, 2, 9)]
        >>> lf = cp.from_dict({"d": t, "x": [1, 2, 3]})
        >>> lf.rolling("d", period="7d").agg(cp.sum("x")).compute().to_pydict()["x"]
        [1, 3, 3]
        """
        return RollingGroupBy(
            self,
            index_column,
            period,
            offset,
            closed,
            [] if group_by is None else _exprs((group_by,), self),
        )

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
    ) -> DynamicGroupBy:
        """Windows on a grid over ``index_column``: window ``k`` starts at
        ``offset + k * every`` (weeks on Mondays; ``"1mo"``, ``"1q"``, ``"1y"`` are
        calendar windows) and lasts ``period`` (default ``every``); ``[start, end)`` by
        default (``closed``). A group's first window is the one holding its earliest
        index (Polars' ``start_by="window"``); windows without rows are left out. The
        index column of the result is each window's ``label``: its start, its end, or
        its earliest index (``"datapoint"``). Follow with ``.agg(...)``.

        >>> import corepy as cp, datetime as dt
        >>> t = [dt.datetime(2024, 1, 1, 9, m) for m in (0, 7, 16)]
        >>> lf = cp.from_dict({"t": t, "x": [1, 2, 3]})
        >>> out = lf.group_by_dynamic("t", every="15m").agg(cp.sum("x")).compute()
        >>> [(r["t"].strftime("%H:%M"), r["x"]) for r in out.to_dicts()]
        [('09:00', 3), ('09:15', 3)]
        """
        if start_by != "window":
            raise InvalidArgumentError(
                f"group_by_dynamic(start_by={start_by!r}) is not supported yet; use 'window'"
            )
        return DynamicGroupBy(
            self,
            index_column,
            every,
            period,
            offset,
            closed,
            label,
            include_boundaries,
            [] if group_by is None else _exprs((group_by,), self),
        )

    def sink_parquet(
        self,
        path: str | os.PathLike[str],
        *,
        compression: Literal["zstd", "snappy", "uncompressed"] = "zstd",
    ) -> None:
        """Runs the query and streams its result into a Parquet file (zstd-compressed by
        default, as Polars). The file appears only once complete: it is written beside
        ``path`` under a temporary name and renamed, so an error leaves no partial file
        (and an existing file untouched).

        >>> import corepy as cp, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "out.parquet")
        >>> cp.from_dict({"a": [1, 2]}).filter(cp.col("a") > 1).sink_parquet(path)
        >>> cp.scan_parquet(path).compute().to_pydict()
        {'a': [2]}
        """
        self._lf.write(path, "parquet", compression)

    def sink_ipc(self, path: str | os.PathLike[str]) -> None:
        """Runs the query and streams its result into an Arrow IPC file (see
        :meth:`sink_parquet` for how the file is written).

        >>> import corepy as cp, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "out.arrow")
        >>> cp.from_dict({"a": [1, 2, 3]}).filter(cp.col("a") > 1).sink_ipc(path)
        >>> cp.scan_ipc(path).sort("a").compute().to_pydict()
        {'a': [2, 3]}
        """
        self._lf.write(path, "ipc")

    def sink_csv(
        self,
        path: str | os.PathLike[str],
        *,
        include_header: bool = True,
        separator: str = ",",
        compression: TextCompression | None = None,
    ) -> None:
        """Runs the query and streams its result into a CSV file (see :meth:`sink_parquet`
        for how the file is written). The file is compressed as ``compression`` says, or,
        without it, as the path's extension says: ``out.csv.gz`` is gzip (also ``.bz2``,
        ``.xz``, ``.zst``); the scans read such files back.

        >>> import corepy as cp, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "out.csv")
        >>> cp.from_dict({"a": [2, 1], "b": ["y", "x"]}).sort("a").sink_csv(path, separator=";")
        >>> print(open(path).read(), end="")
        a;b
        1;x
        2;y
        """
        self._lf.write(path, "csv", compression, header=include_header, delimiter=separator)

    def sink_ndjson(
        self,
        path: str | os.PathLike[str],
        *,
        compression: TextCompression | None = None,
    ) -> None:
        """Runs the query and streams its result into newline-delimited JSON, one object
        per row, NULLs left out (see :meth:`sink_parquet` for how the file is written).
        Compressed as :meth:`sink_csv` is (``out.ndjson.zst``, ``compression="gzip"``).

        >>> import corepy as cp, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "out.ndjson")
        >>> cp.from_dict({"a": [2, 1], "b": ["y", None]}).sort("a").sink_ndjson(path)
        >>> print(open(path).read(), end="")
        {"a":1}
        {"a":2,"b":"y"}
        >>> cp.from_dict({"a": [1]}).sink_ndjson(path + ".gz")
        >>> cp.scan_ndjson(path + ".gz").compute().to_pydict()
        {'a': [1]}
        """
        self._lf.write(path, "ndjson", compression)

    write_parquet = sink_parquet
    write_ipc = sink_ipc
    write_csv = sink_csv
    write_ndjson = sink_ndjson

    def sql(self, query: str, *, table_name: str = "self") -> LazyFrame:
        """Runs SQL over this frame, named ``table_name`` (``self`` by default), as Polars'
        ``LazyFrame.sql``; the result is a lazy frame.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"a": [1, 2, 3]})
        >>> lf.sql("SELECT sum(a) AS total FROM self WHERE a > 1").compute().to_pydict()
        {'total': [5]}
        """
        from corepy.sql_context import SQLContext

        return SQLContext(frames={table_name: self}).execute(query)

    def to_tensor(self, columns: str | Sequence[str] | None = None, dtype: Any = None) -> Tensor:
        """Computes the frame and returns columns as a tensor (see
        :meth:`DataFrame.to_tensor`).

        >>> import corepy as cp
        >>> cp.from_dict({"a": [1, 2], "b": [3, 4]}).sort("a").to_tensor().compute().tolist()
        [[1, 3], [2, 4]]
        """
        return self.compute().to_tensor(columns, dtype)

    def compute(self, *, device: str | None = None) -> DataFrame:
        """Runs the query and returns its result. The GIL is released while it runs, and
        Ctrl-C stops it (``KeyboardInterrupt``), leaving the session usable.

        ``device`` places the fused stages for this query: ``"cpu"``, ``"cuda"``,
        ``"cuda:N"`` or ``"auto"`` (default: the session's, see :func:`set_backend`). A
        stage the GPU cannot take runs on the CPU with a :class:`GpuFallbackWarning`, or
        raises :class:`DeviceError` under ``Config(gpu_fallback="raise")``.

        ``collect()`` is the same method, under Polars' name.

        >>> import corepy as cp
        >>> df = cp.from_dict({"a": [1, 2]}).select(cp.col("a").sum()).compute()
        >>> type(df).__name__, df.to_pydict()
        ('DataFrame', {'a': [3]})
        """
        from corepy.dataframe import DataFrame
        from corepy.device import issue_warnings

        try:
            return DataFrame(self._lf.compute(device))
        finally:
            issue_warnings()

    collect = compute

    def explain(
        self,
        *,
        optimized: bool = True,
        analyze: bool = False,
        kernels: bool = False,
        device: str | None = None,
    ) -> str:
        """The plans as text: the optimized logical plan and the physical plan; with
        ``optimized=False`` the plan as written; with ``analyze=True`` the query runs and
        each operator shows its metrics (rows, time, and for fused stages the kernel and
        compile times; on a GPU the bytes copied each way and the copy time); with
        ``kernels=True`` also each fused kernel's IR and Cranelift IR. ``device`` plans for
        that device (see :meth:`compute`): each stage shows where it runs and why, and with
        ``kernels=True`` its PTX, which needs no GPU to render.

        >>> import corepy as cp
        >>> print(cp.from_dict({"a": [1]}).filter(cp.col("a") > 0).explain(optimized=False))
        == Logical plan ==
        Filter: memory_....a > Int64(0)
          TableScan: memory_...
        <BLANKLINE>
        """
        from corepy.device import issue_warnings

        try:
            return str(self._lf.explain(optimized, analyze, kernels, device))
        finally:
            issue_warnings()

    @property
    def schema(self) -> pa.Schema:
        """The output schema (without running the query).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"a": [1], "b": ["x"]})
        >>> lf.with_columns((cp.col("a") / 2).alias("half")).schema
        a: int64
        b: string
        half: double
        """
        return self._lf.schema()

    @property
    def columns(self) -> list[str]:
        """The output column names.

        >>> import corepy as cp
        >>> cp.from_dict({"a": [1], "b": [2]}).with_columns((cp.col("a") + 1).alias("c")).columns
        ['a', 'b', 'c']
        """
        return self._lf.columns()

    def __repr__(self) -> str:
        return self._lf.__repr__()


class GroupBy:
    """Groups of a :class:`LazyFrame`, waiting for :meth:`agg`.

    >>> import corepy as cp
    >>> grouped = cp.from_dict({"k": ["x", "y", "x"], "v": [1, 2, 3]}).group_by("k")
    >>> type(grouped).__name__
    'GroupBy'
    >>> grouped.agg(cp.col("v").sum()).sort("k").compute().to_pydict()
    {'k': ['x', 'y'], 'v': [4, 2]}
    """

    __slots__ = ("_frame", "_keys", "_maintain_order")

    def __init__(
        self, frame: LazyFrame, keys: list[_core.Expr], maintain_order: bool = False
    ) -> None:
        if not keys:
            raise InvalidArgumentError("group_by() needs at least one key")
        self._frame = frame
        self._keys = keys
        self._maintain_order = maintain_order

    def agg(self, *aggregations: Expr | Iterable[Expr]) -> LazyFrame:
        """One row per group: the keys, then each aggregation, in the order given.
        Group order is not defined; sort the result if it matters.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"k": ["x", "y", "x"], "v": [1, 2, 3]})
        >>> out = lf.group_by("k").agg(cp.col("v").max().alias("top"), cp.len())
        >>> out.sort("k").compute().to_pydict()
        {'k': ['x', 'y'], 'top': [3, 2], 'len': [2, 1]}
        """
        aggs = _exprs(aggregations, self._frame)
        if not aggs:
            raise InvalidArgumentError("agg() needs at least one aggregation")
        if not self._maintain_order:
            return LazyFrame(self._frame._lf.group_by_agg(self._keys, aggs))
        # Each group's first row, carried as a hidden aggregation to sort by.
        first_row = col(_ROW).min().alias(_ROW)._expr
        grouped = LazyFrame(self._frame._lf.group_by_agg(self._keys, [*aggs, first_row]))
        return grouped.sort(_ROW).drop(_ROW)

    def rolling(
        self,
        index_column: str | Span | None = None,
        *,
        period: Span | None = None,
        offset: Span | None = None,
        closed: Closed = "right",
    ) -> RollingGroupBy:
        """Rolling windows within each group: :meth:`LazyFrame.rolling` with these keys.
        Either ``rolling("t", period="1s")``, or ``rolling("1s")`` with the period alone,
        the index being the frame's one date or datetime column.

        >>> import corepy as cp, datetime as dt
        >>> t = [dt.datetime(2024, 1, 1, 9, 0, s) for s in (0, 1, 1, 3)]
        >>> lf = cp.from_dict({"sym": ["A", "A", "B", "A"], "t": t, "p": [1.0, 3.0, 5.0, 7.0]})
        >>> out = lf.group_by("sym").rolling("2s").agg(cp.mean("p")).compute()
        >>> out.to_pydict()["p"]
        [1.0, 2.0, 7.0, 5.0]
        """
        if period is None:
            if index_column is None:
                raise InvalidArgumentError("rolling() needs a period, e.g. rolling('1s')")
            if isinstance(index_column, str) and index_column in self._frame.columns:
                raise InvalidArgumentError(
                    f"rolling({index_column!r}) names a column: give the window length "
                    "too, e.g. rolling('t', period='1s')"
                )
            period, index_column = index_column, None
        if index_column is not None and not isinstance(index_column, str):
            raise TypeError("rolling() index_column must be a column name")
        return RollingGroupBy(self._frame, index_column, period, offset, closed, self._keys)

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
    ) -> DynamicGroupBy:
        """Windows on a grid within each group: :meth:`LazyFrame.group_by_dynamic` with
        these keys as ``group_by``.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"g": ["a", "a", "b", "a"], "i": [1, 2, 5, 6], "x": [1, 2, 3, 4]})
        >>> windows = lf.group_by("g").group_by_dynamic("i", every="4i")
        >>> windows.agg(cp.sum("x")).compute().to_pydict()
        {'g': ['a', 'a', 'b'], 'i': [0, 4, 4], 'x': [3, 4, 3]}
        """
        return DynamicGroupBy(
            self._frame,
            index_column,
            every,
            period,
            offset,
            closed,
            label,
            include_boundaries,
            self._keys,
        )
