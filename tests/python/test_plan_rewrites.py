"""corepy's plan rewrites, checked the way a user would: the plan shows them, and the
answers are DuckDB's over the same files (NULL keys, keys one side lacks, duplicates).

* semi-join reduction (``planner/src/semi_join``): unnested subqueries restricted to the
  outer query's keys (TPC-H q17, q20), small semi joins below inner joins, small
  filtered tables reducing the table that owns the other side of their key (q7, q21);
* scalar subqueries over the groups' relation: TPC-H q11's HAVING total taken from the
  groups as a window (``planner/src/scalar_subquery/over_groups.rs``);
* partial aggregation by runs (``engine/src/run_aggregate``): q18's sum per order over
  lines sorted by order key, with the setting on and off;
* filters split by conjunct (``planner/src/fusion/conjuncts.rs``): the conjuncts the kernel
  computes run fused below a DataFusion Filter of the others (q12's string tests);
* aggregation below joins (``planner/src/eager_aggregate``): q10's sums per customer key
  before the customers join, with the setting on and off; q18's lines summed once for its
  HAVING and its totals.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import assert_same_rows
from test_tpch_vs_duckdb import duck_table

import corepy as cp

TPCH_SQL = Path(__file__).resolve().parents[2] / "bench" / "suites" / "tpch" / "sql"


def _plan(session: cp.Session, sql: str) -> str:
    return session.sql(sql).explain()


def _logical(plan: str) -> list[str]:
    return plan.split("== Physical plan ==")[0].splitlines()


def _depth(lines: list[str], start: str) -> int:
    """The indentation of the first plan line that starts with ``start``."""
    for line in lines:
        if line.strip().startswith(start):
            return len(line) - len(line.lstrip())
    raise AssertionError(f"no line starts with {start!r}:\n" + "\n".join(lines))


def test_a_correlated_average_over_the_joined_lines_is_a_window_per_part(
    session: cp.Session,
) -> None:
    # q17: avg(l_quantity) over the lines of the outer row's part, which are the lines the
    # outer join holds for that part: a window partitioned by the part, one scan of lineitem
    # (planner/src/scalar_subquery/correlated_as_window.rs).
    lines = _logical(_plan(session, (TPCH_SQL / "q17.sql").read_text()))
    windows = [line for line in lines if "WindowAggr:" in line]
    assert len(windows) == 1 and "PARTITION BY [lineitem.l_partkey]" in windows[0], lines
    assert sum("TableScan: lineitem" in line for line in lines) == 1, lines


def test_a_correlated_minimum_over_tables_spread_in_the_join_is_a_window_per_part(
    session: cp.Session,
) -> None:
    # q2: min(ps_supplycost) over partsupp, supplier, nation, region for the outer row's
    # part; the outer query joins those tables and part, in another order. The flattened
    # join is the subquery's tables joined with part on the part key alone, so the minimum
    # is a window per part and partsupp is read once
    # (planner/src/scalar_subquery/outer_region.rs).
    lines = _logical(_plan(session, (TPCH_SQL / "q02.sql").read_text()))
    windows = [line for line in lines if "WindowAggr:" in line]
    assert len(windows) == 1 and "min(partsupp.ps_supplycost)" in windows[0], lines
    assert "PARTITION BY [part.p_partkey]" in windows[0], lines
    assert sum("TableScan: partsupp" in line for line in lines) == 1, lines
    assert not any("__corepy_keys" in line for line in lines), lines


def test_a_correlated_sum_is_taken_over_the_outer_keys_only(session: cp.Session) -> None:
    # q20: a sum is not a window (the outer rows repeat the lines); the subquery aggregates
    # only the keys the outer query holds.
    plan = _plan(session, (TPCH_SQL / "q20.sql").read_text())
    lines = _logical(plan)
    keys = [
        i for i, line in enumerate(lines) if "LeftSemi Join:" in line and "__corepy_keys" in line
    ]
    assert keys, plan
    # The key set is semi-joined below the subquery's aggregation.
    aggregate = max(
        i for i, line in enumerate(lines[: keys[0]]) if line.strip().startswith("Aggregate:")
    )
    assert _depth(lines[aggregate:], "Aggregate:") < _depth(lines[keys[0] :], "LeftSemi Join:")


def test_an_in_having_subquery_sums_the_lines_once_for_both(session: cp.Session) -> None:
    # q18 (planner/src/eager_aggregate/having_subquery.rs): the subquery's sums per order
    # are the outer query's too; the orders they keep join the orders first, then the
    # customers, and lineitem is read once.
    lines = _logical(_plan(session, (TPCH_SQL / "q18.sql").read_text()))
    assert sum("TableScan: lineitem" in line for line in lines) == 1, lines
    assert not any("LeftSemi Join:" in line for line in lines), lines
    sums = _depth(lines, "Inner Join: orders.o_orderkey = lineitem.l_orderkey")
    customers = _depth(lines, "Inner Join: orders.o_custkey = customer.c_custkey")
    assert sums > customers, lines


def test_a_having_over_the_whole_relation_reads_it_once(session: cp.Session) -> None:
    # q11: HAVING sum(v) > (SELECT sum(v) * 0.0001 FROM the same join): the total is a
    # window over the groups (planner/src/scalar_subquery/over_groups.rs).
    plan = _plan(session, (TPCH_SQL / "q11.sql").read_text())
    lines = _logical(plan)
    assert any("WindowAggr:" in line and "sum(" in line for line in lines), plan
    assert sum("TableScan: partsupp" in line for line in lines) == 1, plan
    assert not any("Subquery:" in line for line in lines), plan


def test_the_build_side_rule_can_be_turned_off_and_changes_no_answer(
    tpch_dir: Path, duck: duckdb.DuckDBPyConnection
) -> None:
    # engine/src/build_side.rs: on by default; `SET corepy.build_side_by_rows = false`.
    sql = (TPCH_SQL / "q21.sql").read_text()
    expected = duck_table(duck, sql)
    physical = {}
    for setting in ("true", "false"):
        session = cp.Session()
        for path in sorted(tpch_dir.glob("*.parquet")):
            session.register_parquet(path.stem, path)
        session.sql(f"SET corepy.build_side_by_rows = {setting}").compute()
        # DataFusion's semi and anti joins, not corepy's one grouped pass for both.
        session.sql("SET corepy.exists_in_one_pass = false").compute()
        physical[setting] = _plan(session, sql).split("== Physical plan ==")[1]
        assert_same_rows(session.sql(sql).compute().to_arrow(), expected, check_names=False)
    # Even at this scale the anti join's sides differ: the setting is read.
    assert physical["true"] != physical["false"]
    # The semi join's few rows are one table for all partitions: the 60 M lines it probes
    # with at SF10 are not hash-partitioned for it.
    semi = [line for line in physical["true"].splitlines() if "join_type=LeftSemi" in line]
    assert semi and "mode=CollectLeft" in semi[0], physical["true"]


def _plans_on_and_off(
    tpch_dir: Path, duck: duckdb.DuckDBPyConnection, query: str, setting: str
) -> dict[str, list[str]]:
    """The logical plans of a TPC-H query with ``setting`` true and false, each session's
    answer checked against DuckDB's."""
    sql = (TPCH_SQL / f"{query}.sql").read_text()
    expected = duck_table(duck, sql)
    logical = {}
    for value in ("true", "false"):
        session = cp.Session()
        for path in sorted(tpch_dir.glob("*.parquet")):
            session.register_parquet(path.stem, path)
        session.sql(f"SET {setting} = {value}").compute()
        logical[value] = _logical(_plan(session, sql))
        assert_same_rows(session.sql(sql).compute().to_arrow(), expected, check_names=False)
    return logical


def test_the_join_order_rule_can_be_turned_off_and_changes_no_answer(
    tpch_dir: Path, duck: duckdb.DuckDBPyConnection
) -> None:
    # planner/src/join_order/: on by default; `SET corepy.join_order = false`. q5 names its
    # tables customer first and region last; in cost order the one Asian region meets the
    # nations first, and the lines come after the customers and their orders.
    logical = _plans_on_and_off(tpch_dir, duck, "q05", "corepy.join_order")
    ordered, unordered = logical["true"], logical["false"]
    assert _depth(ordered, "TableScan: region") > _depth(ordered, "TableScan: lineitem")
    assert _depth(ordered, "TableScan: customer") > _depth(ordered, "TableScan: lineitem")
    # In the query's order the region is the last input joined: the shallowest scan.
    assert _depth(unordered, "TableScan: region") < _depth(unordered, "TableScan: lineitem")


def test_q21s_exists_and_not_exists_are_one_grouped_pass_over_the_lines(
    tpch_dir: Path, duck: duckdb.DuckDBPyConnection
) -> None:
    # planner/src/exists_in_one_pass/: on by default; `SET corepy.exists_in_one_pass =
    # false`. q21's EXISTS (another supplier in the order) and NOT EXISTS (no other late
    # one) become one semi join with lineitem grouped by order, with the least and
    # greatest supplier of all its lines and of its late ones: lineitem is read twice, not
    # three times.
    logical = _plans_on_and_off(tpch_dir, duck, "q21", "corepy.exists_in_one_pass")
    one_pass, joins = logical["true"], logical["false"]
    assert sum("TableScan: lineitem" in line for line in one_pass) == 2, one_pass
    assert sum("TableScan: lineitem" in line for line in joins) == 3, joins
    assert not any("LeftAnti Join" in line for line in one_pass), one_pass
    grouped = [line for line in one_pass if "AS __corepy_lo0" in line]
    assert len(grouped) == 1 and "groupBy=[[lineitem.l_orderkey]]" in grouped[0], one_pass


def test_the_bloom_filter_drops_lines_below_the_grouped_pass(tpch_dir: Path) -> None:
    # engine/src/bloom_join/below.rs: the semi join's Bloom filter of the outer lines'
    # orders goes under the aggregation by order key, onto the scan, so only the lines of
    # those orders are grouped.
    session = cp.Session()
    for path in sorted(tpch_dir.glob("*.parquet")):
        session.register_parquet(path.stem, path)
    physical = _plan(session, (TPCH_SQL / "q21.sql").read_text()).split("== Physical plan ==")[1]
    lines = physical.splitlines()
    grouped = next(
        i for i, line in enumerate(lines) if "__corepy_lo0" in line and "mode=Partial" in line
    )
    below = lines[grouped + 1]
    assert "BloomProbeExec: keys=[l_orderkey" in below, physical
    # The filter is the semi join's: the aggregation it sits under is in the join's subtree
    # (the column's index differs with the JIT on or off, so it is not matched).
    semi = next(i for i, line in enumerate(lines) if "join_type=LeftSemi" in line)
    depth = len(below) - len(below.lstrip())
    assert grouped > semi and depth > _depth(lines, lines[semi].strip()), physical


def test_q10_sums_per_customer_key_before_the_customers_join(
    tpch_dir: Path, duck: duckdb.DuckDBPyConnection
) -> None:
    # planner/src/eager_aggregate/: on by default; `SET corepy.eager_aggregate = false`.
    # q10 groups by seven customer columns, text among them: the quarter's returned lines
    # are summed per o_custkey first, and only those sums meet the customers.
    logical = _plans_on_and_off(tpch_dir, duck, "q10", "corepy.eager_aggregate")
    eager, plain = logical["true"], logical["false"]
    first = [line for line in eager if "AS __corepy_eager_0" in line]
    assert len(first) == 1 and "groupBy=[[orders.o_custkey]]" in first[0], eager
    customer_join = next(
        line for line in eager if "Inner Join:" in line and "customer.c_custkey" in line
    )
    customer_depth = len(customer_join) - len(customer_join.lstrip())
    assert _depth(eager, "Aggregate: groupBy=[[orders.o_custkey]]") > customer_depth, eager
    assert sum(line.strip().startswith("Aggregate:") for line in plain) == 1, plain


def test_aggregation_by_runs_can_be_turned_off_and_changes_no_answer(
    tpch_dir: Path, duck: duckdb.DuckDBPyConnection
) -> None:
    # engine/src/run_aggregate/: on by default; `SET corepy.aggregate_runs = false`. The
    # lines come sorted by order key, so q18's sum per order merges runs without hashing;
    # by supplier and status they are not clustered, and each partition goes back to
    # DataFusion. (By supplier alone, a narrow range of keys, the aggregation folds into a
    # table laid out by key: engine/src/jit/aggregate/dense.rs.)
    q18 = (TPCH_SQL / "q18.sql").read_text()
    by_supplier = (
        "SELECT l_suppkey, l_linestatus, sum(l_quantity) AS q, count(*) AS n, "
        "max(l_shipdate) AS last FROM lineitem GROUP BY l_suppkey, l_linestatus"
    )
    # q21's per-order aggregates, with FILTER: only the late lines' suppliers.
    late_by_order = (
        "SELECT l_orderkey, min(l_suppkey) AS lo, "
        "max(l_suppkey) FILTER (WHERE l_receiptdate > l_commitdate) AS late_hi, "
        "count(*) FILTER (WHERE l_receiptdate > l_commitdate) AS late, "
        "sum(l_quantity) FILTER (WHERE l_shipmode = 'AIR') AS air "
        "FROM lineitem GROUP BY l_orderkey"
    )
    for sql in (q18, by_supplier, late_by_order):
        expected = duck_table(duck, sql)
        for setting in ("true", "false"):
            session = cp.Session()
            for path in sorted(tpch_dir.glob("*.parquet")):
                session.register_parquet(path.stem, path)
            session.sql(f"SET corepy.aggregate_runs = {setting}").compute()
            # At this scale the order keys' range is narrow enough for a table laid out
            # by key, which would take q18's sums from the runs: kept out of this test.
            session.sql("SET corepy.dense_groups = false").compute()
            got = session.sql(sql).compute().to_arrow()
            assert_same_rows(got, expected, check_names=False)
            analyzed = session.sql(sql).explain(analyze=True)
            runs = [line for line in analyzed.splitlines() if "RunAggregateExec" in line]
            if setting == "false":
                assert not runs, analyzed
            elif sql in (q18, late_by_order):
                by_order = [line for line in runs if "gby=[l_orderkey]" in line]
                assert "fell_back_to_datafusion=0" in by_order[0], analyzed
            else:
                assert "fell_back_to_datafusion=0" not in runs[0], analyzed


def test_a_lazy_join_with_the_maximum_of_the_same_frame_reads_it_once(
    session: cp.Session, tpch_dir: Path, duck: duckdb.DuckDBPyConnection
) -> None:
    # q15 written lazily: the revenue frame cross-joined with its own maximum. The maximum
    # is a window over the one evaluation of the frame
    # (planner/src/scalar_subquery/joined_aggregate.rs).
    col = cp.col
    shipped = (col("l_shipdate") >= cp.lit(dt.date(1996, 1, 1))) & (
        col("l_shipdate") < cp.lit(dt.date(1996, 4, 1))
    )
    revenue = (
        session.scan_parquet(tpch_dir / "lineitem.parquet")
        .filter(shipped)
        .group_by(col("l_suppkey").alias("supplier_no"))
        .agg((col("l_extendedprice") * (1 - col("l_discount"))).sum().alias("total_revenue"))
    )
    best = revenue.select(col("total_revenue").max().alias("best"))
    top = (
        revenue.join(best, how="cross")
        .filter(col("total_revenue") == col("best"))
        .select("supplier_no", "total_revenue", "best")
    )
    lines = _logical(top.explain())
    assert any("WindowAggr:" in line and "max(" in line for line in lines), lines
    assert sum("TableScan: lineitem" in line for line in lines) == 1, lines
    expected = duck_table(
        duck,
        """WITH revenue AS (
             SELECT l_suppkey AS supplier_no, sum(l_extendedprice * (1 - l_discount))
               AS total_revenue
             FROM lineitem
             WHERE l_shipdate >= DATE '1996-01-01' AND l_shipdate < DATE '1996-04-01'
             GROUP BY l_suppkey)
           SELECT supplier_no, total_revenue, best
           FROM revenue, (SELECT max(total_revenue) AS best FROM revenue)
           WHERE total_revenue = best""",
    )
    assert expected.num_rows >= 1
    assert_same_rows(top.compute().to_arrow(), expected, check_names=False)


# -- a star of tables with NULL keys, written to Parquet so that file sizes are known -------


@pytest.fixture(scope="module")
def star(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("star")
    rng = random.Random(7)

    def key(n: int, nulls: float = 0.05) -> int | None:
        return None if rng.random() < nulls else rng.randrange(n)

    names = ["FRANCE", "GERMANY", "PERU", "CHINA", None]
    tables = {
        "nation": pa.table(
            {
                "n_nationkey": pa.array([0, 1, 2, 3, None, 5], pa.int64()),
                "n_name": [names[i % len(names)] for i in range(6)],
            }
        ),
        "supplier": pa.table(
            {
                "s_suppkey": pa.array([key(3000) for _ in range(3000)], pa.int64()),
                "s_nationkey": pa.array([key(7) for _ in range(3000)], pa.int64()),
                "s_name": [f"supplier {i}" for i in range(3000)],
            }
        ),
        "part": pa.table(
            {
                "p_partkey": pa.array([key(400) for _ in range(400)], pa.int64()),
                "p_brand": [rng.choice(["B1", "B2", "B3", None]) for _ in range(400)],
            }
        ),
        "orders": pa.table(
            {
                "o_orderkey": pa.array([key(4000) for _ in range(4000)], pa.int64()),
                "o_status": [rng.choice(["F", "O", None]) for _ in range(4000)],
            }
        ),
        "lineitem": pa.table(
            {
                "l_orderkey": pa.array([key(4000) for _ in range(30000)], pa.int64()),
                "l_partkey": pa.array([key(450) for _ in range(30000)], pa.int64()),
                "l_suppkey": pa.array([key(3200) for _ in range(30000)], pa.int64()),
                "l_quantity": [key(50, 0.02) for _ in range(30000)],
                "l_mode": [rng.choice(["MAIL", "SHIP", "AIR", None]) for _ in range(30000)],
            }
        ),
    }
    for name, table in tables.items():
        pq.write_table(table, directory / f"{name}.parquet")
    return directory


STAR_QUERIES = {
    "q7_shape": """
        SELECT n_name, count(*) AS n, sum(l_quantity) AS q
        FROM supplier, lineitem, orders, nation
        WHERE s_suppkey = l_suppkey AND o_orderkey = l_orderkey AND s_nationkey = n_nationkey
          AND n_name IN ('FRANCE', 'GERMANY')
        GROUP BY n_name""",
    "q21_shape": """
        SELECT s_name, count(*) AS n
        FROM supplier, lineitem l1, orders, nation
        WHERE s_suppkey = l1.l_suppkey AND o_orderkey = l1.l_orderkey AND o_status = 'F'
          AND s_nationkey = n_nationkey AND n_name = 'PERU'
          AND EXISTS (SELECT * FROM lineitem l2
                      WHERE l2.l_orderkey = l1.l_orderkey AND l2.l_suppkey <> l1.l_suppkey)
          AND NOT EXISTS (SELECT * FROM lineitem l3
                          WHERE l3.l_orderkey = l1.l_orderkey AND l3.l_suppkey <> l1.l_suppkey
                            AND l3.l_quantity > 40)
        GROUP BY s_name""",
    "q17_shape": """
        SELECT sum(l_quantity) AS s, count(*) AS n
        FROM lineitem, part
        WHERE p_partkey = l_partkey AND p_brand = 'B2'
          AND l_quantity < (SELECT 0.8 * avg(l_quantity) FROM lineitem
                            WHERE l_partkey = p_partkey)""",
    "q18_shape": """
        SELECT o_orderkey, o_status, sum(l_quantity) AS q
        FROM orders, lineitem
        WHERE o_orderkey IN (SELECT l_orderkey FROM lineitem GROUP BY l_orderkey
                             HAVING sum(l_quantity) > 200)
          AND o_orderkey = l_orderkey
        GROUP BY o_orderkey, o_status""",
    "left_join_grouped": """
        SELECT p_partkey, g.n
        FROM part LEFT JOIN (SELECT l_partkey, count(*) AS n FROM lineitem GROUP BY l_partkey) g
          ON p_partkey = g.l_partkey
        WHERE p_brand = 'B1'""",
    "not_in_having": """
        SELECT count(*) AS n FROM part
        WHERE p_brand = 'B3' AND p_partkey NOT IN
          (SELECT l_partkey FROM lineitem GROUP BY l_partkey HAVING count(*) > 70)""",
    "eager_by_supplier_name": """
        SELECT s_name, n_name, sum(l_quantity) AS q, count(*) AS n, count(l_quantity) AS c,
               min(l_quantity) AS lo, max(l_mode) AS m
        FROM lineitem, supplier, nation
        WHERE l_suppkey = s_suppkey AND s_nationkey = n_nationkey
        GROUP BY s_name, n_name""",
    "eager_over_filtered_orders": """
        SELECT s_name, sum(l_quantity) AS q, max(l_partkey) AS p
        FROM lineitem, orders, supplier
        WHERE l_orderkey = o_orderkey AND o_status = 'F' AND l_suppkey = s_suppkey
        GROUP BY s_name""",
    "string_and_numbers": """
        SELECT l_mode, count(*) AS n FROM lineitem
        WHERE l_mode IN ('MAIL', 'SHIP') AND l_quantity > 10 AND l_partkey < 300
        GROUP BY l_mode""",
}


def _star_session(star: Path, jit: bool = True) -> cp.Session:
    session = cp.Session(config=cp.Config(jit=jit))
    for path in sorted(star.glob("*.parquet")):
        session.register_parquet(path.stem, path)
    return session


@pytest.mark.parametrize("name", sorted(STAR_QUERIES))
def test_rewritten_queries_answer_as_duckdb(star: Path, name: str) -> None:
    sql = STAR_QUERIES[name]
    duck = duckdb.connect()
    for path in sorted(star.glob("*.parquet")):
        duck.execute(f"CREATE VIEW {path.stem} AS SELECT * FROM read_parquet('{path}')")
    expected = duck_table(duck, sql)
    for jit in (True, False):
        actual = _star_session(star, jit).sql(sql).compute().to_arrow()
        assert_same_rows(actual, expected, check_names=False)


def test_the_star_queries_are_rewritten(star: Path) -> None:
    session = _star_session(star)
    for name in ("q7_shape", "q21_shape"):
        # Joins in their estimated best order: the filtered nations meet the suppliers
        # before the suppliers meet the lines.
        lines = _logical(_plan(session, STAR_QUERIES[name]))
        nations_meet_suppliers = _depth(lines, "Inner Join: nation.n_nationkey = supplier.")
        suppliers_meet_lines = _depth(lines, "Inner Join: supplier.s_suppkey = ")
        assert nations_meet_suppliers > suppliers_meet_lines, name + "\n" + "\n".join(lines)
    # In the query's order, the nations' keys reduce the suppliers instead.
    session.sql("SET datafusion.optimizer.join_reordering = false").compute()
    for name in ("q7_shape", "q21_shape"):
        assert "__corepy_keys" in _plan(session, STAR_QUERIES[name]), name
    # The correlated average: a window over the joined lines, per part.
    assert "PARTITION BY [lineitem.l_partkey]" in _plan(session, STAR_QUERIES["q17_shape"])
    lines = _logical(_plan(session, STAR_QUERIES["string_and_numbers"]))
    # The string test joins the numbers' in one stage: no DataFusion Filter is left.
    stage = [line for line in lines if "FusedStage: filter=" in line]
    assert len(stage) == 1 and "l_mode" in stage[0] and "l_quantity" in stage[0], lines
    assert not any(line.strip().startswith("Filter:") for line in lines), lines


def test_the_star_aggregations_sum_per_supplier_key_first(star: Path) -> None:
    # planner/src/eager_aggregate/: the lines (with the filtered orders) are summed per
    # l_suppkey before the suppliers (with duplicate and NULL keys) bring their names.
    session = _star_session(star)
    for name in ("eager_by_supplier_name", "eager_over_filtered_orders"):
        lines = _logical(_plan(session, STAR_QUERIES[name]))
        first = [line for line in lines if "AS __corepy_eager_0" in line]
        assert len(first) == 1 and "groupBy=[[lineitem.l_suppkey]]" in first[0], lines
