"""The 22 TPC-H queries written with corepy's lazy API (no SQL), for the benchmark runner.

Each ``qNN(t)`` takes the eight TPC-H tables as lazy frames (``t["lineitem"]`` …, scans of
the Parquet files) and returns a lazy frame whose result equals that of ``sql/qNN.sql``:
the same columns, in the same order and with the same names, and the same rows in the same
order (the SQL's ORDER BY with its tie-breakers, and its LIMIT).

The plans are written for speed, as an expert would: filters and column selections come
first, small dimension tables are joined after the large fact tables are cut down, and
``EXISTS`` / ``NOT EXISTS`` / ``IN`` subqueries become semi and anti joins. Correlated
subqueries are decorrelated by hand (a group-by joined back, or a window over a key).

Dates are the SQL's date arithmetic done in Python (``DATE '1998-12-01' - INTERVAL '90'
DAY`` is 1998-09-02); decimal constants are :class:`~decimal.Decimal` literals, so that
comparisons with decimal columns are exact, as in SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

import corepy as cp
from bench.suites.numbered import numbered

Tables = Mapping[str, cp.LazyFrame]

col = cp.col


def _date(year: int, month: int, day: int) -> cp.Expr:
    return cp.lit(dt.date(year, month, day))


def _revenue() -> cp.Expr:
    """``l_extendedprice * (1 - l_discount)``, the discounted price of a line."""
    return col("l_extendedprice") * (1 - col("l_discount"))


def _nations_of_region(t: Tables, region: str) -> cp.LazyFrame:
    """``n_nationkey, n_name`` of the nations in ``region``."""
    regions = t["region"].filter(col("r_name") == region).select("r_regionkey")
    return (
        t["nation"]
        .select("n_nationkey", "n_name", "n_regionkey")
        .join(regions, left_on="n_regionkey", right_on="r_regionkey", how="semi")
        .select("n_nationkey", "n_name")
    )


def _nation_key(t: Tables, name: str) -> cp.LazyFrame:
    """``n_nationkey`` of the nation called ``name``."""
    return t["nation"].filter(col("n_name") == name).select("n_nationkey")


def q01(t: Tables) -> cp.LazyFrame:
    price = col("l_extendedprice")
    disc_price = _revenue()
    return (
        t["lineitem"]
        .filter(col("l_shipdate") <= _date(1998, 9, 2))
        .group_by("l_returnflag", "l_linestatus")
        .agg(
            col("l_quantity").sum().alias("sum_qty"),
            price.sum().alias("sum_base_price"),
            disc_price.sum().alias("sum_disc_price"),
            (disc_price * (1 + col("l_tax"))).sum().alias("sum_charge"),
            col("l_quantity").cast("float64").mean().alias("avg_qty"),
            price.cast("float64").mean().alias("avg_price"),
            col("l_discount").cast("float64").mean().alias("avg_disc"),
            cp.len().alias("count_order"),
        )
        .sort("l_returnflag", "l_linestatus")
    )


def q02(t: Tables) -> cp.LazyFrame:
    europe = _nations_of_region(t, "EUROPE")
    suppliers = (
        t["supplier"]
        .select(
            "s_suppkey",
            "s_name",
            "s_address",
            "s_nationkey",
            "s_phone",
            "s_acctbal",
            "s_comment",
        )
        .join(europe, left_on="s_nationkey", right_on="n_nationkey")
    )
    parts = (
        t["part"]
        .filter((col("p_size") == 15) & col("p_type").str.ends_with("BRASS"))
        .select("p_partkey", "p_mfgr")
    )
    return (
        t["partsupp"]
        .select("ps_partkey", "ps_suppkey", "ps_supplycost")
        .join(parts, left_on="ps_partkey", right_on="p_partkey")
        .join(suppliers, left_on="ps_suppkey", right_on="s_suppkey")
        # The cheapest European offers of each part (the correlated min subquery).
        .filter(col("ps_supplycost") == col("ps_supplycost").min().over("ps_partkey"))
        .select(
            "s_acctbal",
            "s_name",
            "n_name",
            col("ps_partkey").alias("p_partkey"),
            "p_mfgr",
            "s_address",
            "s_phone",
            "s_comment",
        )
        .sort("s_acctbal", "n_name", "s_name", "p_partkey", descending=[True, False, False, False])
        .head(100)
    )


def q03(t: Tables) -> cp.LazyFrame:
    day = _date(1995, 3, 15)
    customers = t["customer"].filter(col("c_mktsegment") == "BUILDING").select("c_custkey")
    orders = (
        t["orders"]
        .filter(col("o_orderdate") < day)
        .select("o_orderkey", "o_custkey", "o_orderdate", "o_shippriority")
        .join(customers, left_on="o_custkey", right_on="c_custkey", how="semi")
    )
    return (
        t["lineitem"]
        .filter(col("l_shipdate") > day)
        .select("l_orderkey", "l_extendedprice", "l_discount")
        .join(orders, left_on="l_orderkey", right_on="o_orderkey")
        .group_by("l_orderkey", "o_orderdate", "o_shippriority")
        .agg(_revenue().sum().alias("revenue"))
        .select("l_orderkey", "revenue", "o_orderdate", "o_shippriority")
        .sort("revenue", "o_orderdate", "l_orderkey", descending=[True, False, False])
        .head(10)
    )


def q04(t: Tables) -> cp.LazyFrame:
    late = t["lineitem"].filter(col("l_commitdate") < col("l_receiptdate")).select("l_orderkey")
    return (
        t["orders"]
        .filter(
            (col("o_orderdate") >= _date(1993, 7, 1)) & (col("o_orderdate") < _date(1993, 10, 1))
        )
        .select("o_orderkey", "o_orderpriority")
        .join(late, left_on="o_orderkey", right_on="l_orderkey", how="semi")
        .group_by("o_orderpriority")
        .agg(cp.len().alias("order_count"))
        .sort("o_orderpriority")
    )


def q05(t: Tables) -> cp.LazyFrame:
    asia = _nations_of_region(t, "ASIA")
    customers = (
        t["customer"]
        .select("c_custkey", "c_nationkey")
        .join(asia.select("n_nationkey"), left_on="c_nationkey", right_on="n_nationkey", how="semi")
    )
    orders = (
        t["orders"]
        .filter(
            (col("o_orderdate") >= _date(1994, 1, 1)) & (col("o_orderdate") < _date(1995, 1, 1))
        )
        .select("o_orderkey", "o_custkey")
        .join(customers, left_on="o_custkey", right_on="c_custkey")
    )
    suppliers = t["supplier"].select("s_suppkey", "s_nationkey")
    return (
        t["lineitem"]
        .select("l_orderkey", "l_suppkey", "l_extendedprice", "l_discount")
        .join(orders, left_on="l_orderkey", right_on="o_orderkey")
        # The supplier must be of the customer's nation.
        .join(
            suppliers, left_on=["l_suppkey", "c_nationkey"], right_on=["s_suppkey", "s_nationkey"]
        )
        .join(asia, left_on="c_nationkey", right_on="n_nationkey")
        .group_by("n_name")
        .agg(_revenue().sum().alias("revenue"))
        .sort("revenue", "n_name", descending=[True, False])
    )


def q06(t: Tables) -> cp.LazyFrame:
    shipdate, discount = col("l_shipdate"), col("l_discount")
    return (
        t["lineitem"]
        .filter(
            (shipdate >= _date(1994, 1, 1))
            & (shipdate < _date(1995, 1, 1))
            & (discount >= cp.lit(Decimal("0.05")))
            & (discount <= cp.lit(Decimal("0.07")))
            & (col("l_quantity") < 24)
        )
        .select((col("l_extendedprice") * discount).sum().alias("revenue"))
    )


def q07(t: Tables) -> cp.LazyFrame:
    nations = t["nation"].filter(col("n_name").is_in(["FRANCE", "GERMANY"]))
    suppliers = (
        t["supplier"]
        .select("s_suppkey", "s_nationkey")
        .join(nations, left_on="s_nationkey", right_on="n_nationkey")
        .select("s_suppkey", col("n_name").alias("supp_nation"))
    )
    customers = (
        t["customer"]
        .select("c_custkey", "c_nationkey")
        .join(nations, left_on="c_nationkey", right_on="n_nationkey")
        .select("c_custkey", col("n_name").alias("cust_nation"))
    )
    orders = (
        t["orders"]
        .select("o_orderkey", "o_custkey")
        .join(customers, left_on="o_custkey", right_on="c_custkey")
    )
    return (
        t["lineitem"]
        .filter(col("l_shipdate").is_between(_date(1995, 1, 1), _date(1996, 12, 31)))
        .select("l_orderkey", "l_suppkey", "l_shipdate", "l_extendedprice", "l_discount")
        .join(suppliers, left_on="l_suppkey", right_on="s_suppkey")
        .join(orders, left_on="l_orderkey", right_on="o_orderkey")
        # Both nations are France or Germany: the pairs asked for are those of two nations.
        .filter(col("supp_nation") != col("cust_nation"))
        .group_by("supp_nation", "cust_nation", col("l_shipdate").dt.year().alias("l_year"))
        .agg(_revenue().sum().alias("revenue"))
        .sort("supp_nation", "cust_nation", "l_year")
    )


def q08(t: Tables) -> cp.LazyFrame:
    america = _nations_of_region(t, "AMERICA").select("n_nationkey")
    customers = (
        t["customer"]
        .select("c_custkey", "c_nationkey")
        .join(america, left_on="c_nationkey", right_on="n_nationkey", how="semi")
        .select("c_custkey")
    )
    orders = (
        t["orders"]
        .filter(col("o_orderdate").is_between(_date(1995, 1, 1), _date(1996, 12, 31)))
        .select("o_orderkey", "o_custkey", "o_orderdate")
        .join(customers, left_on="o_custkey", right_on="c_custkey", how="semi")
    )
    parts = t["part"].filter(col("p_type") == "ECONOMY ANODIZED STEEL").select("p_partkey")
    suppliers = (
        t["supplier"]
        .select("s_suppkey", "s_nationkey")
        .join(
            t["nation"].select("n_nationkey", "n_name"),
            left_on="s_nationkey",
            right_on="n_nationkey",
        )
        .select("s_suppkey", col("n_name").alias("nation"))
    )
    volume = _revenue()
    return (
        t["lineitem"]
        .select("l_orderkey", "l_partkey", "l_suppkey", "l_extendedprice", "l_discount")
        .join(parts, left_on="l_partkey", right_on="p_partkey", how="semi")
        .join(orders, left_on="l_orderkey", right_on="o_orderkey")
        .join(suppliers, left_on="l_suppkey", right_on="s_suppkey")
        .group_by(col("o_orderdate").dt.year().alias("o_year"))
        .agg(
            (
                cp.when(col("nation") == "BRAZIL").then(volume).otherwise(0).sum().cast("float64")
                / volume.sum().cast("float64")
            ).alias("mkt_share")
        )
        .sort("o_year")
    )


def q09(t: Tables) -> cp.LazyFrame:
    parts = t["part"].filter(col("p_name").str.contains("green", literal=True)).select("p_partkey")
    partsupp = t["partsupp"].select("ps_partkey", "ps_suppkey", "ps_supplycost")
    suppliers = (
        t["supplier"]
        .select("s_suppkey", "s_nationkey")
        .join(
            t["nation"].select("n_nationkey", "n_name"),
            left_on="s_nationkey",
            right_on="n_nationkey",
        )
        .select("s_suppkey", col("n_name").alias("nation"))
    )
    orders = t["orders"].select("o_orderkey", "o_orderdate")
    amount = _revenue() - col("ps_supplycost") * col("l_quantity")
    return (
        t["lineitem"]
        .select(
            "l_orderkey", "l_partkey", "l_suppkey", "l_quantity", "l_extendedprice", "l_discount"
        )
        .join(parts, left_on="l_partkey", right_on="p_partkey", how="semi")
        .join(partsupp, left_on=["l_partkey", "l_suppkey"], right_on=["ps_partkey", "ps_suppkey"])
        .join(suppliers, left_on="l_suppkey", right_on="s_suppkey")
        .join(orders, left_on="l_orderkey", right_on="o_orderkey")
        .group_by("nation", col("o_orderdate").dt.year().alias("o_year"))
        .agg(amount.sum().alias("sum_profit"))
        .sort("nation", "o_year", descending=[False, True])
    )


def q10(t: Tables) -> cp.LazyFrame:
    orders = (
        t["orders"]
        .filter(
            (col("o_orderdate") >= _date(1993, 10, 1)) & (col("o_orderdate") < _date(1994, 1, 1))
        )
        .select("o_orderkey", "o_custkey")
    )
    # Revenue per customer first; the customers' wide columns are joined to the few sums.
    revenue = (
        t["lineitem"]
        .filter(col("l_returnflag") == "R")
        .select("l_orderkey", "l_extendedprice", "l_discount")
        .join(orders, left_on="l_orderkey", right_on="o_orderkey")
        .group_by("o_custkey")
        .agg(_revenue().sum().alias("revenue"))
    )
    nations = t["nation"].select("n_nationkey", "n_name")
    return (
        t["customer"]
        .select(
            "c_custkey", "c_name", "c_acctbal", "c_nationkey", "c_address", "c_phone", "c_comment"
        )
        .join(revenue, left_on="c_custkey", right_on="o_custkey")
        .join(nations, left_on="c_nationkey", right_on="n_nationkey")
        .select(
            "c_custkey",
            "c_name",
            "revenue",
            "c_acctbal",
            "n_name",
            "c_address",
            "c_phone",
            "c_comment",
        )
        .sort("revenue", "c_custkey", descending=[True, False])
        .head(20)
    )


def q11(t: Tables) -> cp.LazyFrame:
    suppliers = (
        t["supplier"]
        .select("s_suppkey", "s_nationkey")
        .join(_nation_key(t, "GERMANY"), left_on="s_nationkey", right_on="n_nationkey", how="semi")
        .select("s_suppkey")
    )
    stock = (
        t["partsupp"]
        .select("ps_partkey", "ps_suppkey", "ps_availqty", "ps_supplycost")
        .join(suppliers, left_on="ps_suppkey", right_on="s_suppkey", how="semi")
        .select("ps_partkey", (col("ps_supplycost") * col("ps_availqty")).alias("stock_value"))
    )
    # The uncorrelated subquery: one row, joined to every part.
    threshold = stock.select(
        (col("stock_value").sum() * cp.lit(Decimal("0.0001"))).alias("threshold")
    )
    return (
        stock.group_by("ps_partkey")
        .agg(col("stock_value").sum().alias("value"))
        .join(threshold, how="cross")
        .filter(col("value") > col("threshold"))
        .select("ps_partkey", "value")
        .sort("value", "ps_partkey", descending=[True, False])
    )


def q12(t: Tables) -> cp.LazyFrame:
    lines = t["lineitem"].filter(
        col("l_shipmode").is_in(["MAIL", "SHIP"])
        & (col("l_commitdate") < col("l_receiptdate"))
        & (col("l_shipdate") < col("l_commitdate"))
        & (col("l_receiptdate") >= _date(1994, 1, 1))
        & (col("l_receiptdate") < _date(1995, 1, 1))
    )
    high = col("o_orderpriority").is_in(["1-URGENT", "2-HIGH"])
    return (
        lines.select("l_orderkey", "l_shipmode")
        .join(
            t["orders"].select("o_orderkey", "o_orderpriority"),
            left_on="l_orderkey",
            right_on="o_orderkey",
        )
        .group_by("l_shipmode")
        .agg(
            cp.when(high).then(1).otherwise(0).sum().alias("high_line_count"),
            cp.when(high).then(0).otherwise(1).sum().alias("low_line_count"),
        )
        .sort("l_shipmode")
    )


def q13(t: Tables) -> cp.LazyFrame:
    # Orders counted per customer first; customers without any get 0 through the left join.
    counts = (
        t["orders"]
        .filter(~col("o_comment").str.contains("special.*requests"))
        .group_by("o_custkey")
        .agg(cp.len().alias("c_count"))
    )
    return (
        t["customer"]
        .select("c_custkey")
        .join(counts, left_on="c_custkey", right_on="o_custkey", how="left")
        .group_by(col("c_count").fill_null(0))
        .agg(cp.len().alias("custdist"))
        .sort("custdist", "c_count", descending=True)
    )


def q14(t: Tables) -> cp.LazyFrame:
    revenue = _revenue()
    promo = cp.when(col("p_type").str.starts_with("PROMO")).then(revenue).otherwise(0)
    return (
        t["lineitem"]
        .filter((col("l_shipdate") >= _date(1995, 9, 1)) & (col("l_shipdate") < _date(1995, 10, 1)))
        .select("l_partkey", "l_extendedprice", "l_discount")
        .join(t["part"].select("p_partkey", "p_type"), left_on="l_partkey", right_on="p_partkey")
        .select(
            (100.0 * promo.sum().cast("float64") / revenue.sum().cast("float64")).alias(
                "promo_revenue"
            )
        )
    )


def q15(t: Tables) -> cp.LazyFrame:
    revenue = (
        t["lineitem"]
        .filter((col("l_shipdate") >= _date(1996, 1, 1)) & (col("l_shipdate") < _date(1996, 4, 1)))
        .group_by(col("l_suppkey").alias("supplier_no"))
        .agg(_revenue().sum().alias("total_revenue"))
    )
    best = revenue.select(col("total_revenue").max().alias("best"))
    top = (
        revenue.join(best, how="cross")
        .filter(col("total_revenue") == col("best"))
        .select("supplier_no", "total_revenue")
    )
    return (
        t["supplier"]
        .select("s_suppkey", "s_name", "s_address", "s_phone")
        .join(top, left_on="s_suppkey", right_on="supplier_no")
        .sort("s_suppkey")
    )


def q16(t: Tables) -> cp.LazyFrame:
    complaints = (
        t["supplier"]
        .filter(col("s_comment").str.contains("Customer.*Complaints"))
        .select("s_suppkey")
    )
    parts = t["part"].filter(
        (col("p_brand") != "Brand#45")
        & ~col("p_type").str.starts_with("MEDIUM POLISHED")
        & col("p_size").is_in([49, 14, 23, 45, 19, 3, 36, 9])
    )
    return (
        t["partsupp"]
        .select("ps_partkey", "ps_suppkey")
        .join(complaints, left_on="ps_suppkey", right_on="s_suppkey", how="anti")
        .join(
            parts.select("p_partkey", "p_brand", "p_type", "p_size"),
            left_on="ps_partkey",
            right_on="p_partkey",
        )
        .group_by("p_brand", "p_type", "p_size")
        .agg(col("ps_suppkey").n_unique().alias("supplier_cnt"))
        .sort(
            "supplier_cnt",
            "p_brand",
            "p_type",
            "p_size",
            descending=[True, False, False, False],
        )
    )


def q17(t: Tables) -> cp.LazyFrame:
    parts = (
        t["part"]
        .filter((col("p_brand") == "Brand#23") & (col("p_container") == "MED BOX"))
        .select("p_partkey")
    )
    quantity = col("l_quantity")
    return (
        t["lineitem"]
        .select("l_partkey", "l_quantity", "l_extendedprice")
        .join(parts, left_on="l_partkey", right_on="p_partkey", how="semi")
        # The correlated average: over all lines of the same part.
        .filter(quantity < 0.2 * quantity.cast("float64").mean().over("l_partkey"))
        # SQL's sum of no rows is null, the lazy API's 0: keep SQL's answer for no rows.
        .select(
            cp.when(cp.len() > 0)
            .then(col("l_extendedprice").sum().cast("float64") / 7.0)
            .alias("avg_yearly")
        )
    )


def q18(t: Tables) -> cp.LazyFrame:
    # The orders' quantities are the HAVING sums: no second pass over lineitem is needed.
    big = (
        t["lineitem"]
        .group_by("l_orderkey")
        .agg(col("l_quantity").sum().alias("total_quantity"))
        .filter(col("total_quantity") > 300)
    )
    return (
        t["orders"]
        .select("o_orderkey", "o_custkey", "o_orderdate", "o_totalprice")
        .join(big, left_on="o_orderkey", right_on="l_orderkey")
        .join(
            t["customer"].select("c_custkey", "c_name"), left_on="o_custkey", right_on="c_custkey"
        )
        .select(
            "c_name",
            col("o_custkey").alias("c_custkey"),
            "o_orderkey",
            "o_orderdate",
            "o_totalprice",
            "total_quantity",
        )
        .sort("o_totalprice", "o_orderdate", "o_orderkey", descending=[True, False, False])
        .head(100)
    )


def q19(t: Tables) -> cp.LazyFrame:
    brand, container, size = col("p_brand"), col("p_container"), col("p_size")
    quantity = col("l_quantity")
    lines = (
        t["lineitem"]
        .filter(
            col("l_shipmode").is_in(["AIR", "AIR REG"])
            & (col("l_shipinstruct") == "DELIVER IN PERSON")
            & quantity.is_between(1, 30)
        )
        .select("l_partkey", "l_quantity", "l_extendedprice", "l_discount")
    )
    parts = (
        t["part"]
        .filter(brand.is_in(["Brand#12", "Brand#23", "Brand#34"]) & size.is_between(1, 15))
        .select("p_partkey", "p_brand", "p_container", "p_size")
    )
    return (
        lines.join(parts, left_on="l_partkey", right_on="p_partkey")
        .filter(
            (
                (brand == "Brand#12")
                & container.is_in(["SM CASE", "SM BOX", "SM PACK", "SM PKG"])
                & quantity.is_between(1, 11)
                & size.is_between(1, 5)
            )
            | (
                (brand == "Brand#23")
                & container.is_in(["MED BAG", "MED BOX", "MED PKG", "MED PACK"])
                & quantity.is_between(10, 20)
                & size.is_between(1, 10)
            )
            | (
                (brand == "Brand#34")
                & container.is_in(["LG CASE", "LG BOX", "LG PACK", "LG PKG"])
                & quantity.is_between(20, 30)
                & size.is_between(1, 15)
            )
        )
        .select(_revenue().sum().alias("revenue"))
    )


def q20(t: Tables) -> cp.LazyFrame:
    forest = t["part"].filter(col("p_name").str.starts_with("forest")).select("p_partkey")
    shipped = (
        t["lineitem"]
        .filter((col("l_shipdate") >= _date(1994, 1, 1)) & (col("l_shipdate") < _date(1995, 1, 1)))
        .select("l_partkey", "l_suppkey", "l_quantity")
        .join(forest, left_on="l_partkey", right_on="p_partkey", how="semi")
        .group_by("l_partkey", "l_suppkey")
        .agg(col("l_quantity").sum().alias("sum_qty"))
    )
    # A partsupp without shipments has a null subquery sum: the inner join drops it.
    offers = (
        t["partsupp"]
        .select("ps_partkey", "ps_suppkey", "ps_availqty")
        .join(forest, left_on="ps_partkey", right_on="p_partkey", how="semi")
        .join(shipped, left_on=["ps_partkey", "ps_suppkey"], right_on=["l_partkey", "l_suppkey"])
        .filter(col("ps_availqty") > cp.lit(Decimal("0.5")) * col("sum_qty"))
        .select("ps_suppkey")
    )
    return (
        t["supplier"]
        .select("s_suppkey", "s_name", "s_address", "s_nationkey")
        .join(_nation_key(t, "CANADA"), left_on="s_nationkey", right_on="n_nationkey", how="semi")
        .join(offers, left_on="s_suppkey", right_on="ps_suppkey", how="semi")
        .select("s_name", "s_address")
        .sort("s_name")
    )


def q21(t: Tables) -> cp.LazyFrame:
    # One pass over the lines of the failed orders, one row per order. EXISTS a line of
    # another supplier: the order's suppliers are not all one (min != max). NOT EXISTS a
    # late line of another supplier: the late lines are all of one supplier (min == max),
    # who is then the waiting supplier, and numwait counts those late lines.
    suppkey, late = col("l_suppkey"), col("l_receiptdate") > col("l_commitdate")
    failed = t["orders"].filter(col("o_orderstatus") == "F").select("o_orderkey")
    orders = (
        t["lineitem"]
        .select("l_orderkey", "l_suppkey", "l_commitdate", "l_receiptdate")
        .join(failed, left_on="l_orderkey", right_on="o_orderkey", how="semi")
        .group_by("l_orderkey")
        .agg(
            suppkey.min().alias("lo"),
            suppkey.max().alias("hi"),
            suppkey.filter(late).min().alias("late_lo"),
            suppkey.filter(late).max().alias("late_hi"),
            suppkey.filter(late).count().alias("late_lines"),
        )
        .filter((col("lo") != col("hi")) & (col("late_lo") == col("late_hi")))
        .select("late_lo", "late_lines")
    )
    suppliers = (
        t["supplier"]
        .select("s_suppkey", "s_name", "s_nationkey")
        .join(
            _nation_key(t, "SAUDI ARABIA"),
            left_on="s_nationkey",
            right_on="n_nationkey",
            how="semi",
        )
        .select("s_suppkey", "s_name")
    )
    return (
        orders.join(suppliers, left_on="late_lo", right_on="s_suppkey")
        .group_by("s_name")
        .agg(col("late_lines").sum().alias("numwait"))
        .sort("numwait", "s_name", descending=[True, False])
        .head(100)
    )


def q22(t: Tables) -> cp.LazyFrame:
    codes = ["13", "31", "23", "29", "30", "18", "17"]
    acctbal = col("c_acctbal")
    customers = (
        t["customer"]
        .select(col("c_phone").str.slice(0, 2).alias("cntrycode"), "c_custkey", "c_acctbal")
        .filter(col("cntrycode").is_in(codes))
    )
    average = customers.select(acctbal.cast("float64").filter(acctbal > 0).mean().alias("average"))
    return (
        customers.join(average, how="cross")
        .filter(acctbal > col("average"))
        .join(
            t["orders"].select("o_custkey"), left_on="c_custkey", right_on="o_custkey", how="anti"
        )
        .group_by("cntrycode")
        .agg(cp.len().alias("numcust"), acctbal.sum().alias("totacctbal"))
        .sort("cntrycode")
    )


#: Queries corepy's lazy API cannot express yet, with the missing feature.
MISSING: dict[str, str] = {}

QUERIES = numbered(globals(), 22, missing=MISSING)
