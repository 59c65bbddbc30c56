"""Group-by aggregations and conditional expressions against Polars, on data with nulls."""

from __future__ import annotations

import math
from typing import Any

import polars as pl
import pytest

import corepy as cp

DATA = {
    "g": ["a", "b", "a", None, "b", "a", "c", "c"],
    "x": [1, 2, None, 4, 2, 7, None, None],
    "f": [0.5, 1.5, 2.5, None, 4.5, -1.0, 3.0, None],
    "b": [True, None, False, True, None, None, False, None],
}

# (corepy, Polars) aggregations of the same meaning.
AGGREGATIONS: dict[str, tuple[cp.Expr, pl.Expr]] = {
    "sum": (cp.col("x").sum(), pl.col("x").sum()),
    "mean": (cp.col("f").mean(), pl.col("f").mean()),
    "min": (cp.col("f").min(), pl.col("f").min()),
    "max": (cp.col("x").max(), pl.col("x").max()),
    "count": (cp.col("x").count(), pl.col("x").count()),
    "len": (cp.col("x").len(), pl.col("x").len()),
    "n_unique": (cp.col("x").n_unique(), pl.col("x").n_unique()),
    "median": (cp.col("f").median(), pl.col("f").median()),
    "std": (cp.col("f").std(), pl.col("f").std()),
    "std0": (cp.col("f").std(ddof=0), pl.col("f").std(ddof=0)),
    "var": (cp.col("x").var(), pl.col("x").var()),
    "var0": (cp.col("f").var(ddof=0), pl.col("f").var(ddof=0)),
    "any": (cp.col("b").any(), pl.col("b").any()),
    "all": (cp.col("b").all(), pl.col("b").all()),
    "expression": (
        (cp.col("x") * cp.col("f")).sum(),
        (pl.col("x") * pl.col("f")).sum(),
    ),
    "filtered": (
        cp.col("f").filter(cp.col("x") > 1).mean(),
        pl.col("f").filter(pl.col("x") > 1).mean(),
    ),
    "filtered_len": (
        cp.col("x").filter(cp.col("f") > 0).len(),
        pl.col("x").filter(pl.col("f") > 0).len(),
    ),
    "filtered_n_unique": (
        cp.col("x").filter(cp.col("f") < 4).n_unique(),
        pl.col("x").filter(pl.col("f") < 4).n_unique(),
    ),
    "ratio": (cp.col("f").sum() / cp.col("f").count(), pl.col("f").sum() / pl.col("f").count()),
    "shorthand mean": (cp.mean("f"), pl.mean("f")),
    "shorthand std": (cp.std("f"), pl.std("f")),
    "shorthand max": (cp.max("x"), pl.max("x")),
    # Pearson's r: group "a" has two complete pairs, "b" one (NaN), "c" none (NaN).
    "corr": (cp.corr("x", "f"), pl.corr("x", "f")),
    "corr of expressions": (
        cp.corr(cp.col("f") * 2, cp.col("x") + 1),
        pl.corr(pl.col("f") * 2, pl.col("x") + 1),
    ),
    "filtered quantile": (
        cp.col("f").filter(cp.col("x") > 1).quantile(0.5),
        pl.col("f").filter(pl.col("x") > 1).quantile(0.5),
    ),
}

# Every interpolation at quantiles that fall on values, between them and at half-way points.
for _q in [0.0, 0.1, 0.25, 0.5, 1 / 6, 0.75, 0.9, 1.0]:
    for _method in ["nearest", "lower", "higher", "midpoint", "linear"]:
        AGGREGATIONS[f"quantile {_q:.3f} {_method}"] = (
            cp.col("f").quantile(_q, _method),  # type: ignore[arg-type]
            pl.col("f").quantile(_q, _method),  # type: ignore[arg-type]
        )
        AGGREGATIONS[f"quantile int {_q:.3f} {_method}"] = (
            cp.col("x").quantile(_q, _method),  # type: ignore[arg-type]
            pl.col("x").quantile(_q, _method),  # type: ignore[arg-type]
        )


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, (float, int)):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return bool(a == b)


def _by_key(columns: dict[str, list[Any]]) -> dict[Any, Any]:
    return dict(zip(columns["g"], columns["out"], strict=True))


@pytest.mark.parametrize("name", sorted(AGGREGATIONS))
def test_group_by_aggregation_matches_polars(name: str) -> None:
    ours_expr, polars_expr = AGGREGATIONS[name]
    ours = cp.from_dict(DATA).group_by("g").agg(ours_expr.alias("out")).compute().to_pydict()
    theirs = pl.DataFrame(DATA).group_by("g").agg(polars_expr.alias("out")).to_dict(as_series=False)
    got, expected = _by_key(ours), _by_key(theirs)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert (got[key] is None) == (value is None), (key, got[key], value)
        if value is not None:
            assert _close(got[key], value), (key, got[key], value)


@pytest.mark.parametrize("name", sorted(AGGREGATIONS))
def test_whole_frame_aggregation_matches_polars(name: str) -> None:
    ours_expr, polars_expr = AGGREGATIONS[name]
    got = cp.from_dict(DATA).select(ours_expr.alias("out")).compute().to_pydict()["out"]
    expected = pl.DataFrame(DATA).select(polars_expr.alias("out")).to_dict(as_series=False)["out"]
    assert len(got) == 1 and (got[0] is None) == (expected[0] is None)
    if expected[0] is not None:
        assert _close(got[0], expected[0]), (got, expected)


def test_aggregations_of_an_empty_frame_match_polars() -> None:
    empty = {"x": [1], "b": [True]}
    lf = cp.from_dict(empty).filter(cp.col("x") > 5)
    out = lf.select(
        cp.col("x").sum().alias("sum"),
        cp.col("x").len().alias("len"),
        cp.col("x").n_unique().alias("n_unique"),
        cp.col("b").any().alias("any"),
        cp.col("b").all().alias("all"),
    )
    expected = (
        pl.DataFrame(empty)
        .filter(pl.col("x") > 5)
        .select(
            pl.col("x").sum().alias("sum"),
            pl.col("x").len().alias("len"),
            pl.col("x").n_unique().alias("n_unique"),
            pl.col("b").any().alias("any"),
            pl.col("b").all().alias("all"),
        )
    )
    assert out.compute().to_pydict() == expected.to_dict(as_series=False)


def test_a_filtered_expression_must_be_aggregated() -> None:
    lf = cp.from_dict(DATA)
    with pytest.raises(cp.InvalidArgumentError, match=r"must be followed by an aggregation"):
        lf.select(cp.col("x").filter(cp.col("x") > 1))
    with pytest.raises(cp.InvalidArgumentError, match=r"must be followed by an aggregation"):
        _ = cp.col("x").filter(cp.col("x") > 1) + 1
    with pytest.raises(ValueError, match=r"ddof=0 .* or ddof=1"):
        cp.col("x").std(ddof=2)


# -- conditional and membership expressions -----------------------------------------------


def _column(ours: cp.Expr, theirs: pl.Expr) -> tuple[list[Any], list[Any]]:
    got = cp.from_dict(DATA).select(ours.alias("out")).compute().to_pydict()["out"]
    expected = pl.DataFrame(DATA).select(theirs.alias("out")).to_dict(as_series=False)["out"]
    return got, expected


def test_when_then_otherwise_matches_polars() -> None:
    got, expected = _column(
        cp.when(cp.col("x") > 3)
        .then(cp.lit("big"))
        .when(cp.col("x") > 1)
        .then("g")
        .otherwise(cp.lit("small")),
        pl.when(pl.col("x") > 3)
        .then(pl.lit("big"))
        .when(pl.col("x") > 1)
        .then("g")
        .otherwise(pl.lit("small")),
    )
    assert got == expected
    got, expected = _column(
        cp.when(cp.col("b")).then(cp.col("f")),
        pl.when(pl.col("b")).then(pl.col("f")),
    )
    assert got == expected


def test_is_in_and_is_between_match_polars() -> None:
    assert _column(cp.col("x").is_in([2, 7]), pl.col("x").is_in([2, 7])) == _column(
        cp.col("x").is_in([7, 2]), pl.col("x").is_in([7, 2])
    )
    got, expected = _column(cp.col("x").is_in([2, 7]), pl.col("x").is_in([2, 7]))
    assert got == expected
    for closed in ["both", "left", "right", "none"]:
        got, expected = _column(
            cp.col("x").is_between(2, 4, closed=closed),
            pl.col("x").is_between(2, 4, closed=closed),
        )
        assert got == expected, closed


def test_coalesce_matches_polars() -> None:
    got, expected = _column(
        cp.coalesce(cp.col("x"), cp.col("f"), 0.0), pl.coalesce(pl.col("x"), pl.col("f"), 0.0)
    )
    assert got == expected
    with pytest.raises(ValueError, match="at least one"):
        cp.coalesce()
    with pytest.raises(TypeError, match="when\\(\\) takes an expression"):
        cp.when(True)


def test_quantile_bad_input_and_empty_groups() -> None:
    lf = cp.from_dict({"g": ["a", "b"], "x": [1.0, None]})
    with pytest.raises(cp.InvalidArgumentError, match="between 0 and 1"):
        lf.select(cp.col("x").quantile(1.5))
    with pytest.raises(cp.InvalidArgumentError, match="interpolation"):
        lf.select(cp.col("x").quantile(0.5, "cubic"))  # type: ignore[arg-type]
    out = lf.group_by("g").agg(cp.quantile("x", 0.5)).sort("g").compute().to_pydict()
    assert out == {"g": ["a", "b"], "x": [1.0, None]}
    with pytest.raises(TypeError, match="column name"):
        cp.mean(cp.col("x"))  # type: ignore[arg-type]


def test_corr_matches_polars_on_constant_nan_and_long_groups() -> None:
    data = {
        "g": [1] * 50 + [2] * 3 + [3] * 4 + [4] * 2,
        "a": [float(i % 7) for i in range(50)]
        + [1.0, 1.0, 1.0]
        + [1.0, float("nan"), 2, 3]
        + [1.0, None],
        "b": [float(i * i % 11) for i in range(50)] + [1.0, 2.0, 3.0] + [4.0, 5, 6, 7] + [2, 3],
    }
    ours = cp.from_dict(data).group_by("g").agg(cp.corr("a", "b")).sort("g").compute()
    theirs = pl.DataFrame(data).group_by("g").agg(pl.corr("a", "b")).sort("g")
    got, want = ours.to_pydict()["a"], theirs.to_dict(as_series=False)["a"]
    assert all(_close(x, y) for x, y in zip(got, want, strict=True)), (got, want)


def test_corr_is_null_without_a_complete_pair_and_nan_with_one() -> None:
    # Polars 2.2 and SQL: no row with both values gives null; one such row gives NaN.
    data = {
        "g": [1, 1, 2, 2, 3],
        "a": [None, 1.0, 2.0, None, 5.0],
        "b": [3.0, None, 4.0, 1.0, None],
    }
    got = cp.from_dict(data).group_by("g").agg(cp.corr("a", "b")).sort("g").compute().to_pydict()
    assert got["a"][0] is None and got["a"][2] is None, got
    assert math.isnan(got["a"][1]), got


def test_corr_names_its_mistakes() -> None:
    with pytest.raises(cp.InvalidArgumentError, match="pearson"):
        cp.corr("a", "b", method="spearman")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="column names or expressions"):
        cp.corr("a", 3)  # type: ignore[arg-type]
