"""The comparison helper every DuckDB test relies on must fail when the answers differ: a
cent on a decimal sum, a decimal computed as a float, an integer off by one."""

from __future__ import annotations

import decimal
from typing import Any

import pyarrow as pa
import pytest
from conftest import assert_same_rows, same_value

D = decimal.Decimal


def _table(values: list[Any], type_: pa.DataType) -> pa.Table:
    return pa.table({"v": pa.array(values, type=type_)})


def test_decimals_of_different_scales_with_the_same_value_are_equal() -> None:
    assert_same_rows(
        _table([D("1.50"), D("12345678901234.99")], pa.decimal128(25, 2)),
        _table([D("1.500"), D("12345678901234.990")], pa.decimal128(38, 3)),
    )
    assert same_value(D("1.50"), D("1.5"))
    assert same_value(7, D("7"))  # DuckDB's 128-bit integer sums arrive as decimal(38, 0)


def test_a_one_cent_difference_in_a_decimal_column_fails() -> None:
    with pytest.raises(AssertionError, match="row 0"):
        assert_same_rows(
            _table([D("12345678901234.99")], pa.decimal128(25, 2)),
            _table([D("12345678901235.00")], pa.decimal128(38, 2)),
        )
    assert not same_value(D("1.501"), D("1.50"))


def test_a_decimal_answered_as_a_float_fails() -> None:
    with pytest.raises(AssertionError):
        assert_same_rows(_table([D("1.50")], pa.decimal128(25, 2)), _table([1.5], pa.float64()))
    assert not same_value(1.5, D("1.5"))
    assert not same_value(2.0, 2)


def test_floats_keep_a_tolerance_and_integers_are_exact() -> None:
    assert_same_rows(_table([0.1 + 0.2], pa.float64()), _table([0.3], pa.float64()))
    assert same_value(float("nan"), float("nan"))
    assert not same_value(1.0, 1.001)
    assert not same_value(float("nan"), 1.0)
    with pytest.raises(AssertionError):
        assert_same_rows(_table([2**62 + 1], pa.int64()), _table([2**62], pa.int64()), ordered=True)
