"""The computed DataFrame has Polars' eager frame API: each method plans over the frame and
computes at once. Results are checked against Polars' eager DataFrame."""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable
from typing import Any

import polars as pl
import pytest

import corepy as cp

DATA = {
    "k": ["x", "y", "x", "z", "y", None],
    "a": [3, 1, None, 7, 5, 2],
    "f": [1.5, float("nan"), 2.5, None, 0.5, 4.0],
    "s": ["p", None, "q", "r", "s", "t"],
}


def _frames() -> tuple[cp.DataFrame, pl.DataFrame]:
    return cp.from_dict(DATA).compute(), pl.DataFrame(DATA)


def _rows(frame: pl.DataFrame | cp.DataFrame) -> list[tuple[Any, ...]]:
    return [tuple(repr(v) for v in row) for row in frame.rows()]


# Each method, called the same way on both frames (cp and pl are passed in as `m`).
ORDERED: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("select", lambda df, m: df.select("k", (m.col("a") * 2).alias("a2"))),
    ("with_columns", lambda df, m: df.with_columns((m.col("a") + 1).alias("b"))),
    ("filter", lambda df, m: df.filter(m.col("a") > 2)),
    ("sort", lambda df, m: df.sort("a", descending=True, nulls_last=True)),
    ("sort_two_keys", lambda df, m: df.sort("k", "a", nulls_last=True)),
    ("head", lambda df, m: df.head(2)),
    ("limit", lambda df, m: df.limit(3)),
    ("tail", lambda df, m: df.tail(2)),
    ("slice", lambda df, m: df.slice(1, 3)),
    ("with_row_index", lambda df, m: df.with_row_index("n", offset=1)),
    ("drop", lambda df, m: df.drop("f", "s")),
    ("rename", lambda df, m: df.rename({"a": "b"})),
    ("drop_nulls", lambda df, m: df.drop_nulls()),
    ("drop_nulls_subset", lambda df, m: df.drop_nulls("a")),
    ("fill_null", lambda df, m: df.fill_null(0)),
    ("fill_null_forward", lambda df, m: df.fill_null(strategy="forward")),
    ("fill_nan", lambda df, m: df.fill_nan(-1.0)),
    ("unique_first", lambda df, m: df.unique("k", keep="first", maintain_order=True)),
    ("top_k", lambda df, m: df.top_k(3, by="a")),
    ("bottom_k", lambda df, m: df.bottom_k(2, by="a")),
    ("cast", lambda df, m: df.cast({"a": m.Float64})),
    ("group_by_ordered", lambda df, m: df.group_by("k", maintain_order=True).agg(m.col("a").sum())),
]


@pytest.mark.parametrize(("name", "call"), ORDERED, ids=[n for n, _ in ORDERED])
def test_eager_methods_match_polars(name: str, call: Callable[[Any, Any], Any]) -> None:
    ours, theirs = _frames()
    got, want = call(ours, cp), call(theirs, pl)
    assert isinstance(got, cp.DataFrame), name
    assert got.columns == want.columns
    assert _rows(got) == _rows(want)


UNORDERED: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("group_by", lambda df, m: df.group_by("k").agg(m.col("a").max(), m.len())),
    ("unique", lambda df, m: df.select("k").unique()),
    ("unpivot", lambda df, m: df.unpivot(["a"], index="k")),
]


@pytest.mark.parametrize(("name", "call"), UNORDERED, ids=[n for n, _ in UNORDERED])
def test_eager_methods_without_row_order_match_polars(
    name: str, call: Callable[[Any, Any], Any]
) -> None:
    ours, theirs = _frames()
    got, want = call(ours, cp), call(theirs, pl)
    assert isinstance(got, cp.DataFrame), name
    assert got.columns == want.columns
    assert sorted(_rows(got)) == sorted(_rows(want))


def test_joins_take_computed_frames() -> None:
    left = {"id": [1, 2, 3], "t": [1, 5, 10]}
    right = {"id": [1, 3, 4], "t": [0, 4, 9], "v": ["a", "b", "c"]}
    ours = cp.from_dict(left).compute()
    other = cp.from_dict(right).compute()
    theirs = pl.DataFrame(left)
    got = ours.join(other, on="id", how="left").sort("id")
    want = theirs.join(pl.DataFrame(right), on="id", how="left").sort("id")
    assert _rows(got) == _rows(want)
    got = ours.join_asof(other.sort("t"), on="t").sort("t")
    want = theirs.join_asof(pl.DataFrame(right).sort("t"), on="t").sort("t")
    assert got.columns == want.columns and _rows(got) == _rows(want)
    # A lazy frame joins a computed one, and the other way round.
    assert ours.lazy().join(other, on="id").compute().height == 2
    assert ours.join(other.lazy(), on="id").height == 2


def test_time_windows_of_a_computed_frame_match_polars() -> None:
    t = [dt.datetime(2024, 1, 1, 9, 0, s) for s in (0, 1, 1, 3, 4, 7)]
    data = {"sym": ["A", "A", "B", "A", "B", "A"], "t": t, "p": [1.0, 3.0, 5.0, 7.0, 2.0, 4.0]}
    ours, theirs = cp.from_dict(data).compute(), pl.DataFrame(data)
    got = ours.rolling("t", period="2s", group_by="sym").agg(cp.col("p").sum())
    want = theirs.rolling("t", period="2s", group_by="sym").agg(pl.col("p").sum())
    assert sorted(_rows(got)) == sorted(_rows(want))
    got = ours.group_by_dynamic("t", every="3s", group_by="sym").agg(cp.len())
    want = theirs.group_by_dynamic("t", every="3s", group_by="sym").agg(pl.len())
    assert sorted(_rows(got)) == sorted(_rows(want))
    got = ours.group_by("sym").group_by_dynamic("t", every="3s").agg(cp.len())
    assert sorted(_rows(got)) == sorted(_rows(want))


def test_explode_of_a_computed_frame_matches_polars() -> None:
    data = {"k": [1, 2, 3], "v": [[1, 2], [], None]}
    got = cp.from_dict(data).compute().explode("v")
    want = pl.DataFrame(data).explode("v")
    assert sorted(_rows(got)) == sorted(_rows(want))


def test_rows_and_iter_rows_match_polars() -> None:
    ours, theirs = _frames()
    assert _rows(ours) == _rows(theirs)
    assert repr(ours.rows(named=True)) == repr(theirs.rows(named=True))
    assert repr(list(ours.iter_rows())) == repr(list(theirs.iter_rows()))
    assert repr(list(ours.iter_rows(named=True))) == repr(list(theirs.iter_rows(named=True)))
    empty = cp.from_dict({"a": []}).compute()
    assert empty.rows() == [] and list(empty.iter_rows()) == []
    assert ours.height == theirs.height and ours.width == theirs.width


def test_eager_pivot_matches_polars() -> None:
    long = {"id": [2, 1, 2, 1, 3], "q": ["b", "a", "a", "c", "b"], "v": [10, 20, 30, 40, 50]}
    ours, theirs = cp.from_dict(long).compute(), pl.DataFrame(long)
    for options in [{}, {"sort_columns": True}]:
        got = ours.pivot("q", index="id", values="v", **options)  # type: ignore[arg-type]
        want = theirs.pivot("q", index="id", values="v", **options)  # type: ignore[arg-type]
        assert got.columns == want.columns and _rows(got) == _rows(want)
    doubled = cp.from_dict({**{k: v * 2 for k, v in long.items()}}).compute()
    for function in ["first", "last", "sum"]:
        got = doubled.pivot("q", index="id", values="v", aggregate_function=function)  # type: ignore[arg-type]
        want = pl.DataFrame({k: v * 2 for k, v in long.items()}).pivot(
            "q",
            index="id",
            values="v",
            aggregate_function=function,  # type: ignore[arg-type]
        )
        assert got.columns == want.columns and _rows(got) == _rows(want)


def test_every_eager_method_is_documented_like_its_lazy_one() -> None:
    for name, member in vars(cp.DataFrame).items():
        if name.startswith("_") or not callable(member):
            continue
        doc = inspect.getdoc(member) or ""
        assert ">>>" in doc, name
        lazy = getattr(cp.LazyFrame, name, None)
        # pivot() differs on purpose: the eager one finds on_columns in the data.
        lazy = None if name == "pivot" else lazy
        if lazy is not None and inspect.signature(lazy).return_annotation == "LazyFrame":
            returns = inspect.signature(member).return_annotation
            assert returns == "DataFrame", (name, returns)
            assert list(inspect.signature(member).parameters) == list(
                inspect.signature(lazy).parameters
            )


def test_read_ipc_returns_a_frame_with_the_frame_api(tmp_path: Any) -> None:
    path = tmp_path / "t.arrow"
    cp.from_dict(DATA).write_ipc(path)
    out = cp.read_ipc(path).select("k", "a").filter(cp.col("a") > 2).sort("a")
    assert isinstance(out, cp.DataFrame)
    assert out.rows() == [("x", 3), ("y", 5), ("z", 7)]
