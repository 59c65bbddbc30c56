"""Column expressions: ``cp.col("a") * 2 + 1``, ``cp.lit(3)``, comparisons, boolean logic,
casts, aliases and aggregations.

Expressions are immutable descriptions; they compute nothing until a frame that uses them
is computed.

>>> import corepy as cp
>>> net = cp.col("price") * (1 - cp.col("discount"))
>>> (net > 100) & ~cp.col("x").is_null()
price * (1 - discount) > 100 AND NOT x IS NULL
"""

from __future__ import annotations

import builtins
import datetime as dt
import decimal
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, Union

from corepy import _core
from corepy.datatypes import DataType, Schema, is_dtype, to_arrow_type
from corepy.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    from corepy.namespaces import DateTimeNamespace, ListNamespace, StringNamespace

__all__ = [
    "DType",
    "Expr",
    "IntoExpr",
    "Selector",
    "Then",
    "When",
    "coalesce",
    "col",
    "concat_str",
    "len",
    "lit",
    "max_horizontal",
    "min_horizontal",
    "row_number",
    "sum_horizontal",
    "when",
]

#: A data type: a corepy type (``cp.Int64``, ``cp.Datetime("ms")``, … as a class or an
#: instance), a name such as ``"int64"``, ``"float64"``, ``"utf8"``, ``"date"``,
#: ``"timestamp[ms]"``, ``"decimal(15,2)"``, or any object with ``__arrow_c_schema__``
#: (a ``pyarrow.DataType``, for instance).
DType = Any

#: What frame methods accept where an expression is expected: an expression, or a column name.
IntoExpr: TypeAlias = Union["Expr", str]

#: Python values that :func:`lit` accepts.
Scalar: TypeAlias = (
    bool | int | float | str | bytes | dt.date | dt.timedelta | decimal.Decimal | None
)

_EPOCH = dt.datetime(1970, 1, 1)
_EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_MICROSECOND = dt.timedelta(microseconds=1)


class Expr:
    """A column expression. Build them with :func:`col` and :func:`lit` and Python operators.

    >>> import corepy as cp
    >>> lf = cp.from_dict({"price": [10.0, 20.0], "qty": [3, 1]})
    >>> total = (cp.col("price") * cp.col("qty")).alias("total")
    >>> lf.select(total).sort("total").compute().to_pydict()
    {'total': [20.0, 30.0]}
    """

    __slots__ = ("_expr",)

    def __init__(self, inner: _core.Expr) -> None:
        self._expr = inner

    # -- arithmetic ---------------------------------------------------------------------
    def _binary(self, operator: str, other: Expr | Scalar) -> Expr:
        return Expr(self._expr.binary(operator, _to_expr(other)._expr))

    def _rbinary(self, operator: str, other: Expr | Scalar) -> Expr:
        return Expr(_to_expr(other)._expr.binary(operator, self._expr))

    def __add__(self, other: Expr | Scalar) -> Expr:
        return self._binary("+", other)

    def __radd__(self, other: Expr | Scalar) -> Expr:
        return self._rbinary("+", other)

    def __sub__(self, other: Expr | Scalar) -> Expr:
        return self._binary("-", other)

    def __rsub__(self, other: Expr | Scalar) -> Expr:
        return self._rbinary("-", other)

    def __mul__(self, other: Expr | Scalar) -> Expr:
        return self._binary("*", other)

    def __rmul__(self, other: Expr | Scalar) -> Expr:
        return self._rbinary("*", other)

    def __truediv__(self, other: Expr | Scalar) -> Expr:
        """True division, as in Polars: two integers divide to a float (``7 / 2`` is
        3.5; SQL text keeps SQL's integer division)."""
        return self._binary("/", other)

    def __rtruediv__(self, other: Expr | Scalar) -> Expr:
        return self._rbinary("/", other)

    def __mod__(self, other: Expr | Scalar) -> Expr:
        return self._binary("%", other)

    def __rmod__(self, other: Expr | Scalar) -> Expr:
        return self._rbinary("%", other)

    def __floordiv__(self, other: Expr | Scalar) -> Expr:
        """Floor division, rounding toward -inf as Python and Polars do: ``-7 // 2`` is
        ``-4``; integers stay integers, floats give ``floor(a / b)``. An integer division
        by zero is a :class:`~corepy.ComputeError` (Polars: null).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"a": [7, -7], "f": [7.5, -7.5]})
        >>> lf.select(cp.col("a") // 2, cp.col("f") // 2).compute().to_pydict()
        {'a': [3, -4], 'f': [3.0, -4.0]}
        """
        return self._binary("//", other)

    def __rfloordiv__(self, other: Expr | Scalar) -> Expr:
        return self._rbinary("//", other)

    def __neg__(self) -> Expr:
        return Expr(self._expr.neg())

    # -- comparisons (return expressions, so frames can filter on them) ----------------
    def __eq__(self, other: Expr | Scalar) -> Expr:  # type: ignore[override]
        return self._binary("==", other)

    def __ne__(self, other: Expr | Scalar) -> Expr:  # type: ignore[override]
        return self._binary("!=", other)

    def __lt__(self, other: Expr | Scalar) -> Expr:
        return self._binary("<", other)

    def __le__(self, other: Expr | Scalar) -> Expr:
        return self._binary("<=", other)

    def __gt__(self, other: Expr | Scalar) -> Expr:
        return self._binary(">", other)

    def __ge__(self, other: Expr | Scalar) -> Expr:
        return self._binary(">=", other)

    # -- boolean logic (SQL three-valued) ----------------------------------------------
    def __and__(self, other: Expr | Scalar) -> Expr:
        return self._binary("&", other)

    def __rand__(self, other: Expr | Scalar) -> Expr:
        return self._rbinary("&", other)

    def __or__(self, other: Expr | Scalar) -> Expr:
        return self._binary("|", other)

    def __ror__(self, other: Expr | Scalar) -> Expr:
        return self._rbinary("|", other)

    def __invert__(self) -> Expr:
        return Expr(self._expr.not_())

    def __bool__(self) -> bool:
        raise TypeError(
            "an expression has no truth value; combine conditions with & and |, "
            "not 'and' / 'or', and compare with == inside filter()"
        )

    __hash__ = None  # type: ignore[assignment]

    # -- null handling, types, names ---------------------------------------------------
    def is_null(self) -> Expr:
        """True where the value is null.

        >>> import corepy as cp
        >>> cp.from_dict({"a": [1, None]}).select(cp.col("a").is_null()).compute().to_pydict()
        {'a': [False, True]}
        """
        return Expr(self._expr.is_null())

    def is_nan(self) -> Expr:
        """True where a float value is NaN (null stays null).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"x": [1.0, float("nan"), None]})
        >>> lf.select(cp.col("x").is_nan()).compute().to_pydict()
        {'x': [False, True, None]}
        """
        return Expr(_core.call("isnan", [self._expr]))

    def is_not_nan(self) -> Expr:
        """True where a float value is not NaN (null stays null).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"x": [1.0, float("nan"), None]})
        >>> lf.select(cp.col("x").is_not_nan()).compute().to_pydict()
        {'x': [True, False, None]}
        """
        return ~self.is_nan()

    def fill_nan(self, value: IntoExpr | Scalar) -> Expr:
        """Replaces NaN with ``value`` (a string is a column name); nulls stay null, as
        in Polars.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"x": [1.0, float("nan"), None]})
        >>> lf.select(cp.col("x").fill_nan(0.0)).compute().to_pydict()
        {'x': [1.0, 0.0, None]}
        """
        return when(self.is_nan()).then(value).otherwise(self).alias(self.output_name)

    def is_not_null(self) -> Expr:
        """True where the value is not null.

        >>> import corepy as cp
        >>> cp.from_dict({"a": [1, None]}).select(cp.col("a").is_not_null()).compute().to_pydict()
        {'a': [True, False]}
        """
        return Expr(self._expr.is_not_null())

    def cast(self, dtype: DType) -> Expr:
        """Converts to ``dtype`` (see :data:`DType`); a value that does not convert is an error
        when the query runs.

        >>> import corepy as cp
        >>> cp.col("a").cast("float64"), cp.col("a").cast(cp.Int32)
        (CAST(a AS DOUBLE), CAST(a AS INTEGER))
        """
        return Expr(self._expr.cast(to_arrow_type(dtype)))

    def alias(self, name: str) -> Expr:
        """Names the result column.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"a": [1, 2]})
        >>> lf.select((cp.col("a") * 10).alias("a10")).compute().to_pydict()
        {'a10': [10, 20]}
        """
        return Expr(self._expr.alias(name))

    def is_in(self, values: Expr | Iterable[Expr | Scalar]) -> Expr:
        """True where the value equals one of ``values`` (SQL ``IN``: null where the value
        is null, or where it matches nothing and ``values`` holds a null).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"a": [1, 2, None]})
        >>> lf.select(cp.col("a").is_in([2, 3])).compute().to_pydict()
        {'a': [False, True, None]}
        """
        items = [values] if isinstance(values, Expr) else list(values)
        return Expr(self._expr.is_in([_to_expr(v)._expr for v in items], False))

    def is_between(
        self,
        lower_bound: Expr | Scalar,
        upper_bound: Expr | Scalar,
        closed: Literal["both", "left", "right", "none"] = "both",
    ) -> Expr:
        """True where the value lies between the bounds; ``closed`` says which bounds are
        included (Polars' default: both).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"a": [1, 2, 3]})
        >>> lf.select(cp.col("a").is_between(1, 3, closed="left")).compute().to_pydict()
        {'a': [True, True, False]}
        """
        if closed not in ("both", "left", "right", "none"):
            raise InvalidArgumentError(
                f"is_between() closed={closed!r}; use 'both', 'left', 'right' or 'none'"
            )
        low = self >= lower_bound if closed in ("both", "left") else self > lower_bound
        high = self <= upper_bound if closed in ("both", "right") else self < upper_bound
        return low & high

    def filter(self, predicate: Expr) -> Expr:
        """Keeps, for the aggregation that must follow, only the rows where ``predicate``
        is true (SQL's ``agg(x) FILTER (WHERE predicate)``).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"g": [1, 1, 2], "x": [5, 7, 9]})
        >>> big = cp.col("x").filter(cp.col("x") > 6).sum().alias("big")
        >>> lf.group_by("g").agg(big).sort("g").compute().to_pydict()
        {'g': [1, 2], 'big': [7, 9]}
        """
        if not isinstance(predicate, Expr):
            raise TypeError(f"filter() takes an expression, got {type(predicate).__name__}")
        return Expr(self._expr.filter(predicate._expr))

    @property
    def output_name(self) -> str:
        """The column name this expression produces: its alias, else its left-most column.

        >>> import corepy as cp
        >>> (cp.lit(1) + cp.col("b")).output_name
        'b'
        """
        return self._expr.output_name()

    # -- aggregations --------------------------------------------------------------------
    def sum(self) -> Expr:
        """The sum of the non-null values.

        >>> import corepy as cp
        >>> cp.from_dict({"a": [1, 2, None]}).select(cp.col("a").sum()).compute().to_pydict()
        {'a': [3]}
        """
        return Expr(self._expr.aggregate("sum"))

    def mean(self) -> Expr:
        """The mean of the non-null values.

        >>> import corepy as cp
        >>> cp.from_dict({"a": [1, 2, None]}).select(cp.col("a").mean()).compute().to_pydict()
        {'a': [1.5]}
        """
        return Expr(self._expr.aggregate("mean"))

    def min(self) -> Expr:
        """The smallest non-null value.

        >>> import corepy as cp
        >>> cp.from_dict({"a": [3, None, 1]}).select(cp.col("a").min()).compute().to_pydict()
        {'a': [1]}
        """
        return Expr(self._expr.aggregate("min"))

    def max(self) -> Expr:
        """The largest non-null value.

        >>> import corepy as cp
        >>> cp.from_dict({"a": [3, None, 1]}).select(cp.col("a").max()).compute().to_pydict()
        {'a': [3]}
        """
        return Expr(self._expr.aggregate("max"))

    def count(self) -> Expr:
        """The number of non-null values (see :meth:`len` for the number of rows).

        >>> import corepy as cp
        >>> cp.from_dict({"a": [1, None, 3]}).select(cp.col("a").count()).compute().to_pydict()
        {'a': [2]}
        """
        return Expr(self._expr.aggregate("count"))

    def len(self) -> Expr:
        """The number of values, nulls included.

        >>> import corepy as cp
        >>> a = cp.col("a")
        >>> lf = cp.from_dict({"a": [1, None, 3]})
        >>> lf.select(a.len().alias("len"), a.count().alias("count")).compute().to_pydict()
        {'len': [3], 'count': [2]}
        """
        return Expr(self._expr.aggregate("len"))

    def n_unique(self) -> Expr:
        """The number of distinct values; null counts as one value, as in Polars.

        >>> import corepy as cp
        >>> cp.from_dict({"a": [1, 1, None]}).select(cp.col("a").n_unique()).compute().to_pydict()
        {'a': [2]}
        """
        return Expr(self._expr.aggregate("n_unique"))

    def quantile(
        self,
        quantile: float,
        interpolation: Literal["nearest", "lower", "higher", "midpoint", "linear"] = "nearest",
    ) -> Expr:
        """The ``quantile`` (0 to 1) of the non-null values, as Polars: the value at
        position ``quantile * (n - 1)`` of the sorted values, rounded half away from zero
        (``"nearest"``, the default), down (``"lower"``) or up (``"higher"``), or the two
        values around it averaged (``"midpoint"``) or interpolated (``"linear"``).
        Float64; null for no values.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"x": [1, 2, 3, 4]})
        >>> x = cp.col("x")
        >>> lf.select(x.quantile(0.5), x.quantile(0.5, "linear").alias("l")).compute().to_pydict()
        {'x': [3.0], 'l': [2.5]}
        """
        return Expr(self._expr.quantile(float(quantile), interpolation))

    def first(self) -> Expr:
        """The first value (null included) in the frame's row order (see
        :meth:`LazyFrame.with_row_index`).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"g": ["a", "b", "a"], "x": [3, 1, 2]})
        >>> lf.group_by("g").agg(cp.col("x").first()).sort("g").compute().to_pydict()
        {'g': ['a', 'b'], 'x': [3, 1]}
        """
        return Expr(self._expr.aggregate("first"))

    def last(self) -> Expr:
        """The last value (null included) in the frame's row order.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"g": ["a", "b", "a"], "x": [3, 1, 2]})
        >>> lf.group_by("g").agg(cp.col("x").last()).sort("g").compute().to_pydict()
        {'g': ['a', 'b'], 'x': [2, 1]}
        """
        return Expr(self._expr.aggregate("last"))

    def fill_null(
        self,
        value: IntoExpr | Scalar = None,
        *,
        strategy: Literal["forward", "backward", "min", "max", "mean", "zero", "one"] | None = None,
    ) -> Expr:
        """Replaces nulls with ``value`` (a string is a column name), or by ``strategy``:
        ``"forward"`` / ``"backward"`` the previous / next non-null value in the frame's row
        order (within each partition with ``.over(...)``), ``"min"``, ``"max"``, ``"mean"``
        of the column, ``"zero"``, ``"one"``.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"x": [None, 1, None, 3]})
        >>> lf.select(cp.col("x").fill_null(strategy="forward")).compute().to_pydict()
        {'x': [None, 1, 1, 3]}
        >>> lf.select(cp.col("x").fill_null(0)).compute().to_pydict()
        {'x': [0, 1, 0, 3]}
        """
        name = self.output_name
        if strategy is None:
            if value is None:
                raise InvalidArgumentError("fill_null() needs a value or a strategy")
            return coalesce(self, value).alias(name)
        if value is not None:
            raise InvalidArgumentError("fill_null() takes a value or a strategy, not both")
        if strategy in ("forward", "backward"):
            return Expr(self._expr.fill_null_strategy(strategy)).alias(name)
        whole = lit(True)
        fills: dict[builtins.str, Expr] = {
            "zero": lit(0),
            "one": lit(1),
            "min": self.min().over(whole),
            "max": self.max().over(whole),
            "mean": self.mean().over(whole),
        }
        if strategy not in fills:
            raise InvalidArgumentError(
                f"unknown fill_null strategy {strategy!r}; use forward, backward, min, max, "
                "mean, zero or one"
            )
        return coalesce(self, fills[strategy]).alias(name)

    def median(self) -> Expr:
        """The median of the non-null values (the mean of the two middle ones for an even
        count).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"a": [1.0, 2.0, 4.0, 10.0, None]})
        >>> lf.select(cp.col("a").median()).compute().to_pydict()
        {'a': [3.0]}
        """
        return Expr(self._expr.aggregate("median"))

    def std(self, ddof: int = 1) -> Expr:
        """The standard deviation of the non-null values: ``ddof=1`` (the default) the
        sample's, ``ddof=0`` the population's. Other ``ddof`` values are not supported.

        >>> import corepy as cp
        >>> x = cp.col("x")
        >>> lf = cp.from_dict({"x": [1.0, 3.0, 5.0]})
        >>> lf.select(x.std(), x.std(ddof=0).alias("pop")).compute().to_pydict()
        {'x': [2.0], 'pop': [1.632993161855452]}
        """
        return Expr(self._expr.aggregate(_with_ddof("std", ddof)))

    def var(self, ddof: int = 1) -> Expr:
        """The variance of the non-null values: ``ddof=1`` (the default) the sample's,
        ``ddof=0`` the population's. Other ``ddof`` values are not supported.

        >>> import corepy as cp
        >>> x = cp.col("x")
        >>> lf = cp.from_dict({"x": [1.0, 3.0, 5.0]})
        >>> lf.select(x.var(), x.var(ddof=0).alias("pop")).compute().to_pydict()
        {'x': [4.0], 'pop': [2.6666666666666665]}
        """
        return Expr(self._expr.aggregate(_with_ddof("var", ddof)))

    def any(self) -> Expr:
        """True if any non-null value is true; false for no values or only nulls.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"b": [None, False]})
        >>> b = cp.col("b")
        >>> lf.select(b.any().alias("any"), b.all().alias("all")).compute().to_pydict()
        {'any': [False], 'all': [False]}
        """
        return Expr(self._expr.aggregate("any"))

    def all(self) -> Expr:
        """True if every non-null value is true (also for no values or only nulls).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"b": [True, None, True]})
        >>> lf.select(cp.col("b").all()).compute().to_pydict()
        {'b': [True]}
        """
        return Expr(self._expr.aggregate("all"))

    # -- windows -------------------------------------------------------------------------
    def over(
        self,
        partition_by: IntoExpr | Iterable[IntoExpr] | None = None,
        *more_partition_by: IntoExpr,
        order_by: IntoExpr | Iterable[IntoExpr] | None = None,
        descending: bool | Sequence[bool] = False,
        nulls_last: bool | Sequence[bool] = False,
    ) -> Expr:
        """Computes this expression's aggregations and window functions per group of
        ``partition_by``, keeping one result per row, as Polars' ``over``. ``order_by``
        gives the row order that ``cum_sum``, ``shift``, ``rolling_*`` and
        :func:`row_number` follow. They do not yet follow the frame's own row order (a
        scan's file order, a sort's order), so they need one: without it they are an
        error; ``with_row_index()`` then ``order_by="index"`` gives the frame's order.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"g": ["a", "a", "b"], "t": [2, 1, 1], "x": [10, 20, 5]})
        >>> out = lf.select(
        ...     "t",
        ...     cp.col("x").sum().over("g").alias("total"),
        ...     cp.col("x").cum_sum().over("g", order_by="t").alias("running"),
        ... )
        >>> out.sort("total", "t").compute().to_pydict()
        {'t': [1, 1, 2], 'total': [5, 30, 30], 'running': [5, 20, 30]}
        """
        keys: list[IntoExpr] = []
        if partition_by is not None:
            keys.extend(_flatten(partition_by))
        keys.extend(more_partition_by)
        order = [] if order_by is None else _flatten(order_by)
        desc = _per_key(descending, builtins.len(order), "descending")
        nulls = _per_key(nulls_last, builtins.len(order), "nulls_last")
        return Expr(
            self._expr.over(
                [into_expr(k)._expr for k in keys],
                [into_expr(k)._expr for k in order],
                desc,
                nulls,
            )
        )

    def cum_sum(self, *, reverse: bool = False) -> Expr:
        """The running sum, in the order given by ``over(order_by=…)``; null rows stay null.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"t": [1, 2, 3, 4], "x": [3, None, 1, 5]})
        >>> run = cp.col("x").cum_sum().over(order_by="t").alias("run")
        >>> lf.select("t", run).sort("t").compute().to_pydict()
        {'t': [1, 2, 3, 4], 'run': [3, None, 4, 9]}
        """
        return Expr(self._expr.cumulative("cum_sum", reverse))

    def cum_min(self, *, reverse: bool = False) -> Expr:
        """The running minimum (see :meth:`cum_sum`).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"t": [1, 2, 3], "x": [3, 1, 2]})
        >>> low = cp.col("x").cum_min().over(order_by="t").alias("low")
        >>> lf.select("t", low).sort("t").compute().to_pydict()
        {'t': [1, 2, 3], 'low': [3, 1, 1]}
        """
        return Expr(self._expr.cumulative("cum_min", reverse))

    def cum_max(self, *, reverse: bool = False) -> Expr:
        """The running maximum (see :meth:`cum_sum`).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"t": [1, 2, 3], "x": [1, 3, 2]})
        >>> high = cp.col("x").cum_max(reverse=True).over(order_by="t").alias("high")
        >>> lf.select("t", high).sort("t").compute().to_pydict()
        {'t': [1, 2, 3], 'high': [3, 3, 2]}
        """
        return Expr(self._expr.cumulative("cum_max", reverse))

    def cum_count(self, *, reverse: bool = False) -> Expr:
        """The running count of non-null values (see :meth:`cum_sum`).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"t": [1, 2, 3], "x": [5, None, 7]})
        >>> n = cp.col("x").cum_count().over(order_by="t").alias("n")
        >>> lf.select("t", n).sort("t").compute().to_pydict()
        {'t': [1, 2, 3], 'n': [1, 1, 2]}
        """
        return Expr(self._expr.cumulative("cum_count", reverse))

    def shift(self, n: int = 1, *, fill_value: Scalar = None) -> Expr:
        """The value ``n`` rows earlier (later, for a negative ``n``) in the order given by
        ``over(order_by=…)``; ``fill_value`` (default null) where there is none.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"t": [1, 2, 3], "x": [10, 20, 40]})
        >>> prev = cp.col("x").shift().over(order_by="t").alias("prev")
        >>> lf.select("t", prev).sort("t").compute().to_pydict()
        {'t': [1, 2, 3], 'prev': [None, 10, 20]}
        """
        fill = None if fill_value is None else lit(fill_value)._expr
        return Expr(self._expr.shift(n, fill))

    def lag(self, n: int = 1) -> Expr:
        """SQL's ``lag``: the same as :meth:`shift` with ``n``.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"t": [1, 2, 3], "x": [10, 20, 40]})
        >>> prev = cp.col("x").lag(2).over(order_by="t").alias("prev")
        >>> lf.select("t", prev).sort("t").compute().to_pydict()
        {'t': [1, 2, 3], 'prev': [None, None, 10]}
        """
        return self.shift(n)

    def lead(self, n: int = 1) -> Expr:
        """SQL's ``lead``: the same as :meth:`shift` with ``-n``.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"t": [1, 2, 3], "x": [10, 20, 40]})
        >>> following = cp.col("x").lead().over(order_by="t").alias("next")
        >>> lf.select("t", following).sort("t").compute().to_pydict()
        {'t': [1, 2, 3], 'next': [20, 40, None]}
        """
        return self.shift(-n)

    def diff(self, n: int = 1) -> Expr:
        """The difference with the value ``n`` rows earlier (see :meth:`shift`).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"t": [1, 2, 3], "x": [10, 20, 40]})
        >>> change = cp.col("x").diff().over(order_by="t").alias("change")
        >>> lf.select("t", change).sort("t").compute().to_pydict()
        {'t': [1, 2, 3], 'change': [None, 10, 20]}
        """
        return self - self.shift(n)

    def pct_change(self, n: int = 1) -> Expr:
        """The change, as a fraction, from the value ``n`` rows earlier (see :meth:`shift`).
        Differs from Polars where that earlier value is null: the result is null here,
        while Polars looks further back for a non-null value.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"t": [1, 2, 3], "x": [8.0, 10.0, 15.0]})
        >>> pct = cp.col("x").pct_change().over(order_by="t").alias("pct")
        >>> lf.select("t", pct).sort("t").compute().to_pydict()
        {'t': [1, 2, 3], 'pct': [None, 0.25, 0.5]}
        """
        return self / self.shift(n) - 1

    def rank(
        self,
        method: Literal["average", "min", "max", "dense", "ordinal"] = "average",
        *,
        descending: bool = False,
    ) -> Expr:
        """The rank of each value, 1 for the smallest (largest with ``descending``); ties
        get the ``method``'s rank (Polars' default ``"average"``: the mean of their ranks).
        Nulls get a null rank. Per group with ``.over(…)``; ``"ordinal"`` breaks ties in no
        defined order.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"id": [1, 2, 3, 4], "x": [30, 10, 30, None]})
        >>> lf.select("id", cp.col("x").rank().alias("r")).sort("id").compute().to_pydict()
        {'id': [1, 2, 3, 4], 'r': [2.5, 1.0, 2.5, None]}
        """
        return Expr(self._expr.rank(method, descending))

    def rolling_mean(self, window_size: int, min_samples: int | None = None) -> Expr:
        """The mean over the current row and the ``window_size - 1`` rows before it, in the
        order given by ``over(order_by=…)``; null where the window holds fewer than
        ``min_samples`` (default ``window_size``) non-null values.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"t": [1, 2, 3], "x": [1.0, 2.0, 6.0]})
        >>> avg = cp.col("x").rolling_mean(2).over(order_by="t").alias("avg")
        >>> lf.select("t", avg).sort("t").compute().to_pydict()
        {'t': [1, 2, 3], 'avg': [None, 1.5, 4.0]}
        """
        return Expr(self._expr.rolling("rolling_mean", window_size, min_samples))

    def rolling_sum(self, window_size: int, min_samples: int | None = None) -> Expr:
        """The sum over a window of rows (see :meth:`rolling_mean`).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"t": [1, 2, 3], "x": [1, 2, 6]})
        >>> total = cp.col("x").rolling_sum(2).over(order_by="t").alias("total")
        >>> lf.select("t", total).sort("t").compute().to_pydict()
        {'t': [1, 2, 3], 'total': [None, 3, 8]}
        """
        return Expr(self._expr.rolling("rolling_sum", window_size, min_samples))

    def rolling_min(self, window_size: int, min_samples: int | None = None) -> Expr:
        """The minimum over a window of rows (see :meth:`rolling_mean`).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"t": [1, 2, 3], "x": [4, 2, 6]})
        >>> low = cp.col("x").rolling_min(2, min_samples=1).over(order_by="t").alias("low")
        >>> lf.select("t", low).sort("t").compute().to_pydict()
        {'t': [1, 2, 3], 'low': [4, 2, 2]}
        """
        return Expr(self._expr.rolling("rolling_min", window_size, min_samples))

    def rolling_max(self, window_size: int, min_samples: int | None = None) -> Expr:
        """The maximum over a window of rows (see :meth:`rolling_mean`).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"t": [1, 2, 3], "x": [4, 2, 6]})
        >>> high = cp.col("x").rolling_max(2).over(order_by="t").alias("high")
        >>> lf.select("t", high).sort("t").compute().to_pydict()
        {'t': [1, 2, 3], 'high': [None, 4, 6]}
        """
        return Expr(self._expr.rolling("rolling_max", window_size, min_samples))

    def __repr__(self) -> str:
        return self._expr.__repr__()

    # -- namespaces (last in the class: `str` would shadow the builtin above) -------------
    @property
    def dt(self) -> DateTimeNamespace:
        """Date and time functions (``.dt.year()``, ``.dt.offset_by("1d")``, …).

        >>> import corepy as cp, datetime as dt
        >>> lf = cp.from_dict({"d": [dt.date(2024, 3, 1)]})
        >>> d = cp.col("d")
        >>> lf.select(d.dt.year(), d.dt.month().alias("m")).compute().to_pydict()
        {'d': [2024], 'm': [3]}
        """
        from corepy.namespaces import DateTimeNamespace

        return DateTimeNamespace(self)

    @property
    def list(self) -> ListNamespace:
        """List functions (``.list.len()``, ``.list.get(0)``, ``.list.contains(x)``).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"l": [[1, 2], [3]]})
        >>> lf.select(cp.col("l").list.len()).sort("l").compute().to_pydict()
        {'l': [1, 2]}
        """
        from corepy.namespaces import ListNamespace

        return ListNamespace(self)

    @property
    def str(self) -> StringNamespace:
        """String functions (``.str.contains()``, ``.str.to_lowercase()``, …).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"s": ["Oslo", "Lima"]})
        >>> lf.select(cp.col("s").str.to_uppercase()).sort("s").compute().to_pydict()
        {'s': ['LIMA', 'OSLO']}
        """
        from corepy.namespaces import StringNamespace

        return StringNamespace(self)


class Selector(Expr):
    """Several columns at once, picked by name (``cp.col("a", "b")``) or by data type
    (``cp.col(cp.Float64)``, ``cp.col([cp.Int32, cp.Int64])``), as Polars' multi-column
    ``pl.col``. Operators and ``Expr`` methods apply to each column; a frame method
    (``select``, ``with_columns``, ``group_by().agg`` …) expands the selector into one
    expression per column, in the order of the names, or of the frame's columns for types.

    >>> import corepy as cp
    >>> lf = cp.from_dict({"g": ["a", "a"], "x": [1, 2], "y": [3.0, 4.0]})
    >>> lf.group_by("g").agg(cp.col(cp.Int64, cp.Float64).sum()).compute().to_pydict()
    {'g': ['a'], 'x': [3], 'y': [7.0]}
    """

    __slots__ = ("_dtypes", "_names", "_steps")

    def __init__(
        self,
        *,
        names: tuple[builtins.str, ...] = (),
        dtypes: tuple[Any, ...] = (),
        steps: tuple[tuple[builtins.str, tuple[Any, ...], dict[builtins.str, Any]], ...] = (),
    ) -> None:
        # No super().__init__(): there is no one expression until the columns are known.
        self._names = names
        self._dtypes = dtypes
        #: The Expr methods applied so far, replayed on each column by expand().
        self._steps = steps

    @property
    def _expr(self) -> _core.Expr:  # type: ignore[override]
        raise InvalidArgumentError(
            f"{self!r} stands for several columns: use it as an argument of a frame method "
            "(select, with_columns, group_by().agg, sort), not inside another expression"
        )

    @property
    def output_name(self) -> builtins.str:
        """A selector has no one output name: each column it expands to keeps its own.

        >>> import corepy as cp
        >>> cp.col("a", "b").output_name
        Traceback (most recent call last):
        ...
        corepy.exceptions.InvalidArgumentError: cp.col(['a', 'b']) stands for several columns...
        """
        return self._expr.output_name()

    def expand(self, schema: Schema) -> builtins.list[Expr]:
        """One expression per selected column of ``schema`` (a frame's
        :meth:`~LazyFrame.collect_schema`), with this selector's methods applied.

        >>> import corepy as cp
        >>> schema = cp.Schema({"a": cp.Int64, "b": cp.String, "c": cp.Int32})
        >>> cp.col(cp.Int64, cp.Int32).max().expand(schema)
        [max(a), max(c)]
        """
        if self._names:
            # An unknown name reaches the planner, which reports it with suggestions.
            columns = list(self._names)
        else:
            columns = [n for n, d in schema.items() if any(d == want for want in self._dtypes)]
        expanded = []
        for name in columns:
            expr = col(name)
            for method, args, kwargs in self._steps:
                expr = getattr(expr, method)(*args, **kwargs)
            expanded.append(expr)
        return expanded

    def __repr__(self) -> builtins.str:
        picked = [*self._names] if self._names else [*self._dtypes]
        shown = f"cp.col({picked!r})"
        for method, args, kwargs in self._steps:
            arguments = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
            shown += f".{method}({', '.join(arguments)})"
        return shown


def _recorded(method: builtins.str) -> Any:
    """A Selector method that records ``method`` and its arguments, for expand()."""

    def record(self: Selector, *args: Any, **kwargs: Any) -> Selector:
        steps = (*self._steps, (method, args, kwargs))
        return Selector(names=self._names, dtypes=self._dtypes, steps=steps)

    record.__name__ = method
    record.__qualname__ = f"Selector.{method}"
    record.__doc__ = f":meth:`Expr.{method}` of each selected column."
    return record


def _recordable(name: builtins.str, value: Any) -> bool:
    """The Expr methods a selector can take: the public ones and the operators (not the
    namespaces ``.str``/``.dt``/``.list``, which take one column)."""
    if isinstance(value, property) or not callable(value):
        return False
    if name.startswith("__") and name.endswith("__"):
        return name not in {"__init__", "__repr__", "__bool__", "__hash__"}
    return not name.startswith("_")


def _give_selector_the_expr_methods() -> None:
    for name, value in list(vars(Expr).items()):
        if _recordable(name, value):
            setattr(Selector, name, _recorded(name))


_give_selector_the_expr_methods()


def _with_ddof(function: str, ddof: int) -> str:
    if ddof == 1:
        return function
    if ddof == 0:
        return f"{function}_pop"
    raise InvalidArgumentError(
        f"{function}() supports ddof=0 (population) or ddof=1 (sample), got {ddof}"
    )


class When:
    """A condition waiting for its value: ``cp.when(cond).then(value)``.

    >>> import corepy as cp
    >>> pending = cp.when(cp.col("a") > 1)
    >>> type(pending).__name__, pending.then(cp.lit("big"))
    ('When', CASE WHEN (a > 1) THEN 'big' END)
    """

    __slots__ = ("_conditions", "_values")

    def __init__(self, conditions: list[_core.Expr], values: list[_core.Expr]) -> None:
        self._conditions = conditions
        self._values = values

    def then(self, value: IntoExpr | Scalar) -> Then:
        """The value where the last condition holds (a string is a column name).

        >>> import corepy as cp
        >>> lf = cp.from_dict({"a": [1, 5]})
        >>> lf.select(cp.when(cp.col("a") > 3).then("a").alias("big")).compute().to_pydict()
        {'big': [None, 5]}
        """
        return Then(self._conditions, [*self._values, _value(value)._expr])


class Then(Expr):
    """A conditional expression: chain more ``.when(…).then(…)``, end with
    ``.otherwise(…)``; used as is, rows matching no condition are null.

    >>> import corepy as cp
    >>> cp.when(cp.col("a") > 1).then(1).when(cp.col("a") > 0).then(2)
    CASE WHEN (a > 1) THEN 1 WHEN (a > 0) THEN 2 END
    """

    __slots__ = ("_conditions", "_values")

    def __init__(self, conditions: list[_core.Expr], values: list[_core.Expr]) -> None:
        super().__init__(_core.case_when(conditions, values))
        self._conditions = conditions
        self._values = values

    def when(self, condition: Expr) -> When:
        """Another condition, tried when the earlier ones do not hold.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"a": [1, 5, 9]})
        >>> a = cp.col("a")
        >>> size = cp.when(a > 6).then(cp.lit("high")).when(a > 3).then(cp.lit("mid"))
        >>> lf.select(size.alias("size")).compute().to_pydict()
        {'size': [None, 'mid', 'high']}
        """
        return When([*self._conditions, _condition(condition)], self._values)

    def otherwise(self, value: IntoExpr | Scalar) -> Expr:
        """The value where no condition holds.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"a": [1, 5]})
        >>> b = cp.when(cp.col("a") > 3).then("a").otherwise(0).alias("b")
        >>> lf.select(b).compute().to_pydict()
        {'b': [0, 5]}
        """
        return Expr(_core.case_when(self._conditions, self._values, _value(value)._expr))


def when(condition: Expr) -> When:
    """Starts a conditional expression, as Polars' ``pl.when``: the first condition that
    holds picks the value; null conditions count as false.

    >>> import corepy as cp
    >>> lf = cp.from_dict({"a": [1, 5, None]})
    >>> size = cp.when(cp.col("a") > 3).then(cp.lit("big")).otherwise(cp.lit("small"))
    >>> lf.select(size.alias("size")).compute().to_pydict()
    {'size': ['small', 'big', 'small']}
    """
    return When([_condition(condition)], [])


def coalesce(*exprs: IntoExpr | Scalar | Iterable[IntoExpr | Scalar]) -> Expr:
    """The first non-null value among ``exprs``, row by row (strings are column names).

    >>> import corepy as cp
    >>> lf = cp.from_dict({"a": [None, 2], "b": [1, None]})
    >>> lf.select(cp.coalesce("a", "b", 0).alias("c")).compute().to_pydict()
    {'c': [1, 2]}
    """
    flat: list[IntoExpr | Scalar] = []
    for e in exprs:
        if isinstance(e, (Expr, str, bytes)) or not isinstance(e, Iterable):
            flat.append(e)
        else:
            flat.extend(e)
    if not flat:
        raise InvalidArgumentError("coalesce() needs at least one expression")
    return Expr(_core.coalesce([_value(e)._expr for e in flat]))


def row_number() -> Expr:
    """SQL's ``row_number()``: 1, 2, 3, … in the order given by ``.over(…, order_by=…)``
    (per partition). Polars has no such function; its idiom is ``int_range(len())``.

    >>> import corepy as cp
    >>> lf = cp.from_dict({"x": [30, 10, 20]})
    >>> n = cp.row_number().over(order_by="x").alias("n")
    >>> lf.select("x", n).sort("x").compute().to_pydict()
    {'x': [10, 20, 30], 'n': [1, 2, 3]}
    """
    return Expr(_core.row_number())


def _flatten(items: IntoExpr | Iterable[IntoExpr]) -> list[IntoExpr]:
    if isinstance(items, (str, Expr)):
        return [items]
    return list(items)


def _per_key(flags: bool | Sequence[bool], keys: int, what: str) -> list[bool]:
    values = [flags] if isinstance(flags, bool) else list(flags)
    if builtins.len(values) == 1:
        return values * keys
    if builtins.len(values) != keys:
        raise InvalidArgumentError(
            f"over() got {builtins.len(values)} {what} flags for {keys} order keys"
        )
    return values


def _flat_values(exprs: tuple[Any, ...]) -> list[Expr]:
    flat: list[Any] = []
    for e in exprs:
        if isinstance(e, (Expr, builtins.str, bytes)) or not isinstance(e, Iterable):
            flat.append(e)
        else:
            flat.extend(e)
    if not flat:
        raise InvalidArgumentError("needs at least one expression")
    return [_value(e) for e in flat]


def sum_horizontal(*exprs: IntoExpr | Iterable[IntoExpr]) -> Expr:
    """The row-wise sum of ``exprs`` (strings are column names); nulls count as 0, as in
    Polars.

    >>> import corepy as cp
    >>> lf = cp.from_dict({"a": [1, None], "b": [2, 3]})
    >>> lf.select(cp.sum_horizontal("a", "b").alias("s")).compute().to_pydict()
    {'s': [3, 3]}
    """
    values = [coalesce(e, 0) for e in _flat_values(exprs)]
    total = values[0]
    for value in values[1:]:
        total = total + value
    return total


def max_horizontal(*exprs: IntoExpr | Iterable[IntoExpr]) -> Expr:
    """The row-wise largest of ``exprs``, ignoring nulls (null if all are null).

    >>> import corepy as cp
    >>> lf = cp.from_dict({"a": [1, None, None], "b": [2, 5, None]})
    >>> lf.select(cp.max_horizontal("a", "b").alias("m")).compute().to_pydict()
    {'m': [2, 5, None]}
    """
    return Expr(_core.call("greatest", [e._expr for e in _flat_values(exprs)]))


def min_horizontal(*exprs: IntoExpr | Iterable[IntoExpr]) -> Expr:
    """The row-wise smallest of ``exprs``, ignoring nulls (null if all are null).

    >>> import corepy as cp
    >>> lf = cp.from_dict({"a": [1, None, None], "b": [2, 5, None]})
    >>> lf.select(cp.min_horizontal(["a", "b"]).alias("m")).compute().to_pydict()
    {'m': [1, 5, None]}
    """
    return Expr(_core.call("least", [e._expr for e in _flat_values(exprs)]))


def concat_str(
    exprs: IntoExpr | Iterable[IntoExpr],
    *more_exprs: IntoExpr,
    separator: builtins.str = "",
    ignore_nulls: bool = False,
) -> Expr:
    """The row-wise concatenation of ``exprs`` as strings, joined by ``separator``; null
    if any is null, unless ``ignore_nulls`` (then nulls are skipped), as in Polars.

    >>> import corepy as cp
    >>> lf = cp.from_dict({"city": ["Oslo", None], "n": [1, 2]})
    >>> lf.select(cp.concat_str("city", "n", separator="-").alias("k")).compute().to_pydict()
    {'k': ['Oslo-1', None]}
    """
    parts = [e.cast("utf8") for e in _flat_values((exprs, *more_exprs))]
    joined = Expr(_core.call("concat_ws", [lit(separator)._expr] + [p._expr for p in parts]))
    if ignore_nulls:
        return joined
    any_null = parts[0].is_null()
    for part in parts[1:]:
        any_null = any_null | part.is_null()
    return when(any_null).then(lit(None)).otherwise(joined)


def _condition(condition: Expr) -> _core.Expr:
    if not isinstance(condition, Expr):
        raise TypeError(f"when() takes an expression, got {type(condition).__name__}")
    return condition._expr


def _value(value: IntoExpr | Scalar) -> Expr:
    """A then/otherwise/coalesce argument: a string names a column, as in Polars."""
    return col(value) if isinstance(value, str) else _to_expr(value)


def col(name: str | DType | Iterable[str | DType], *more_names: str | DType) -> Expr:
    """The column called ``name`` (taken literally: no case folding, dots are not special).
    Several names, or data types (``cp.col(cp.Float64)``, ``cp.col([cp.Int32,
    cp.Int64])``), make a :class:`Selector`: the expression applies to each of those
    columns, as Polars' ``pl.col``.

    >>> import corepy as cp
    >>> cp.col("l_quantity") * 2
    l_quantity * 2
    >>> lf = cp.from_dict({"a": [1, 2], "b": [0.5, 1.5], "s": ["x", "y"]})
    >>> lf.select(cp.col(cp.Float64, cp.Int64) * 10).compute().to_pydict()
    {'a': [10, 20], 'b': [5.0, 15.0]}
    """
    if isinstance(name, str) and not more_names:
        return Expr(_core.col(name))
    items: list[Any] = []
    for item in (name, *more_names):
        if isinstance(item, str) or is_dtype(item) or not isinstance(item, Iterable):
            items.append(item)
        else:
            items.extend(item)
    names = [i for i in items if isinstance(i, str)]
    if names and builtins.len(names) != builtins.len(items):
        raise TypeError("col() takes column names or data types, not both")
    if names:
        return Selector(names=tuple(names))
    for item in items:
        if not is_dtype(item) and not hasattr(item, "__arrow_c_schema__"):
            raise TypeError(
                f"col() takes a column name (str) or a data type, got {type(item).__name__}"
            )
    dtypes = tuple(item if is_dtype(item) else DataType.from_arrow(item) for item in items)
    return Selector(dtypes=dtypes)


def len() -> Expr:
    """The number of rows (of the frame, or of each group), named ``len``.

    >>> import corepy as cp
    >>> cp.from_dict({"a": [1, None]}).select(cp.len()).compute().to_pydict()
    {'len': [2]}
    """
    return Expr(_core.count_rows())


def lit(value: Scalar) -> Expr:
    """A constant. Python types map to Arrow types: ``int`` → int64 (uint64 above 2**63-1),
    ``float`` → float64, ``str`` → utf8, ``bool`` → boolean, ``None`` → null,
    ``date`` → date32, ``datetime`` → timestamp[us] (with its time zone, if any),
    ``timedelta`` → duration[us], ``Decimal`` → decimal128, ``bytes`` → binary.

    >>> import corepy as cp
    >>> cp.lit(2.5)
    2.5
    """
    if isinstance(value, Expr):
        return value
    return Expr(_literal(value))


def _literal(value: Scalar) -> _core.Expr:
    if value is None:
        return _core.lit_null()
    if isinstance(value, bool):
        return _core.lit_bool(value)
    if isinstance(value, int):
        if -(2**63) <= value < 2**63:
            return _core.lit_int(value)
        if 0 <= value < 2**64:
            return _core.lit_uint(value)
        raise OverflowError(f"integer literal {value} does not fit in 64 bits")
    if isinstance(value, float):
        return _core.lit_float(value)
    if isinstance(value, str):
        return _core.lit_str(value)
    if isinstance(value, bytes):
        return _core.lit_bytes(value)
    if isinstance(value, dt.datetime):
        return _timestamp_literal(value)
    if isinstance(value, dt.date):
        return _core.lit_date((value - dt.date(1970, 1, 1)).days)
    if isinstance(value, dt.timedelta):
        return _core.lit_duration(value // _MICROSECOND)
    if isinstance(value, decimal.Decimal):
        return _decimal_literal(value)
    raise TypeError(f"cannot make a literal of {type(value).__name__} value {value!r}")


def _timestamp_literal(value: dt.datetime) -> _core.Expr:
    if value.tzinfo is None:
        return _core.lit_timestamp((value - _EPOCH) // _MICROSECOND)
    key = getattr(value.tzinfo, "key", None)
    tz = key if isinstance(key, str) else value.tzinfo.tzname(value)
    return _core.lit_timestamp((value - _EPOCH_UTC) // _MICROSECOND, tz)


def _decimal_literal(value: decimal.Decimal) -> _core.Expr:
    _sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        raise InvalidArgumentError(f"cannot make a literal of non-finite Decimal {value}")
    scale = max(-exponent, 0)
    unscaled = int(value.scaleb(scale))
    precision = max(builtins.len(digits) + max(exponent, 0), scale, 1)
    if precision > 38:
        raise OverflowError(f"Decimal literal {value} needs more than 38 digits")
    return _core.lit_decimal(unscaled, precision, scale)


def _to_expr(value: Expr | Scalar) -> Expr:
    return value if isinstance(value, Expr) else lit(value)


def into_expr(value: IntoExpr) -> Expr:
    """An expression from an expression or a column name."""
    if isinstance(value, str):
        return col(value)
    if isinstance(value, Expr):
        return value
    raise TypeError(f"expected an expression or a column name, got {type(value).__name__}")
