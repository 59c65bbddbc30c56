"""Time windows: :meth:`LazyFrame.rolling` (a window ending at every row) and
:meth:`LazyFrame.group_by_dynamic` (windows on a fixed grid), with Polars' names and answers.

Windows are measured on an *index column*: a date, a datetime or an integer. Periods are
Polars' durations (``"1s"``, ``"15m"``, ``"2d"``, ``"1w"``; ``"1mo"``, ``"1q"``, ``"1y"``
for calendar windows of :meth:`~LazyFrame.group_by_dynamic`), or index units for an integer
index (``"3i"`` or ``3``). The windows are computed from the index's values, not from the
frame's row order, so the index need not be sorted; the result is sorted by the group keys,
then the index.

>>> import corepy as cp, datetime as dt
>>> t = [dt.datetime(2024, 1, 1, 9, 0, s) for s in (0, 1, 3)]
>>> lf = cp.from_dict({"t": t, "price": [10.0, 12.0, 11.0]})
>>> lf.rolling("t", period="2s").agg(cp.mean("price")).compute().to_pydict()["price"]
[10.0, 11.0, 11.0]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

from corepy import _core
from corepy.expr import IntoExpr
from corepy.namespaces import parse_duration

if TYPE_CHECKING:
    from corepy.frame import LazyFrame

__all__ = ["DynamicGroupBy", "RollingGroupBy", "Span", "to_span"]

#: A window length: a Polars duration string, index units (``"3i"`` or an int), or a
#: ``datetime.timedelta``.
Span = str | int | dt.timedelta

#: Which ends of a window belong to it.
Closed = Literal["left", "right", "both", "none"]


def to_span(value: Span, what: str) -> tuple[int, int, int, int | None]:
    """A span as the bindings take it: (months, days, nanoseconds, index units or None).

    >>> from corepy.time_windows import to_span
    >>> to_span("1d2h", "period"), to_span("3i", "period"), to_span(5, "period")
    ((0, 1, 7200000000000, None), (0, 0, 0, 3), (0, 0, 0, 5))
    """
    if isinstance(value, bool):
        raise TypeError(f"{what} must be a duration string, an int or a timedelta")
    if isinstance(value, int):
        return (0, 0, 0, value)
    if isinstance(value, dt.timedelta):
        micros = value // dt.timedelta(microseconds=1)
        return (0, 0, micros * 1000, None)
    if not isinstance(value, str):
        raise TypeError(
            f"{what} must be a duration string such as '1h', an int or a timedelta, "
            f"got {type(value).__name__}"
        )
    text = value.strip()
    if text.endswith("i") and text[:-1].lstrip("-").isdigit():
        return (0, 0, 0, int(text[:-1]))
    months, days, nanoseconds = parse_duration(text)
    return (months, days, nanoseconds, None)


def _optional_span(value: Span | None, what: str) -> tuple[int, int, int, int | None] | None:
    return None if value is None else to_span(value, what)


class RollingGroupBy:
    """Rolling windows waiting for :meth:`agg`: see :meth:`LazyFrame.rolling`.

    >>> import corepy as cp
    >>> lf = cp.from_dict({"g": ["a", "a", "b"], "i": [1, 2, 2], "x": [1, 2, 3]})
    >>> windows = lf.rolling("i", period="2i", group_by="g")
    >>> windows.agg(cp.max("x").alias("top")).compute().to_pydict()
    {'g': ['a', 'a', 'b'], 'i': [1, 2, 2], 'top': [1, 2, 3]}
    """

    __slots__ = ("_closed", "_frame", "_group_by", "_index", "_offset", "_period")

    def __init__(
        self,
        frame: LazyFrame,
        index_column: str | None,
        period: Span,
        offset: Span | None,
        closed: Closed,
        group_by: list[_core.Expr],
    ) -> None:
        self._frame = frame
        self._index = index_column
        self._period = to_span(period, "period")
        self._offset = _optional_span(offset, "offset")
        self._closed = closed
        self._group_by = group_by

    def agg(self, *aggregations: IntoExpr | Iterable[IntoExpr]) -> LazyFrame:
        """One row per input row: the group keys, the index, then each aggregation over
        the row's window.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"i": [1, 2, 5], "x": [1, 2, 3]})
        >>> lf.rolling("i", period="3i").agg(cp.sum("x")).compute().to_pydict()
        {'i': [1, 2, 5], 'x': [1, 3, 3]}
        """
        from corepy.frame import LazyFrame, _exprs

        return LazyFrame(
            self._frame._lf.rolling_agg(
                self._index,
                self._period,
                self._offset,
                self._closed,
                self._group_by,
                _exprs(aggregations, self._frame),
            )
        )


class DynamicGroupBy:
    """Windows on a grid waiting for :meth:`agg`: see :meth:`LazyFrame.group_by_dynamic`.

    >>> import corepy as cp
    >>> lf = cp.from_dict({"i": [0, 3, 4, 7], "x": [1, 2, 3, 4]})
    >>> windows = lf.group_by_dynamic("i", every="4i", include_boundaries=True)
    >>> windows.agg(cp.len()).compute().to_pydict()
    {'_lower_boundary': [0, 4], '_upper_boundary': [4, 8], 'i': [0, 4], 'len': [2, 2]}
    """

    __slots__ = ("_frame", "_options")

    def __init__(
        self,
        frame: LazyFrame,
        index_column: str | None,
        every: Span,
        period: Span | None,
        offset: Span | None,
        closed: Closed,
        label: Literal["left", "right", "datapoint"],
        include_boundaries: bool,
        group_by: list[_core.Expr],
    ) -> None:
        self._frame = frame
        self._options = (
            index_column,
            to_span(every, "every"),
            _optional_span(period, "period"),
            _optional_span(offset, "offset"),
            closed,
            label,
            include_boundaries,
            group_by,
        )

    def agg(self, *aggregations: IntoExpr | Iterable[IntoExpr]) -> LazyFrame:
        """One row per (group, window that holds rows): the group keys, the window bounds
        (with ``include_boundaries``), the window's label in the index column, then each
        aggregation.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"i": [1, 2, 5, 9], "x": [1, 2, 3, 4]})
        >>> lf.group_by_dynamic("i", every="4i").agg(cp.sum("x")).compute().to_pydict()
        {'i': [0, 4, 8], 'x': [3, 3, 4]}
        """
        from corepy.frame import LazyFrame, _exprs

        index, every, period, offset, closed, label, boundaries, keys = self._options
        return LazyFrame(
            self._frame._lf.group_by_dynamic_agg(
                index,
                every,
                period,
                offset,
                closed,
                label,
                boundaries,
                keys,
                _exprs(aggregations, self._frame),
            )
        )
