"""The lazy API and materialized frames: naming, column replacement, sorting, limits,
aggregation, literals of every type, and Arrow interchange in and out."""

from __future__ import annotations

import datetime as dt
import decimal

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import corepy as cp


@pytest.fixture()
def frame() -> cp.LazyFrame:
    return cp.from_dict(
        {
            "k": ["a", "b", "a", None, "b"],
            "x": [1, 2, 3, 4, None],
            "y": [0.5, 1.5, None, 3.5, 4.5],
        }
    )


def test_select_names_after_the_left_most_column(frame: cp.LazyFrame) -> None:
    out = frame.select(cp.col("x") + 1, 2 * cp.col("y"), cp.lit(7)).compute()
    assert out.columns == ["x", "y", "literal"]
    assert out.to_pydict()["x"] == [2, 3, 4, 5, None]


def test_with_columns_replaces_in_place_and_appends(frame: cp.LazyFrame) -> None:
    out = frame.with_columns(cp.col("x") * 10, (cp.col("x") > 2).alias("big")).compute()
    assert out.columns == ["k", "x", "y", "big"]
    assert out.to_pydict()["x"] == [10, 20, 30, 40, None]
    assert out.to_pydict()["big"] == [False, False, True, True, None]


def test_filter_with_three_valued_logic(frame: cp.LazyFrame) -> None:
    out = frame.filter((cp.col("x") > 1) & ~cp.col("y").is_null()).compute()
    assert out.to_pydict()["x"] == [2, 4]
    either = frame.filter((cp.col("x") == 1) | (cp.col("k") == "b")).compute()
    assert sorted(either.to_pydict()["x"], key=lambda v: (v is None, v)) == [1, 2, None]


def test_sort_flags_per_key(frame: cp.LazyFrame) -> None:
    out = frame.sort("k", "x", descending=[False, True], nulls_last=True).compute()
    assert out.to_pydict()["k"] == ["a", "a", "b", "b", None]
    assert out.to_pydict()["x"] == [3, 1, 2, None, 4]
    first = frame.sort("x").compute().to_pydict()["x"]
    assert first[0] is None, "nulls come first by default, as in Polars"
    with pytest.raises(cp.InvalidArgumentError):
        frame.sort("k", "x", descending=[True, False, True])


def test_limit_and_offset(frame: cp.LazyFrame) -> None:
    out = frame.sort("x", nulls_last=True).limit(2, offset=1).compute()
    assert out.to_pydict()["x"] == [2, 3]
    assert frame.head(3).compute().height == 3
    assert frame.limit(0).compute().height == 0


def test_group_by_aggregations(frame: cp.LazyFrame) -> None:
    out = (
        frame.group_by("k")
        .agg(
            cp.col("x").sum(),
            cp.col("y").mean().alias("mean_y"),
            cp.col("x").min().alias("min_x"),
            cp.col("x").max().alias("max_x"),
            cp.col("x").count().alias("n_x"),
            cp.len(),
        )
        .sort("k", nulls_last=True)
        .compute()
    )
    assert out.to_pydict() == {
        "k": ["a", "b", None],
        "x": [4, 2, 4],
        "mean_y": [0.5, 3.0, 3.5],
        "min_x": [1, 2, 4],
        "max_x": [3, 2, 4],
        "n_x": [2, 1, 1],
        "len": [2, 2, 1],
    }


def test_expression_over_aggregates(frame: cp.LazyFrame) -> None:
    ratio = (cp.col("x").sum() / cp.col("x").count()).alias("avg_x")
    out = frame.group_by("k").agg(ratio).sort("k", nulls_last=True).compute()
    assert out.to_pydict() == {"k": ["a", "b", None], "avg_x": [2, 2, 4]}


def test_renamed_aggregations_are_computed_directly(frame: cp.LazyFrame) -> None:
    plan = frame.group_by("k").agg(cp.len().alias("n"), cp.col("x").max().alias("s")).explain()
    assert "__corepy_agg" not in plan, plan
    assert "count(Int64(1)) AS n" in plan and "AS len" not in plan


def test_select_of_aggregations_gives_one_row(frame: cp.LazyFrame) -> None:
    out = frame.select(cp.col("x").sum(), cp.col("y").max().alias("ymax")).compute()
    assert out.to_pydict() == {"x": [10], "ymax": [4.5]}


def test_group_by_expression_key(frame: cp.LazyFrame) -> None:
    out = (
        frame.filter(cp.col("x").is_not_null())
        .group_by((cp.col("x") % 2).alias("odd"))
        .agg(cp.len())
        .sort("odd")
        .compute()
    )
    assert out.to_pydict() == {"odd": [0, 1], "len": [2, 2]}


@pytest.mark.parametrize(
    ("value", "arrow_type"),
    [
        (1, pa.int64()),
        (2**63, pa.uint64()),
        (1.5, pa.float64()),
        ("s", pa.string()),
        (True, pa.bool_()),
        (b"\x00\x01", pa.binary()),
        (dt.date(2024, 2, 29), pa.date32()),
        (dt.datetime(2024, 2, 29, 12, 30, 1, 5), pa.timestamp("us")),
        (dt.timedelta(days=1, microseconds=3), pa.duration("us")),
        (decimal.Decimal("123.45"), pa.decimal128(5, 2)),
    ],
)
def test_literals_round_trip(value: object, arrow_type: pa.DataType) -> None:
    out = cp.from_dict({"a": [0]}).select(cp.lit(value).alias("v")).compute().to_arrow()  # type: ignore[arg-type]
    assert out.schema.field("v").type == arrow_type
    assert out.column("v").to_pylist() == [value]


def test_timezone_aware_datetime_literal() -> None:
    moment = dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone.utc)
    out = cp.from_dict({"a": [0]}).select(cp.lit(moment).alias("t")).compute().to_arrow()
    assert out.column("t").to_pylist() == [moment]


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        ("int32", pa.int32()),
        ("float32", pa.float32()),
        ("utf8", pa.string()),
        ("decimal(10,3)", pa.decimal128(10, 3)),
        (pa.int16(), pa.int16()),
    ],
)
def test_cast(dtype: object, expected: pa.DataType) -> None:
    out = cp.from_dict({"a": [1, 2]}).select(cp.col("a").cast(dtype)).compute()
    assert out.schema.field("a").type == expected


def test_from_arrow_accepts_pyarrow_polars_and_batches() -> None:
    table = pa.table({"a": [1, 2, 3]})
    for source in [table, table.to_batches()[0], pl.DataFrame({"a": [1, 2, 3]})]:
        assert cp.from_arrow(source).compute().to_pydict() == {"a": [1, 2, 3]}


def test_arrow_export_is_zero_copy() -> None:
    table = pa.table({"a": pa.array(range(100_000), pa.int64())})
    out = cp.from_arrow(table).compute().to_arrow()
    assert out.column("a").chunks[0].buffers()[1].address == (
        table.column("a").chunks[0].buffers()[1].address
    )


def test_dataframe_conversions(frame: cp.LazyFrame) -> None:
    df = frame.compute()
    assert df.shape == (5, 3)
    assert len(df) == 5
    assert df.columns == ["k", "x", "y"]
    assert df.schema.field("x").type == pa.int64()
    assert isinstance(df.to_arrow(), pa.Table)
    pandas_frame = df.to_pandas()
    assert isinstance(pandas_frame, pd.DataFrame) and list(pandas_frame.columns) == df.columns
    polars_frame = df.to_polars()
    assert isinstance(polars_frame, pl.DataFrame) and polars_frame.shape == (5, 3)
    assert pl.DataFrame(df).shape == (5, 3), "Polars reads the PyCapsule stream directly"
    assert df.to_pylist()[0] == {"k": "a", "x": 1, "y": 0.5}


def test_dataframe_lazy_round_trip(frame: cp.LazyFrame) -> None:
    df = frame.compute()
    again = df.lazy().filter(cp.col("x") >= 3).select("x").sort("x").compute()
    assert again.to_pydict() == {"x": [3, 4]}


def test_empty_results_keep_their_schema(frame: cp.LazyFrame) -> None:
    out = frame.filter(cp.col("x") > 100).compute()
    assert out.shape == (0, 3)
    assert out.to_arrow().schema.names == ["k", "x", "y"]


def test_repr_and_html(frame: cp.LazyFrame) -> None:
    df = frame.compute()
    text = repr(df)
    assert text.startswith("corepy.DataFrame: 5 rows × 3 columns")
    assert "| k " in text
    html = df._repr_html_()
    assert "<table" in html and "<th>k<br><small>" in html and "<i>null</i>" in html
    escaped = cp.from_dict({"s": ["<b>&"]}).compute()._repr_html_()
    assert "&lt;b&gt;&amp;" in escaped


def test_large_result_repr_is_truncated() -> None:
    df = cp.sql("SELECT * FROM generate_series(1, 1000) AS t(x)").compute()
    text = repr(df)
    assert "1000 rows × 1 columns, first 20 shown" in text
    assert text.count("\n") < 40


def test_lazy_schema_without_running(frame: cp.LazyFrame) -> None:
    lf = frame.select((cp.col("x") * 1.5).alias("z"))
    assert lf.columns == ["z"]
    assert lf.schema.field("z").type == pa.float64()


def test_sessions_are_independent() -> None:
    one, two = cp.Session(), cp.Session(target_partitions=1)
    one.register("t", cp.from_dict({"a": [1]}))
    assert "t" in one.tables()
    with pytest.raises(cp.PlanError):
        two.sql("SELECT * FROM t")
    assert two.target_partitions == 1
    one.deregister("t")
    assert "t" not in one.tables()


def test_register_frame_as_a_view() -> None:
    s = cp.Session()
    s.register("nums", s.from_dict({"n": [1, 2, 3, 4]}).filter(cp.col("n") > 1))
    assert s.sql("SELECT sum(n) AS total FROM nums").compute().to_pydict() == {"total": [9]}


def test_sql_ddl_runs_at_once() -> None:
    s = cp.Session()
    s.sql("CREATE TABLE t AS VALUES (1), (2)")
    assert s.sql("SELECT count(*) AS n FROM t").compute().to_pydict() == {"n": [2]}


def test_default_target_partitions_is_twice_the_cores() -> None:
    import os

    # Twice the cores this process may use (affinity and cgroup quotas count).
    partitions = cp.Session().target_partitions
    assert partitions % 2 == 0 and 2 <= partitions <= 2 * (os.cpu_count() or 1)
