"""Late materialization (``engine/src/late_materialization.rs``): a Parquet scan under a hash
join filters its rows by the join's keys before decoding its other columns.

Off by default (slower on most TPC-H joins, see the rule's file). Checked as a user would:
EXPLAIN ANALYZE shows the rows the scan dropped, the setting ``corepy.late_materialization``
turns it on, and every join shape answers as DuckDB does
with it on and off, with the JIT on and off (NULL keys, keys one side lacks, duplicates,
outer and anti joins, keys that are expressions, TopK over NULLs).
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import assert_same_rows
from test_tpch_vs_duckdb import duck_table

import corepy as cp

FACT_ROWS = 60_000


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("late")
    rng = random.Random(11)

    def maybe(value: object, nulls: float = 0.03) -> object:
        return None if rng.random() < nulls else value

    fact = pa.table(
        {
            "k": pa.array([maybe(rng.randrange(5_000)) for _ in range(FACT_ROWS)], pa.int64()),
            "s": [maybe(f"key {rng.randrange(300)}") for _ in range(FACT_ROWS)],
            "v": pa.array([maybe(rng.uniform(-50, 50)) for _ in range(FACT_ROWS)], pa.float64()),
            "q": pa.array([maybe(rng.randrange(100)) for _ in range(FACT_ROWS)], pa.int32()),
            "note": [f"row {i} " + "x" * (i % 40) for i in range(FACT_ROWS)],
        }
    )
    # Several row groups, so that the reader's row filter and row-group pruning both act.
    pq.write_table(fact, directory / "fact.parquet", row_group_size=8_192)
    dim = pa.table(
        {
            "k": pa.array([maybe(rng.randrange(6_000)) for _ in range(400)], pa.int64()),
            "s": [maybe(f"key {rng.randrange(400)}") for _ in range(400)],
            "tag": [rng.choice(["red", "blue", None]) for _ in range(400)],
        }
    )
    pq.write_table(dim, directory / "dim.parquet")
    return directory


QUERIES = {
    "inner": """
        SELECT d.tag, count(*) AS n, sum(f.q) AS q, min(f.note) AS first_note
        FROM fact f JOIN dim d ON f.k = d.k WHERE d.tag = 'red' GROUP BY d.tag""",
    "inner_fused_stage_between": """
        SELECT count(*) AS n, sum(f.v * 2 + 1) AS w
        FROM fact f JOIN dim d ON f.k = d.k WHERE d.tag = 'blue' AND f.v > 3""",
    "string_key": """
        SELECT count(*) AS n, sum(f.q) AS q FROM fact f JOIN dim d ON f.s = d.s
        WHERE d.tag = 'red'""",
    "two_keys": """
        SELECT count(*) AS n, max(f.note) AS m FROM fact f JOIN dim d
        ON f.k = d.k AND f.s = d.s""",
    "expression_key": """
        SELECT count(*) AS n, sum(f.q) AS q FROM fact f JOIN dim d ON f.k + 1 = d.k
        WHERE d.tag = 'red'""",
    "semi": """
        SELECT count(*) AS n, sum(q) AS q FROM fact
        WHERE k IN (SELECT k FROM dim WHERE tag = 'blue')""",
    "anti": """
        SELECT count(*) AS n, sum(q) AS q FROM fact f
        WHERE NOT EXISTS (SELECT 1 FROM dim d WHERE d.k = f.k AND d.tag = 'red')""",
    "left_outer_keeps_the_fact_rows": """
        SELECT count(*) AS n, count(d.tag) AS tagged FROM fact f
        LEFT JOIN (SELECT * FROM dim WHERE tag = 'red') d ON f.k = d.k""",
    "right_outer": """
        SELECT count(*) AS n, count(f.q) AS matched FROM fact f
        RIGHT JOIN dim d ON f.k = d.k WHERE d.tag = 'red'""",
    "top_k_with_nulls": """
        SELECT k, q, note FROM fact ORDER BY q NULLS FIRST, k, note LIMIT 7""",
    "top_k_descending": """
        SELECT k, v FROM fact WHERE v IS NOT NULL ORDER BY v DESC LIMIT 5""",
    "no_matching_keys": """
        SELECT count(*) AS n, sum(f.q) AS q FROM fact f JOIN dim d ON f.k = d.k
        WHERE d.tag = 'green'""",
}

ORDERED = {"top_k_with_nulls", "top_k_descending"}


def _session(files: Path, *, jit: bool, late: bool) -> cp.Session:
    session = cp.Session(config=cp.Config(jit=jit))
    for path in sorted(files.glob("*.parquet")):
        session.register_parquet(path.stem, path)
    session.sql(f"SET corepy.late_materialization = {str(late).lower()}").compute()
    return session


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_join_shapes_answer_as_duckdb(files: Path, name: str) -> None:
    duck = duckdb.connect()
    for path in sorted(files.glob("*.parquet")):
        duck.execute(f"CREATE VIEW {path.stem} AS SELECT * FROM read_parquet('{path}')")
    expected = duck_table(duck, QUERIES[name])
    for jit in (True, False):
        for late in (True, False):
            session = _session(files, jit=jit, late=late)
            actual = session.sql(QUERIES[name]).compute().to_arrow()
            assert_same_rows(actual, expected, ordered=name in ORDERED, check_names=False)


def _rows_pruned_by_the_fact_scan(session: cp.Session, sql: str) -> int:
    analyzed = session.sql(sql).explain(analyze=True)
    scans = [
        line
        for line in analyzed.splitlines()
        if "DataSourceExec" in line and "fact.parquet" in line
    ]
    assert len(scans) == 1, analyzed
    found = re.search(r"pushdown_rows_pruned=([\d.]+) ?([KM]?)", scans[0])
    if found is None:
        return 0
    return int(float(found.group(1)) * {"": 1, "K": 1_000, "M": 1_000_000}[found.group(2)])


@pytest.mark.parametrize("jit", [True, False])
@pytest.mark.parametrize("name", ["inner", "inner_fused_stage_between", "semi"])
def test_the_probe_scan_drops_the_rows_the_build_side_lacks(
    files: Path, jit: bool, name: str
) -> None:
    late = _rows_pruned_by_the_fact_scan(_session(files, jit=jit, late=True), QUERIES[name])
    # About a third of the dimension's keys carry each tag: most fact rows are dropped in
    # the reader (the NULL keys among them).
    assert late > FACT_ROWS // 2, late
    off = _rows_pruned_by_the_fact_scan(_session(files, jit=jit, late=False), QUERIES[name])
    assert off == 0


def test_it_is_off_by_default(files: Path) -> None:
    session = cp.Session()
    for path in sorted(files.glob("*.parquet")):
        session.register_parquet(path.stem, path)
    assert _rows_pruned_by_the_fact_scan(session, QUERIES["inner"]) == 0


def test_a_key_that_is_an_expression_is_not_a_row_filter(files: Path) -> None:
    # ON f.k + 1 = d.k: the filter's input is computed, so the scan reads every row.
    pruned = _rows_pruned_by_the_fact_scan(
        _session(files, jit=True, late=True), QUERIES["expression_key"]
    )
    assert pruned == 0


def test_the_setting_is_checked(files: Path) -> None:
    session = _session(files, jit=True, late=True)
    with pytest.raises(cp.CorepyError, match="not `true` or `false`"):
        session.sql("SET corepy.late_materialization = maybe").compute()
    with pytest.raises(cp.CorepyError, match="no_such_setting"):
        session.sql("SET corepy.no_such_setting = 1").compute()
