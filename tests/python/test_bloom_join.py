"""Bloom-filtered joins (engine/src/bloom_join/): a hash join's probe side drops the rows
whose keys the build side lacks. Every join type, NULL keys, two keys, DML through a semi
join: the same rows as DuckDB with the filter on and off; EXPLAIN ANALYZE shows its work."""

from __future__ import annotations

import pathlib
import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import corepy as cp

QUERIES = [
    "SELECT b.v, p.w FROM b JOIN p ON b.a = p.a",
    "SELECT b.v, p.w FROM b JOIN p ON b.a = p.a AND b.c = p.c",
    "SELECT b.v, p.w FROM b LEFT JOIN p ON b.a = p.a AND b.c = p.c",
    "SELECT b.v, p.w FROM b RIGHT JOIN p ON b.a = p.a",
    "SELECT b.v, p.w FROM b FULL JOIN p ON b.a = p.a",
    "SELECT p.w FROM p WHERE p.a IN (SELECT a FROM b)",
    "SELECT p.w FROM p WHERE p.a NOT IN (SELECT a FROM b)",  # b.a has NULLs: no rows
    "SELECT p.w FROM p WHERE p.a NOT IN (SELECT a FROM b WHERE a IS NOT NULL)",
    "SELECT p.w FROM p WHERE NOT EXISTS (SELECT 1 FROM b WHERE b.a = p.a AND b.c = p.c)",
    "SELECT b.v FROM b WHERE NOT EXISTS (SELECT 1 FROM p WHERE b.a = p.a)",
    "SELECT b.c, count(*) AS n, sum(p.w) AS s FROM b JOIN p ON b.a = p.a GROUP BY b.c",
]


def tables() -> tuple[pa.Table, pa.Table]:
    build = pa.table(
        {
            "a": [i * 3 if i % 17 else None for i in range(400)],
            "c": pa.array([i % 7 if i % 11 else None for i in range(400)], pa.int32()),
            "v": list(range(400)),
        }
    )
    probe = pa.table(
        {
            "a": [i % 20_000 if i % 13 else None for i in range(40_000)],
            "c": pa.array([i % 5 for i in range(40_000)], pa.int32()),
            "w": list(range(40_000)),
        }
    )
    return build, probe


def session(directory: pathlib.Path, bloom: bool) -> cp.Session:
    s = cp.Session(target_partitions=4, batch_size=2048)
    s.register_parquet("b", directory / "b.parquet")
    s.register_parquet("p", directory / "p.parquet")
    s.sql(f"SET corepy.bloom_join = {str(bloom).lower()}").compute()
    return s


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    directory = tmp_path_factory.mktemp("bloom")
    build, probe = tables()
    pq.write_table(build, directory / "b.parquet")
    pq.write_table(probe, directory / "p.parquet")
    return directory


@pytest.mark.parametrize("query", QUERIES)
def test_joins_hold_duckdbs_rows_with_the_filter_on_and_off(
    files: pathlib.Path, query: str
) -> None:
    import duckdb

    build, probe = tables()
    duck = duckdb.connect()
    duck.register("b", build)
    duck.register("p", probe)
    expected = sorted(duck.sql(query).fetchall(), key=repr)
    assert len(expected) > 5 or "NOT IN (SELECT a FROM b)" in query
    for bloom in (True, False):
        got = session(files, bloom).sql(query).compute().to_pydict()
        assert sorted(zip(*got.values(), strict=True), key=repr) == expected, (bloom, query)


def test_explain_analyze_shows_the_rows_the_filter_dropped(files: pathlib.Path) -> None:
    query = "SELECT count(*) AS n FROM b JOIN p ON b.a = p.a"
    text = session(files, True).sql(query).explain(analyze=True)
    probe = next(line for line in text.splitlines() if "BloomProbeExec" in line)
    found = re.search(r"rows_dropped=([0-9.]+)( K)?", probe)
    assert found, probe
    dropped = float(found.group(1)) * (1000 if found.group(2) else 1)
    # Keys 0..19 999 on the probe side, 366 multiples of 3 below 1 200 on the build side.
    assert dropped > 30_000, probe
    assert "BloomBuildExec" in text and "bloom_bytes=" in text, text
    assert "Bloom" not in session(files, False).sql(query).explain()


def test_create_table_and_copy_through_a_semi_join_keep_exactly_the_matching_rows(
    files: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    build, probe = tables()
    keys = {k for k in build.column("a").to_pylist() if k is not None}
    pairs = zip(*probe.select(["a", "w"]).to_pydict().values(), strict=True)
    expected = sorted(w for a, w in pairs if a in keys)
    query = "SELECT w FROM p WHERE a IN (SELECT a FROM b)"
    for bloom in (True, False):
        s = session(files, bloom)
        s.sql(f"CREATE TABLE t AS {query}").compute()
        s.sql(f"INSERT INTO t {query}").compute()
        got = s.sql("SELECT w FROM t").compute().to_pydict()["w"]
        assert sorted(got) == sorted(expected * 2), bloom
        out = tmp_path / f"copied-{bloom}.parquet"
        s.sql(f"COPY ({query}) TO '{out}' STORED AS PARQUET").compute()
        assert sorted(pq.read_table(out).column("w").to_pylist()) == expected, bloom
