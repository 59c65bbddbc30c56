"""Errors name the problem: the column with suggestions, the SQL position, the expression
with the type mismatch. All derive from cp.CorepyError."""

from __future__ import annotations

import pytest

import corepy as cp


@pytest.fixture()
def frame() -> cp.LazyFrame:
    return cp.from_dict(
        {"l_quantity": [1, 2, 3], "l_discount": [0.1, 0.2, 0.0], "name": ["a", "b", "c"]}
    )


def test_every_error_class_is_a_corepy_error() -> None:
    for name in cp.exceptions.__all__:
        cls = getattr(cp, name)
        # Warnings are warnings (GpuFallbackWarning); every error is a CorepyError.
        assert issubclass(cls, cp.CorepyError) or issubclass(cls, Warning), name


def test_unknown_column_in_lazy_api_suggests_the_closest(frame: cp.LazyFrame) -> None:
    with pytest.raises(cp.ColumnNotFoundError) as info:
        frame.select(cp.col("l_quantty") * 2)
    error = info.value
    assert error.column == "l_quantty"
    assert error.candidates == ["l_quantity"]
    assert "did you mean 'l_quantity'" in str(error)
    assert set(error.available) == {"l_quantity", "l_discount", "name"}


def test_unknown_column_is_reported_where_it_is_written(frame: cp.LazyFrame) -> None:
    for build in [
        lambda: frame.filter(cp.col("nme") == "a"),
        lambda: frame.with_columns(cp.col("discount") + 1),
        lambda: frame.sort("quantity"),
        lambda: frame.group_by("nam").agg(cp.col("l_quantity").sum()),
        lambda: frame.group_by("name").agg(cp.col("l_quantityy").sum()),
    ]:
        with pytest.raises(cp.ColumnNotFoundError) as info:
            build()
        assert info.value.candidates, str(info.value)


def test_unknown_column_without_a_close_name_lists_the_columns(frame: cp.LazyFrame) -> None:
    with pytest.raises(cp.ColumnNotFoundError, match="available columns: 'l_quantity'"):
        frame.select("zzzzzz")


def test_unknown_column_in_sql() -> None:
    with pytest.raises(cp.ColumnNotFoundError) as info:
        cp.sql("SELECT colum1 FROM (VALUES (1)) AS t").compute()
    assert info.value.candidates == ["column1"]


def test_sql_syntax_error_has_line_and_column() -> None:
    with pytest.raises(cp.SQLError) as info:
        cp.sql("SELECT 1\nFROM t WHERE AND x")
    assert info.value.line == 2
    assert info.value.column is not None and info.value.column > 1
    assert "line 2" in str(info.value)


def test_unknown_table_is_a_plan_error() -> None:
    with pytest.raises(cp.PlanError, match="no_such_table"):
        cp.sql("SELECT * FROM no_such_table")


def test_type_mismatch_names_the_expression(frame: cp.LazyFrame) -> None:
    with pytest.raises(cp.SchemaError) as info:
        frame.select(cp.col("name") + 1)
    # "name" is a SQL keyword, so the expression shows it quoted.
    assert '`"name" + 1`' in str(info.value)


def test_non_boolean_filter_is_a_schema_error(frame: cp.LazyFrame) -> None:
    with pytest.raises(cp.SchemaError, match=r"filter predicate `l_quantity \* 2` has type Int64"):
        frame.filter(cp.col("l_quantity") * 2)


def test_impossible_cast_is_a_schema_error(frame: cp.LazyFrame) -> None:
    with pytest.raises(cp.SchemaError, match="cannot cast"):
        frame.select(cp.col("l_discount").cast("date"))


def test_failed_cast_of_a_value_is_a_compute_error() -> None:
    with pytest.raises(cp.ComputeError, match="cast"):
        cp.from_dict({"s": ["1", "x"]}).select(cp.col("s").cast("int64")).compute()


def test_integer_division_by_zero_is_a_compute_error(frame: cp.LazyFrame) -> None:
    with pytest.raises(cp.ComputeError, match=r"(?i)divide by zero|division by zero"):
        frame.select(cp.col("l_quantity") % 0).compute()
    with pytest.raises(cp.ComputeError):
        cp.sql("SELECT 1 / 0 AS x").compute()
    # The lazy API's `/` is Polars' true division: an integer over 0 is infinite.
    out = frame.select(cp.col("l_quantity") / 0).limit(1).compute().to_pydict()
    assert out["l_quantity"] == [float("inf")]


def test_float_division_by_zero_is_infinity(frame: cp.LazyFrame) -> None:
    out = frame.select(cp.col("l_discount") / 0.0).compute().to_pydict()
    assert out["l_discount"][0] == float("inf")


def test_unknown_dtype_is_an_invalid_argument(frame: cp.LazyFrame) -> None:
    with pytest.raises(cp.InvalidArgumentError, match="unknown data type 'integer'") as info:
        cp.col("l_quantity").cast("integer")
    assert isinstance(info.value, ValueError)


def test_duplicate_output_names_suggest_alias(frame: cp.LazyFrame) -> None:
    with pytest.raises(cp.SchemaError, match=r"duplicate output column 'l_quantity'.*alias"):
        frame.select("l_quantity", cp.col("l_quantity") * 2)


def test_aggregation_misuse_is_explained(frame: cp.LazyFrame) -> None:
    with pytest.raises(cp.InvalidArgumentError, match="row-wise"):
        frame.group_by("name").agg(cp.col("l_quantity") * 2)
    # A select that mixes both broadcasts the aggregation, as Polars (test_broadcast.py).
    assert frame.select(cp.col("l_quantity").sum(), "name").columns == ["l_quantity", "name"]


def test_expressions_refuse_python_truthiness() -> None:
    with pytest.raises(TypeError, match=r"& and \|"):
        bool(cp.col("a") > 1)
    with pytest.raises(TypeError):
        _ = (cp.col("a") > 1) and (cp.col("b") > 1)


def test_invalid_literal_types_are_type_errors() -> None:
    with pytest.raises(TypeError, match="cannot make a literal"):
        cp.lit(object())  # type: ignore[arg-type]
    with pytest.raises(OverflowError):
        cp.lit(2**70)


def test_bad_session_settings() -> None:
    with pytest.raises(cp.InvalidArgumentError, match="target_partitions"):
        cp.Session(target_partitions=0)


def test_from_arrow_rejects_non_arrow_objects() -> None:
    with pytest.raises(TypeError, match="Arrow data"):
        cp.from_arrow([1, 2, 3])


def test_path_not_found_reads_as_corepy_message() -> None:
    with pytest.raises(cp.PathNotFoundError) as info:
        cp.scan_parquet("/no/such/file.parquet")
    assert str(info.value) == "no such file or directory: '/no/such/file.parquet'"


def test_len_of_a_column_is_named_after_it() -> None:
    lf = cp.from_dict({"g": [1, 1, 2], "a": [None, 2, 3]})
    assert lf.group_by("g").agg(cp.col("a").len()).columns == ["g", "a"]
    assert repr((cp.col("a") + 1).alias("b")) == "a + 1 AS b"
