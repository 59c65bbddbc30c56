"""concat, top_k / bottom_k, horizontal functions, concat_str and the .list namespace,
against Polars."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

import corepy as cp

DATA = {"a": [1, None, None, 4], "b": [2, 3, None, -1], "s": ["x", None, "z", "w"]}


def _rows(columns: dict[str, list[Any]]) -> list[tuple[Any, ...]]:
    rows = list(zip(*columns.values(), strict=True))
    return sorted(rows, key=lambda r: tuple((v is None, str(v)) for v in r))


def test_concat_matches_polars() -> None:
    one, two = {"x": [1, 2], "y": ["p", None]}, {"x": [3], "y": ["q"]}
    got = cp.concat([cp.from_dict(one), cp.from_dict(two)]).compute().to_pydict()
    expected = pl.concat([pl.DataFrame(one), pl.DataFrame(two)]).to_dict(as_series=False)
    assert _rows(got) == _rows(expected)
    other = {"z": [True], "x": [9]}
    got = cp.concat([cp.from_dict(one), cp.from_dict(other)], how="diagonal").compute()
    expected = pl.concat([pl.DataFrame(one), pl.DataFrame(other)], how="diagonal")
    assert got.columns == expected.columns
    assert _rows(got.to_pydict()) == _rows(expected.to_dict(as_series=False))
    # Types are unified: int64 with float64 stacks as float64.
    mixed = cp.concat([cp.from_dict({"x": [1]}), cp.from_dict({"x": [0.5]})]).compute()
    assert sorted(mixed.to_pydict()["x"]) == [0.5, 1.0]


def test_bad_concats_say_why() -> None:
    a, b = cp.from_dict({"x": [1], "y": [2]}), cp.from_dict({"y": [2], "x": [1]})
    with pytest.raises(cp.SchemaError, match=r"same columns in the same order.*diagonal"):
        cp.concat([a, b])
    with pytest.raises(ValueError, match="column 'x' twice"):
        cp.concat([a, b], how="horizontal")
    with pytest.raises(cp.InvalidArgumentError, match="unknown concat how='sideways'"):
        cp.concat([a, b], how="sideways")  # type: ignore[arg-type]
    with pytest.raises(cp.InvalidArgumentError, match="at least one frame"):
        cp.concat([])
    with pytest.raises(TypeError, match="takes lazy frames"):
        cp.concat([a, {"x": [1]}])  # type: ignore[list-item]


def test_top_k_and_bottom_k_match_polars() -> None:
    lf, df = cp.from_dict(DATA), pl.DataFrame(DATA)
    for k in [0, 2, 10]:
        got = lf.top_k(k, by="a").compute().to_pydict()["a"]
        assert got == df.top_k(k, by="a").to_dict(as_series=False)["a"], k
        got = lf.bottom_k(k, by="b").compute().to_pydict()["b"]
        assert got == df.bottom_k(k, by="b").to_dict(as_series=False)["b"], k
    got = lf.top_k(2, by="b", reverse=True).compute().to_pydict()["b"]
    assert got == df.top_k(2, by="b", reverse=True).to_dict(as_series=False)["b"]


def test_horizontal_functions_match_polars() -> None:
    lf, df = cp.from_dict(DATA), pl.DataFrame(DATA)
    cases = [
        (cp.sum_horizontal("a", "b"), pl.sum_horizontal("a", "b")),
        (cp.max_horizontal("a", "b"), pl.max_horizontal("a", "b")),
        (cp.min_horizontal(["a", "b"]), pl.min_horizontal(["a", "b"])),
        (
            cp.concat_str("s", "a", separator="-"),
            pl.concat_str("s", "a", separator="-"),
        ),
        (
            cp.concat_str(["s", "a", "b"], separator="|", ignore_nulls=True),
            pl.concat_str(["s", "a", "b"], separator="|", ignore_nulls=True),
        ),
    ]
    for ours, theirs in cases:
        got = lf.select(ours.alias("out")).compute().to_pydict()
        assert got == df.select(theirs.alias("out")).to_dict(as_series=False), theirs


def test_list_namespace_matches_polars() -> None:
    data = {"l": [[1, 2, 3], [], None, [None, 5]]}
    lf, df = cp.from_dict(data), pl.DataFrame(data)
    cases = [
        (cp.col("l").list.len(), pl.col("l").list.len()),
        (cp.col("l").list.get(0), pl.col("l").list.get(0, null_on_oob=True)),
        (cp.col("l").list.get(-1), pl.col("l").list.get(-1, null_on_oob=True)),
        (cp.col("l").list.get(2), pl.col("l").list.get(2, null_on_oob=True)),
        (cp.col("l").list.contains(5), pl.col("l").list.contains(5)),
    ]
    for ours, theirs in cases:
        got = lf.select(ours).compute().to_pydict()
        assert got == df.select(theirs).to_dict(as_series=False), theirs


def test_unpivot_matches_polars() -> None:
    data = {"id": [1, 2, None], "k": ["a", "b", "c"], "q1": [10, None, 30], "q2": [1.5, 2.5, None]}
    lf, df = cp.from_dict(data), pl.DataFrame(data)
    got = lf.unpivot(["q1", "q2"], index=["id", "k"]).compute()
    expected = df.unpivot(["q1", "q2"], index=["id", "k"])
    assert got.columns == expected.columns
    assert _rows(got.to_pydict()) == _rows(expected.to_dict(as_series=False))
    got = lf.select("id", "q1").unpivot(index="id", value_name="v").compute()
    expected = df.select("id", "q1").unpivot(index="id", value_name="v")
    assert _rows(got.to_pydict()) == _rows(expected.to_dict(as_series=False))
    with pytest.raises(cp.ColumnNotFoundError, match="'q3'"):
        lf.unpivot(["q3"], index="id")
    with pytest.raises(ValueError, match="must differ"):
        lf.unpivot(["q1"], index="id", value_name="id")
