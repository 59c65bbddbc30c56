"""The ``.str`` and ``.dt`` namespaces against Polars, on data with nulls; durations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import polars as pl
import pytest

import corepy as cp

STRINGS = {"s": ["  Hello World ", "apple-pie", None, "ÅSA-x", "a,b,,c", "", "tab\tend\t"]}

# (corepy, Polars) pairs of the same string function.
STRING_CASES: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "contains regex": (lambda s: s.contains(r"p+.e"), lambda s: s.contains(r"p+.e")),
    "contains literal": (
        lambda s: s.contains("-", literal=True),
        lambda s: s.contains("-", literal=True),
    ),
    "contains dot literal": (
        lambda s: s.contains(".", literal=True),
        lambda s: s.contains(".", literal=True),
    ),
    "starts_with": (lambda s: s.starts_with("app"), lambda s: s.starts_with("app")),
    "ends_with": (lambda s: s.ends_with("x"), lambda s: s.ends_with("x")),
    "len_chars": (lambda s: s.len_chars(), lambda s: s.len_chars()),
    "len_bytes": (lambda s: s.len_bytes(), lambda s: s.len_bytes()),
    "to_lowercase": (lambda s: s.to_lowercase(), lambda s: s.to_lowercase()),
    "to_uppercase": (lambda s: s.to_uppercase(), lambda s: s.to_uppercase()),
    "strip_chars": (lambda s: s.strip_chars(), lambda s: s.strip_chars()),
    "strip_chars given": (lambda s: s.strip_chars(" Hd"), lambda s: s.strip_chars(" Hd")),
    "strip_chars_start": (lambda s: s.strip_chars_start(), lambda s: s.strip_chars_start()),
    "strip_chars_end": (lambda s: s.strip_chars_end(), lambda s: s.strip_chars_end()),
    "replace regex": (lambda s: s.replace(r"[aeiou]", "_"), lambda s: s.replace(r"[aeiou]", "_")),
    "replace group": (
        lambda s: s.replace(r"(\w+)-(\w+)", "$2-$1"),
        lambda s: s.replace(r"(\w+)-(\w+)", "$2-$1"),
    ),
    "replace literal": (
        lambda s: s.replace(",", "$", literal=True),
        lambda s: s.replace(",", "$", literal=True),
    ),
    "replace_all": (lambda s: s.replace_all("l", "L"), lambda s: s.replace_all("l", "L")),
    "split": (lambda s: s.split(","), lambda s: s.split(",")),
    "slice": (lambda s: s.slice(2, 4), lambda s: s.slice(2, 4)),
    "slice rest": (lambda s: s.slice(3), lambda s: s.slice(3)),
    "slice negative": (lambda s: s.slice(-4, 2), lambda s: s.slice(-4, 2)),
    "slice far negative": (lambda s: s.slice(-40), lambda s: s.slice(-40)),
}


@pytest.mark.parametrize("name", sorted(STRING_CASES))
def test_string_function_matches_polars(name: str) -> None:
    ours, theirs = STRING_CASES[name]
    got = cp.from_dict(STRINGS).select(ours(cp.col("s").str)).compute().to_pydict()["s"]
    expected = pl.DataFrame(STRINGS).select(theirs(pl.col("s").str)).to_dict(as_series=False)["s"]
    assert got == expected


def test_parsing_dates_and_timestamps_matches_polars() -> None:
    data = {"d": ["2024-02-29", None, "1969-12-31"], "t": ["2024-02-29 13:45:01", None, "x"]}
    lf, df = cp.from_dict(data), pl.DataFrame(data)
    got = lf.select(cp.col("d").str.to_date()).compute().to_pydict()
    assert got == df.select(pl.col("d").str.to_date()).to_dict(as_series=False)
    custom = {"d": ["29/02/2024", "01/01/1970"]}
    got = cp.from_dict(custom).select(cp.col("d").str.to_date("%d/%m/%Y")).compute().to_pydict()
    expected = pl.DataFrame(custom).select(pl.col("d").str.to_date("%d/%m/%Y"))
    assert got == expected.to_dict(as_series=False)
    good = lf.filter(cp.col("t") != "x").select(cp.col("t").str.to_datetime("%Y-%m-%d %H:%M:%S"))
    assert good.compute().to_pydict() == {"t": [dt.datetime(2024, 2, 29, 13, 45, 1)]}
    with pytest.raises(cp.ComputeError):
        lf.select(cp.col("t").str.to_datetime("%Y-%m-%d %H:%M:%S")).compute()


TIMES = {
    "ts": [
        dt.datetime(2024, 2, 29, 13, 45, 59, 250000),
        None,
        dt.datetime(1969, 12, 31, 23, 0, 0),
        dt.datetime(2023, 1, 1, 0, 0, 0),
    ],
    "d": [dt.date(2024, 2, 29), dt.date(2024, 3, 3), None, dt.date(1970, 1, 1)],
}

DT_CASES = ["year", "month", "day", "hour", "minute", "second", "weekday"]


@pytest.mark.parametrize("part", DT_CASES)
def test_date_parts_match_polars(part: str) -> None:
    for column in ["ts", "d"]:
        if column == "d" and part in ("hour", "minute", "second"):
            continue
        ours = getattr(cp.col(column).dt, part)()
        theirs = getattr(pl.col(column).dt, part)()
        got = cp.from_dict(TIMES).select(ours).compute()
        expected = pl.DataFrame(TIMES).select(theirs)
        assert got.to_pydict() == expected.to_dict(as_series=False), (part, column)
        assert str(got.schema.field(column).type) == str(expected.to_arrow().schema[0].type)


@pytest.mark.parametrize("unit", ["s", "ms", "us", "d"])
def test_epoch_matches_polars(unit: str) -> None:
    data = {"d": TIMES["d"], "ts": [dt.datetime(2024, 2, 29, 13, 45, 59, 250000), None, None, None]}
    for column in ["d", "ts"]:
        got = cp.from_dict(data).select(cp.col(column).dt.epoch(unit)).compute().to_pydict()  # type: ignore[arg-type]
        expected = pl.DataFrame(data).select(pl.col(column).dt.epoch(unit))  # type: ignore[arg-type]
        assert got == expected.to_dict(as_series=False), (unit, column)


@pytest.mark.parametrize("by", ["1d", "-1d", "1mo", "1y", "-2mo3d", "1w"])
def test_offset_by_on_dates_matches_polars(by: str) -> None:
    got = cp.from_dict(TIMES).select(cp.col("d").dt.offset_by(by)).compute().to_pydict()
    expected = pl.DataFrame(TIMES).select(pl.col("d").dt.offset_by(by))
    assert got == expected.to_dict(as_series=False)


@pytest.mark.parametrize("by", ["1d", "1mo", "90m", "1h30m", "-1y", "250ms"])
def test_offset_by_on_timestamps_matches_polars(by: str) -> None:
    got = cp.from_dict(TIMES).select(cp.col("ts").dt.offset_by(by)).compute().to_pydict()
    expected = pl.DataFrame(TIMES).select(pl.col("ts").dt.offset_by(by))
    assert got == expected.to_dict(as_series=False)


def test_bad_durations_and_arguments_list_what_is_accepted() -> None:
    for text in ["1x", "", "d", "1.5d", "1d-2h"]:
        with pytest.raises(ValueError, match=r"invalid duration .*ns, us, ms, s, m, h, d, w, mo"):
            cp.col("d").dt.offset_by(text)
    with pytest.raises(ValueError, match="n=1"):
        cp.col("s").str.replace("a", "b", n=2)
    with pytest.raises(ValueError, match="time_unit"):
        cp.col("d").dt.epoch("h")  # type: ignore[arg-type]
    with pytest.raises(cp.SchemaError):
        cp.from_dict({"x": [1]}).select(cp.col("x").str.to_uppercase())


@pytest.mark.parametrize("every", ["1d", "1w", "1mo", "1q", "1y", "15m", "6h", "2d", "2w", "1s"])
def test_truncate_matches_polars(every: str) -> None:
    for column in ["ts", "d"]:
        if column == "d" and every in ("15m", "6h", "1s"):
            continue
        got = cp.from_dict(TIMES).select(cp.col(column).dt.truncate(every)).compute()
        expected = pl.DataFrame(TIMES).select(pl.col(column).dt.truncate(every))
        assert got.to_pydict() == expected.to_dict(as_series=False), (every, column)
        assert str(got.schema.field(column).type) == str(expected.to_arrow().schema[0].type)


def test_bad_truncations_say_what_works() -> None:
    for every in ["2mo", "1mo1d", "-1d", "0d"]:
        with pytest.raises(ValueError, match="truncate"):
            cp.col("d").dt.truncate(every)


@pytest.mark.parametrize(
    "search",
    [
        lambda s: s.contains("-", literal=True),
        lambda s: s.starts_with("app"),
        lambda s: s.ends_with("x"),
        lambda s: ~s.ends_with("x"),
        lambda s: s.contains("", literal=True),
    ],
    ids=["contains", "starts_with", "ends_with", "not ends_with", "contains nothing"],
)
def test_substring_searches_fuse_with_numbers_and_keep_polars_answers(
    search: Callable[[Any], Any],
) -> None:
    # The searches become string tests of the fused filter (planner/src/fusion/
    # string_test.rs), one stage with the numbers' test and no DataFusion Filter left.
    data = {**STRINGS, "x": [1, 2, 3, None, 5, 6, 7]}
    expected = (
        pl.DataFrame(data)
        .filter(search(pl.col("s").str) & (pl.col("x") > 1))
        .to_dict(as_series=False)
    )
    queries = {
        jit: cp.Session(config=cp.Config(jit=jit))
        .from_dict(data)
        .filter(search(cp.col("s").str) & (cp.col("x") > 1))
        for jit in (True, False)
    }
    for jit, query in queries.items():
        assert query.compute().to_pydict() == expected, jit
    plan = queries[True].explain()
    logical = plan.split("== Physical plan")[0]
    assert "FusedStage: filter=" in logical and "Filter:" not in logical.replace(
        "FusedStage: filter=", ""
    ), plan
