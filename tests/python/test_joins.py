"""Joins against Polars (same columns, names and rows) and, as properties over generated
frames, against DuckDB."""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import corepy as cp

HOWS = ["inner", "left", "right", "full", "semi", "anti"]

LEFT = {
    "k": [1, 2, None, 4, 2, 7],
    "k2": ["a", "b", "c", None, "b", "z"],
    "x": ["p", "q", "r", "s", "t", None],
    "v": [1.5, None, 3.0, 4.0, 5.5, 6.0],
}
RIGHT = {
    "v": [10, 20, 30, 40, None],
    "k": [2, 4, 5, None, 2],
    "k2": ["b", None, "e", "d", "x"],
    "y": [True, False, None, True, False],
}


def _rows(table: pa.Table) -> list[tuple[Any, ...]]:
    """Rows in a canonical order (joins do not define one)."""
    rows = list(zip(*(table.column(i).to_pylist() for i in range(table.num_columns)), strict=True))
    return sorted(rows, key=lambda r: tuple((v is None, str(type(v)), v) for v in r))


def _same_as_polars(ours: cp.LazyFrame, theirs: pl.DataFrame) -> None:
    got = ours.compute().to_arrow()
    assert got.column_names == theirs.columns
    assert _rows(got) == _rows(theirs.to_arrow())


@pytest.mark.parametrize("how", HOWS)
def test_join_on_one_key_matches_polars(how: str) -> None:
    left, right = pl.DataFrame(LEFT), pl.DataFrame(RIGHT)
    ours = cp.from_dict(LEFT).join(cp.from_dict(RIGHT), on="k", how=how)
    _same_as_polars(ours, left.join(right, on="k", how=how))


@pytest.mark.parametrize("how", HOWS)
def test_join_on_two_keys_matches_polars(how: str) -> None:
    left, right = pl.DataFrame(LEFT), pl.DataFrame(RIGHT)
    ours = cp.from_dict(LEFT).join(cp.from_dict(RIGHT), on=["k", "k2"], how=how)
    _same_as_polars(ours, left.join(right, on=["k", "k2"], how=how))


@pytest.mark.parametrize("how", ["inner", "left", "right", "full"])
def test_left_on_right_on_and_suffix_match_polars(how: str) -> None:
    left, right = pl.DataFrame(LEFT), pl.DataFrame(RIGHT)
    ours = cp.from_dict(LEFT).join(
        cp.from_dict(RIGHT),
        left_on="k",
        right_on="v",
        how=how,
        suffix="_r",
    )
    expected = left.with_columns(pl.col("k").cast(pl.Int64)).join(
        right, left_on="k", right_on="v", how=how, suffix="_r"
    )
    _same_as_polars(ours, expected)


@pytest.mark.parametrize("coalesce", [True, False])
def test_coalesce_flag_matches_polars(coalesce: bool) -> None:
    left, right = pl.DataFrame(LEFT), pl.DataFrame(RIGHT)
    for how in ["inner", "left", "full"]:
        ours = cp.from_dict(LEFT).join(cp.from_dict(RIGHT), on="k", how=how, coalesce=coalesce)
        _same_as_polars(ours, left.join(right, on="k", how=how, coalesce=coalesce))


def test_nulls_equal_matches_polars() -> None:
    left, right = pl.DataFrame(LEFT), pl.DataFrame(RIGHT)
    ours = cp.from_dict(LEFT).join(cp.from_dict(RIGHT), on="k", nulls_equal=True)
    _same_as_polars(ours, left.join(right, on="k", nulls_equal=True))


def test_cross_join_matches_polars() -> None:
    left, right = pl.DataFrame(LEFT), pl.DataFrame(RIGHT)
    ours = cp.from_dict(LEFT).join(cp.from_dict(RIGHT), how="cross")
    _same_as_polars(ours, left.join(right, how="cross"))


def test_a_frame_joins_itself() -> None:
    lf = cp.from_dict({"id": [1, 2, 3], "boss": [None, 1, 1]})
    out = lf.join(lf, left_on="boss", right_on="id", how="left").sort("id").compute()
    assert out.to_pydict() == {
        "id": [1, 2, 3],
        "boss": [None, 1, 1],
        "boss_right": [None, None, None],
    }


def test_join_keys_may_be_expressions() -> None:
    left = cp.from_dict({"a": [1, 2, 3]})
    right = cp.from_dict({"b": [20, 30, 40]})
    out = left.join(right, left_on=cp.col("a") * 10, right_on="b").sort("a").compute()
    assert out.to_pydict() == {"a": [2, 3], "b": [20, 30]}


def test_join_then_aggregate_plans_through_the_optimizer() -> None:
    orders = cp.from_dict({"o": [1, 2, 3, 4], "c": [1, 1, 2, 3]})
    customers = cp.from_dict({"c": [1, 2, 3], "nation": ["no", "pe", "no"]})
    query = (
        orders.join(customers, on="c")
        .filter(cp.col("nation") == "no")
        .group_by("nation")
        .agg(cp.len())
    )
    assert query.compute().to_pydict() == {"nation": ["no"], "len": [3]}
    plan = query.explain()
    assert "Inner Join" in plan and "HashJoinExec" in plan, plan


# -- bad input ----------------------------------------------------------------------------


def test_unknown_key_names_the_column_and_suggests() -> None:
    left, right = cp.from_dict({"key": [1]}), cp.from_dict({"key": [1]})
    with pytest.raises(cp.ColumnNotFoundError, match=r"'kye'.*key"):
        left.join(right, on="kye")


def test_incomparable_key_types_are_a_schema_error() -> None:
    left, right = cp.from_dict({"k": [1]}), cp.from_dict({"k": ["1"]})
    with pytest.raises(cp.SchemaError, match=r"join keys cannot be compared: `k` \(Int64\)"):
        left.join(right, on="k")


def test_bad_join_arguments_say_what_to_do() -> None:
    lf = cp.from_dict({"k": [1]})
    with pytest.raises(cp.InvalidArgumentError, match=r"how='sideways'.*inner, left"):
        lf.join(lf, on="k", how="sideways")
    with pytest.raises(cp.InvalidArgumentError, match="needs keys"):
        lf.join(lf)
    with pytest.raises(cp.InvalidArgumentError, match="cross join takes no keys"):
        lf.join(lf, on="k", how="cross")
    with pytest.raises(ValueError, match="both left_on= and right_on="):
        lf.join(lf, left_on="k")
    with pytest.raises(ValueError, match="either on= or left_on="):
        lf.join(lf, on="k", left_on="k", right_on="k")
    with pytest.raises(cp.InvalidArgumentError, match="left_on has 2 keys but right_on has 1"):
        lf.join(lf, left_on=["k", "k"], right_on="k")
    with pytest.raises(TypeError, match="takes a LazyFrame"):
        lf.join({"k": [1]}, on="k")


# -- properties against DuckDB ------------------------------------------------------------

SQL_JOINS = {
    "inner": "INNER JOIN",
    "left": "LEFT JOIN",
    "right": "RIGHT JOIN",
    "full": "FULL JOIN",
    "semi": "SEMI JOIN",
    "anti": "ANTI JOIN",
}

keys = st.lists(st.one_of(st.none(), st.integers(-3, 3)), max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(left_keys=keys, right_keys=keys, how=st.sampled_from(sorted(SQL_JOINS)))
def test_joins_match_duckdb(
    left_keys: list[int | None], right_keys: list[int | None], how: str
) -> None:
    left = pa.table({"k": pa.array(left_keys, pa.int64()), "l": list(range(len(left_keys)))})
    right = pa.table({"k": pa.array(right_keys, pa.int64()), "r": list(range(len(right_keys)))})
    ours = cp.from_arrow(left).join(cp.from_arrow(right), on="k", how=how, coalesce=False)
    columns = "l.k, l.l" if how in ("semi", "anti") else "l.k, l.l, r.k, r.r"
    sql = f"SELECT {columns} FROM left_t l {SQL_JOINS[how]} right_t r ON l.k = r.k"
    con = duckdb.connect()
    con.register("left_t", left)
    con.register("right_t", right)
    expected = con.sql(sql).to_arrow_table()
    assert _rows(ours.compute().to_arrow()) == _rows(expected)


def test_sparse_integer_keys_join_through_an_array_and_match_duckdb() -> None:
    # corepy's default (engine/src/session.rs, PERFECT_HASH_DENSITY): build keys that fill
    # a tenth of their range are looked up in an array (DataFusion's perfect hash join),
    # as TPC-H's failed orders are. Every ninth key (3 920 rows over a range of 26 992:
    # 0.145, under DataFusion's 0.15), NULLs and duplicates on both sides, every join
    # type: the answers are DuckDB's.
    session = cp.Session(target_partitions=1)
    shown = session.sql(
        "SELECT value FROM information_schema.df_settings "
        "WHERE name = 'datafusion.execution.perfect_hash_join_min_key_density'"
    ).compute()
    assert shown.to_arrow().column(0).to_pylist() == ["0.1"]
    build = pa.table(
        {"k": [i % 3000 * 9 if i % 50 else None for i in range(4000)], "b": list(range(4000))}
    )
    probe = pa.table(
        {"k": [i % 25_000 if i % 70 else None for i in range(30_000)], "p": list(range(30_000))}
    )
    session.register("build", build)
    session.register("probe", probe)
    duck = duckdb.connect()
    duck.register("build", build)
    duck.register("probe", probe)
    for how in ("JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN"):
        sql = f"SELECT b, p FROM build {how} probe USING (k) ORDER BY b, p"
        got = session.sql(sql).compute().to_arrow()
        assert got.to_pylist() == duck.sql(sql).to_arrow_table().to_pylist(), how
    for keyword in ("EXISTS", "NOT EXISTS"):
        sql = (
            f"SELECT p FROM probe WHERE {keyword} "
            "(SELECT 1 FROM build WHERE build.k = probe.k) ORDER BY p"
        )
        got = session.sql(sql).compute().to_arrow()
        assert got.to_pylist() == duck.sql(sql).to_arrow_table().to_pylist(), keyword
    analyzed = session.sql("SELECT count(*) FROM probe JOIN build USING (k)").explain(analyze=True)
    assert "array_map_created_count=1" in analyzed, analyzed
    session.sql("SET datafusion.execution.perfect_hash_join_min_key_density = 0.15").compute()
    analyzed = session.sql("SELECT count(*) FROM probe JOIN build USING (k)").explain(analyze=True)
    assert "array_map_created_count=0" in analyzed, analyzed
