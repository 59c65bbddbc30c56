"""Frame methods and Polars' division, against Polars on data with nulls."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

import corepy as cp

DATA = {
    "a": [1, None, 3, 1, None, -7],
    "s": ["x", "y", None, "x", "y", "z"],
    "f": [0.5, None, 2.0, 0.5, None, float("nan")],
    "b": [True, None, False, True, None, None],
}


def _rows(columns: dict[str, list[Any]]) -> list[tuple[Any, ...]]:
    rows = list(zip(*columns.values(), strict=True))
    return sorted(rows, key=lambda r: tuple((v is None, str(v)) for v in r))


def _same(ours: cp.LazyFrame, theirs: pl.DataFrame, ordered: bool = True) -> None:
    got = ours.compute().to_pydict()
    expected = theirs.to_dict(as_series=False)
    assert list(got) == list(expected)
    if ordered:
        assert repr(got) == repr(expected)
    else:
        assert repr(_rows(got)) == repr(_rows(expected))


def test_drop_rename_slice_match_polars() -> None:
    lf, df = cp.from_dict(DATA), pl.DataFrame(DATA)
    _same(lf.drop("a", "f"), df.drop("a", "f"))
    _same(lf.drop(["s"]), df.drop(["s"]))
    _same(lf.rename({"a": "x", "s": "a"}), df.rename({"a": "x", "s": "a"}))
    _same(lf.slice(1, 3), df.slice(1, 3))
    _same(lf.slice(4), df.slice(4))
    assert lf.collect_schema() == cp.Schema.from_arrow(lf.schema)
    assert lf.collect_schema().to_arrow() == lf.schema


def test_drop_nulls_and_fill_null_match_polars() -> None:
    lf, df = cp.from_dict(DATA), pl.DataFrame(DATA)
    _same(lf.drop_nulls(), df.drop_nulls())
    _same(lf.drop_nulls("a"), df.drop_nulls("a"))
    _same(lf.drop_nulls(["s", "b"]), df.drop_nulls(["s", "b"]))
    _same(lf.fill_null(0), df.fill_null(0))
    _same(lf.fill_null(2.5), df.fill_null(2.5))
    _same(lf.fill_null("?"), df.fill_null("?"))
    _same(lf.fill_null(False), df.fill_null(False))


def test_unique_matches_polars() -> None:
    lf, df = cp.from_dict(DATA).drop("f"), pl.DataFrame(DATA).drop("f")
    _same(lf.unique(), df.unique(), ordered=False)
    by_s = lf.unique("s").compute().to_pydict()
    assert sorted(by_s["s"], key=lambda v: (v is None, v)) == ["x", "y", "z", None]


def test_division_is_true_division_as_in_polars() -> None:
    data = {"i": [7, -7, 1, None], "j": [2, 2, 0, 3]}
    lf, df = cp.from_dict(data), pl.DataFrame(data)
    _same(lf.select(cp.col("i") / cp.col("j")), df.select(pl.col("i") / pl.col("j")))
    _same(lf.select(cp.col("i") / 2), df.select(pl.col("i") / 2))
    grouped = lf.group_by("j").agg((cp.col("i").sum() / cp.col("i").count()).alias("m"))
    expected = df.group_by("j").agg((pl.col("i").sum() / pl.col("i").count()).alias("m"))
    _same(grouped.sort("j"), expected.sort("j"))
    # SQL keeps SQL's meaning.
    assert cp.sql("SELECT 7 / 2 AS q").compute().to_pydict() == {"q": [3]}


def test_bad_frame_method_arguments() -> None:
    lf = cp.from_dict(DATA)
    with pytest.raises(cp.ColumnNotFoundError, match=r"'aa'.*'a'"):
        lf.drop("aa")
    assert lf.drop("aa", strict=False).columns == lf.columns
    with pytest.raises(cp.ColumnNotFoundError, match=r"'ss'"):
        lf.rename({"ss": "t"})
    with pytest.raises(cp.ColumnNotFoundError, match=r"'bb'"):
        lf.drop_nulls("bb")
    with pytest.raises(ValueError, match="every column"):
        lf.drop("a", "s", "f", "b")
    with pytest.raises(ValueError, match="negative offset"):
        lf.slice(-1)
    with pytest.raises(ValueError, match="keep='middle'"):
        lf.unique(keep="middle")  # type: ignore[arg-type]
