"""The ``.str`` and ``.dt`` namespaces of :class:`~corepy.Expr`, with Polars' names and
meanings, built on DataFusion's string and date functions; and Polars' duration strings
(``"1d12h"``, ``"-3mo"``).

>>> import corepy as cp
>>> lf = cp.from_dict({"s": ["  Oslo ", "lima"]})
>>> lf.select(cp.col("s").str.strip_chars().str.to_uppercase()).compute().to_pydict()
{'s': ['OSLO', 'LIMA']}
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from corepy import _core
from corepy.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    from corepy.expr import Expr

__all__ = ["DateTimeNamespace", "ListNamespace", "StringNamespace", "parse_duration"]

_UNITS_NS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
_UNITS_DAYS = {"d": 1, "w": 7}
_UNITS_MONTHS = {"mo": 1, "q": 3, "y": 12}
_DURATION = re.compile(r"(\d+)(ns|us|ms|mo|s|m|h|d|w|q|y)")
_ACCEPTED = "ns, us, ms, s, m, h, d, w, mo, q, y"


def parse_duration(text: str) -> tuple[int, int, int]:
    """Polars' duration string as (months, days, nanoseconds): ``"1mo2d"``, ``"90m"``,
    ``"-1w"``. Days and months are calendar units, as in Polars.

    >>> from corepy.namespaces import parse_duration
    >>> parse_duration("1y2mo3d4h")
    (14, 3, 14400000000000)
    >>> parse_duration("1x")
    Traceback (most recent call last):
    ...
    corepy.exceptions.InvalidArgumentError: invalid duration '1x': use numbers with units ns, ...
    """
    body = text.strip()
    sign = -1 if body.startswith("-") else 1
    body = body.lstrip("-")
    parts = _DURATION.findall(body)
    if not body or "".join(n + u for n, u in parts) != body:
        raise InvalidArgumentError(
            f"invalid duration {text!r}: use numbers with units {_ACCEPTED} (e.g. '1d12h', '-15m')"
        )
    months = days = nanoseconds = 0
    for number, unit in parts:
        n = int(number)
        if unit in _UNITS_MONTHS:
            months += n * _UNITS_MONTHS[unit]
        elif unit in _UNITS_DAYS:
            days += n * _UNITS_DAYS[unit]
        else:
            nanoseconds += n * _UNITS_NS[unit]
    return sign * months, sign * days, sign * nanoseconds


def _call(name: str, *args: Expr) -> Expr:
    from corepy.expr import Expr

    return Expr(_core.call(name, [a._expr for a in args]))


def _lit(value: object) -> Expr:
    from corepy.expr import lit

    return lit(value)  # type: ignore[arg-type]


class StringNamespace:
    """String functions: ``cp.col("name").str.to_lowercase()``. Patterns are regular
    expressions in Rust's ``regex`` syntax (as in Polars) unless ``literal=True``."""

    __slots__ = ("_expr",)

    def __init__(self, expr: Expr) -> None:
        self._expr = expr

    def contains(self, pattern: str, *, literal: bool = False) -> Expr:
        """True where the string matches ``pattern`` (a regex unless ``literal``).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"s": ["apple", "kiwi", None]})
        >>> lf.select(cp.col("s").str.contains("p+l")).compute().to_pydict()
        {'s': [True, False, None]}
        """
        if literal:
            return _call("contains", self._expr, _lit(pattern))
        return _call("regexp_like", self._expr, _lit(pattern))

    def starts_with(self, prefix: str) -> Expr:
        """True where the string starts with ``prefix``."""
        return _call("starts_with", self._expr, _lit(prefix))

    def ends_with(self, suffix: str) -> Expr:
        """True where the string ends with ``suffix``."""
        return _call("ends_with", self._expr, _lit(suffix))

    def len_chars(self) -> Expr:
        """The number of characters (Unicode code points)."""
        return _call("character_length", self._expr)

    def len_bytes(self) -> Expr:
        """The number of bytes of the UTF-8 encoding."""
        return _call("octet_length", self._expr)

    def to_lowercase(self) -> Expr:
        """The string in lower case."""
        return _call("lower", self._expr)

    def to_uppercase(self) -> Expr:
        """The string in upper case."""
        return _call("upper", self._expr)

    def strip_chars(self, characters: str | None = None) -> Expr:
        """Removes leading and trailing ``characters`` (whitespace by default)."""
        if characters is None:
            return _call("regexp_replace", self._expr, _lit(r"^\s+|\s+$"), _lit(""), _lit("g"))
        return _call("btrim", self._expr, _lit(characters))

    def strip_chars_start(self, characters: str | None = None) -> Expr:
        """Removes leading ``characters`` (whitespace by default)."""
        if characters is None:
            return _call("regexp_replace", self._expr, _lit(r"^\s+"), _lit(""))
        return _call("ltrim", self._expr, _lit(characters))

    def strip_chars_end(self, characters: str | None = None) -> Expr:
        """Removes trailing ``characters`` (whitespace by default)."""
        if characters is None:
            return _call("regexp_replace", self._expr, _lit(r"\s+$"), _lit(""))
        return _call("rtrim", self._expr, _lit(characters))

    def replace(self, pattern: str, value: str, *, literal: bool = False, n: int = 1) -> Expr:
        """Replaces the first match of ``pattern`` with ``value`` (``$1`` names a capture
        group unless ``literal``). Only ``n=1`` is supported; see :meth:`replace_all`.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"s": ["a-b-c"]})
        >>> lf.select(cp.col("s").str.replace("-", "+", literal=True)).compute().to_pydict()
        {'s': ['a+b-c']}
        """
        if n != 1:
            raise InvalidArgumentError(
                "str.replace() supports n=1; use str.replace_all() for every match"
            )
        return self._replace(pattern, value, literal, every=False)

    def replace_all(self, pattern: str, value: str, *, literal: bool = False) -> Expr:
        """Replaces every match of ``pattern`` with ``value`` (see :meth:`replace`)."""
        return self._replace(pattern, value, literal, every=True)

    def _replace(self, pattern: str, value: str, literal: bool, every: bool) -> Expr:
        if literal:
            pattern, value = re.escape(pattern), value.replace("$", "$$")
        flags = [_lit("g")] if every else []
        return _call("regexp_replace", self._expr, _lit(pattern), _lit(value), *flags)

    def split(self, by: str) -> Expr:
        """The list of parts between occurrences of ``by``.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"s": ["a,b", "c"]})
        >>> lf.select(cp.col("s").str.split(",")).compute().to_pydict()
        {'s': [['a', 'b'], ['c']]}
        """
        from corepy.expr import when

        parts = _call("string_to_array", self._expr, _lit(by))
        # Polars splits "" into [""]; DataFusion into [].
        empty = _call("make_array", _lit(""))
        return when(self._expr == "").then(empty).otherwise(parts)

    def slice(self, offset: int, length: int | None = None) -> Expr:
        """``length`` characters (all the rest when None) from character ``offset``
        (0-based; a negative offset counts from the end).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"s": ["corepy"]})
        >>> s = cp.col("s").str
        >>> lf.select(s.slice(-2), s.slice(1, 3).alias("m")).compute().to_pydict()
        {'s': ['py'], 'm': ['ore']}
        """
        if length is not None and length < 0:
            raise InvalidArgumentError("str.slice() takes a non-negative length")
        if offset >= 0:
            start = _lit(offset + 1)
        else:
            from_end = _call("character_length", self._expr) + (offset + 1)
            start = _call("greatest", from_end, _lit(1))
        args = [self._expr, start] + ([] if length is None else [_lit(length)])
        return _call("substr", *args)

    def to_date(self, format: str | None = None) -> Expr:
        """Parses dates; ``format`` in chrono's strftime syntax (``"%Y-%m-%d"``), as Polars.
        A string that does not parse is an error when the query runs."""
        args = [self._expr] + ([] if format is None else [_lit(format)])
        return _call("to_date", *args)

    def to_datetime(self, format: str | None = None) -> Expr:
        """Parses timestamps (microseconds, no time zone unless the text has one);
        ``format`` in chrono's strftime syntax."""
        args = [self._expr] + ([] if format is None else [_lit(format)])
        return _call("to_timestamp_micros", *args)


_PART_TYPES = {
    "year": "int32",
    "month": "int8",
    "day": "int8",
    "hour": "int8",
    "minute": "int8",
    "second": "int8",
    "isodow": "int8",
}


class DateTimeNamespace:
    """Date and time functions: ``cp.col("ts").dt.year()``."""

    __slots__ = ("_expr",)

    def __init__(self, expr: Expr) -> None:
        self._expr = expr

    def _part(self, part: str) -> Expr:
        return _call("date_part", _lit(part), self._expr).cast(_PART_TYPES[part])

    def year(self) -> Expr:
        """The year (int32).

        >>> import corepy as cp, datetime as dt
        >>> lf = cp.from_dict({"d": [dt.date(2024, 3, 9)]})
        >>> d = cp.col("d").dt
        >>> lf.select(d.year(), d.weekday().alias("wd")).compute().to_pydict()
        {'d': [2024], 'wd': [6]}
        """
        return self._part("year")

    def month(self) -> Expr:
        """The month, 1 to 12 (int8)."""
        return self._part("month")

    def day(self) -> Expr:
        """The day of the month, 1 to 31 (int8)."""
        return self._part("day")

    def hour(self) -> Expr:
        """The hour, 0 to 23 (int8)."""
        return self._part("hour")

    def minute(self) -> Expr:
        """The minute, 0 to 59 (int8)."""
        return self._part("minute")

    def second(self) -> Expr:
        """The second, 0 to 59, without its fraction (int8)."""
        return self._part("second")

    def weekday(self) -> Expr:
        """The ISO day of the week: 1 for Monday to 7 for Sunday (int8), as Polars."""
        return self._part("isodow")

    def epoch(self, time_unit: Literal["s", "ms", "us", "ns", "d"] = "us") -> Expr:
        """The time since 1970-01-01 in ``time_unit`` (int64; int32 days for ``"d"``).

        >>> import corepy as cp, datetime as dt
        >>> lf = cp.from_dict({"d": [dt.date(1970, 1, 3)]})
        >>> lf.select(cp.col("d").dt.epoch("s")).compute().to_pydict()
        {'d': [172800]}
        """
        if time_unit == "d":
            return self._expr.cast("date32").cast("int32")
        if time_unit not in ("s", "ms", "us", "ns"):
            raise InvalidArgumentError(
                f"epoch() time_unit={time_unit!r}; use 's', 'ms', 'us', 'ns' or 'd'"
            )
        return self._expr.cast(f"timestamp[{time_unit}]").cast("int64")

    def truncate(self, every: str) -> Expr:
        """The start of the ``every``-long window holding each value: ``"1d"``, ``"1w"``
        (weeks start on Monday), ``"1mo"``, ``"1q"``, ``"1y"``, or any fixed duration such as
        ``"15m"`` or ``"6h"`` (windows counted from 1970-01-01). A date stays a date.

        >>> import corepy as cp, datetime as dt
        >>> lf = cp.from_dict({"t": [dt.datetime(2024, 5, 17, 13, 47)]})
        >>> lf.select(cp.col("t").dt.truncate("15m")).compute().to_pydict()
        {'t': [datetime.datetime(2024, 5, 17, 13, 45)]}
        """
        from corepy.expr import Expr

        months, days, nanoseconds = parse_duration(every)
        if min(months, days, nanoseconds) < 0 or not (months or days or nanoseconds):
            raise InvalidArgumentError(f"truncate() takes a positive duration, got {every!r}")
        if months:
            unit = {1: "month", 3: "quarter", 12: "year"}.get(months)
            if unit is None or days or nanoseconds:
                raise InvalidArgumentError(
                    f"truncate({every!r}): calendar windows are 1mo, 1q or 1y; other month "
                    "counts, or months mixed with days or time, are not supported"
                )
            return _call("date_trunc", _lit(unit), self._expr)
        if nanoseconds == 0 and days in (1, 7):
            return _call("date_trunc", _lit("day" if days == 1 else "week"), self._expr)
        stride = Expr(_core.lit_interval(0, days, nanoseconds))
        # Weeks start on Monday (1970-01-05); other windows count from the epoch.
        monday = nanoseconds == 0 and days % 7 == 0
        origin = Expr(_core.lit_timestamp(4 * 86_400_000_000 if monday else 0))
        return _call("date_bin", stride, self._expr, origin)

    def offset_by(self, by: str) -> Expr:
        """Shifts by a Polars duration such as ``"1d"``, ``"-2mo"`` or ``"1y3h"`` (months and
        days are calendar units: ``"1mo"`` from January 31 is the end of February).

        >>> import corepy as cp, datetime as dt
        >>> lf = cp.from_dict({"d": [dt.date(2024, 1, 31)]})
        >>> lf.select(cp.col("d").dt.offset_by("1mo")).compute().to_pydict()
        {'d': [datetime.date(2024, 2, 29)]}
        """
        from corepy.expr import Expr

        months, days, nanoseconds = parse_duration(by)
        return self._expr + Expr(_core.lit_interval(months, days, nanoseconds))


class ListNamespace:
    """List functions: ``cp.col("tags").list.len()``."""

    __slots__ = ("_expr",)

    def __init__(self, expr: Expr) -> None:
        self._expr = expr

    def len(self) -> Expr:
        """The number of elements (0 for an empty list, null for a null list).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"l": [[1, 2], [], None]})
        >>> lf.select(cp.col("l").list.len()).compute().to_pydict()
        {'l': [2, 0, None]}
        """
        return _call("cardinality", self._expr)

    def get(self, index: int) -> Expr:
        """The element at ``index`` (0-based; negative counts from the end). Differs from
        Polars, which raises by default: an index out of bounds gives null here (Polars'
        ``null_on_oob=True``).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"l": [[1, 2], [3]]})
        >>> lf.select(cp.col("l").list.get(-1)).compute().to_pydict()
        {'l': [2, 3]}
        """
        position = index + 1 if index >= 0 else index
        return _call("array_element", self._expr, _lit(position))

    def contains(self, item: object) -> Expr:
        """True where the list holds ``item``."""
        return _call("array_has", self._expr, _lit(item))
