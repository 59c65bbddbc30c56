"""Frames ↔ tensors: columns as tensors (NumPy's promotion, nulls), tensors as columns
(Arrow fixed-shape tensor arrays) through the engine and back."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

import corepy as cp


def test_numeric_columns_become_a_2d_tensor_of_their_common_type() -> None:
    df = cp.from_dict({"a": [1, 2, 3], "b": [0.5, 1.5, 2.5], "c": [True, False, True]})
    df = df.sort("a").compute()
    both = df.to_tensor(["a", "b"])
    assert both.shape == (3, 2) and both.dtype == "float64"
    np.testing.assert_array_equal(both.numpy(), [[1, 0.5], [2, 1.5], [3, 2.5]])
    everything = df.to_tensor()
    assert everything.shape == (3, 3)
    ints = df.to_tensor(["a", "c"])
    assert ints.dtype == "int64" and ints.tolist() == [[1, 1], [2, 0], [3, 1]]
    one = df.to_tensor("b", dtype="float32")
    assert one.shape == (3,) and one.dtype == "float32"
    # A lazy frame computes first.
    lazy = cp.from_dict({"x": [3, 1, 2]}).sort("x").to_tensor("x")
    assert lazy.tolist() == [1, 2, 3]


def test_nulls_are_nan_in_floats_and_an_error_elsewhere() -> None:
    df = cp.from_dict({"f": [1.0, None], "i": [1, None], "s": ["x", "y"]}).compute()
    values = df.to_tensor("f").numpy()
    assert values[0] == 1.0 and np.isnan(values[1])
    with pytest.raises(cp.ComputeError, match="'i' has 1 null"):
        df.to_tensor(["f", "i"])
    with pytest.raises(cp.SchemaError, match="'s' is string"):
        df.to_tensor(["f", "s"])
    with pytest.raises(cp.ColumnNotFoundError, match="did you mean 'f'"):
        df.to_tensor(["ff"])


def test_empty_frames_give_empty_tensors() -> None:
    df = cp.from_dict({"a": [1, 2]}).filter(cp.col("a") > 5).compute()
    assert df.to_tensor().shape == (0, 1)
    assert df.to_tensor("a").shape == (0,)


def test_tensors_travel_as_fixed_shape_tensor_columns() -> None:
    images = cp.random.rand((4, 2, 3), seed=1, dtype="float32")
    assert isinstance(pa.array(images).type, pa.FixedShapeTensorType)
    assert pa.array(cp.arange(3)).to_pylist() == [0, 1, 2]
    frame = cp.from_dict({"id": [3, 1, 4, 2], "image": images, "score": cp.arange(4) * 2})
    result = frame.filter(cp.col("id") > 1).sort("id").compute()
    assert isinstance(result.schema.field("image").type, pa.FixedShapeTensorType)
    back = result.to_tensor("image")
    assert back.shape == (3, 2, 3) and back.dtype == "float32"
    expected = images.numpy()[[3, 0, 2]]  # ids 2, 3, 4
    np.testing.assert_array_equal(back.numpy(), expected)
    assert result.to_tensor("score").tolist() == [6, 0, 4]


def test_a_0d_tensor_is_not_a_column() -> None:
    with pytest.raises(cp.ShapeError, match="0-d"):
        pa.array(cp.tensor(1.0))
