"""corepy against DuckDB on TPC-H scale 0.01.

The SQL tests run the same query text through both engines; the lazy tests build a query with
the corepy frame API and compare it with an equivalent DuckDB SQL query. Averages and ratios
of decimal columns are computed in double precision in both engines, since DataFusion keeps
them as decimals with six fractional digits while DuckDB returns doubles.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from conftest import assert_same_rows

import corepy as cp

# -- the standard TPC-H queries: the benchmark suite's SQL files (validation parameters, ties
# in ORDER BY broken, so every answer compares row by row) ---------------------------------

TPCH_SQL = Path(__file__).resolve().parents[2] / "bench" / "suites" / "tpch" / "sql"
TPCH_QUERIES: dict[str, tuple[str, bool]] = {
    path.stem: (path.read_text(), True) for path in sorted(TPCH_SQL.glob("q*.sql"))
}

# -- smaller queries, one SQL feature each ---------------------------------------------------

FEATURE_QUERIES: dict[str, tuple[str, bool]] = {
    "count_star": ("SELECT count(*) AS n FROM lineitem", True),
    "scalar_subqueries": (
        """
        SELECT
            (SELECT count(*) FROM region) AS regions,
            (SELECT count(*) FROM nation) AS nations,
            (SELECT count(*) FROM supplier) AS suppliers,
            (SELECT count(*) FROM customer) AS customers,
            (SELECT count(*) FROM part) AS parts,
            (SELECT count(*) FROM partsupp) AS partsupps,
            (SELECT count(*) FROM orders) AS orders_
        """,
        True,
    ),
    "group_by_count": (
        """
        SELECT l_returnflag, l_linestatus, count(*) AS n, sum(l_quantity) AS qty,
            min(l_shipdate) AS first_ship, max(l_shipdate) AS last_ship
        FROM lineitem
        GROUP BY l_returnflag, l_linestatus
        """,
        False,
    ),
    "join_order_by": (
        """
        SELECT n_name, r_name
        FROM nation JOIN region ON n_regionkey = r_regionkey
        ORDER BY n_name
        """,
        True,
    ),
    "order_by_limit": (
        """
        SELECT o_orderkey, o_custkey, o_totalprice, o_orderdate
        FROM orders
        ORDER BY o_totalprice DESC, o_orderkey
        LIMIT 15
        """,
        True,
    ),
    "order_by_limit_offset": (
        """
        SELECT l_orderkey, l_linenumber, l_shipdate
        FROM lineitem
        ORDER BY l_shipdate, l_orderkey DESC, l_linenumber
        LIMIT 10 OFFSET 25
        """,
        True,
    ),
    "distinct": (
        "SELECT DISTINCT o_orderstatus, o_orderpriority FROM orders",
        False,
    ),
    "count_distinct": (
        """
        SELECT count(DISTINCT l_partkey) AS parts, count(DISTINCT l_suppkey) AS suppliers,
            count(DISTINCT l_shipmode) AS modes
        FROM lineitem
        """,
        True,
    ),
    "case_when": (
        """
        SELECT band, count(*) AS n, sum(o_totalprice) AS total
        FROM (
            SELECT o_totalprice, CASE
                WHEN o_totalprice > 300000 THEN 'high'
                WHEN o_totalprice > 100000 THEN 'mid'
                ELSE 'low' END AS band
            FROM orders
        ) AS banded
        GROUP BY band
        """,
        False,
    ),
    "is_null": (
        """
        SELECT
            count(*) AS n,
            count(c) AS non_null,
            sum(CASE WHEN c IS NULL THEN 1 ELSE 0 END) AS nulls,
            sum(CASE WHEN c IS NOT NULL THEN 1 ELSE 0 END) AS not_nulls,
            count(coalesce(c, 'none')) AS coalesced
        FROM (
            SELECT CASE WHEN o_orderkey % 3 = 0 THEN NULL ELSE o_comment END AS c FROM orders
        ) AS t
        """,
        True,
    ),
    "left_join_is_null": (
        """
        SELECT c_custkey, c_name
        FROM customer LEFT JOIN orders ON c_custkey = o_custkey
        WHERE o_orderkey IS NULL
        """,
        False,
    ),
    "like": (
        """
        SELECT p_partkey, p_name, p_type
        FROM part
        WHERE p_name LIKE '%green%' AND p_type NOT LIKE 'PROMO%' AND p_container LIKE 'SM _A%'
        """,
        False,
    ),
    "between": (
        """
        SELECT l_orderkey, l_linenumber, l_quantity, l_shipdate
        FROM lineitem
        WHERE l_quantity BETWEEN 10 AND 12
          AND l_shipdate BETWEEN DATE '1995-01-01' AND DATE '1995-03-31'
        """,
        False,
    ),
    "in_list": (
        """
        SELECT s_suppkey, s_name, s_nationkey
        FROM supplier
        WHERE s_nationkey IN (1, 3, 5, 7, 24) AND s_suppkey NOT IN (2, 4, 6, 8, 10)
        """,
        False,
    ),
    "string_functions": (
        """
        SELECT
            c_custkey,
            upper(c_mktsegment) AS upper_seg,
            lower(c_name) AS lower_name,
            length(c_phone) AS phone_len,
            substring(c_phone, 1, 2) AS country,
            concat(c_name, '/', c_mktsegment) AS tag,
            c_name || '-' || c_phone AS tag2,
            trim('  ' || c_mktsegment || '  ') AS trimmed,
            replace(c_name, 'Customer#', 'C') AS short_name,
            strpos(c_name, '#') AS hash_pos
        FROM customer
        WHERE c_custkey <= 200
        """,
        False,
    ),
    "having": (
        """
        SELECT o_custkey, count(*) AS n, sum(o_totalprice) AS total
        FROM orders
        GROUP BY o_custkey
        HAVING count(*) > 20 AND sum(o_totalprice) > 2000000
        """,
        False,
    ),
    "in_subquery": (
        """
        SELECT c_custkey, c_name
        FROM customer
        WHERE c_custkey IN (SELECT o_custkey FROM orders WHERE o_totalprice > 350000)
        """,
        False,
    ),
    "exists": (
        """
        SELECT s_suppkey, s_name
        FROM supplier
        WHERE EXISTS (
            SELECT 1 FROM partsupp WHERE ps_suppkey = s_suppkey AND ps_availqty < 50
        )
        """,
        False,
    ),
    "not_exists": (
        """
        SELECT p_partkey
        FROM part
        WHERE NOT EXISTS (
            SELECT 1 FROM lineitem WHERE l_partkey = p_partkey AND l_quantity > 45
        )
        """,
        False,
    ),
    "scalar_subquery_filter": (
        """
        SELECT o_orderkey, o_totalprice
        FROM orders
        WHERE o_totalprice > (SELECT 2 * avg(CAST(o_totalprice AS DOUBLE)) FROM orders)
        """,
        False,
    ),
    "row_number": (
        """
        SELECT o_custkey, o_orderkey, o_orderdate, rn
        FROM (
            SELECT o_custkey, o_orderkey, o_orderdate,
                row_number() OVER (PARTITION BY o_custkey ORDER BY o_orderdate, o_orderkey)
                    AS rn
            FROM orders
        ) AS ranked
        WHERE rn <= 2
        """,
        False,
    ),
    "rank_and_partition_count": (
        """
        SELECT n_regionkey, n_name,
            rank() OVER (PARTITION BY n_regionkey ORDER BY n_name) AS rk,
            count(*) OVER (PARTITION BY n_regionkey) AS in_region
        FROM nation
        """,
        False,
    ),
    "running_sum_and_lag": (
        """
        SELECT o_custkey, o_orderkey,
            sum(o_totalprice) OVER (
                PARTITION BY o_custkey ORDER BY o_orderdate, o_orderkey
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS running_total,
            lag(o_orderkey) OVER (PARTITION BY o_custkey ORDER BY o_orderdate, o_orderkey)
                AS previous_order
        FROM orders
        WHERE o_custkey < 300
        """,
        False,
    ),
    "union_all": (
        """
        SELECT n_name AS name, 'nation' AS kind FROM nation
        UNION ALL
        SELECT r_name AS name, 'region' AS kind FROM region
        """,
        False,
    ),
    "union_intersect_except": (
        """
        (SELECT o_custkey AS k FROM orders WHERE o_orderstatus = 'F'
         INTERSECT
         SELECT o_custkey AS k FROM orders WHERE o_orderstatus = 'O')
        UNION
        (SELECT c_custkey AS k FROM customer WHERE c_custkey < 50
         EXCEPT
         SELECT o_custkey AS k FROM orders)
        """,
        False,
    ),
    "cte_join_aggregate": (
        """
        WITH big_orders AS (
            SELECT o_orderkey, o_custkey FROM orders WHERE o_totalprice > 250000
        )
        SELECT c_mktsegment, count(*) AS orders_n, count(DISTINCT c_custkey) AS customers
        FROM big_orders JOIN customer ON o_custkey = c_custkey
        GROUP BY c_mktsegment
        """,
        False,
    ),
    "extract_year_month": (
        """
        SELECT extract(year FROM o_orderdate) AS y, extract(month FROM o_orderdate) AS m,
            count(*) AS n
        FROM orders
        GROUP BY extract(year FROM o_orderdate), extract(month FROM o_orderdate)
        ORDER BY y, m
        """,
        True,
    ),
    "decimal_arithmetic": (
        """
        SELECT l_orderkey, l_linenumber,
            l_quantity * 2 + 1 AS q,
            l_extendedprice * (1 - l_discount) AS net,
            l_extendedprice * (1 - l_discount) * (1 + l_tax) AS charge,
            -l_tax AS neg_tax,
            l_orderkey % 7 AS m7
        FROM lineitem
        WHERE l_orderkey < 200
        """,
        False,
    ),
    "casts": (
        """
        SELECT
            CAST(o_totalprice AS DOUBLE) AS price,
            CAST(o_orderkey AS VARCHAR) AS key_text,
            CAST(o_orderdate AS VARCHAR) AS date_text,
            CAST(o_shippriority AS BIGINT) AS prio,
            CAST('42' AS INTEGER) AS answer
        FROM orders
        WHERE o_orderkey < 100
        """,
        False,
    ),
    "left_join_count": (
        """
        SELECT n_name, count(c_custkey) AS rich_customers
        FROM nation LEFT JOIN customer ON n_nationkey = c_nationkey AND c_acctbal > 9000
        GROUP BY n_name
        """,
        False,
    ),
    "min_max_strings_dates": (
        """
        SELECT min(o_orderdate) AS first_date, max(o_orderdate) AS last_date,
            min(o_clerk) AS first_clerk, max(o_clerk) AS last_clerk,
            min(o_totalprice) AS cheapest, max(o_totalprice) AS dearest
        FROM orders
        """,
        True,
    ),
}

SQL_CASES = [
    pytest.param(query, ordered, id=name)
    for name, (query, ordered) in {**TPCH_QUERIES, **FEATURE_QUERIES}.items()
]


def duck_table(duck: duckdb.DuckDBPyConnection, query: str) -> pa.Table:
    """DuckDB's result as a pyarrow Table (``.arrow()`` gives a reader in recent DuckDB)."""
    result = duck.sql(query).arrow()
    return result if isinstance(result, pa.Table) else result.read_all()


@pytest.mark.parametrize(("query", "ordered"), SQL_CASES)
def test_sql_matches_duckdb(
    session: cp.Session, duck: duckdb.DuckDBPyConnection, query: str, ordered: bool
) -> None:
    actual = session.sql(query).compute().to_arrow()
    assert_same_rows(actual, duck_table(duck, query), ordered=ordered)


def test_sql_cases_are_distinct() -> None:
    queries = [" ".join(q.split()) for q, _ in {**TPCH_QUERIES, **FEATURE_QUERIES}.values()]
    assert len(TPCH_QUERIES) == 22
    assert len(set(queries)) == len(queries)


# -- lazy frames against equivalent DuckDB SQL ---------------------------------------------

# A lineitem slice with a nullable column (the generated data has no nulls).
NULLABLE_SQL = """
    SELECT l_orderkey, l_linenumber, l_shipmode, l_quantity, l_extendedprice,
        CASE WHEN l_linenumber % 3 = 0 THEN NULL ELSE l_discount END AS disc
    FROM lineitem
"""

Build = Callable[[cp.Session, Path], cp.LazyFrame]


def _lineitem(session: cp.Session, tpch_dir: Path) -> cp.LazyFrame:
    return session.scan_parquet(tpch_dir / "lineitem.parquet")


def lazy_q1(session: cp.Session, tpch_dir: Path) -> cp.LazyFrame:
    price = cp.col("l_extendedprice")
    disc_price = price * (1 - cp.col("l_discount"))
    return (
        _lineitem(session, tpch_dir)
        .filter(cp.col("l_shipdate") <= cp.lit(dt.date(1998, 9, 2)))  # 1998-12-01 - 90 days
        .group_by("l_returnflag", "l_linestatus")
        .agg(
            cp.col("l_quantity").sum().alias("sum_qty"),
            price.sum().alias("sum_base_price"),
            disc_price.sum().alias("sum_disc_price"),
            (disc_price * (1 + cp.col("l_tax"))).sum().alias("sum_charge"),
            cp.col("l_quantity").cast("float64").mean().alias("avg_qty"),
            price.cast("float64").mean().alias("avg_price"),
            cp.col("l_discount").cast("float64").mean().alias("avg_disc"),
            cp.len().alias("count_order"),
        )
        .sort("l_returnflag", "l_linestatus")
    )


def lazy_q6(session: cp.Session, tpch_dir: Path) -> cp.LazyFrame:
    # Decimal literals, so the discount bounds are exact as in DuckDB.
    shipdate, discount = cp.col("l_shipdate"), cp.col("l_discount")
    return (
        _lineitem(session, tpch_dir)
        .filter(
            (shipdate >= cp.lit(dt.date(1994, 1, 1)))
            & (shipdate < cp.lit(dt.date(1995, 1, 1)))
            & (discount >= cp.lit(decimal.Decimal("0.05")))
            & (discount <= cp.lit(decimal.Decimal("0.07")))
            & (cp.col("l_quantity") < 24)
        )
        .select((cp.col("l_extendedprice") * discount).sum().alias("revenue"))
    )


def lazy_arithmetic(session: cp.Session, tpch_dir: Path) -> cp.LazyFrame:
    return (
        _lineitem(session, tpch_dir)
        .filter(cp.col("l_orderkey") < 3000)
        .select(
            "l_orderkey",
            cp.col("l_linenumber"),
            (cp.col("l_extendedprice") * (1 - cp.col("l_discount"))).alias("net"),
            (cp.col("l_quantity") * 2 + 1).alias("q"),
            (cp.col("l_orderkey") % 7).alias("m7"),
            (-cp.col("l_partkey")).alias("neg_part"),
            (
                cp.col("l_extendedprice").cast("float64") / cp.col("l_quantity").cast("float64")
            ).alias("unit_price"),
            (100 - cp.col("l_linenumber")).alias("from_100"),
        )
    )


def lazy_with_columns(session: cp.Session, tpch_dir: Path) -> cp.LazyFrame:
    return (
        session.sql("SELECT * FROM lineitem")
        .select("l_orderkey", "l_linenumber", "l_quantity", "l_discount", "l_tax")
        .with_columns(
            cp.col("l_quantity") * 10,
            cp.col("l_discount").cast("float64"),
            (cp.col("l_tax") + cp.col("l_discount")).alias("tax_disc"),
            cp.lit("x").alias("tag"),
        )
        .filter(cp.col("tax_disc") > 0.1)
    )


def _nullable(session: cp.Session) -> cp.LazyFrame:
    return session.sql(NULLABLE_SQL)


def lazy_filter_logic(session: cp.Session, tpch_dir: Path) -> cp.LazyFrame:
    disc = cp.col("disc")
    return _nullable(session).filter(
        ((disc.is_null() | (disc > 0.08)) & ~(cp.col("l_shipmode") == "AIR"))
        | ((cp.col("l_quantity") == 1) & ~disc.is_null())
    )


def lazy_sort_nulls_last(session: cp.Session, tpch_dir: Path) -> cp.LazyFrame:
    return (
        _nullable(session)
        .sort(
            "disc",
            "l_orderkey",
            "l_linenumber",
            descending=[True, False, True],
            nulls_last=[True, False, False],
        )
        .limit(25)
    )


def lazy_sort_nulls_first(session: cp.Session, tpch_dir: Path) -> cp.LazyFrame:
    return (
        _nullable(session)
        .filter(cp.col("l_orderkey") < 200)
        .sort(["disc", "l_orderkey"], "l_linenumber", descending=True)
        .limit(20, offset=10)
    )


def lazy_group_by(session: cp.Session, tpch_dir: Path) -> cp.LazyFrame:
    return (
        _nullable(session)
        .group_by("l_shipmode")
        .agg(
            cp.col("l_quantity").sum(),
            cp.col("l_extendedprice").min().alias("min_price"),
            cp.col("l_extendedprice").max().alias("max_price"),
            cp.col("disc").count().alias("n_disc"),
            cp.col("disc").cast("float64").mean().alias("avg_disc"),
            cp.len(),
        )
    )


def lazy_group_by_expression(session: cp.Session, tpch_dir: Path) -> cp.LazyFrame:
    return (
        session.scan_parquet(tpch_dir / "orders.parquet")
        .group_by((cp.col("o_custkey") % 10).alias("bucket"), "o_orderstatus")
        .agg(cp.col("o_totalprice").sum().alias("total"), cp.col("o_orderkey").count())
        .sort("bucket", "o_orderstatus")
    )


def lazy_cast(session: cp.Session, tpch_dir: Path) -> cp.LazyFrame:
    return (
        session.scan_parquet(tpch_dir / "orders.parquet")
        .filter(cp.col("o_orderkey") < 500)
        .select(
            cp.col("o_orderkey").cast("int32").alias("key32"),
            cp.col("o_totalprice").cast("float64").alias("price"),
            cp.col("o_orderdate").cast("utf8").alias("date_text"),
            cp.col("o_shippriority").cast(pa.int64()).alias("prio"),
            cp.col("o_custkey").cast("utf8").alias("cust_text"),
        )
    )


def lazy_only_aggregations(session: cp.Session, tpch_dir: Path) -> cp.LazyFrame:
    return _lineitem(session, tpch_dir).select(
        cp.col("l_quantity").sum(),
        cp.col("l_extendedprice").max(),
        cp.col("l_shipdate").min(),
        cp.col("l_shipdate").max().alias("last_ship"),
        cp.col("l_tax").cast("float64").mean().alias("avg_tax"),
        cp.len(),
        cp.col("l_comment").count(),
    )


def lazy_module_scan(session: cp.Session, tpch_dir: Path) -> cp.LazyFrame:
    return (
        cp.scan_parquet(tpch_dir / "orders.parquet")
        .filter(
            (cp.col("o_orderstatus") != "P")
            & (cp.col("o_orderdate") >= cp.lit(dt.date(1995, 1, 1)))
        )
        .group_by("o_orderpriority")
        .agg(
            cp.col("o_totalprice").sum().alias("total"),
            cp.col("o_totalprice").cast("float64").mean().alias("avg_price"),
            cp.col("o_orderkey").min().alias("first_key"),
            cp.col("o_orderdate").max().alias("last_date"),
            cp.len().alias("orders_n"),
        )
        .sort("o_orderpriority", descending=True)
    )


def lazy_top_suppliers(session: cp.Session, tpch_dir: Path) -> cp.LazyFrame:
    return (
        _lineitem(session, tpch_dir)
        .filter(cp.col("l_returnflag") == "R")
        .with_columns((cp.col("l_extendedprice") * (1 - cp.col("l_discount"))).alias("net"))
        .group_by("l_suppkey")
        .agg(cp.col("net").sum().alias("revenue"), cp.len().alias("lines"))
        .sort("revenue", "l_suppkey", descending=[True, False])
        .limit(10)
    )


LAZY_CASES = [
    pytest.param(
        lazy_q1,
        TPCH_QUERIES["q01"][0],
        True,
        id="q01",
    ),
    pytest.param(
        lazy_q6,
        """
        SELECT sum(l_extendedprice * l_discount) AS revenue
        FROM lineitem
        WHERE l_shipdate >= DATE '1994-01-01'
          AND l_shipdate < DATE '1995-01-01'
          AND l_discount BETWEEN 0.05 AND 0.07
          AND l_quantity < 24
        """,
        True,
        id="q06",
    ),
    pytest.param(
        lazy_arithmetic,
        """
        SELECT l_orderkey, l_linenumber,
            l_extendedprice * (1 - l_discount) AS net,
            l_quantity * 2 + 1 AS q,
            l_orderkey % 7 AS m7,
            -l_partkey AS neg_part,
            CAST(l_extendedprice AS DOUBLE) / CAST(l_quantity AS DOUBLE) AS unit_price,
            100 - l_linenumber AS from_100
        FROM lineitem
        WHERE l_orderkey < 3000
        """,
        False,
        id="select_arithmetic",
    ),
    pytest.param(
        lazy_with_columns,
        """
        SELECT l_orderkey, l_linenumber, l_quantity * 10 AS l_quantity,
            CAST(l_discount AS DOUBLE) AS l_discount, l_tax,
            l_tax + l_discount AS tax_disc, 'x' AS tag
        FROM lineitem
        WHERE l_tax + l_discount > 0.10
        """,
        False,
        id="with_columns",
    ),
    pytest.param(
        lazy_filter_logic,
        f"""
        SELECT * FROM ({NULLABLE_SQL}) AS t
        WHERE ((disc IS NULL OR disc > 0.08) AND NOT (l_shipmode = 'AIR'))
           OR (l_quantity = 1 AND NOT disc IS NULL)
        """,
        False,
        id="filter_and_or_not_is_null",
    ),
    pytest.param(
        lazy_sort_nulls_last,
        f"""
        SELECT * FROM ({NULLABLE_SQL}) AS t
        ORDER BY disc DESC NULLS LAST, l_orderkey ASC NULLS FIRST, l_linenumber DESC
        LIMIT 25
        """,
        True,
        id="sort_descending_nulls_last",
    ),
    pytest.param(
        lazy_sort_nulls_first,
        f"""
        SELECT * FROM ({NULLABLE_SQL}) AS t
        WHERE l_orderkey < 200
        ORDER BY disc DESC NULLS FIRST, l_orderkey DESC NULLS FIRST, l_linenumber DESC
        LIMIT 20 OFFSET 10
        """,
        True,
        id="sort_nulls_first_offset",
    ),
    pytest.param(
        lazy_group_by,
        f"""
        SELECT l_shipmode, sum(l_quantity) AS l_quantity,
            min(l_extendedprice) AS min_price, max(l_extendedprice) AS max_price,
            count(disc) AS n_disc, avg(CAST(disc AS DOUBLE)) AS avg_disc, count(*) AS len
        FROM ({NULLABLE_SQL}) AS t
        GROUP BY l_shipmode
        """,
        False,
        id="group_by_len_count",
    ),
    pytest.param(
        lazy_group_by_expression,
        """
        SELECT o_custkey % 10 AS bucket, o_orderstatus, sum(o_totalprice) AS total,
            count(o_orderkey) AS o_orderkey
        FROM orders
        GROUP BY o_custkey % 10, o_orderstatus
        ORDER BY bucket, o_orderstatus
        """,
        True,
        id="group_by_expression",
    ),
    pytest.param(
        lazy_cast,
        """
        SELECT CAST(o_orderkey AS INTEGER) AS key32, CAST(o_totalprice AS DOUBLE) AS price,
            CAST(o_orderdate AS VARCHAR) AS date_text, CAST(o_shippriority AS BIGINT) AS prio,
            CAST(o_custkey AS VARCHAR) AS cust_text
        FROM orders
        WHERE o_orderkey < 500
        """,
        False,
        id="cast",
    ),
    pytest.param(
        lazy_only_aggregations,
        """
        SELECT sum(l_quantity) AS l_quantity, max(l_extendedprice) AS l_extendedprice,
            min(l_shipdate) AS l_shipdate, max(l_shipdate) AS last_ship,
            avg(CAST(l_tax AS DOUBLE)) AS avg_tax, count(*) AS len,
            count(l_comment) AS l_comment
        FROM lineitem
        """,
        True,
        id="select_only_aggregations",
    ),
    pytest.param(
        lazy_module_scan,
        """
        SELECT o_orderpriority, sum(o_totalprice) AS total,
            avg(CAST(o_totalprice AS DOUBLE)) AS avg_price, min(o_orderkey) AS first_key,
            max(o_orderdate) AS last_date, count(*) AS orders_n
        FROM orders
        WHERE o_orderstatus <> 'P' AND o_orderdate >= DATE '1995-01-01'
        GROUP BY o_orderpriority
        ORDER BY o_orderpriority DESC
        """,
        True,
        id="module_scan_parquet",
    ),
    pytest.param(
        lazy_top_suppliers,
        """
        SELECT l_suppkey, sum(l_extendedprice * (1 - l_discount)) AS revenue,
            count(*) AS lines
        FROM lineitem
        WHERE l_returnflag = 'R'
        GROUP BY l_suppkey
        ORDER BY revenue DESC, l_suppkey
        LIMIT 10
        """,
        True,
        id="with_columns_group_sort_limit",
    ),
]


@pytest.mark.parametrize(("build", "duck_query", "ordered"), LAZY_CASES)
def test_lazy_matches_duckdb(
    session: cp.Session,
    duck: duckdb.DuckDBPyConnection,
    tpch_dir: Path,
    build: Build,
    duck_query: str,
    ordered: bool,
) -> None:
    actual = build(session, tpch_dir).compute().to_arrow()
    assert_same_rows(actual, duck_table(duck, duck_query), ordered=ordered)
