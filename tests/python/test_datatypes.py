"""Polars-style data types (cp.Int64, cp.Datetime("ms"), …), Schema, dtype selectors and
schema= arguments, checked against Polars' own answers."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import polars as pl
import pyarrow as pa
import pytest

import corepy as cp
from corepy.datatypes import to_dtype

# Each corepy type beside the Polars type of the same name and the Arrow type it stands for.
PAIRS: list[tuple[Any, Any, pa.DataType]] = [
    (cp.Int8, pl.Int8, pa.int8()),
    (cp.Int16, pl.Int16, pa.int16()),
    (cp.Int32, pl.Int32, pa.int32()),
    (cp.Int64, pl.Int64, pa.int64()),
    (cp.UInt8, pl.UInt8, pa.uint8()),
    (cp.UInt16, pl.UInt16, pa.uint16()),
    (cp.UInt32, pl.UInt32, pa.uint32()),
    (cp.UInt64, pl.UInt64, pa.uint64()),
    (cp.Float32, pl.Float32, pa.float32()),
    (cp.Float64, pl.Float64, pa.float64()),
    (cp.Boolean, pl.Boolean, pa.bool_()),
    (cp.String, pl.String, pa.string()),
    (cp.Binary, pl.Binary, pa.binary()),
    (cp.Date, pl.Date, pa.date32()),
    (cp.Time, pl.Time, pa.time64("ns")),
    (cp.Null, pl.Null, pa.null()),
    (cp.Datetime("ms", "UTC"), pl.Datetime("ms", "UTC"), pa.timestamp("ms", "UTC")),
    (cp.Datetime(), pl.Datetime(), pa.timestamp("us")),
    (cp.Duration("ns"), pl.Duration("ns"), pa.duration("ns")),
    (cp.Decimal(15, 2), pl.Decimal(15, 2), pa.decimal128(15, 2)),
    (cp.List(cp.Int64), pl.List(pl.Int64), pa.list_(pa.int64())),
    (cp.List(cp.List(cp.String)), pl.List(pl.List(pl.String)), pa.list_(pa.list_(pa.string()))),
    (
        cp.Struct({"x": cp.Int64, "y": cp.List(cp.Date)}),
        pl.Struct({"x": pl.Int64, "y": pl.List(pl.Date)}),
        pa.struct([("x", pa.int64()), ("y", pa.list_(pa.date32()))]),
    ),
]


@pytest.mark.parametrize(("ours", "theirs", "arrow"), PAIRS, ids=lambda p: repr(p))
def test_types_print_and_convert_as_polars_and_arrow(ours: Any, theirs: Any, arrow: Any) -> None:
    assert repr(ours) == repr(theirs)
    assert ours.to_arrow() == arrow
    assert cp.DataType.from_arrow(arrow) == ours
    assert repr(cp.DataType.from_arrow(arrow)) == repr(to_dtype(ours))
    # Polars agrees on the Arrow type (its strings and lists are the large/view kinds).
    polars_arrow = pl.Series([], dtype=theirs).to_arrow().type
    assert cp.DataType.from_arrow(polars_arrow) == ours


def test_equality_follows_polars() -> None:
    cases = [
        ("Int64", "Int64()"),
        ("Int64", "Int32"),
        ("Int64()", "Int64()"),
        ("Int64()", "Int32()"),
        ("Datetime", 'Datetime("us")'),
        ('Datetime("ms")', 'Datetime("us")'),
        ('Datetime("ms")', 'Datetime("ms")'),
        ('Datetime("ms", "UTC")', 'Datetime("ms")'),
        ("Duration", 'Duration("ms")'),
        ("Decimal(10, 2)", "Decimal"),
        ("Decimal(10, 2)", "Decimal(10, 3)"),
        ("List(Int64)", "List"),
        ("List(Int64)", "List(Int64())"),
        ("List(Int64)", "List(Int32)"),
        ("String", "Utf8"),
        ("String", "Binary"),
        ('Struct({"a": Int64})', "Struct"),
        ('Struct({"a": Int64})', 'Struct({"a": Int32})'),
    ]
    for left, right in cases:
        ours = (_make(cp, left) == _make(cp, right), _make(cp, right) == _make(cp, left))
        theirs = (_make(pl, left) == _make(pl, right), _make(pl, right) == _make(pl, left))
        assert ours == theirs, (left, right)
        assert (_make(cp, left) != _make(cp, right)) == (not ours[0])


def _make(module: Any, text: str) -> Any:
    """The type ``text`` spells, built from ``module``'s names (cp or pl)."""
    return eval(text, dict(vars(module)))


def test_types_hash_and_work_as_keys() -> None:
    assert hash(cp.Int64()) == hash(cp.Int64)
    assert {cp.Int64(): "i", cp.Datetime("ms"): "t"}[cp.Datetime("ms")] == "t"
    assert cp.Utf8 is cp.String
    assert cp.Struct([("a", cp.Int64)]) == cp.Struct({"a": cp.Int64()})
    assert cp.Int64().is_numeric() and not cp.Date().is_numeric()
    assert cp.Duration().is_temporal() and not cp.Int8().is_temporal()


def test_bad_type_parameters_are_invalid_arguments() -> None:
    with pytest.raises(cp.InvalidArgumentError, match="time_unit"):
        cp.Datetime("days")  # type: ignore[arg-type]
    with pytest.raises(cp.InvalidArgumentError, match="precision"):
        cp.Decimal(0)
    with pytest.raises(cp.InvalidArgumentError, match="no data type"):
        cp.DataType.from_arrow(pa.month_day_nano_interval())


DATA = {
    "i": [1, 2, None],
    "f": [1.5, None, -2.25],
    "s": ["1", "20", None],
    "d": [dt.date(2024, 1, 2), None, dt.date(1999, 12, 31)],
}


@pytest.mark.parametrize(
    ("column", "ours", "theirs"),
    [
        ("i", cp.Float64, pl.Float64),
        ("i", cp.Int8, pl.Int8),
        ("i", cp.String, pl.String),
        ("f", cp.Int32, pl.Int32),
        ("f", cp.Float32(), pl.Float32()),
        ("s", cp.Int64, pl.Int64),
        ("d", cp.Datetime("ms"), pl.Datetime("ms")),
        ("i", cp.Decimal(10, 2), pl.Decimal(10, 2)),
    ],
)
def test_cast_to_a_type_matches_polars(column: str, ours: Any, theirs: Any) -> None:
    got = cp.from_dict(DATA).select(cp.col(column).cast(ours)).compute()
    want = pl.DataFrame(DATA).select(pl.col(column).cast(theirs))
    assert got.to_pydict() == want.to_dict(as_series=False)
    assert repr(got.collect_schema()[column]) == repr(want.schema[column])


def test_frame_cast_takes_a_mapping_or_one_type() -> None:
    lf, df = cp.from_dict(DATA), pl.DataFrame(DATA)
    got = lf.cast({"i": cp.Float32, "f": cp.Int64}).compute().to_pydict()
    assert got == df.cast({"i": pl.Float32, "f": pl.Int64}).to_dict(as_series=False)
    got = lf.select("i", "f").cast(cp.String).compute().to_pydict()
    assert got == df.select("i", "f").cast(pl.String).to_dict(as_series=False)
    with pytest.raises(cp.ColumnNotFoundError):
        lf.cast({"nope": cp.Int8})
    assert lf.cast({"nope": cp.Int8}, strict=False).columns == lf.columns


def test_collect_schema_matches_polars() -> None:
    data = {
        **DATA,
        "t": [dt.datetime(2024, 1, 1)] * 3,
        "dur": [dt.timedelta(seconds=1)] * 3,
        "l": [[1], [], None],
        "b": [True, False, None],
        "dec": [decimal.Decimal("1.25"), None, decimal.Decimal("-3.50")],
    }
    table = pa.table(data)
    ours = cp.from_arrow(table).collect_schema()
    theirs = pl.from_arrow(table).collect_schema()  # type: ignore[union-attr]
    assert isinstance(ours, cp.Schema)
    assert repr(ours) == repr(theirs)
    assert ours.names() == theirs.names()
    assert [repr(d) for d in ours.dtypes()] == [repr(d) for d in theirs.dtypes()]
    assert ours.len() == theirs.len() == len(ours)
    assert list(ours) == list(theirs) and ours["dec"] == cp.Decimal(3, 2)
    assert ours == cp.Schema.from_arrow(ours.to_arrow())
    assert ours != cp.Schema(list(reversed(list(ours.items()))))
    assert dict(ours) == {name: to_dtype(d) for name, d in ours.items()}
    # corepy numbers rows as UInt64 (Polars: UInt32, or UInt64 in its big-index build).
    assert cp.from_arrow(table).with_row_index().collect_schema()["index"] == cp.UInt64


def test_dataframe_collect_schema_and_arrow_schema_agree() -> None:
    df = cp.from_dict(DATA).compute()
    assert df.collect_schema() == cp.Schema.from_arrow(df.schema)
    assert df.collect_schema().to_arrow() == df.schema
    assert cp.from_dict(DATA).schema == df.schema  # .schema stays a pyarrow.Schema


WIDE = {
    "a": [1, 2],
    "b": [0.5, 1.5],
    "c": [3, 4],
    "s": ["x", "y"],
    "n": [1, 2],
    "f32": [1.0, 2.0],
}


def _wide() -> tuple[cp.LazyFrame, pl.DataFrame]:
    schema = {"n": pl.Int32, "f32": pl.Float32}
    df = pl.DataFrame(WIDE, schema_overrides=schema)
    return cp.from_polars(df), df


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda: cp.col(cp.Int64), lambda: pl.col(pl.Int64)),
        (lambda: cp.col(cp.Float64, cp.Float32), lambda: pl.col(pl.Float64, pl.Float32)),
        (lambda: cp.col([cp.Int32, cp.Int64]) * 2, lambda: pl.col([pl.Int32, pl.Int64]) * 2),
        (lambda: cp.col(cp.String), lambda: pl.col(pl.String)),
        (lambda: cp.col("c", "a") + 1, lambda: pl.col("c", "a") + 1),
        # Polars names `10 - col` "literal"; corepy names it after its column.
        (lambda: 10 - cp.col(cp.Int64), lambda: -(pl.col(pl.Int64) - 10)),
        (lambda: cp.col(pa.float64()), lambda: pl.col(pl.Float64)),
    ],
)
def test_type_selectors_in_select_match_polars(ours: Any, theirs: Any) -> None:
    lf, df = _wide()
    got = lf.select(ours()).compute().to_pydict()
    assert got == df.select(theirs()).to_dict(as_series=False)


def test_type_selectors_in_with_columns_agg_and_sort_match_polars() -> None:
    lf, df = _wide()
    got = lf.with_columns(cp.col(cp.Int64).cast(cp.Float64)).compute().to_pydict()
    assert got == df.with_columns(pl.col(pl.Int64).cast(pl.Float64)).to_dict(as_series=False)
    got = lf.group_by("s").agg(cp.col(cp.Float64).sum()).sort("s").compute().to_pydict()
    want = df.group_by("s").agg(pl.col(pl.Float64).sum()).sort("s")
    assert got == want.to_dict(as_series=False)
    got = lf.sort(cp.col(cp.Int64), descending=True).compute().to_pydict()
    assert got == df.sort(pl.col(pl.Int64), descending=True).to_dict(as_series=False)


def test_selector_misuse_is_explained() -> None:
    with pytest.raises(cp.InvalidArgumentError, match="several columns"):
        cp.when(cp.col("a", "b") > 1)
    pairs = cp.col("a", "b") * cp.col("a", "b")
    with pytest.raises(cp.InvalidArgumentError, match="several columns"):
        cp.from_dict({"a": [1], "b": [2]}).select(pairs)
    with pytest.raises(TypeError, match="not both"):
        cp.col("a", cp.Int64)
    with pytest.raises(TypeError, match="data type"):
        cp.col(3)  # type: ignore[arg-type]
    assert repr(cp.col(cp.Int64).sum().alias("x")) == "cp.col([Int64]).sum().alias('x')"
    with pytest.raises(cp.ColumnNotFoundError):
        cp.from_dict({"a": [1]}).select(cp.col("a", "zz"))


def test_from_dict_schema_and_overrides_match_polars() -> None:
    data = {"a": [1, 2], "b": ["x", None], "c": [1.0, 2.5]}
    for schema in [
        {"a": cp.Int16, "b": cp.String, "c": cp.Float32},
        [("x", cp.UInt8), "y", ("z", cp.Float64)],
    ]:
        polars_schema: Any = (
            {n: getattr(pl, repr(d)) for n, d in schema.items()}
            if isinstance(schema, dict)
            else [(s[0], getattr(pl, repr(s[1]))) if isinstance(s, tuple) else s for s in schema]
        )
        got = cp.from_dict(data, schema=schema).compute()  # type: ignore[arg-type]
        want = pl.DataFrame(data, schema=polars_schema)
        assert got.to_pydict() == want.to_dict(as_series=False)
        assert [repr(d) for d in got.collect_schema().dtypes()] == [
            repr(d) for d in want.schema.dtypes()
        ]
    got = cp.from_dict(data, schema_overrides={"a": cp.Datetime("ms"), "c": pa.float32()})
    want = pl.DataFrame(data, schema_overrides={"a": pl.Datetime("ms"), "c": pl.Float32})
    assert got.compute().to_pydict() == want.to_dict(as_series=False)
    assert got.collect_schema()["a"] == cp.Datetime("ms")
    with pytest.raises(cp.InvalidArgumentError, match="schema of 1 columns"):
        cp.from_dict(data, schema={"a": cp.Int8})
    with pytest.raises(cp.InvalidArgumentError, match="not a column"):
        cp.from_dict(data, schema_overrides={"q": cp.Int8})
