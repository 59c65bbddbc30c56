"""The top rows of each group (``planner/src/top_per_group``): a filter that bounds a
``row_number()`` window, from SQL or from the lazy API's ``rank("ordinal").over(...)``, runs
as one pass that keeps ``k`` rows per group instead of sorting every row. The answers are
DuckDB's and Polars' over the same file: NULL and NaN keys, ties, strings, empty input.

Ties in the order keys are numbered in an order SQL leaves open, so the rows are compared on
columns that ties do not change (the keys and the numbers), or with a unique last order key.
"""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import assert_same_rows

import corepy as cp


@pytest.fixture(scope="module")
def scores(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = random.Random(16)
    rows = 5000
    names = ["ann", "bob", "", "zoë", None, "a name longer than twelve bytes"]
    table = pa.table(
        {
            "team": [rng.choice([1, 2, 3, None]) if rng.random() < 0.9 else 4 for _ in range(rows)],
            "name": [rng.choice(names) for _ in range(rows)],
            "score": [
                # No -0.0: DuckDB's ORDER BY ties it with 0.0, DataFusion's sorts it first.
                rng.choice([None, float("nan"), 0.0, rng.randint(0, 50) / 4])
                for _ in range(rows)
            ],
            "day": pa.array([rng.randint(0, 30) for _ in range(rows)], pa.int32()),
            "id": pa.array(range(rows), pa.int64()),
        }
    )
    path = tmp_path_factory.mktemp("scores") / "scores.parquet"
    pq.write_table(table, path, row_group_size=700)
    return path


def _session(path: Path, jit: bool = True) -> cp.Session:
    session = cp.Session(config=cp.Config(jit=jit))
    session.register_parquet("scores", path)
    return session


def _duckdb(path: Path, sql: str) -> pa.Table:
    duck = duckdb.connect()
    duck.execute(f"CREATE VIEW scores AS SELECT * FROM read_parquet('{path}')")
    return duck.sql(sql).to_arrow_table()


QUERIES = {
    "best two per team": (
        "SELECT team, score, n FROM (SELECT team, score, row_number() OVER "
        "(PARTITION BY team ORDER BY score DESC NULLS FIRST) AS n FROM scores) WHERE n <= 2"
    ),
    "lowest three per name and team, whole rows": (
        "SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY name, team "
        "ORDER BY score ASC NULLS FIRST, id) AS n FROM scores) WHERE n < 4"
    ),
    "latest day per name, qualified": (
        "SELECT name, day, id FROM scores "
        "QUALIFY row_number() OVER (PARTITION BY name ORDER BY day DESC, id) = 1"
    ),
    "top five overall": (
        "SELECT id, score, n FROM (SELECT id, score, row_number() OVER "
        "(ORDER BY score DESC NULLS LAST, id) AS n FROM scores) WHERE 5 >= n"
    ),
    "bound and another condition": (
        "SELECT team, day, n FROM (SELECT team, day, row_number() OVER "
        "(PARTITION BY team ORDER BY day) AS n FROM scores WHERE score > 2) "
        "WHERE n BETWEEN 2 AND 30 AND day > 3"
    ),
    "a bound no row meets": (
        "SELECT * FROM (SELECT team, row_number() OVER (PARTITION BY team ORDER BY id) "
        "AS n FROM scores) WHERE n <= 0"
    ),
    "grouped by a float key": (
        "SELECT score, id, n FROM (SELECT score, id, row_number() OVER "
        "(PARTITION BY score ORDER BY id DESC) AS n FROM scores) WHERE n <= 2 ORDER BY id"
    ),
}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_top_rows_per_group_answer_as_duckdb(scores: Path, name: str) -> None:
    sql = QUERIES[name]
    expected = _duckdb(scores, sql)
    for jit in (True, False):
        session = _session(scores, jit)
        assert "TopPerGroup" in session.sql(sql).explain(), name
        actual = session.sql(sql).compute().to_arrow()
        # Rows with NaN sort unreliably in Python: queries with them sort by a unique id.
        assert_same_rows(actual, expected, check_names=False, ordered=sql.endswith("ORDER BY id"))


def test_an_empty_input_has_no_top_rows(scores: Path) -> None:
    sql = (
        "SELECT * FROM (SELECT team, row_number() OVER (PARTITION BY team ORDER BY id) AS n "
        "FROM scores WHERE id < 0) WHERE n <= 3"
    )
    assert _session(scores).sql(sql).compute().to_arrow().num_rows == 0


def test_rank_and_a_lower_bound_keep_the_window(scores: Path) -> None:
    session = _session(scores)
    for sql in (
        "SELECT * FROM (SELECT team, rank() OVER (PARTITION BY team ORDER BY day) AS n "
        "FROM scores) WHERE n <= 2",
        "SELECT * FROM (SELECT team, row_number() OVER (PARTITION BY team ORDER BY day) AS n "
        "FROM scores) WHERE n > 2",
    ):
        plan = session.sql(sql).explain()
        assert "TopPerGroup" not in plan and "WindowAggr" in plan, plan
        assert_same_rows(session.sql(sql).compute().to_arrow(), _duckdb(scores, sql))


def test_the_lazy_ordinal_rank_over_groups_is_polars_top_k(scores: Path) -> None:
    # H2O q8 as Polars users write it: the two largest scores of each team.
    session = _session(scores)
    order = cp.col("score").rank("ordinal", descending=True).over("team")
    frame = (
        session.scan_parquet(scores).drop_nulls("score").filter(order <= 2).select("team", "score")
    )
    plan = frame.explain()
    assert "TopPerGroup: k=2" in plan and "TopPerGroupExec" in plan, plan
    ours = frame.compute().to_arrow()
    polars = (
        pl.scan_parquet(scores)
        .drop_nulls("score")
        .filter(pl.col("score").rank("ordinal", descending=True).over("team") <= 2)
        .select("team", "score")
        .collect()
        .to_arrow()
    )
    assert_same_rows(ours, polars)


def test_explain_analyze_counts_the_groups(scores: Path) -> None:
    sql = QUERIES["best two per team"]
    text = _session(scores).sql(sql).explain(analyze=True)
    assert "TopPerGroupExec: k=2" in text and "groups=" in text, text


def test_a_table_created_from_top_rows_holds_the_querys_rows(scores: Path) -> None:
    # CREATE TABLE AS plans its SELECT like any query: the rewrite applies, the rows stay.
    sql = QUERIES["lowest three per name and team, whole rows"]
    for jit in (True, False):
        session = _session(scores, jit)
        session.sql(f"CREATE TABLE tops AS {sql}").compute()
        stored = session.sql("SELECT * FROM tops").compute().to_arrow()
        assert_same_rows(stored, _duckdb(scores, sql), check_names=False)
