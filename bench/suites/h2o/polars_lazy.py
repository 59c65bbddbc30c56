"""The H2O group-by questions q1 to q10 in Polars' lazy API (the answers of ``sql/qNN.sql``)."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from bench.suites.numbered import numbered

Tables = Mapping[str, pl.LazyFrame]


def q01(t: Tables) -> pl.LazyFrame:
    return t["x"].group_by("id1").agg(pl.col("v1").sum())


def q02(t: Tables) -> pl.LazyFrame:
    return t["x"].group_by("id1", "id2").agg(pl.col("v1").sum())


def q03(t: Tables) -> pl.LazyFrame:
    return t["x"].group_by("id3").agg(pl.col("v1").sum(), pl.col("v3").mean())


def q04(t: Tables) -> pl.LazyFrame:
    return t["x"].group_by("id4").agg(pl.col("v1", "v2", "v3").mean())


def q05(t: Tables) -> pl.LazyFrame:
    return t["x"].group_by("id6").agg(pl.col("v1", "v2", "v3").sum())


def q06(t: Tables) -> pl.LazyFrame:
    return (
        t["x"]
        .group_by("id4", "id5")
        .agg(pl.col("v3").median().alias("median_v3"), pl.col("v3").std().alias("sd_v3"))
    )


def q07(t: Tables) -> pl.LazyFrame:
    return (
        t["x"].group_by("id3").agg((pl.col("v1").max() - pl.col("v2").min()).alias("range_v1_v2"))
    )


def q08(t: Tables) -> pl.LazyFrame:
    return (
        t["x"]
        .drop_nulls("v3")
        .group_by("id6")
        .agg(pl.col("v3").top_k(2).alias("largest2_v3"))
        .explode("largest2_v3")
    )


def q09(t: Tables) -> pl.LazyFrame:
    return t["x"].group_by("id2", "id4").agg((pl.corr("v1", "v2") ** 2).alias("r2"))


def q10(t: Tables) -> pl.LazyFrame:
    return (
        t["x"]
        .group_by("id1", "id2", "id3", "id4", "id5", "id6")
        .agg(pl.col("v3").sum(), pl.len().alias("count"))
    )


QUERIES = numbered(globals(), 10)
