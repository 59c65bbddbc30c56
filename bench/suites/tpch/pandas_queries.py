"""The 22 TPC-H queries in pandas, for timing pandas against the SQL engines.

Each ``qNN(t)`` takes the eight tables as data frames read by :func:`load` (``t["lineitem"]``
is ``load(".../lineitem.parquet")``, and so on) and returns a data frame with the columns,
rows and row order of ``sql/qNN.sql`` (validation parameters, the same ORDER BY tie-breakers
and LIMIT).

:func:`load` reads the money columns (``decimal(15, 2)`` in the files) as ``float64`` and the
dates (``date32``) as ``datetime64[ms]``, pandas' native types for them. A date in an answer
is turned back into ``datetime.date`` values, so it converts to Arrow as a date, as SQL's does.
Where the ORDER BY is the grouping keys ascending, ``groupby``'s sorted keys give the order.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from bench.suites.numbered import numbered

Tables = Mapping[str, pd.DataFrame]


def load(path: str | Path) -> pd.DataFrame:
    """A Parquet file as a data frame, with decimal columns as ``float64`` and ``date32``
    columns as ``datetime64[ms]``."""
    table = pq.read_table(path)
    fields = []
    for field in table.schema:
        if pa.types.is_decimal(field.type):
            field = field.with_type(pa.float64())
        elif pa.types.is_date32(field.type):
            field = field.with_type(pa.timestamp("ms"))
        fields.append(field)
    return table.cast(pa.schema(fields)).to_pandas()


def _as_date(column: pd.Series) -> pd.Series:
    """A ``datetime64`` answer column as ``datetime.date`` values (SQL's DATE)."""
    return column.dt.date


def _nation_keys_of(t: Tables, region: str) -> pd.DataFrame:
    """``n_nationkey, n_name`` of the nations in ``region``."""
    regions = t["region"]
    keys = regions.loc[regions["r_name"] == region, "r_regionkey"]
    nation = t["nation"]
    return nation.loc[nation["n_regionkey"].isin(keys), ["n_nationkey", "n_name"]]


def q01(t: Tables) -> pd.DataFrame:
    li = t["lineitem"]
    li = li.loc[
        li["l_shipdate"] <= pd.Timestamp("1998-09-02"),
        ["l_returnflag", "l_linestatus", "l_quantity", "l_extendedprice", "l_discount", "l_tax"],
    ]
    disc_price = li["l_extendedprice"] * (1 - li["l_discount"])
    li = li.assign(disc_price=disc_price, charge=disc_price * (1 + li["l_tax"]))
    return li.groupby(["l_returnflag", "l_linestatus"], as_index=False).agg(
        sum_qty=("l_quantity", "sum"),
        sum_base_price=("l_extendedprice", "sum"),
        sum_disc_price=("disc_price", "sum"),
        sum_charge=("charge", "sum"),
        avg_qty=("l_quantity", "mean"),
        avg_price=("l_extendedprice", "mean"),
        avg_disc=("l_discount", "mean"),
        count_order=("l_quantity", "size"),
    )


def q02(t: Tables) -> pd.DataFrame:
    supplier = t["supplier"].merge(
        _nation_keys_of(t, "EUROPE"), left_on="s_nationkey", right_on="n_nationkey"
    )
    part = t["part"]
    parts = part.loc[
        (part["p_size"] == 15) & part["p_type"].str.endswith("BRASS"), ["p_partkey", "p_mfgr"]
    ]
    offers = (
        t["partsupp"][["ps_partkey", "ps_suppkey", "ps_supplycost"]]
        .merge(parts, left_on="ps_partkey", right_on="p_partkey")
        .merge(supplier, left_on="ps_suppkey", right_on="s_suppkey")
    )
    # The correlated min(ps_supplycost) is over the same European offers of the part.
    cheapest = offers["ps_supplycost"] == offers.groupby("ps_partkey")["ps_supplycost"].transform(
        "min"
    )
    columns = ["s_acctbal", "s_name", "n_name", "p_partkey", "p_mfgr"]
    columns += ["s_address", "s_phone", "s_comment"]
    return (
        offers.loc[cheapest, columns]
        .sort_values(
            ["s_acctbal", "n_name", "s_name", "p_partkey"],
            ascending=[False, True, True, True],
            ignore_index=True,
        )
        .head(100)
    )


def q03(t: Tables) -> pd.DataFrame:
    cutoff = pd.Timestamp("1995-03-15")
    customer = t["customer"]
    custkeys = customer.loc[customer["c_mktsegment"] == "BUILDING", "c_custkey"]
    orders = t["orders"]
    orders = orders.loc[
        (orders["o_orderdate"] < cutoff) & orders["o_custkey"].isin(custkeys),
        ["o_orderkey", "o_orderdate", "o_shippriority"],
    ]
    li = t["lineitem"]
    li = li.loc[li["l_shipdate"] > cutoff, ["l_orderkey", "l_extendedprice", "l_discount"]]
    lines = li.merge(orders, left_on="l_orderkey", right_on="o_orderkey")
    lines["revenue"] = lines["l_extendedprice"] * (1 - lines["l_discount"])
    keys = ["l_orderkey", "o_orderdate", "o_shippriority"]
    out = (
        lines.groupby(keys, as_index=False, sort=False)["revenue"]
        .sum()
        .sort_values(
            ["revenue", "o_orderdate", "l_orderkey"],
            ascending=[False, True, True],
            ignore_index=True,
        )
        .head(10)
    )
    out["o_orderdate"] = _as_date(out["o_orderdate"])
    return out[["l_orderkey", "revenue", "o_orderdate", "o_shippriority"]]


def q04(t: Tables) -> pd.DataFrame:
    li = t["lineitem"]
    late = li.loc[li["l_commitdate"] < li["l_receiptdate"], "l_orderkey"]
    orders = t["orders"]
    orders = orders.loc[
        (orders["o_orderdate"] >= pd.Timestamp("1993-07-01"))
        & (orders["o_orderdate"] < pd.Timestamp("1993-10-01"))
        & orders["o_orderkey"].isin(late)
    ]
    return orders.groupby("o_orderpriority").size().reset_index(name="order_count")


def q05(t: Tables) -> pd.DataFrame:
    nations = _nation_keys_of(t, "ASIA")
    customer = t["customer"]
    customers = customer.loc[
        customer["c_nationkey"].isin(nations["n_nationkey"]), ["c_custkey", "c_nationkey"]
    ]
    supplier = t["supplier"]
    suppliers = supplier.loc[
        supplier["s_nationkey"].isin(nations["n_nationkey"]), ["s_suppkey", "s_nationkey"]
    ]
    orders = t["orders"]
    orders = orders.loc[
        (orders["o_orderdate"] >= pd.Timestamp("1994-01-01"))
        & (orders["o_orderdate"] < pd.Timestamp("1995-01-01")),
        ["o_orderkey", "o_custkey"],
    ].merge(customers, left_on="o_custkey", right_on="c_custkey")
    lines = (
        t["lineitem"][["l_orderkey", "l_suppkey", "l_extendedprice", "l_discount"]]
        .merge(orders, left_on="l_orderkey", right_on="o_orderkey")
        # l_suppkey = s_suppkey AND c_nationkey = s_nationkey: the supplier must be a
        # compatriot of the customer.
        .merge(
            suppliers, left_on=["l_suppkey", "c_nationkey"], right_on=["s_suppkey", "s_nationkey"]
        )
        .merge(nations, left_on="c_nationkey", right_on="n_nationkey")
    )
    lines["revenue"] = lines["l_extendedprice"] * (1 - lines["l_discount"])
    return (
        lines.groupby("n_name", as_index=False)["revenue"]
        .sum()
        .sort_values(["revenue", "n_name"], ascending=[False, True], ignore_index=True)
    )


def q06(t: Tables) -> pd.DataFrame:
    li = t["lineitem"]
    lines = li.loc[
        (li["l_shipdate"] >= pd.Timestamp("1994-01-01"))
        & (li["l_shipdate"] < pd.Timestamp("1995-01-01"))
        & li["l_discount"].between(0.05, 0.07)
        & (li["l_quantity"] < 24)
    ]
    revenue = (lines["l_extendedprice"] * lines["l_discount"]).sum(min_count=1)
    return pd.DataFrame({"revenue": [revenue]})


def q07(t: Tables) -> pd.DataFrame:
    nation = t["nation"]
    nations = nation.loc[nation["n_name"].isin(["FRANCE", "GERMANY"]), ["n_nationkey", "n_name"]]
    suppliers = (
        t["supplier"][["s_suppkey", "s_nationkey"]]
        .merge(nations, left_on="s_nationkey", right_on="n_nationkey")
        .rename(columns={"n_name": "supp_nation"})[["s_suppkey", "supp_nation"]]
    )
    customers = (
        t["customer"][["c_custkey", "c_nationkey"]]
        .merge(nations, left_on="c_nationkey", right_on="n_nationkey")
        .rename(columns={"n_name": "cust_nation"})[["c_custkey", "cust_nation"]]
    )
    orders = t["orders"][["o_orderkey", "o_custkey"]].merge(
        customers, left_on="o_custkey", right_on="c_custkey"
    )
    li = t["lineitem"]
    li = li.loc[
        li["l_shipdate"].between(pd.Timestamp("1995-01-01"), pd.Timestamp("1996-12-31")),
        ["l_orderkey", "l_suppkey", "l_shipdate", "l_extendedprice", "l_discount"],
    ]
    lines = li.merge(suppliers, left_on="l_suppkey", right_on="s_suppkey").merge(
        orders, left_on="l_orderkey", right_on="o_orderkey"
    )
    # Both nations are FRANCE or GERMANY, so the OR of the two pairs is "they differ".
    lines = lines.loc[lines["supp_nation"] != lines["cust_nation"]]
    lines = lines.assign(
        l_year=lines["l_shipdate"].dt.year,
        revenue=lines["l_extendedprice"] * (1 - lines["l_discount"]),
    )
    return lines.groupby(["supp_nation", "cust_nation", "l_year"], as_index=False)["revenue"].sum()


def q08(t: Tables) -> pd.DataFrame:
    customer = t["customer"]
    custkeys = customer.loc[
        customer["c_nationkey"].isin(_nation_keys_of(t, "AMERICA")["n_nationkey"]), "c_custkey"
    ]
    orders = t["orders"]
    orders = orders.loc[
        orders["o_orderdate"].between(pd.Timestamp("1995-01-01"), pd.Timestamp("1996-12-31"))
        & orders["o_custkey"].isin(custkeys),
        ["o_orderkey", "o_orderdate"],
    ]
    part = t["part"]
    partkeys = part.loc[part["p_type"] == "ECONOMY ANODIZED STEEL", "p_partkey"]
    suppliers = t["supplier"][["s_suppkey", "s_nationkey"]].merge(
        t["nation"][["n_nationkey", "n_name"]], left_on="s_nationkey", right_on="n_nationkey"
    )
    li = t["lineitem"]
    lines = (
        li.loc[
            li["l_partkey"].isin(partkeys),
            ["l_orderkey", "l_suppkey", "l_extendedprice", "l_discount"],
        ]
        .merge(orders, left_on="l_orderkey", right_on="o_orderkey")
        .merge(suppliers, left_on="l_suppkey", right_on="s_suppkey")
    )
    volume = lines["l_extendedprice"] * (1 - lines["l_discount"])
    lines = lines.assign(
        o_year=lines["o_orderdate"].dt.year,
        volume=volume,
        brazil=volume.where(lines["n_name"] == "BRAZIL", 0.0),
    )
    sums = lines.groupby("o_year", as_index=False)[["brazil", "volume"]].sum()
    sums["mkt_share"] = sums["brazil"] / sums["volume"]
    return sums[["o_year", "mkt_share"]]


def q09(t: Tables) -> pd.DataFrame:
    part = t["part"]
    partkeys = part.loc[part["p_name"].str.contains("green", regex=False), "p_partkey"]
    partsupp = t["partsupp"]
    offers = partsupp.loc[
        partsupp["ps_partkey"].isin(partkeys), ["ps_partkey", "ps_suppkey", "ps_supplycost"]
    ]
    suppliers = t["supplier"][["s_suppkey", "s_nationkey"]].merge(
        t["nation"][["n_nationkey", "n_name"]], left_on="s_nationkey", right_on="n_nationkey"
    )
    li = t["lineitem"]
    lines = (
        li.loc[
            li["l_partkey"].isin(partkeys),
            ["l_orderkey", "l_partkey", "l_suppkey", "l_quantity", "l_extendedprice", "l_discount"],
        ]
        .merge(offers, left_on=["l_partkey", "l_suppkey"], right_on=["ps_partkey", "ps_suppkey"])
        .merge(suppliers, left_on="l_suppkey", right_on="s_suppkey")
        .merge(
            t["orders"][["o_orderkey", "o_orderdate"]], left_on="l_orderkey", right_on="o_orderkey"
        )
    )
    lines = lines.assign(
        nation=lines["n_name"],
        o_year=lines["o_orderdate"].dt.year,
        sum_profit=lines["l_extendedprice"] * (1 - lines["l_discount"])
        - lines["ps_supplycost"] * lines["l_quantity"],
    )
    return (
        lines.groupby(["nation", "o_year"], as_index=False)["sum_profit"]
        .sum()
        .sort_values(["nation", "o_year"], ascending=[True, False], ignore_index=True)
    )


def q10(t: Tables) -> pd.DataFrame:
    orders = t["orders"]
    orders = orders.loc[
        (orders["o_orderdate"] >= pd.Timestamp("1993-10-01"))
        & (orders["o_orderdate"] < pd.Timestamp("1994-01-01")),
        ["o_orderkey", "o_custkey"],
    ]
    li = t["lineitem"]
    lines = li.loc[
        li["l_returnflag"] == "R", ["l_orderkey", "l_extendedprice", "l_discount"]
    ].merge(orders, left_on="l_orderkey", right_on="o_orderkey")
    lines["revenue"] = lines["l_extendedprice"] * (1 - lines["l_discount"])
    # Every grouping column but c_custkey depends on c_custkey: sum per customer first,
    # then attach the customer's columns.
    revenue = lines.groupby("o_custkey", as_index=False, sort=False)["revenue"].sum()
    columns = ["c_custkey", "c_name", "revenue", "c_acctbal", "n_name"]
    columns += ["c_address", "c_phone", "c_comment"]
    return (
        t["customer"]
        .merge(revenue, left_on="c_custkey", right_on="o_custkey")
        .merge(
            t["nation"][["n_nationkey", "n_name"]], left_on="c_nationkey", right_on="n_nationkey"
        )
        .sort_values(["revenue", "c_custkey"], ascending=[False, True], ignore_index=True)
        .head(20)[columns]
    )


def q11(t: Tables) -> pd.DataFrame:
    nation = t["nation"]
    supplier = t["supplier"]
    suppkeys = supplier.loc[
        supplier["s_nationkey"].isin(nation.loc[nation["n_name"] == "GERMANY", "n_nationkey"]),
        "s_suppkey",
    ]
    partsupp = t["partsupp"]
    offers = partsupp.loc[partsupp["ps_suppkey"].isin(suppkeys)]
    offers = offers.assign(value=offers["ps_supplycost"] * offers["ps_availqty"])
    values = offers.groupby("ps_partkey", as_index=False, sort=False)["value"].sum()
    # The subquery's total over all German offers is the sum of the per-part values.
    values = values.loc[values["value"] > values["value"].sum() * 0.0001]
    return values.sort_values(["value", "ps_partkey"], ascending=[False, True], ignore_index=True)


def q12(t: Tables) -> pd.DataFrame:
    li = t["lineitem"]
    lines = li.loc[
        li["l_shipmode"].isin(["MAIL", "SHIP"])
        & (li["l_commitdate"] < li["l_receiptdate"])
        & (li["l_shipdate"] < li["l_commitdate"])
        & (li["l_receiptdate"] >= pd.Timestamp("1994-01-01"))
        & (li["l_receiptdate"] < pd.Timestamp("1995-01-01")),
        ["l_orderkey", "l_shipmode"],
    ].merge(
        t["orders"][["o_orderkey", "o_orderpriority"]], left_on="l_orderkey", right_on="o_orderkey"
    )
    high = lines["o_orderpriority"].isin(["1-URGENT", "2-HIGH"])
    lines = lines.assign(
        high_line_count=high.astype("int64"), low_line_count=(~high).astype("int64")
    )
    return lines.groupby("l_shipmode", as_index=False)[["high_line_count", "low_line_count"]].sum()


def q13(t: Tables) -> pd.DataFrame:
    orders = t["orders"]
    kept = ~orders["o_comment"].str.contains("special.*requests", regex=True)
    counts = orders.loc[kept, "o_custkey"].value_counts()
    # The LEFT JOIN keeps customers without such orders, with a count of 0.
    c_count = counts.reindex(t["customer"]["c_custkey"], fill_value=0)
    return (
        c_count.value_counts()
        .rename_axis("c_count")
        .reset_index(name="custdist")
        .sort_values(["custdist", "c_count"], ascending=False, ignore_index=True)
    )


def q14(t: Tables) -> pd.DataFrame:
    li = t["lineitem"]
    lines = li.loc[
        (li["l_shipdate"] >= pd.Timestamp("1995-09-01"))
        & (li["l_shipdate"] < pd.Timestamp("1995-10-01")),
        ["l_partkey", "l_extendedprice", "l_discount"],
    ].merge(t["part"][["p_partkey", "p_type"]], left_on="l_partkey", right_on="p_partkey")
    volume = lines["l_extendedprice"] * (1 - lines["l_discount"])
    promo = volume.where(lines["p_type"].str.startswith("PROMO"), 0.0).sum()
    return pd.DataFrame({"promo_revenue": [100.0 * promo / volume.sum()]})


def q15(t: Tables) -> pd.DataFrame:
    li = t["lineitem"]
    lines = li.loc[
        (li["l_shipdate"] >= pd.Timestamp("1996-01-01"))
        & (li["l_shipdate"] < pd.Timestamp("1996-04-01")),
        ["l_suppkey", "l_extendedprice", "l_discount"],
    ]
    lines = lines.assign(total_revenue=lines["l_extendedprice"] * (1 - lines["l_discount"]))
    revenue = lines.groupby("l_suppkey", as_index=False, sort=False)["total_revenue"].sum()
    revenue = revenue.loc[revenue["total_revenue"] == revenue["total_revenue"].max()]
    return (
        t["supplier"]
        .merge(revenue, left_on="s_suppkey", right_on="l_suppkey")
        .sort_values("s_suppkey", ignore_index=True)[
            ["s_suppkey", "s_name", "s_address", "s_phone", "total_revenue"]
        ]
    )


def q16(t: Tables) -> pd.DataFrame:
    part = t["part"]
    parts = part.loc[
        (part["p_brand"] != "Brand#45")
        & ~part["p_type"].str.startswith("MEDIUM POLISHED")
        & part["p_size"].isin([49, 14, 23, 45, 19, 3, 36, 9]),
        ["p_partkey", "p_brand", "p_type", "p_size"],
    ]
    supplier = t["supplier"]
    complaints = supplier.loc[
        supplier["s_comment"].str.contains("Customer.*Complaints", regex=True), "s_suppkey"
    ]
    partsupp = t["partsupp"]
    # NOT IN over a non-null key is an anti join.
    offers = partsupp.loc[
        ~partsupp["ps_suppkey"].isin(complaints), ["ps_partkey", "ps_suppkey"]
    ].merge(parts, left_on="ps_partkey", right_on="p_partkey")
    return (
        offers.groupby(["p_brand", "p_type", "p_size"], as_index=False, sort=False)["ps_suppkey"]
        .nunique()
        .rename(columns={"ps_suppkey": "supplier_cnt"})
        .sort_values(
            ["supplier_cnt", "p_brand", "p_type", "p_size"],
            ascending=[False, True, True, True],
            ignore_index=True,
        )
    )


def q17(t: Tables) -> pd.DataFrame:
    part = t["part"]
    partkeys = part.loc[
        (part["p_brand"] == "Brand#23") & (part["p_container"] == "MED BOX"), "p_partkey"
    ]
    li = t["lineitem"]
    lines = li.loc[li["l_partkey"].isin(partkeys), ["l_partkey", "l_quantity", "l_extendedprice"]]
    # The correlated average is over all lines of the part.
    average = lines.groupby("l_partkey")["l_quantity"].transform("mean")
    small = lines.loc[lines["l_quantity"] < 0.2 * average, "l_extendedprice"]
    # min_count=1: SQL's sum over no rows is NULL (it is at scale 0.01).
    return pd.DataFrame({"avg_yearly": [small.sum(min_count=1) / 7.0]})


def q18(t: Tables) -> pd.DataFrame:
    # The IN subquery's per-order sum is the answer's total_quantity as well.
    quantity = t["lineitem"].groupby("l_orderkey", sort=False)["l_quantity"].sum()
    big = quantity[quantity > 300].rename("total_quantity").reset_index()
    out = (
        t["orders"][["o_orderkey", "o_custkey", "o_orderdate", "o_totalprice"]]
        .merge(big, left_on="o_orderkey", right_on="l_orderkey")
        .merge(t["customer"][["c_custkey", "c_name"]], left_on="o_custkey", right_on="c_custkey")
        .sort_values(
            ["o_totalprice", "o_orderdate", "o_orderkey"],
            ascending=[False, True, True],
            ignore_index=True,
        )
        .head(100)
    )
    out["o_orderdate"] = _as_date(out["o_orderdate"])
    return out[
        ["c_name", "c_custkey", "o_orderkey", "o_orderdate", "o_totalprice", "total_quantity"]
    ]


def q19(t: Tables) -> pd.DataFrame:
    li = t["lineitem"]
    lines = li.loc[
        li["l_shipmode"].isin(["AIR", "AIR REG"])
        & (li["l_shipinstruct"] == "DELIVER IN PERSON")
        & li["l_quantity"].between(1, 30),
        ["l_partkey", "l_quantity", "l_extendedprice", "l_discount"],
    ]
    part = t["part"]
    parts = part.loc[
        part["p_brand"].isin(["Brand#12", "Brand#23", "Brand#34"]) & part["p_size"].between(1, 15),
        ["p_partkey", "p_brand", "p_container", "p_size"],
    ]
    j = lines.merge(parts, left_on="l_partkey", right_on="p_partkey")
    brand, container, quantity, size = j["p_brand"], j["p_container"], j["l_quantity"], j["p_size"]
    chosen = (
        (
            (brand == "Brand#12")
            & container.isin(["SM CASE", "SM BOX", "SM PACK", "SM PKG"])
            & quantity.between(1, 11)
            & size.between(1, 5)
        )
        | (
            (brand == "Brand#23")
            & container.isin(["MED BAG", "MED BOX", "MED PKG", "MED PACK"])
            & quantity.between(10, 20)
            & size.between(1, 10)
        )
        | (
            (brand == "Brand#34")
            & container.isin(["LG CASE", "LG BOX", "LG PACK", "LG PKG"])
            & quantity.between(20, 30)
            & size.between(1, 15)
        )
    )
    j = j.loc[chosen]
    revenue = (j["l_extendedprice"] * (1 - j["l_discount"])).sum(min_count=1)
    return pd.DataFrame({"revenue": [revenue]})


def q20(t: Tables) -> pd.DataFrame:
    part = t["part"]
    partkeys = part.loc[part["p_name"].str.startswith("forest"), "p_partkey"]
    li = t["lineitem"]
    shipped = (
        li.loc[
            (li["l_shipdate"] >= pd.Timestamp("1994-01-01"))
            & (li["l_shipdate"] < pd.Timestamp("1995-01-01"))
            & li["l_partkey"].isin(partkeys),
            ["l_partkey", "l_suppkey", "l_quantity"],
        ]
        .groupby(["l_partkey", "l_suppkey"], as_index=False, sort=False)["l_quantity"]
        .sum()
    )
    # An offer without shipments has a NULL sum, so the correlated comparison drops it:
    # an inner join with the per-offer sums.
    offers = t["partsupp"][["ps_partkey", "ps_suppkey", "ps_availqty"]].merge(
        shipped, left_on=["ps_partkey", "ps_suppkey"], right_on=["l_partkey", "l_suppkey"]
    )
    suppkeys = offers.loc[offers["ps_availqty"] > 0.5 * offers["l_quantity"], "ps_suppkey"]
    nation = t["nation"]
    supplier = t["supplier"]
    suppliers = supplier.loc[
        supplier["s_nationkey"].isin(nation.loc[nation["n_name"] == "CANADA", "n_nationkey"])
        & supplier["s_suppkey"].isin(suppkeys),
        ["s_name", "s_address"],
    ]
    return suppliers.sort_values("s_name", ignore_index=True)


def q21(t: Tables) -> pd.DataFrame:
    li = t["lineitem"]
    is_late = li["l_receiptdate"] > li["l_commitdate"]
    nation = t["nation"]
    supplier = t["supplier"]
    suppliers = supplier.loc[
        supplier["s_nationkey"].isin(nation.loc[nation["n_name"] == "SAUDI ARABIA", "n_nationkey"]),
        ["s_suppkey", "s_name"],
    ]
    orders = t["orders"]
    finished = orders.loc[orders["o_orderstatus"] == "F", "o_orderkey"]
    # l1: the late lines of Saudi suppliers in finished orders.
    l1 = li.loc[is_late, ["l_orderkey", "l_suppkey"]].merge(
        suppliers, left_on="l_suppkey", right_on="s_suppkey"
    )
    l1 = l1.loc[l1["l_orderkey"].isin(finished)]
    # l1 is late itself, so EXISTS l2 (another supplier in the order) means the order has
    # more than one supplier, and NOT EXISTS l3 (another late supplier) means the order's
    # late lines all have one supplier. Only the orders of l1 need counting.
    in_l1 = li["l_orderkey"].isin(l1["l_orderkey"])
    lines = li.loc[in_l1, ["l_orderkey", "l_suppkey"]]
    suppliers_per_order = lines.groupby("l_orderkey")["l_suppkey"].nunique()
    late_suppliers_per_order = (
        lines.loc[is_late[in_l1]].groupby("l_orderkey")["l_suppkey"].nunique()
    )
    waiting = suppliers_per_order.index[
        (suppliers_per_order > 1)
        & (late_suppliers_per_order.reindex(suppliers_per_order.index) == 1)
    ]
    return (
        l1.loc[l1["l_orderkey"].isin(waiting)]
        .groupby("s_name")
        .size()
        .reset_index(name="numwait")
        .sort_values(["numwait", "s_name"], ascending=[False, True], ignore_index=True)
        .head(100)
    )


def q22(t: Tables) -> pd.DataFrame:
    customer = t["customer"]
    customers = customer[["c_custkey", "c_acctbal"]].assign(cntrycode=customer["c_phone"].str[:2])
    customers = customers.loc[
        customers["cntrycode"].isin(["13", "31", "23", "29", "30", "18", "17"])
    ]
    # The scalar subquery's average is over these same customers (those with one of the
    # codes), so it is taken before the anti join.
    acctbal = customers["c_acctbal"]
    customers = customers.loc[acctbal > acctbal[acctbal > 0].mean()]
    customers = customers.loc[~customers["c_custkey"].isin(t["orders"]["o_custkey"])]
    return customers.groupby("cntrycode", as_index=False).agg(
        numcust=("c_custkey", "size"), totacctbal=("c_acctbal", "sum")
    )


QUERIES = numbered(globals(), 22)
