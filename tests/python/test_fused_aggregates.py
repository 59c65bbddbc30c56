"""Aggregations folded into fused kernels, as a user sees them: EXPLAIN shows one
JitAggregateExec stage, and the answers (NULLs, empty input, NaN, overflow, decimals) are
those of DataFusion's own aggregation with the JIT off."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import corepy as cp

_TABLE = pa.table(
    {
        "k": pa.array(range(1, 301), pa.int64()),
        "x": pa.array([None if i % 7 == 0 else float(i) / 3 for i in range(300)]),
        "n": pa.array([None if i % 5 == 0 else i - 150 for i in range(300)], pa.int32()),
        "d": pa.array(
            [None if i % 11 == 0 else Decimal(i * 37 % 1000) / 100 for i in range(300)],
            pa.decimal128(15, 2),
        ),
        "nulls": pa.array([None] * 300, pa.float64()),
    }
)


def _session(jit: bool, table: pa.Table = _TABLE) -> cp.Session:
    session = cp.Session(config=cp.Config(jit=jit))
    session.register("t", table)
    return session


Columns = dict[str, list[object]]


def _both(sql: str, table: pa.Table = _TABLE) -> tuple[Columns, Columns]:
    folded = _session(True, table).sql(sql)
    assert "JitAggregateExec" in folded.explain(), folded.explain()
    plain = _session(False, table).sql(sql)
    assert "JitAggregateExec" not in plain.explain()
    return folded.compute().to_pydict(), plain.compute().to_pydict()


def _close(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-12)
    return a == b


def test_an_ungrouped_aggregation_over_a_filter_is_one_stage_with_datafusions_answers() -> None:
    sql = """
        SELECT count(*) AS rows, count(x) AS xs, sum(x * 2 + 1) AS s, min(x) AS lo,
               max(n) AS hi, avg(x) AS mean, sum(n) AS total, avg(n) AS n_mean,
               sum(d) AS money, avg(d) AS money_mean, min(d) AS cheapest
        FROM t WHERE k > 20 AND x < 90
    """
    folded, plain = _both(sql)
    assert folded.keys() == plain.keys()
    for name in folded:
        assert _close(folded[name][0], plain[name][0]), (name, folded[name], plain[name])
    # Decimals and integers are exact, not close.
    assert folded["money"] == plain["money"]
    assert folded["total"] == plain["total"]


def test_empty_input_and_all_null_columns_give_nulls_and_zero_counts() -> None:
    sql = """
        SELECT count(*) AS rows, count(nulls) AS c, sum(nulls) AS s, min(nulls) AS lo,
               avg(nulls) AS mean, sum(x) AS sx
        FROM t WHERE k > 1000 OR nulls > 0
    """
    folded, plain = _both(sql)
    assert (
        folded
        == plain
        == {
            "rows": [0],
            "c": [0],
            "s": [None],
            "lo": [None],
            "mean": [None],
            "sx": [None],
        }
    )


def test_nan_is_the_largest_float_for_min_and_max_as_in_datafusion() -> None:
    table = pa.table({"k": [1, 2, 3, 4], "x": [1.0, float("nan"), -0.0, 0.0]})
    folded, plain = _both("SELECT min(x) AS lo, max(x) AS hi FROM t WHERE k > 0", table)
    assert math.isnan(folded["hi"][0]) and math.isnan(plain["hi"][0])
    assert folded["lo"] == plain["lo"] == [-0.0]
    assert math.copysign(1.0, folded["lo"][0]) == -1.0


def test_an_integer_sum_that_overflows_fails_as_without_the_jit() -> None:
    table = pa.table({"k": [1, 2, 3], "v": pa.array([2**62, 2**62, 5], pa.int64())})
    sql = "SELECT sum(v) AS s FROM t WHERE k > 0"
    for jit in (True, False):
        with pytest.raises(cp.CorepyError, match="overflow in sum"):
            _session(jit, table).sql(sql).compute()


def test_an_error_in_an_argument_is_raised_on_kept_rows_only() -> None:
    table = pa.table({"k": [1, 2, 3], "v": pa.array([0, 2, 4], pa.int64())})
    ok = "SELECT sum(10 / v) AS s FROM t WHERE v > 0"
    folded, plain = _both(ok, table)
    assert folded == plain == {"s": [7]}
    failing = "SELECT sum(10 / v) AS s FROM t WHERE k > 0"
    for jit in (True, False):
        with pytest.raises(cp.CorepyError, match=r"(?i)divi"):
            _session(jit, table).sql(failing).compute()


def test_the_lazy_api_folds_too_and_explain_shows_the_kernel() -> None:
    session = _session(True)
    frame = (
        session.from_arrow(_TABLE)
        .filter(cp.col("k") > 10)
        .select((cp.col("x") * 3).sum().alias("s"), cp.col("n").max().alias("hi"))
    )
    shown = frame.explain(kernels=True)
    assert "JitAggregateExec" in shown
    assert "agg0 = sum(" in shown and "agg1 = max(" in shown
    plain = (
        _session(False)
        .from_arrow(_TABLE)
        .filter(cp.col("k") > 10)
        .select((cp.col("x") * 3).sum().alias("s"), cp.col("n").max().alias("hi"))
    )
    got, want = frame.compute().to_pydict(), plain.compute().to_pydict()
    assert got["hi"] == want["hi"]
    assert math.isclose(got["s"][0], want["s"][0], rel_tol=1e-12)


def test_explain_analyze_shows_rows_in_and_kernel_time() -> None:
    shown = _session(True).sql("SELECT sum(x) AS s FROM t WHERE k > 5").explain(analyze=True)
    line = next(line for line in shown.splitlines() if "JitAggregateExec" in line)
    assert "input_rows=300" in line
    assert "kernel_time=" in line


def test_a_grouped_aggregation_folds_with_datafusions_answers() -> None:
    sql = """
        SELECT CAST(n % 4 AS SMALLINT) AS g, k > 150 AS late, count(*) AS rows,
               count(x) AS xs, sum(x) AS s, avg(x) AS mean, sum(d) AS money,
               avg(d) AS money_mean, min(n) AS lo, max(d) AS hi, avg(nulls) AS nothing
        FROM t WHERE k % 7 <> 3
        GROUP BY 1, 2 ORDER BY g NULLS FIRST, late
    """
    folded, plain = _both(sql)
    assert folded.keys() == plain.keys()
    assert len(folded["g"]) == len(plain["g"]) > 5
    for name in folded:
        for a, b in zip(folded[name], plain[name], strict=True):
            assert _close(a, b), (name, folded[name], plain[name])
    assert folded["money"] == plain["money"]
    assert set(folded["nothing"]) == {None}


def test_a_grouped_fold_over_a_small_memory_limit_gives_its_groups_out_early() -> None:
    rows = 200_000
    table = pa.table({"k": pa.array(range(rows), pa.int64()), "v": [1] * rows})
    sql = "SELECT CAST(k % 30000 AS SMALLINT) AS g, sum(v) AS s FROM t WHERE v > 0 GROUP BY 1"
    answers = []
    for jit in (True, False):
        session = cp.Session(memory_limit=8 << 20, config=cp.Config(jit=jit))
        session.register("t", table)
        assert ("JitAggregateExec" in session.sql(sql).explain()) == jit
        got = session.sql(sql).compute().to_pydict()
        answers.append(sorted(zip(got["g"], got["s"], strict=True)))
    assert answers[0] == answers[1]
    assert answers[0][:2] == [(0, 7), (1, 7)]
    assert len(answers[0]) == 30_000


def test_what_does_not_fold_stays_with_datafusion() -> None:
    # A FILTER clause, grouped min/max of floats (DataFusion's own rules differ from its
    # ungrouped ones there) and computed string keys are not folded; count(DISTINCT …) is,
    # as the grouping DataFusion makes of it. The same answers either way.
    for sql, folds in (
        ("SELECT count(DISTINCT CAST(n AS SMALLINT)) AS c FROM t WHERE k > 3", True),
        ("SELECT count(DISTINCT n) AS c FROM t WHERE k > 3", True),
        ("SELECT sum(x) FILTER (WHERE n > 0) AS s FROM t WHERE k > 3", False),
        ("SELECT n % 3 AS g, min(x) AS lo FROM t WHERE k > 3 GROUP BY n % 3 ORDER BY g", False),
        (
            "SELECT CAST(n % 3 AS VARCHAR) AS g, sum(x) AS s FROM t WHERE k > 3 "
            "GROUP BY 1 ORDER BY g",
            False,
        ),
    ):
        folded = _session(True).sql(sql)
        assert ("JitAggregateExec" in folded.explain()) == folds, sql
        got = folded.compute().to_pydict()
        want = _session(False).sql(sql).compute().to_pydict()
        assert got.keys() == want.keys()
        for name in got:
            assert all(_close(a, b) for a, b in zip(got[name], want[name], strict=True)), sql


def _statement_outcome(jit: bool, statement: str) -> tuple[str, dict[str, list[object]]]:
    """What a statement returns (or the class of error it raises) and the table after it."""
    session = cp.Session(config=cp.Config(jit=jit))
    session.sql("CREATE TABLE t AS VALUES (1, 10), (2, 20), (3, 30), (4, 40)").compute()
    try:
        outcome = str(session.sql(statement).compute().to_pydict())
    except cp.CorepyError as e:
        outcome = type(e).__name__
    after = session.sql("SELECT * FROM t ORDER BY column1").compute().to_pydict()
    return outcome, after


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM t WHERE column2 > (SELECT avg(column2 * 2) FROM t WHERE column1 > 1)",
        "UPDATE t SET column2 = 0 "
        "WHERE column1 < (SELECT sum(column1 + 1) FROM t WHERE column1 > 3)",
        "INSERT INTO t SELECT sum(column1 * 2), count(*) FROM t WHERE column2 > 10",
        "INSERT INTO t SELECT CAST(column1 % 2 AS SMALLINT), sum(column2 + 1) FROM t "
        "WHERE column1 > 1 GROUP BY 1",
    ],
)
def test_statements_over_folded_aggregates_do_what_they_do_without_the_jit(
    statement: str,
) -> None:
    assert _statement_outcome(True, statement) == _statement_outcome(False, statement)


def test_a_table_created_from_a_folded_aggregation_has_the_same_schema_and_rows() -> None:
    tables = []
    for jit in (True, False):
        session = cp.Session(config=cp.Config(jit=jit))
        session.register("t", _TABLE)
        session.sql(
            "CREATE TABLE agg AS SELECT CAST(n % 3 AS SMALLINT) AS g, sum(x * 2) AS s, "
            "count(*) AS c, avg(d) AS m FROM t WHERE k > 10 GROUP BY 1"
        ).compute()
        tables.append(session.sql("SELECT * FROM agg ORDER BY g").compute().to_arrow())
    assert tables[0].schema == tables[1].schema
    assert tables[0]["c"] == tables[1]["c"] and tables[0]["m"] == tables[1]["m"]
    for a, b in zip(tables[0]["s"].to_pylist(), tables[1]["s"].to_pylist(), strict=True):
        assert _close(a, b)


_WORDS = ["R", "", None, "ünïcödé", "a string longer than twelve bytes", "N", "R "]


def _string_table(rows: int, distinct: int) -> pa.Table:
    words = [_WORDS[i % len(_WORDS)] for i in range(rows)]
    many = [None if i % 97 == 0 else f"name {i % distinct:05d}" for i in range(rows)]
    return pa.table(
        {
            "w": pa.array(words, pa.string()),
            "lw": pa.array(words, pa.large_string()),
            "vw": pa.array(words, pa.string_view()),
            "many": pa.array(many, pa.string()),
            "n": pa.array([i % 5 for i in range(rows)], pa.int16()),
            "x": [float(i % 13) for i in range(rows)],
        }
    )


def _sorted_rows(table: dict[str, list[object]]) -> list[tuple[object, ...]]:
    return sorted(zip(*table.values(), strict=True), key=repr)


@pytest.fixture
def string_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """String keys fold (the default; `COREPY_FOLD_STRING_KEYS=0` turns it off)."""
    monkeypatch.setenv("COREPY_FOLD_STRING_KEYS", "1")


@pytest.mark.parametrize("key", ["w", "lw", "vw", "many", "w, n", "vw, many, n"])
@pytest.mark.usefixtures("string_keys")
def test_string_keys_fold_as_dictionary_ids_with_datafusions_answers(
    key: str, tmp_path: Path
) -> None:
    table = _string_table(20_000, 3_000)
    sql = f"""
        SELECT {key}, count(*) AS rows, sum(x) AS s, count(x) AS xs, min(n) AS lo
        FROM t WHERE x > 1 GROUP BY {key}
    """
    folded, plain = _both(sql, table)
    assert _sorted_rows(folded) == _sorted_rows(plain)
    # From Parquet (strings read as views), the same.
    pq.write_table(table, tmp_path / "t.parquet")
    answers = []
    for jit in (True, False):
        session = cp.Session(config=cp.Config(jit=jit))
        session.register_parquet("t", tmp_path / "t.parquet")
        assert ("JitAggregateExec" in session.sql(sql).explain()) == jit
        answers.append(_sorted_rows(session.sql(sql).compute().to_pydict()))
    assert answers[0] == answers[1] == _sorted_rows(plain)


@pytest.mark.usefixtures("string_keys")
def test_a_string_key_under_a_small_memory_limit_gives_its_groups_out_early() -> None:
    table = _string_table(200_000, 60_000)
    sql = "SELECT many, count(*) AS c, sum(x) AS s FROM t WHERE x >= 0 GROUP BY many"
    answers = []
    for jit in (True, False):
        session = cp.Session(memory_limit=16 << 20, config=cp.Config(jit=jit))
        session.register("t", table)
        assert ("JitAggregateExec" in session.sql(sql).explain()) == jit
        answers.append(_sorted_rows(session.sql(sql).compute().to_pydict()))
    assert answers[0] == answers[1]
    assert len(answers[0]) == 60_001


@pytest.mark.usefixtures("string_keys")
def test_a_string_key_column_as_an_aggregate_argument_stays_with_datafusion() -> None:
    table = _string_table(1_000, 10)
    sql = "SELECT w, min(w) AS lo, count(w) AS c FROM t WHERE x > 1 GROUP BY w"
    session = _session(True, table)
    assert "JitAggregateExec" not in session.sql(sql).explain()
    want = _session(False, table).sql(sql).compute().to_pydict()
    assert _sorted_rows(session.sql(sql).compute().to_pydict()) == _sorted_rows(want)


def test_string_keys_stay_with_datafusion_when_turned_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COREPY_FOLD_STRING_KEYS", "0")
    table = _string_table(1_000, 10)
    sql = "SELECT w, count(*) AS c FROM t WHERE x > 1 GROUP BY w"
    assert "JitAggregateExec" not in _session(True, table).sql(sql).explain()


def _fell_back(plan: str) -> int:
    """How many partitions gave their grouping back to DataFusion (EXPLAIN ANALYZE)."""
    counts = re.findall(r"fell_back_to_datafusion=(\d+)", plan)
    assert counts, plan
    return sum(int(c) for c in counts)


@pytest.mark.parametrize(("distinct", "falls_back"), [(7, False), (60_000, True)])
def test_a_string_key_with_many_values_goes_back_to_datafusion(
    distinct: int, falls_back: bool
) -> None:
    # Past a few thousand groups a partition gives out what it folded and DataFusion
    # aggregates the rest of its input (engine/src/jit/aggregate/fallback.rs); the final
    # aggregation merges the two pieces of a group.
    table = _string_table(200_000, distinct)
    sql = "SELECT many, count(*) AS c, sum(x) AS s, min(n) AS lo FROM t WHERE x > 0 GROUP BY many"
    session = _session(True, table)
    assert (_fell_back(session.sql(sql).explain(analyze=True)) > 0) == falls_back
    want = _session(False, table).sql(sql).compute().to_pydict()
    assert _sorted_rows(session.sql(sql).compute().to_pydict()) == _sorted_rows(want)


def test_statements_over_a_string_key_that_falls_back_match_the_unfused_plan() -> None:
    # CTAS and INSERT … SELECT over a grouping that goes back to DataFusion part way: the
    # same table (schema, nullability, rows) with the JIT on and off.
    table = _string_table(200_000, 60_000)
    select = "SELECT many, count(*) AS c, sum(x) AS s FROM t WHERE x > 0 GROUP BY many"
    results = []
    for jit in (True, False):
        session = _session(jit, table)
        if jit:
            assert _fell_back(session.sql(select).explain(analyze=True)) > 0
        session.sql(f"CREATE TABLE agg AS {select}").compute()
        session.sql(f"INSERT INTO agg {select}").compute()
        results.append(session.sql("SELECT * FROM agg").compute().to_arrow())
    assert results[0].schema == results[1].schema
    assert _sorted_rows(results[0].to_pydict()) == _sorted_rows(results[1].to_pydict())
    assert results[0].num_rows == 2 * 60_001


# Each key type, the integer type its values are written as, and values at its edges.
_EDGES = {
    "int32": (pa.int32(), pa.int32(), [-(2**31), 2**31 - 1, 0, -1, 7]),
    "int64": (pa.int64(), pa.int64(), [-(2**63), 2**63 - 1, 0, -1, 2**40]),
    "uint64": (pa.uint64(), pa.uint64(), [0, 2**64 - 1, 2**63, 1, 2**32]),
    "uint32": (pa.uint32(), pa.uint32(), [0, 2**32 - 1, 2**31, 1, 5]),
    "date32": (pa.date32(), pa.int32(), [-(2**31), 2**31 - 1, 0, 19_000, -1]),
    "timestamp": (pa.timestamp("us", tz="Europe/Paris"), pa.int64(), [-(2**63), 2**63 - 1, 0]),
    "duration": (pa.duration("ns"), pa.int64(), [-(2**63), 2**63 - 1, 0, 1, -1]),
}


def _wide_key_table(kind: str, rows: int = 5_000) -> pa.Table:
    ty, storage, edges = _EDGES[kind]
    keys = [None if i % 13 == 0 else edges[i % len(edges)] for i in range(rows)]
    return pa.table(
        {
            "key": pa.array(keys, storage).view(ty),
            "other": pa.array([i % 3 - 1 if i % 17 else None for i in range(rows)], pa.int32()),
            "x": [None if i % 11 == 0 else float(i % 29) / 4 for i in range(rows)],
            "n": pa.array([None if i % 7 == 0 else i - 2_500 for i in range(rows)], pa.int64()),
        }
    )


def _with_key_as(table: pa.Table, storage: pa.DataType) -> Columns:
    key = table.column("key").combine_chunks().view(storage)
    return table.set_column(0, "key", key).to_pydict()


@pytest.mark.parametrize("kind", sorted(_EDGES))
@pytest.mark.parametrize("keys", ["key", "key, other"])
def test_wide_keys_fold_with_datafusions_answers_at_the_edges_of_their_types(
    kind: str, keys: str
) -> None:
    # Integer, date, timestamp and duration keys at the ends of their ranges, NULL apart
    # from zero, alone and with a second key: the groups and every aggregate as without
    # the JIT (integers exactly, float sums to rounding).
    table = _wide_key_table(kind)
    sql = f"""
        SELECT {keys}, count(*) AS rows, count(x) AS xs, sum(x) AS s, avg(x) AS mean,
               sum(n) AS total, min(n) AS lo, max(n) AS hi, avg(n) AS n_mean
        FROM t WHERE n IS NULL OR n % 5 <> 0 GROUP BY {keys}
    """
    assert "JitAggregateExec" in _session(True, table).sql(sql).explain()
    # Python has no date or time at some of these edges: the keys are compared as the
    # integers they hold.
    _, storage, _ = _EDGES[kind]
    folded, plain = (
        _with_key_as(_session(jit, table).sql(sql).compute().to_arrow(), storage)
        for jit in (True, False)
    )
    got, want = _sorted_rows(folded), _sorted_rows(plain)
    assert len(got) == len(want) >= 4
    for a, b in zip(got, want, strict=True):
        assert all(_close(x, y) for x, y in zip(a, b, strict=True)), (a, b)
    assert folded["key"].count(None) == plain["key"].count(None) > 0


@pytest.mark.parametrize(("distinct", "falls_back"), [(50, False), (60_000, True)])
def test_an_integer_key_with_many_values_goes_back_to_datafusion(
    distinct: int, falls_back: bool
) -> None:
    rows = 200_000
    table = pa.table(
        {
            "id": pa.array([(i * 7919) % distinct for i in range(rows)], pa.int64()),
            "x": [float(i % 13) for i in range(rows)],
        }
    )
    sql = "SELECT id, count(*) AS c, sum(x) AS s, max(id) AS hi FROM t WHERE x > 0 GROUP BY id"
    session = _session(True, table)
    assert (_fell_back(session.sql(sql).explain(analyze=True)) > 0) == falls_back
    want = _session(False, table).sql(sql).compute().to_pydict()
    got = session.sql(sql).compute().to_pydict()
    assert _sorted_rows(got) == _sorted_rows(want)
    assert len(got["id"]) == distinct


def test_aggregates_of_one_argument_share_the_kernels_slots() -> None:
    # avg(x) is one sum (its count is the rows the sum counted); count(x), sum(x) and a
    # second sum(x) fold nothing more; max(x) of the same argument takes over a count.
    sql = """
        SELECT n % 4 AS g, avg(x) AS mean, count(x) AS xs, sum(x) AS s, sum(x) AS s2,
               count(n) AS ns, max(n) AS hi, count(*) AS rows
        FROM t WHERE k > 10 GROUP BY 1
    """
    shown = _session(True).sql(sql).explain(kernels=True)
    aggregates = re.findall(r"^\s+agg\d+ = (\w+)\(", shown, re.MULTILINE)
    assert sorted(aggregates) == ["count", "max", "sum"], shown
    folded, plain = _both(sql)
    for name in folded:
        pairs = zip(sorted(folded[name], key=repr), sorted(plain[name], key=repr), strict=True)
        assert all(_close(a, b) for a, b in pairs), name


@pytest.mark.parametrize("grouped", [False, True], ids=["ungrouped", "grouped"])
def test_sums_and_means_of_decimals_cast_to_doubles_fold_their_unscaled_sum(grouped: bool) -> None:
    # TPC-H Q1's avg(CAST(l_quantity AS DOUBLE)): the kernel sums the decimals' unscaled
    # integers as doubles (exact below 2^53) and divides once per group, not once a row.
    keys = "CAST(n % 3 AS SMALLINT) AS g, " if grouped else ""
    sql = f"""
        SELECT {keys}avg(CAST(d AS DOUBLE)) AS mean, sum(CAST(d AS DOUBLE)) AS total,
               max(d) AS money, count(*) AS rows
        FROM t WHERE k % 5 <> 1 {"GROUP BY 1 ORDER BY 1 NULLS FIRST" if grouped else ""}
    """
    shown = _session(True).sql(sql).explain(kernels=True)
    assert '"d (unscaled)"' in shown and " fdiv " not in shown, shown
    folded, plain = _both(sql)
    for name in folded:
        for a, b in zip(folded[name], plain[name], strict=True):
            assert _close(a, b), (name, folded[name], plain[name])
    groups: dict[object, list[Decimal]] = {}
    for row in _TABLE.to_pylist():
        if row["k"] % 5 != 1:
            key = None if row["n"] is None else int(math.fmod(row["n"], 3)) if grouped else 0
            values = groups.setdefault(key, [])
            if row["d"] is not None:
                values.append(row["d"])
    exact = [groups[g] for g in sorted(groups, key=lambda g: (g is not None, g))]
    # The exact sums, rounded once (DataFusion's own can be a bit off: it rounds a row).
    assert folded["total"] == [float(sum(v)) for v in exact]
    assert folded["mean"] == [float(sum(v)) / len(v) for v in exact]


def test_a_decimal_cast_to_a_double_over_no_rows_or_only_nulls_gives_null() -> None:
    table = pa.table(
        {
            "k": pa.array([1, 2, 3, 4], pa.int64()),
            "d": pa.array([None, None, Decimal("1.50"), None], pa.decimal128(9, 2)),
        }
    )
    sql = """
        SELECT k % 2 AS g, avg(CAST(d AS DOUBLE)) AS mean, sum(CAST(d AS DOUBLE)) AS total,
               count(d) AS ds
        FROM t WHERE k > 0 GROUP BY 1 ORDER BY 1
    """
    folded, plain = _both(sql, table)
    assert folded == plain == {"g": [0, 1], "mean": [None, 1.5], "total": [None, 1.5], "ds": [0, 1]}
    empty = """
        SELECT avg(CAST(d AS DOUBLE)) AS mean, sum(CAST(d AS DOUBLE)) AS total FROM t WHERE k > 9
    """
    folded, plain = _both(empty, table)
    assert folded == plain == {"mean": [None], "total": [None]}


def test_huge_decimals_cast_to_doubles_sum_as_doubles_without_wrapping() -> None:
    # Values far past 2^63 (a DECIMAL(38, 2) holds up to 10^36): their unscaled integers
    # round as doubles do. The largest DECIMAL(38, 2) values' unscaled integers (10^38 - 1)
    # sum past 2^127, where an i128 sum of them would wrap and turn negative.
    big = Decimal("9" * 34 + ".99")
    largest = Decimal("9" * 36 + ".99")
    table = pa.table(
        {
            "k": pa.array([1, 2, 3, 4, 5], pa.int64()),
            "w": pa.array([big, big, Decimal("-2.5"), None, big], pa.decimal128(38, 2)),
            "m": pa.array([largest, largest, largest, None, largest], pa.decimal128(38, 2)),
        }
    )
    sql = """
        SELECT avg(CAST(w AS DOUBLE)) AS mean, sum(CAST(w AS DOUBLE)) AS s,
               sum(CAST(w * 3 AS DOUBLE)) AS tripled, sum(CAST(m AS DOUBLE)) AS top
        FROM t WHERE k > 0
    """
    shown = _session(True, table).sql(sql).explain(kernels=True)
    assert '"w (unscaled)"' in shown and '"m (unscaled)"' in shown, shown
    folded, plain = _both(sql, table)
    for name in folded:
        assert _close(folded[name][0], plain[name][0]), (name, folded, plain)
    assert math.isclose(folded["s"][0], float(3 * big), rel_tol=1e-15)
    assert math.isclose(folded["top"][0], float(4 * largest), rel_tol=1e-15)


_MOMENTS = "var(x) AS v, var_pop(x) AS vp, stddev(x) AS sd, stddev_pop(x) AS sdp"


@pytest.mark.parametrize(
    "sql",
    [
        f"SELECT {_MOMENTS}, count(x) AS xs, avg(x) AS mean FROM t WHERE k > 20",
        f"SELECT n % 5 AS g, {_MOMENTS}, count(*) AS rows FROM t WHERE k > 20 GROUP BY 1",
        # Empty input, and groups whose values are all NULL or only one.
        f"SELECT {_MOMENTS} FROM t WHERE k > 1000",
        f"SELECT k AS g, {_MOMENTS} FROM t WHERE k < 40 GROUP BY 1",
        f"SELECT {_MOMENTS}, var(nulls) AS vn FROM t WHERE k > 1",
    ],
)
def test_variances_and_standard_deviations_fold_with_datafusions_state(sql: str) -> None:
    # The kernel keeps DataFusion's partial state (rows, mean, squared deviations) with the
    # same operations in the same row order: the answers are those without the JIT.
    folded, plain = _both(sql)
    assert folded.keys() == plain.keys()
    for name in folded:
        pairs = zip(sorted(folded[name], key=repr), sorted(plain[name], key=repr), strict=True)
        assert all(_close(a, b) for a, b in pairs), (name, folded[name], plain[name])


def test_variances_over_nan_infinity_and_huge_values_match_datafusion() -> None:
    values = [1.0, float("nan"), 2.0, float("inf"), 1e308, -1e308, None, 3.0, 0.1, -0.0]
    table = pa.table(
        {
            "g": pa.array([i % 3 for i in range(200)], pa.int64()),
            "k": pa.array(range(200), pa.int64()),
            "x": [values[i % len(values)] if i < 100 else float(i % 7) for i in range(200)],
        }
    )
    sql = f"SELECT g, {_MOMENTS} FROM t WHERE k >= 0 GROUP BY g ORDER BY g"
    folded, plain = _both(sql, table)
    for name in folded:
        assert all(_close(a, b) for a, b in zip(folded[name], plain[name], strict=True)), name


def test_a_variance_over_many_groups_goes_back_to_datafusion_with_the_same_answers() -> None:
    rows = 100_000
    table = pa.table(
        {
            "id": pa.array([(i * 7919) % 20_000 for i in range(rows)], pa.int64()),
            "x": [float(i % 13) * 0.5 for i in range(rows)],
        }
    )
    sql = "SELECT id, stddev(x) AS sd, var_pop(x) AS vp FROM t WHERE x >= 0 GROUP BY id"
    session = _session(True, table)
    assert _fell_back(session.sql(sql).explain(analyze=True)) > 0
    want = _sorted_rows(_session(False, table).sql(sql).compute().to_pydict())
    got = _sorted_rows(session.sql(sql).compute().to_pydict())
    assert len(got) == len(want) == 20_000
    for a, b in zip(got, want, strict=True):
        assert all(_close(x, y) for x, y in zip(a, b, strict=True)), (a, b)


def test_a_variance_over_one_partition_stays_with_datafusion() -> None:
    # Over one partition DataFusion aggregates in one step; folding would split it into a
    # partial and a final step, whose merge rounds (mean · n / n) and can overflow.
    table = pa.table({"k": pa.array(range(50), pa.int64()), "x": [1e308] * 50})
    sql = "SELECT var(x) AS v, sum(x) AS s FROM t WHERE k >= 0"
    answers = []
    for jit in (True, False):
        session = cp.Session(target_partitions=1, config=cp.Config(jit=jit))
        session.register("t", table)
        assert "JitAggregateExec" not in session.sql(sql).explain()
        answers.append(session.sql(sql).compute().to_pydict())
    assert answers[0] == answers[1] == {"v": [0.0], "s": [math.inf]}
    # Without the variance the same query folds.
    session = cp.Session(target_partitions=1, config=cp.Config(jit=True))
    session.register("t", table)
    assert "JitAggregateExec" in session.sql("SELECT sum(x) AS s FROM t WHERE k >= 0").explain()


def _parquet_keys(tmp_path: Path, keys: pa.Array) -> cp.Session:
    """A Parquet file (with its footer's least and greatest keys) of `keys` and values."""
    rows = len(keys)
    table = pa.table(
        {
            "id": keys,
            "v": pa.array([None if i % 97 == 0 else i % 1000 for i in range(rows)], pa.int64()),
            "x": [float(i % 13) / 4 for i in range(rows)],
        }
    )
    path = tmp_path / "keys.parquet"
    pq.write_table(table, path, row_group_size=50_000)
    return path


_BY_ID = (
    "SELECT id, count(*) AS c, count(v) AS cv, sum(v) AS s, sum(x) AS sx, min(v) AS lo, "
    "max(v) AS hi, avg(v) AS mean FROM t GROUP BY id"
)
# Nothing computed: the aggregation reads the scan's columns as they are.
_PLAIN_BY_ID = "SELECT id, count(*) AS c, sum(v) AS s, min(v) AS lo FROM t GROUP BY id"


@pytest.mark.parametrize(
    ("storage", "least", "distinct"),
    [(pa.int64(), -50_000, 100_000), (pa.uint32(), 7, 131_072), (pa.int16(), -32_768, 65_536)],
)
def test_an_integer_key_of_a_narrow_range_folds_into_a_table_laid_out_by_key(
    tmp_path: Path, storage: pa.DataType, least: int, distinct: int
) -> None:
    # H2O's GROUP BY id6 over a file: 1e5 keys, their range in the footer
    # (engine/src/jit/aggregate/dense.rs). Every group stays in the kernel, NULL keys too.
    rows = 300_000
    keys = pa.array(
        [None if i % 1009 == 0 else least + (i * 7919) % distinct for i in range(rows)], storage
    )
    path = _parquet_keys(tmp_path, keys)
    sessions = {jit: cp.Session(config=cp.Config(jit=jit)) for jit in (True, False)}
    for session in sessions.values():
        session.register_parquet("t", str(path))
    plan = sessions[True].sql(_BY_ID).explain(analyze=True)
    assert f"groups laid out by key ({distinct} values)" in plan, plan
    assert _fell_back(plan) == 0
    got = sessions[True].sql(_BY_ID).compute().to_pydict()
    want = sessions[False].sql(_BY_ID).compute().to_pydict()
    assert _sorted_rows(got) == _sorted_rows(want)
    assert len(got["id"]) == distinct + 1
    # Nothing computed: the scan's columns pass through a stage that only holds the fold.
    assert "groups laid out by key" in sessions[True].sql(_PLAIN_BY_ID).explain()
    got, want = (sessions[jit].sql(_PLAIN_BY_ID).compute().to_pydict() for jit in (True, False))
    assert _sorted_rows(got) == _sorted_rows(want)


def test_a_range_too_wide_or_turned_off_leaves_the_scans_aggregation_to_datafusion(
    tmp_path: Path,
) -> None:
    # One value more than dense.rs's DENSE_KEYS: no table laid out by key, and the stage
    # that only passed the columns on is taken out again (the partial aggregation reads
    # the scan, as without it). The same with SET corepy.dense_groups = false.
    rows = 200_000
    wide = pa.array([(i * 7919) % 131_073 for i in range(rows)], pa.int64())
    path = _parquet_keys(tmp_path, wide)
    session = cp.Session()
    session.register_parquet("t", str(path))
    for settings in ([], ["SET corepy.dense_groups = false"]):
        for statement in settings:
            session.sql(statement).compute()
        physical = session.sql(_PLAIN_BY_ID).explain().split("== Physical plan")[1]
        assert "JitAggregateExec" not in physical and "JitExec" not in physical, physical
    plain = cp.Session(config=cp.Config(jit=False))
    plain.register_parquet("t", str(path))
    want = plain.sql(_PLAIN_BY_ID).compute().to_pydict()
    assert _sorted_rows(session.sql(_PLAIN_BY_ID).compute().to_pydict()) == _sorted_rows(want)


def test_a_table_laid_out_by_key_under_a_small_memory_limit_gives_the_same_groups(
    tmp_path: Path,
) -> None:
    # Four dense tables (131 072 slots of some 20 words each) would take more than a
    # quarter of the pool: each partition folds into a hashed table instead, which gives
    # its groups out as it goes (dense.rs, `DenseKeys::fit`).
    rows = 300_000
    keys = pa.array([(i * 7919) % 100_000 for i in range(rows)], pa.int64())
    path = _parquet_keys(tmp_path, keys)
    answers = []
    for jit in (True, False):
        session = cp.Session(memory_limit=64 << 20, config=cp.Config(jit=jit))
        session.register_parquet("t", str(path))
        answers.append(_sorted_rows(session.sql(_BY_ID).compute().to_pydict()))
    assert answers[0] == answers[1]
    assert len(answers[0]) == 100_000
