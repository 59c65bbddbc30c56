"""The 22 TPC-H queries in Polars' lazy API, for timing Polars against the SQL engines.

Each ``qNN(t)`` takes the eight tables as lazy frames (``t["lineitem"]`` is
``pl.scan_parquet(...)`` of ``lineitem.parquet``, and so on) and returns a lazy frame whose
collected result has the columns, rows and row order of ``sql/qNN.sql`` (validation
parameters, the same ORDER BY tie-breakers and LIMIT).

Money columns are ``decimal(15, 2)`` in the files. Polars rounds a product of decimals to
the larger operand scale (2 here), where SQL keeps the exact scale (4 or 6), so a money
column that enters a product, a quotient or an average is cast to ``Float64`` first (as SQL
compares a decimal with a double as doubles); plain sums and comparisons with constants stay
exact decimals.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import polars as pl

from bench.suites.numbered import numbered

Tables = Mapping[str, pl.LazyFrame]

_PRICE = pl.col("l_extendedprice").cast(pl.Float64)
_DISCOUNT = pl.col("l_discount").cast(pl.Float64)
# l_extendedprice * (1 - l_discount), the revenue of a line in most queries.
_DISC_PRICE = _PRICE * (1 - _DISCOUNT)


def _nations_of(t: Tables, region: str) -> pl.LazyFrame:
    """``n_nationkey, n_name`` of the nations in ``region``."""
    regions = t["region"].filter(pl.col("r_name") == region)
    return t["nation"].join(regions, left_on="n_regionkey", right_on="r_regionkey", how="semi")


def q01(t: Tables) -> pl.LazyFrame:
    return (
        t["lineitem"]
        .filter(pl.col("l_shipdate") <= date(1998, 9, 2))
        .group_by("l_returnflag", "l_linestatus")
        .agg(
            pl.col("l_quantity").sum().alias("sum_qty"),
            pl.col("l_extendedprice").sum().alias("sum_base_price"),
            _DISC_PRICE.sum().alias("sum_disc_price"),
            (_DISC_PRICE * (1 + pl.col("l_tax").cast(pl.Float64))).sum().alias("sum_charge"),
            pl.col("l_quantity").cast(pl.Float64).mean().alias("avg_qty"),
            _PRICE.mean().alias("avg_price"),
            _DISCOUNT.mean().alias("avg_disc"),
            pl.len().alias("count_order"),
        )
        .sort("l_returnflag", "l_linestatus")
    )


def q02(t: Tables) -> pl.LazyFrame:
    nations = _nations_of(t, "EUROPE").select("n_nationkey", "n_name")
    suppliers = t["supplier"].join(nations, left_on="s_nationkey", right_on="n_nationkey")
    parts = (
        t["part"]
        .filter((pl.col("p_size") == 15) & pl.col("p_type").str.ends_with("BRASS"))
        .select("p_partkey", "p_mfgr")
    )
    return (
        t["partsupp"]
        .join(parts, left_on="ps_partkey", right_on="p_partkey")
        .join(suppliers, left_on="ps_suppkey", right_on="s_suppkey")
        # The correlated min(ps_supplycost) is over the same European offers of the part,
        # so a window over the joined rows gives it (the part filter does not change it).
        .filter(pl.col("ps_supplycost") == pl.col("ps_supplycost").min().over("ps_partkey"))
        .select(
            "s_acctbal",
            "s_name",
            "n_name",
            pl.col("ps_partkey").alias("p_partkey"),
            "p_mfgr",
            "s_address",
            "s_phone",
            "s_comment",
        )
        .sort("s_acctbal", "n_name", "s_name", "p_partkey", descending=[True, False, False, False])
        .head(100)
    )


def q03(t: Tables) -> pl.LazyFrame:
    cutoff = date(1995, 3, 15)
    customers = t["customer"].filter(pl.col("c_mktsegment") == "BUILDING")
    orders = (
        t["orders"]
        .filter(pl.col("o_orderdate") < cutoff)
        .join(customers, left_on="o_custkey", right_on="c_custkey", how="semi")
        .select("o_orderkey", "o_orderdate", "o_shippriority")
    )
    return (
        t["lineitem"]
        .filter(pl.col("l_shipdate") > cutoff)
        .join(orders, left_on="l_orderkey", right_on="o_orderkey")
        .group_by("l_orderkey", "o_orderdate", "o_shippriority")
        .agg(_DISC_PRICE.sum().alias("revenue"))
        .select("l_orderkey", "revenue", "o_orderdate", "o_shippriority")
        .sort(["revenue", "o_orderdate", "l_orderkey"], descending=[True, False, False])
        .head(10)
    )


def q04(t: Tables) -> pl.LazyFrame:
    late = t["lineitem"].filter(pl.col("l_commitdate") < pl.col("l_receiptdate"))
    return (
        t["orders"]
        .filter(pl.col("o_orderdate").is_between(date(1993, 7, 1), date(1993, 10, 1), "left"))
        .join(late, left_on="o_orderkey", right_on="l_orderkey", how="semi")
        .group_by("o_orderpriority")
        .agg(pl.len().alias("order_count"))
        .sort("o_orderpriority")
    )


def q05(t: Tables) -> pl.LazyFrame:
    nations = _nations_of(t, "ASIA").select("n_nationkey", "n_name")
    orders = t["orders"].filter(
        pl.col("o_orderdate").is_between(date(1994, 1, 1), date(1995, 1, 1), "left")
    )
    return (
        t["lineitem"]
        .join(orders, left_on="l_orderkey", right_on="o_orderkey")
        .join(t["customer"], left_on="o_custkey", right_on="c_custkey")
        # l_suppkey = s_suppkey AND c_nationkey = s_nationkey: the supplier must be a
        # compatriot of the customer.
        .join(
            t["supplier"],
            left_on=["l_suppkey", "c_nationkey"],
            right_on=["s_suppkey", "s_nationkey"],
        )
        .join(nations, left_on="c_nationkey", right_on="n_nationkey")
        .group_by("n_name")
        .agg(_DISC_PRICE.sum().alias("revenue"))
        .sort(["revenue", "n_name"], descending=[True, False])
    )


def q06(t: Tables) -> pl.LazyFrame:
    return (
        t["lineitem"]
        .filter(
            pl.col("l_shipdate").is_between(date(1994, 1, 1), date(1995, 1, 1), "left")
            & pl.col("l_discount").cast(pl.Float64).is_between(0.05, 0.07)
            & (pl.col("l_quantity") < 24)
        )
        .select((_PRICE * _DISCOUNT).sum().alias("revenue"))
    )


def q07(t: Tables) -> pl.LazyFrame:
    nations = t["nation"].filter(pl.col("n_name").is_in(["FRANCE", "GERMANY"]))
    suppliers = (
        t["supplier"]
        .join(nations, left_on="s_nationkey", right_on="n_nationkey")
        .select("s_suppkey", pl.col("n_name").alias("supp_nation"))
    )
    customers = (
        t["customer"]
        .join(nations, left_on="c_nationkey", right_on="n_nationkey")
        .select("c_custkey", pl.col("n_name").alias("cust_nation"))
    )
    orders = t["orders"].join(customers, left_on="o_custkey", right_on="c_custkey")
    return (
        t["lineitem"]
        .filter(pl.col("l_shipdate").is_between(date(1995, 1, 1), date(1996, 12, 31)))
        .join(suppliers, left_on="l_suppkey", right_on="s_suppkey")
        .join(orders, left_on="l_orderkey", right_on="o_orderkey")
        # Both nations are FRANCE or GERMANY, so the OR of the two pairs is "they differ".
        .filter(pl.col("supp_nation") != pl.col("cust_nation"))
        .group_by("supp_nation", "cust_nation", pl.col("l_shipdate").dt.year().alias("l_year"))
        .agg(_DISC_PRICE.sum().alias("revenue"))
        .sort("supp_nation", "cust_nation", "l_year")
    )


def q08(t: Tables) -> pl.LazyFrame:
    customers = t["customer"].join(
        _nations_of(t, "AMERICA"), left_on="c_nationkey", right_on="n_nationkey", how="semi"
    )
    orders = (
        t["orders"]
        .filter(pl.col("o_orderdate").is_between(date(1995, 1, 1), date(1996, 12, 31)))
        .join(customers, left_on="o_custkey", right_on="c_custkey", how="semi")
        .select("o_orderkey", pl.col("o_orderdate").dt.year().alias("o_year"))
    )
    parts = t["part"].filter(pl.col("p_type") == "ECONOMY ANODIZED STEEL")
    suppliers = t["supplier"].join(t["nation"], left_on="s_nationkey", right_on="n_nationkey")
    return (
        t["lineitem"]
        .join(parts, left_on="l_partkey", right_on="p_partkey", how="semi")
        .join(orders, left_on="l_orderkey", right_on="o_orderkey")
        .join(suppliers, left_on="l_suppkey", right_on="s_suppkey")
        .with_columns(_DISC_PRICE.alias("volume"))
        .group_by("o_year")
        .agg(
            (
                pl.col("volume").filter(pl.col("n_name") == "BRAZIL").sum() / pl.col("volume").sum()
            ).alias("mkt_share")
        )
        .sort("o_year")
    )


def q09(t: Tables) -> pl.LazyFrame:
    parts = t["part"].filter(pl.col("p_name").str.contains("green", literal=True))
    suppliers = t["supplier"].join(t["nation"], left_on="s_nationkey", right_on="n_nationkey")
    amount = _DISC_PRICE - pl.col("ps_supplycost").cast(pl.Float64) * pl.col("l_quantity").cast(
        pl.Float64
    )
    # The offers of green parts; joining lines with them keeps the lines of green parts.
    offers = t["partsupp"].join(parts, left_on="ps_partkey", right_on="p_partkey", how="semi")
    return (
        t["lineitem"]
        .join(
            offers,
            left_on=["l_partkey", "l_suppkey"],
            right_on=["ps_partkey", "ps_suppkey"],
        )
        .join(suppliers, left_on="l_suppkey", right_on="s_suppkey")
        .join(t["orders"], left_on="l_orderkey", right_on="o_orderkey")
        .group_by(pl.col("n_name").alias("nation"), pl.col("o_orderdate").dt.year().alias("o_year"))
        .agg(amount.sum().alias("sum_profit"))
        .sort(["nation", "o_year"], descending=[False, True])
    )


def q10(t: Tables) -> pl.LazyFrame:
    orders = t["orders"].filter(
        pl.col("o_orderdate").is_between(date(1993, 10, 1), date(1994, 1, 1), "left")
    )
    # Every grouping column but c_custkey depends on c_custkey: sum per customer first,
    # then attach the customer's columns.
    revenue = (
        t["lineitem"]
        .filter(pl.col("l_returnflag") == "R")
        .join(orders, left_on="l_orderkey", right_on="o_orderkey")
        .group_by("o_custkey")
        .agg(_DISC_PRICE.sum().alias("revenue"))
    )
    return (
        t["customer"]
        .join(revenue, left_on="c_custkey", right_on="o_custkey")
        .join(t["nation"], left_on="c_nationkey", right_on="n_nationkey")
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
        .sort(["revenue", "c_custkey"], descending=[True, False])
        .head(20)
    )


def q11(t: Tables) -> pl.LazyFrame:
    nations = t["nation"].filter(pl.col("n_name") == "GERMANY")
    suppliers = t["supplier"].join(
        nations, left_on="s_nationkey", right_on="n_nationkey", how="semi"
    )
    return (
        t["partsupp"]
        .join(suppliers, left_on="ps_suppkey", right_on="s_suppkey", how="semi")
        .group_by("ps_partkey")
        .agg((pl.col("ps_supplycost") * pl.col("ps_availqty")).sum().alias("value"))
        # The subquery's total over all German offers is the sum of the per-part values.
        .filter(pl.col("value") > pl.col("value").sum() * 0.0001)
        .sort(["value", "ps_partkey"], descending=[True, False])
    )


def q12(t: Tables) -> pl.LazyFrame:
    lines = t["lineitem"].filter(
        pl.col("l_shipmode").is_in(["MAIL", "SHIP"])
        & (pl.col("l_commitdate") < pl.col("l_receiptdate"))
        & (pl.col("l_shipdate") < pl.col("l_commitdate"))
        & pl.col("l_receiptdate").is_between(date(1994, 1, 1), date(1995, 1, 1), "left")
    )
    high = pl.col("o_orderpriority").is_in(["1-URGENT", "2-HIGH"])
    return (
        lines.join(t["orders"], left_on="l_orderkey", right_on="o_orderkey")
        .group_by("l_shipmode")
        .agg(high.sum().alias("high_line_count"), (~high).sum().alias("low_line_count"))
        .sort("l_shipmode")
    )


def q13(t: Tables) -> pl.LazyFrame:
    counts = (
        t["orders"]
        .filter(~pl.col("o_comment").str.contains("special.*requests"))
        .group_by("o_custkey")
        .agg(pl.len().alias("c_count"))
    )
    # The LEFT JOIN keeps customers without such orders, with a count of 0.
    return (
        t["customer"]
        .select("c_custkey")
        .join(counts, left_on="c_custkey", right_on="o_custkey", how="left")
        .select(pl.col("c_count").fill_null(0))
        .group_by("c_count")
        .agg(pl.len().alias("custdist"))
        .sort(["custdist", "c_count"], descending=True)
    )


def q14(t: Tables) -> pl.LazyFrame:
    lines = t["lineitem"].filter(
        pl.col("l_shipdate").is_between(date(1995, 9, 1), date(1995, 10, 1), "left")
    )
    return (
        lines.join(t["part"], left_on="l_partkey", right_on="p_partkey")
        .with_columns(_DISC_PRICE.alias("volume"))
        .select(
            (
                100.0
                * pl.col("volume").filter(pl.col("p_type").str.starts_with("PROMO")).sum()
                / pl.col("volume").sum()
            ).alias("promo_revenue")
        )
    )


def q15(t: Tables) -> pl.LazyFrame:
    revenue = (
        t["lineitem"]
        .filter(pl.col("l_shipdate").is_between(date(1996, 1, 1), date(1996, 4, 1), "left"))
        .group_by("l_suppkey")
        .agg(_DISC_PRICE.sum().alias("total_revenue"))
        .filter(pl.col("total_revenue") == pl.col("total_revenue").max())
    )
    return (
        t["supplier"]
        .join(revenue, left_on="s_suppkey", right_on="l_suppkey")
        .select("s_suppkey", "s_name", "s_address", "s_phone", "total_revenue")
        .sort("s_suppkey")
    )


def q16(t: Tables) -> pl.LazyFrame:
    parts = t["part"].filter(
        (pl.col("p_brand") != "Brand#45")
        & ~pl.col("p_type").str.starts_with("MEDIUM POLISHED")
        & pl.col("p_size").is_in([49, 14, 23, 45, 19, 3, 36, 9])
    )
    # NOT IN over a non-null key is an anti join.
    complaints = t["supplier"].filter(pl.col("s_comment").str.contains("Customer.*Complaints"))
    return (
        t["partsupp"]
        .join(complaints, left_on="ps_suppkey", right_on="s_suppkey", how="anti")
        .join(parts, left_on="ps_partkey", right_on="p_partkey")
        .group_by("p_brand", "p_type", "p_size")
        .agg(pl.col("ps_suppkey").n_unique().alias("supplier_cnt"))
        .sort(
            ["supplier_cnt", "p_brand", "p_type", "p_size"],
            descending=[True, False, False, False],
        )
    )


def q17(t: Tables) -> pl.LazyFrame:
    parts = t["part"].filter(
        (pl.col("p_brand") == "Brand#23") & (pl.col("p_container") == "MED BOX")
    )
    quantity = pl.col("l_quantity").cast(pl.Float64)
    return (
        t["lineitem"]
        .join(parts, left_on="l_partkey", right_on="p_partkey", how="semi")
        # The correlated average is over all lines of the part: a window per part.
        .filter(quantity < 0.2 * quantity.mean().over("l_partkey"))
        # SQL's sum over no rows is NULL (it is at scale 0.01), Polars' is 0.
        .select(pl.when(pl.len() > 0).then(_PRICE.sum() / 7.0).alias("avg_yearly"))
    )


def q18(t: Tables) -> pl.LazyFrame:
    # The IN subquery's per-order sum is the answer's total_quantity as well.
    big = (
        t["lineitem"]
        .group_by("l_orderkey")
        .agg(pl.col("l_quantity").sum().alias("total_quantity"))
        .filter(pl.col("total_quantity") > 300)
    )
    return (
        t["orders"]
        .join(big, left_on="o_orderkey", right_on="l_orderkey")
        .join(t["customer"], left_on="o_custkey", right_on="c_custkey")
        .select(
            "c_name",
            pl.col("o_custkey").alias("c_custkey"),
            "o_orderkey",
            "o_orderdate",
            "o_totalprice",
            "total_quantity",
        )
        .sort(["o_totalprice", "o_orderdate", "o_orderkey"], descending=[True, False, False])
        .head(100)
    )


def q19(t: Tables) -> pl.LazyFrame:
    lines = t["lineitem"].filter(
        pl.col("l_shipmode").is_in(["AIR", "AIR REG"])
        & (pl.col("l_shipinstruct") == "DELIVER IN PERSON")
        & pl.col("l_quantity").is_between(1, 30)
    )
    parts = t["part"].filter(
        pl.col("p_brand").is_in(["Brand#12", "Brand#23", "Brand#34"])
        & pl.col("p_size").is_between(1, 15)
    )
    quantity, size, container = pl.col("l_quantity"), pl.col("p_size"), pl.col("p_container")
    return (
        lines.join(parts, left_on="l_partkey", right_on="p_partkey")
        .filter(
            (
                (pl.col("p_brand") == "Brand#12")
                & container.is_in(["SM CASE", "SM BOX", "SM PACK", "SM PKG"])
                & quantity.is_between(1, 11)
                & size.is_between(1, 5)
            )
            | (
                (pl.col("p_brand") == "Brand#23")
                & container.is_in(["MED BAG", "MED BOX", "MED PKG", "MED PACK"])
                & quantity.is_between(10, 20)
                & size.is_between(1, 10)
            )
            | (
                (pl.col("p_brand") == "Brand#34")
                & container.is_in(["LG CASE", "LG BOX", "LG PACK", "LG PKG"])
                & quantity.is_between(20, 30)
                & size.is_between(1, 15)
            )
        )
        .select(_DISC_PRICE.sum().alias("revenue"))
    )


def q20(t: Tables) -> pl.LazyFrame:
    parts = t["part"].filter(pl.col("p_name").str.starts_with("forest"))
    shipped = (
        t["lineitem"]
        .filter(pl.col("l_shipdate").is_between(date(1994, 1, 1), date(1995, 1, 1), "left"))
        .join(parts, left_on="l_partkey", right_on="p_partkey", how="semi")
        .group_by("l_partkey", "l_suppkey")
        .agg(pl.col("l_quantity").sum().alias("shipped"))
    )
    # An offer without shipments has a NULL sum, so the correlated comparison drops it:
    # an inner join with the per-offer sums.
    suppkeys = (
        t["partsupp"]
        .join(shipped, left_on=["ps_partkey", "ps_suppkey"], right_on=["l_partkey", "l_suppkey"])
        .filter(pl.col("ps_availqty") > 0.5 * pl.col("shipped").cast(pl.Float64))
        .select("ps_suppkey")
    )
    nations = t["nation"].filter(pl.col("n_name") == "CANADA")
    return (
        t["supplier"]
        .join(nations, left_on="s_nationkey", right_on="n_nationkey", how="semi")
        .join(suppkeys, left_on="s_suppkey", right_on="ps_suppkey", how="semi")
        .select("s_name", "s_address")
        .sort("s_name")
    )


def q21(t: Tables) -> pl.LazyFrame:
    lineitem = t["lineitem"].select("l_orderkey", "l_suppkey", "l_receiptdate", "l_commitdate")
    is_late = pl.col("l_receiptdate") > pl.col("l_commitdate")
    nations = t["nation"].filter(pl.col("n_name") == "SAUDI ARABIA")
    suppliers = t["supplier"].join(
        nations, left_on="s_nationkey", right_on="n_nationkey", how="semi"
    )
    orders = t["orders"].filter(pl.col("o_orderstatus") == "F")
    # l1: the late lines of Saudi suppliers in finished orders.
    l1 = (
        lineitem.filter(is_late)
        .join(suppliers, left_on="l_suppkey", right_on="s_suppkey")
        .join(orders, left_on="l_orderkey", right_on="o_orderkey", how="semi")
    )
    # l1 is late itself, so EXISTS l2 (another supplier in the order) means the order has
    # more than one supplier, and NOT EXISTS l3 (another late supplier) means the order's
    # late lines all have one supplier. Only the orders of l1 need counting.
    waiting = (
        lineitem.join(l1, on="l_orderkey", how="semi")
        .group_by("l_orderkey")
        .agg(
            pl.col("l_suppkey").n_unique().alias("suppliers"),
            pl.col("l_suppkey").filter(is_late).n_unique().alias("late_suppliers"),
        )
        .filter((pl.col("suppliers") > 1) & (pl.col("late_suppliers") == 1))
    )
    return (
        l1.join(waiting, on="l_orderkey", how="semi")
        .group_by("s_name")
        .agg(pl.len().alias("numwait"))
        .sort(["numwait", "s_name"], descending=[True, False])
        .head(100)
    )


def q22(t: Tables) -> pl.LazyFrame:
    codes = ["13", "31", "23", "29", "30", "18", "17"]
    acctbal = pl.col("c_acctbal")
    return (
        t["customer"]
        .select(pl.col("c_phone").str.slice(0, 2).alias("cntrycode"), "c_acctbal", "c_custkey")
        .filter(pl.col("cntrycode").is_in(codes))
        # The scalar subquery's average is over these same customers (those with one of
        # the codes), so it is an aggregate over the frame, taken before the anti join.
        .filter(acctbal.cast(pl.Float64) > acctbal.filter(acctbal > 0).cast(pl.Float64).mean())
        .join(t["orders"], left_on="c_custkey", right_on="o_custkey", how="anti")
        .group_by("cntrycode")
        .agg(pl.len().alias("numcust"), acctbal.sum().alias("totacctbal"))
        .sort("cntrycode")
    )


QUERIES = numbered(globals(), 22)
