"""Data types as Polars spells them: ``cp.Int64``, ``cp.String``, ``cp.Datetime("ms", "UTC")``,
``cp.List(cp.Int64)``, …, each the counterpart of one Arrow type.

As in Polars, a type can be used as a class or as an instance: ``cp.Int64`` and
``cp.Int64()`` are the same type, and a class equals each of its instances, so
``cp.Datetime == cp.Datetime("ms")`` is true while ``cp.Datetime("ms") == cp.Datetime("us")``
is not. Anything that takes a data type (``Expr.cast``, ``schema=``, ``cp.col(dtype)``)
takes these, a pyarrow type or a name such as ``"int64"``.

>>> import corepy as cp
>>> cp.Int64 == cp.Int64(), cp.Datetime == cp.Datetime("ms"), cp.Utf8 is cp.String
(True, True, True)
>>> cp.Datetime("ms", "UTC").to_arrow()
TimestampType(timestamp[ms, tz=UTC])
>>> cp.DataType.from_arrow(cp.List(cp.Float64).to_arrow())
List(Float64)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Union

from corepy.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "Binary",
    "Boolean",
    "DataType",
    "DataTypeLike",
    "Date",
    "Datetime",
    "Decimal",
    "Duration",
    "Float32",
    "Float64",
    "Int8",
    "Int16",
    "Int32",
    "Int64",
    "List",
    "Null",
    "Schema",
    "String",
    "Struct",
    "Time",
    "UInt8",
    "UInt16",
    "UInt32",
    "UInt64",
    "Utf8",
    "is_dtype",
    "to_arrow_type",
]

#: Arrow's and Polars' time units (Arrow also has seconds; Polars does not).
TimeUnit = Literal["ns", "us", "ms", "s"]

_TIME_UNITS = ("ns", "us", "ms", "s")


class _DataTypeClass(type):
    """The metaclass of the data types: a class stands for its default instance, so it
    prints as its name and equals any of its instances (Polars' rule)."""

    def __repr__(cls) -> str:
        return cls.__name__

    def __eq__(cls, other: object) -> bool:
        if isinstance(other, DataType):
            return isinstance(other, cls)
        return cls is other

    def __hash__(cls) -> int:
        return type.__hash__(cls)


class _ToArrow:
    """``to_arrow`` callable on a class too (``cp.Int64.to_arrow()``): there it converts
    the class's default instance."""

    def __get__(
        self, instance: DataType | None, owner: type[DataType]
    ) -> Callable[[], pa.DataType]:
        target = owner() if instance is None else instance
        return target._to_arrow


class DataType(metaclass=_DataTypeClass):
    """The base of corepy's data types. ``to_arrow()`` gives the pyarrow type (on a class
    or an instance), ``DataType.from_arrow(t)`` the corepy type of a pyarrow type.

    >>> import corepy as cp, pyarrow as pa
    >>> cp.Int32.to_arrow(), cp.DataType.from_arrow(pa.timestamp("ns"))
    (DataType(int32), Datetime(time_unit='ns', time_zone=None))
    """

    #: The pyarrow factory of a type without parameters (``pa.int64``, …), by name.
    _arrow_factory: ClassVar[str] = ""

    def __repr__(self) -> str:
        return type(self).__name__

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _DataTypeClass):
            return isinstance(self, other)
        if isinstance(other, DataType):
            return type(self) is type(other) and self._parameters() == other._parameters()
        return False

    def __hash__(self) -> int:
        parameters = self._parameters()
        return hash(type(self)) if not parameters else hash((type(self), parameters))

    def _parameters(self) -> tuple[Any, ...]:
        """What tells two instances of the class apart (none for plain types)."""
        return ()

    def _to_arrow(self) -> pa.DataType:
        import pyarrow as pa

        factory: Callable[[], pa.DataType] = getattr(pa, self._arrow_factory)
        return factory()

    #: The pyarrow type; ``cp.Int64.to_arrow()`` and ``cp.Int64().to_arrow()`` alike.
    to_arrow = _ToArrow()

    @staticmethod
    def from_arrow(arrow_type: pa.DataType) -> DataType:
        """The corepy type of a pyarrow type (Arrow's string, large string and string view
        are all :class:`String`; date32 and date64 :class:`Date`; every list kind
        :class:`List`).

        >>> import corepy as cp, pyarrow as pa
        >>> cp.DataType.from_arrow(pa.large_string()), cp.DataType.from_arrow(pa.decimal128(9, 2))
        (String, Decimal(precision=9, scale=2))
        """
        return _from_arrow(arrow_type)

    def is_numeric(self) -> bool:
        """Whether this is an integer, float or decimal type.

        >>> import corepy as cp
        >>> cp.Int8().is_numeric(), cp.Decimal(5, 2).is_numeric(), cp.String().is_numeric()
        (True, True, False)
        """
        return isinstance(self, (_Integer, _Float, Decimal))

    def is_temporal(self) -> bool:
        """Whether this is a date, datetime, duration or time type.

        >>> import corepy as cp
        >>> cp.Datetime("ms").is_temporal(), cp.Float64().is_temporal()
        (True, False)
        """
        return isinstance(self, (Date, Datetime, Duration, Time))


class _Integer(DataType):
    pass


class _Float(DataType):
    pass


class Int8(_Integer):
    """8-bit signed integers (Arrow ``int8``).

    >>> import corepy as cp
    >>> cp.from_dict({"a": [1]}).select(cp.col("a").cast(cp.Int8)).collect_schema()
    Schema([('a', Int8)])
    """

    _arrow_factory = "int8"


class Int16(_Integer):
    """16-bit signed integers (Arrow ``int16``).

    >>> import corepy as cp
    >>> cp.Int16.to_arrow()
    DataType(int16)
    """

    _arrow_factory = "int16"


class Int32(_Integer):
    """32-bit signed integers (Arrow ``int32``).

    >>> import corepy as cp
    >>> cp.Int32.to_arrow()
    DataType(int32)
    """

    _arrow_factory = "int32"


class Int64(_Integer):
    """64-bit signed integers (Arrow ``int64``), the type of Python ints.

    >>> import corepy as cp
    >>> cp.from_dict({"a": [1]}).collect_schema()["a"]
    Int64
    """

    _arrow_factory = "int64"


class UInt8(_Integer):
    """8-bit unsigned integers (Arrow ``uint8``).

    >>> import corepy as cp
    >>> cp.UInt8.to_arrow()
    DataType(uint8)
    """

    _arrow_factory = "uint8"


class UInt16(_Integer):
    """16-bit unsigned integers (Arrow ``uint16``).

    >>> import corepy as cp
    >>> cp.UInt16.to_arrow()
    DataType(uint16)
    """

    _arrow_factory = "uint16"


class UInt32(_Integer):
    """32-bit unsigned integers (Arrow ``uint32``).

    >>> import corepy as cp
    >>> cp.UInt32.to_arrow()
    DataType(uint32)
    """

    _arrow_factory = "uint32"


class UInt64(_Integer):
    """64-bit unsigned integers (Arrow ``uint64``).

    >>> import corepy as cp
    >>> cp.from_dict({"a": [1]}).with_row_index().collect_schema()["index"]
    UInt64
    """

    _arrow_factory = "uint64"


class Float32(_Float):
    """32-bit floats (Arrow ``float32``).

    >>> import corepy as cp
    >>> cp.Float32.to_arrow()
    DataType(float)
    """

    _arrow_factory = "float32"


class Float64(_Float):
    """64-bit floats (Arrow ``float64``), the type of Python floats.

    >>> import corepy as cp
    >>> cp.from_dict({"a": [1]}).select(cp.col("a").cast(cp.Float64)).compute().to_pydict()
    {'a': [1.0]}
    """

    _arrow_factory = "float64"


class Boolean(DataType):
    """Booleans (Arrow ``bool``).

    >>> import corepy as cp
    >>> cp.Boolean.to_arrow()
    DataType(bool)
    """

    _arrow_factory = "bool_"


class String(DataType):
    """UTF-8 strings (Arrow ``string``; large strings and string views read as this type
    too). ``cp.Utf8`` is the same class.

    >>> import corepy as cp
    >>> cp.from_dict({"s": ["x"]}).collect_schema()["s"] == cp.Utf8
    True
    """

    _arrow_factory = "string"


#: Polars' former name of :class:`String`.
Utf8 = String


class Binary(DataType):
    """Bytes (Arrow ``binary``).

    >>> import corepy as cp
    >>> cp.Binary.to_arrow()
    DataType(binary)
    """

    _arrow_factory = "binary"


class Date(DataType):
    """Calendar dates (Arrow ``date32``: days since 1970-01-01).

    >>> import corepy as cp, datetime as dt
    >>> cp.from_dict({"d": [dt.date(2024, 1, 1)]}).collect_schema()["d"]
    Date
    """

    _arrow_factory = "date32"


class Time(DataType):
    """Times of day (Arrow ``time64[ns]``, as Polars).

    >>> import corepy as cp
    >>> cp.Time.to_arrow()
    Time64Type(time64[ns])
    """

    def _to_arrow(self) -> pa.DataType:
        import pyarrow as pa

        return pa.time64("ns")


class Null(DataType):
    """The type of a column of nulls only (Arrow ``null``).

    >>> import corepy as cp
    >>> cp.Null.to_arrow()
    DataType(null)
    """

    _arrow_factory = "null"


def _time_unit(time_unit: str, what: str) -> TimeUnit:
    if time_unit not in _TIME_UNITS:
        raise InvalidArgumentError(
            f"{what} time_unit must be 'ns', 'us', 'ms' or 's', got {time_unit!r}"
        )
    return time_unit  # type: ignore[return-value]


class Datetime(DataType):
    """Points in time, in ``time_unit`` since 1970-01-01 (Arrow ``timestamp``), naive or
    in ``time_zone``.

    >>> import corepy as cp
    >>> cp.Datetime("ms", "UTC"), cp.Datetime("ms") == cp.Datetime("us")
    (Datetime(time_unit='ms', time_zone='UTC'), False)
    """

    def __init__(self, time_unit: TimeUnit = "us", time_zone: str | None = None) -> None:
        self.time_unit: TimeUnit = _time_unit(time_unit, "Datetime")
        self.time_zone = time_zone

    def __repr__(self) -> str:
        return f"Datetime(time_unit={self.time_unit!r}, time_zone={self.time_zone!r})"

    def _parameters(self) -> tuple[Any, ...]:
        return (self.time_unit, self.time_zone)

    def _to_arrow(self) -> pa.DataType:
        import pyarrow as pa

        return pa.timestamp(self.time_unit, self.time_zone)


class Duration(DataType):
    """Lengths of time in ``time_unit`` (Arrow ``duration``).

    >>> import corepy as cp, datetime as dt
    >>> cp.from_dict({"d": [dt.timedelta(seconds=1)]}).collect_schema()["d"]
    Duration(time_unit='us')
    """

    def __init__(self, time_unit: TimeUnit = "us") -> None:
        self.time_unit: TimeUnit = _time_unit(time_unit, "Duration")

    def __repr__(self) -> str:
        return f"Duration(time_unit={self.time_unit!r})"

    def _parameters(self) -> tuple[Any, ...]:
        return (self.time_unit,)

    def _to_arrow(self) -> pa.DataType:
        import pyarrow as pa

        return pa.duration(self.time_unit)


class Decimal(DataType):
    """Exact decimals of ``precision`` digits, ``scale`` of them after the point (Arrow
    ``decimal128``, or ``decimal256`` above 38 digits); ``precision=None`` is 38.

    >>> import corepy as cp
    >>> cp.Decimal(15, 2).to_arrow()
    Decimal128Type(decimal128(15, 2))
    """

    def __init__(self, precision: int | None = None, scale: int = 0) -> None:
        if precision is not None and not 1 <= precision <= 76:
            raise InvalidArgumentError(f"Decimal precision must be 1 to 76, got {precision}")
        if not 0 <= scale <= (precision or 38):
            raise InvalidArgumentError(
                f"Decimal scale must be between 0 and the precision, got {scale}"
            )
        self.precision = precision
        self.scale = scale

    def __repr__(self) -> str:
        return f"Decimal(precision={self.precision!r}, scale={self.scale!r})"

    def _parameters(self) -> tuple[Any, ...]:
        return (self.precision, self.scale)

    def _to_arrow(self) -> pa.DataType:
        import pyarrow as pa

        precision = 38 if self.precision is None else self.precision
        if precision > 38:
            return pa.decimal256(precision, self.scale)
        return pa.decimal128(precision, self.scale)


class List(DataType):
    """Variable-length lists of ``inner`` (Arrow ``list``).

    >>> import corepy as cp
    >>> cp.from_dict({"l": [[1, 2]]}).collect_schema()["l"] == cp.List(cp.Int64)
    True
    """

    def __init__(self, inner: DataTypeLike) -> None:
        self.inner: DataType = to_dtype(inner)

    def __repr__(self) -> str:
        return f"List({self.inner!r})"

    def _parameters(self) -> tuple[Any, ...]:
        return (self.inner,)

    def _to_arrow(self) -> pa.DataType:
        import pyarrow as pa

        return pa.list_(self.inner.to_arrow())


class Struct(DataType):
    """Records of named fields (Arrow ``struct``): ``cp.Struct({"x": cp.Int64, "y":
    cp.String})``.

    >>> import corepy as cp
    >>> cp.from_dict({"p": [{"x": 1, "y": "a"}]}).collect_schema()["p"]
    Struct({'x': Int64, 'y': String})
    """

    def __init__(
        self, fields: Mapping[str, DataTypeLike] | Iterable[tuple[str, DataTypeLike]]
    ) -> None:
        pairs = fields.items() if isinstance(fields, Mapping) else fields
        self.fields: dict[str, DataType] = {name: to_dtype(d) for name, d in pairs}

    def __repr__(self) -> str:
        return f"Struct({self.fields!r})"

    def _parameters(self) -> tuple[Any, ...]:
        return tuple(self.fields.items())

    def _to_arrow(self) -> pa.DataType:
        import pyarrow as pa

        return pa.struct([(name, dtype.to_arrow()) for name, dtype in self.fields.items()])


#: What a ``dtype`` argument takes: a corepy type (class or instance), a pyarrow type, or
#: a name such as ``"int64"`` or ``"timestamp[ms]"``.
DataTypeLike = Union[DataType, type[DataType], "pa.DataType", str]


def is_dtype(value: object) -> bool:
    """Whether ``value`` is a corepy data type, as a class or an instance.

    >>> import corepy as cp
    >>> from corepy.datatypes import is_dtype
    >>> is_dtype(cp.Int64), is_dtype(cp.Datetime("ms")), is_dtype("int64")
    (True, True, False)
    """
    return isinstance(value, (DataType, _DataTypeClass))


def to_dtype(value: DataTypeLike) -> DataType:
    """A corepy type (an instance) from a corepy type or a pyarrow type.

    >>> import corepy as cp, pyarrow as pa
    >>> from corepy.datatypes import to_dtype
    >>> to_dtype(cp.Int64), to_dtype(pa.float32())
    (Int64, Float32)
    """
    if isinstance(value, DataType):
        return value
    if isinstance(value, _DataTypeClass):
        default: DataType = value()
        return default
    if isinstance(value, str):
        raise TypeError(f"expected a data type such as cp.Int64, got the string {value!r}")
    return _from_arrow(value)


def to_arrow_type(dtype: Any) -> Any:
    """What the bindings take for a ``dtype`` argument: a corepy type becomes its pyarrow
    type; a pyarrow type or a type name is passed on as is.

    >>> import corepy as cp
    >>> from corepy.datatypes import to_arrow_type
    >>> to_arrow_type(cp.Datetime("ms")), to_arrow_type("int64")
    (TimestampType(timestamp[ms]), 'int64')
    """
    return to_dtype(dtype).to_arrow() if is_dtype(dtype) else dtype


def _from_arrow(arrow_type: pa.DataType) -> DataType:
    import pyarrow as pa

    t = pa.types
    simple: list[tuple[Callable[[pa.DataType], bool], type[DataType]]] = [
        (t.is_boolean, Boolean),
        (t.is_int8, Int8),
        (t.is_int16, Int16),
        (t.is_int32, Int32),
        (t.is_int64, Int64),
        (t.is_uint8, UInt8),
        (t.is_uint16, UInt16),
        (t.is_uint32, UInt32),
        (t.is_uint64, UInt64),
        (t.is_float32, Float32),
        (t.is_float64, Float64),
        (t.is_string, String),
        (t.is_large_string, String),
        (t.is_string_view, String),
        (t.is_binary, Binary),
        (t.is_large_binary, Binary),
        (t.is_binary_view, Binary),
        (t.is_date, Date),
        (t.is_time, Time),
        (t.is_null, Null),
    ]
    for test, dtype in simple:
        if test(arrow_type):
            return dtype()
    if t.is_timestamp(arrow_type):
        return Datetime(arrow_type.unit, arrow_type.tz)
    if t.is_duration(arrow_type):
        return Duration(arrow_type.unit)
    if t.is_decimal(arrow_type):
        return Decimal(arrow_type.precision, arrow_type.scale)
    if t.is_list(arrow_type) or t.is_large_list(arrow_type) or t.is_list_view(arrow_type):
        return List(_from_arrow(arrow_type.value_type))
    if t.is_fixed_size_list(arrow_type) or t.is_large_list_view(arrow_type):
        return List(_from_arrow(arrow_type.value_type))
    if t.is_struct(arrow_type):
        return Struct((field.name, _from_arrow(field.type)) for field in arrow_type)
    raise InvalidArgumentError(f"corepy has no data type for the Arrow type {arrow_type}")


class Schema(Mapping[str, DataType]):
    """Column names and their types, in column order, as Polars' ``Schema``: a read-only
    mapping ``name -> data type``; ``to_arrow()`` gives the ``pyarrow.Schema``.

    >>> import corepy as cp
    >>> schema = cp.from_dict({"a": [1], "s": ["x"]}).collect_schema()
    >>> schema
    Schema([('a', Int64), ('s', String)])
    >>> schema.names(), schema.dtypes(), schema.len()
    (['a', 's'], [Int64, String], 2)
    >>> dict(schema) == {"a": cp.Int64, "s": cp.String}, list(schema)
    (True, ['a', 's'])
    """

    __slots__ = ("_columns",)

    def __init__(
        self, columns: Mapping[str, DataTypeLike] | Iterable[tuple[str, DataTypeLike]] = ()
    ) -> None:
        pairs = columns.items() if isinstance(columns, Mapping) else columns
        self._columns: dict[str, DataType] = {name: to_dtype(d) for name, d in pairs}

    @staticmethod
    def from_arrow(schema: pa.Schema) -> Schema:
        """The schema of a ``pyarrow.Schema``.

        >>> import corepy as cp, pyarrow as pa
        >>> cp.Schema.from_arrow(pa.schema({"t": pa.timestamp("ms")}))
        Schema([('t', Datetime(time_unit='ms', time_zone=None))])
        """
        return Schema((field.name, _from_arrow(field.type)) for field in schema)

    def to_arrow(self) -> pa.Schema:
        """The ``pyarrow.Schema`` (every field nullable).

        >>> import corepy as cp
        >>> cp.Schema({"a": cp.Int64, "d": cp.Date}).to_arrow()
        a: int64
        d: date32[day]
        """
        import pyarrow as pa

        return pa.schema([(name, dtype.to_arrow()) for name, dtype in self._columns.items()])

    def names(self) -> list[str]:
        """The column names, in order.

        >>> import corepy as cp
        >>> cp.Schema({"a": cp.Int64, "b": cp.String}).names()
        ['a', 'b']
        """
        return list(self._columns)

    def dtypes(self) -> list[DataType]:
        """The column types, in order.

        >>> import corepy as cp
        >>> cp.Schema({"a": cp.Int64, "b": cp.String}).dtypes()
        [Int64, String]
        """
        return list(self._columns.values())

    def len(self) -> int:
        """The number of columns.

        >>> import corepy as cp
        >>> cp.Schema({"a": cp.Int64}).len()
        1
        """
        return len(self._columns)

    def __getitem__(self, name: str) -> DataType:
        """``schema["a"]``: the type of column ``a``.

        >>> import corepy as cp
        >>> cp.Schema({"a": cp.Int64})["a"]
        Int64
        """
        return self._columns[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Schema):
            # Column order matters between schemas, as between Polars' ordered schemas.
            return list(self._columns.items()) == list(other._columns.items())
        if isinstance(other, Mapping):
            return self._columns == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Schema({list(self._columns.items())!r})"
