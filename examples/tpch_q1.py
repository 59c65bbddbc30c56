"""TPC-H Q1 (abridged) with corepy's lazy API, checked against the SQL version.

Usage: python examples/tpch_q1.py DATA_DIR   (a directory holding lineitem.parquet)
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

import corepy as cp


def q1_lazy(lineitem: Path) -> cp.LazyFrame:
    price = cp.col("l_extendedprice")
    return (
        cp.scan_parquet(lineitem)
        .filter(cp.col("l_shipdate") <= cp.lit(dt.date(1998, 9, 2)))
        .group_by("l_returnflag", "l_linestatus")
        .agg(
            cp.col("l_quantity").sum().alias("sum_qty"),
            (price * (1 - cp.col("l_discount"))).sum().alias("sum_disc_price"),
            cp.col("l_discount").mean().alias("avg_disc"),
            cp.len().alias("count_order"),
        )
        .sort("l_returnflag", "l_linestatus")
    )


def q1_sql(lineitem: Path) -> cp.LazyFrame:
    return cp.sql(
        f"""SELECT l_returnflag, l_linestatus,
               sum(l_quantity) AS sum_qty,
               sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price,
               avg(l_discount) AS avg_disc,
               count(*) AS count_order
        FROM '{lineitem}'
        WHERE l_shipdate <= DATE '1998-09-02'
        GROUP BY l_returnflag, l_linestatus
        ORDER BY l_returnflag, l_linestatus"""
    )


def main() -> None:
    data = Path(sys.argv[1] if len(sys.argv) > 1 else "data/tpch-sf0.1")
    lineitem = data / "lineitem.parquet"
    query = q1_lazy(lineitem)
    print(query.explain())
    started = time.perf_counter()
    result = query.compute()
    elapsed = time.perf_counter() - started
    print(result)
    print(f"computed in {elapsed:.3f} s")
    # Values compared exactly (decimals as decimals). Schemas differ only in nullability: the
    # lazy API's sum of no rows is 0 (Polars), SQL's is NULL, so only SQL's may be null.
    same = result.to_pydict() == q1_sql(lineitem).compute().to_pydict()
    print("lazy API and SQL agree:", same)
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
