"""The H2O group-by questions q1 to q10 in corepy's lazy API (the answers of ``sql/qNN.sql``)."""

from __future__ import annotations

from collections.abc import Mapping

import corepy as cp
from bench.suites.numbered import numbered

Tables = Mapping[str, cp.LazyFrame]


def q01(t: Tables) -> cp.LazyFrame:
    return t["x"].group_by("id1").agg(cp.col("v1").sum())


def q02(t: Tables) -> cp.LazyFrame:
    return t["x"].group_by("id1", "id2").agg(cp.col("v1").sum())


def q03(t: Tables) -> cp.LazyFrame:
    return t["x"].group_by("id3").agg(cp.col("v1").sum(), cp.col("v3").mean())


def q04(t: Tables) -> cp.LazyFrame:
    return t["x"].group_by("id4").agg(cp.mean("v1"), cp.mean("v2"), cp.mean("v3"))


def q05(t: Tables) -> cp.LazyFrame:
    return t["x"].group_by("id6").agg(cp.sum("v1"), cp.sum("v2"), cp.sum("v3"))


def q06(t: Tables) -> cp.LazyFrame:
    return (
        t["x"]
        .group_by("id4", "id5")
        .agg(cp.col("v3").median().alias("median_v3"), cp.col("v3").std().alias("sd_v3"))
    )


def q07(t: Tables) -> cp.LazyFrame:
    return (
        t["x"].group_by("id3").agg((cp.col("v1").max() - cp.col("v2").min()).alias("range_v1_v2"))
    )


def q08(t: Tables) -> cp.LazyFrame:
    order = cp.col("v3").rank("ordinal", descending=True).over("id6")
    return (
        t["x"].drop_nulls("v3").filter(order <= 2).select("id6", cp.col("v3").alias("largest2_v3"))
    )


def q09(t: Tables) -> cp.LazyFrame:
    # corepy has no `**` on expressions (listed in bench/README.md): r·r.
    r = cp.corr("v1", "v2")
    return t["x"].group_by("id2", "id4").agg((r * r).alias("r2"))


def q10(t: Tables) -> cp.LazyFrame:
    return (
        t["x"]
        .group_by("id1", "id2", "id3", "id4", "id5", "id6")
        .agg(cp.col("v3").sum(), cp.len().alias("count"))
    )


QUERIES = numbered(globals(), 10)
