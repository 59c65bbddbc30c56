"""EXPLAIN through the lazy API and through SQL."""

from __future__ import annotations

import re
from pathlib import Path

import corepy as cp


def titled(text: str) -> list[tuple[str, str]]:
    """An EXPLAIN text's sections in order: (title, text up to the next title), the title of
    ``== Physical plan ==`` being ``"Physical plan"``."""
    parts = re.split(r"^== (.+) ==$", text, flags=re.MULTILINE)
    assert parts[0].strip() == "", f"text before the first section: {parts[0]!r}"
    return list(zip(parts[1::2], parts[2::2], strict=True))


def sections(text: str) -> dict[str, str]:
    """The sections by title, each title once."""
    found = titled(text)
    assert len({title for title, _ in found}) == len(found), f"a section twice: {found}"
    return dict(found)


def line_with(body: str, start: str) -> str:
    """The one line of ``body`` that starts (after its indentation) with ``start``."""
    lines = [line.strip() for line in body.splitlines() if line.strip().startswith(start)]
    assert len(lines) == 1, f"{len(lines)} lines start with {start!r} in:\n{body}"
    return lines[0]


def test_lazy_explain_shows_optimized_and_physical_plans(tpch_dir: Path) -> None:
    lf = (
        cp.scan_parquet(tpch_dir / "lineitem.parquet")
        .filter(cp.col("l_quantity") > 45)
        .select("l_orderkey", "l_quantity")
    )
    plans = sections(lf.explain())
    assert list(plans) == ["Optimized logical plan", "Physical plan"]
    # Only the two columns are read, and the filter is pushed into the Parquet scan: in the
    # logical scan's filters and in the physical scan's predicate.
    scan = line_with(plans["Optimized logical plan"], "TableScan: lineitem")
    assert "projection=[l_orderkey, l_quantity]" in scan
    assert "filters=[lineitem.l_quantity > " in scan
    source = line_with(plans["Physical plan"], "DataSourceExec:")
    assert "predicate=l_quantity@" in source and "projection=[l_orderkey, l_quantity]" in source


def test_explain_as_written_is_not_optimized(tpch_dir: Path) -> None:
    lf = cp.scan_parquet(tpch_dir / "nation.parquet").filter(cp.col("n_regionkey") == 1)
    plans = sections(lf.explain(optimized=False))
    assert list(plans) == ["Logical plan"]
    # As written: the Filter above a scan of every column; no filter pushed down yet.
    assert plans["Logical plan"].strip().splitlines() == [
        "Filter: nation.n_regionkey = Int64(1)",
        "  TableScan: nation",
    ]
    optimized = sections(lf.explain())["Optimized logical plan"]
    assert "filters=[nation.n_regionkey = Int64(1)]" in line_with(optimized, "TableScan: nation")


def test_explain_analyze_runs_and_shows_metrics(tpch_dir: Path) -> None:
    lf = cp.scan_parquet(tpch_dir / "nation.parquet").group_by("n_regionkey").agg(cp.len())
    plans = sections(lf.explain(analyze=True))
    assert list(plans) == ["Optimized logical plan", "Physical plan with metrics", "Summary"]
    metrics = plans["Physical plan with metrics"]
    # The measured rows: 25 nations read, 5 regions out of the final aggregate.
    assert "output_rows=25" in line_with(metrics, "DataSourceExec:")
    top = metrics.strip().splitlines()[0]
    assert top.startswith("AggregateExec: mode=Final")
    assert "output_rows=5" in top and "elapsed_compute=" in top
    assert re.fullmatch(r"5 rows in \d+\.\d{3} s over \d+ partitions", plans["Summary"].strip())


def test_sql_explain_variants(tpch_dir: Path) -> None:
    # The JIT on whatever COREPY_JIT says: the optimizer steps include corepy's fusion.
    session = cp.Session(config=cp.Config(jit=True))
    query = f"SELECT count(*) FROM '{tpch_dir}/nation.parquet' WHERE n_regionkey = 2"
    plain = session.sql(f"EXPLAIN {query}").compute()
    assert plain.columns == ["plan_type", "plan"]
    plans = sections(repr(plain))
    assert list(plans) == ["logical_plan", "physical_plan"]
    assert "n_regionkey = Int64(2)" in plans["logical_plan"]
    assert "DataSourceExec:" in plans["physical_plan"]
    verbose = titled(repr(session.sql(f"EXPLAIN VERBOSE {query}").compute()))
    titles = [title for title, _ in verbose]
    # Every step: the plan before the optimizer, after each rule, and the final plans.
    assert titles[0] == "initial_logical_plan" and "Filter: " in verbose[0][1]
    assert "logical_plan after push_down_filter" in titles
    assert "logical_plan after corepy_fuse_row_wise" in titles
    assert "logical_plan" in titles and "physical_plan" in titles
    analyzed = sections(repr(session.sql(f"EXPLAIN ANALYZE {query}").compute()))
    assert list(analyzed) == ["Plan with Metrics"]
    assert "output_rows=1" in line_with(analyzed["Plan with Metrics"], "ProjectionExec:")


def _upper_and_double(jit: bool) -> cp.LazyFrame:
    frame = cp.Session(config=cp.Config(jit=jit)).from_dict(
        {"s": ["a", "b", None], "x": [1.0, 2.5, 3.0]}
    )
    return frame.filter(cp.col("x") > 1.0).select(
        cp.col("s").str.to_uppercase(), (cp.col("x") * 2.0).alias("y")
    )


def test_explain_kernels_lists_the_kernel_and_what_was_not_fused() -> None:
    plans = sections(_upper_and_double(jit=True).explain(kernels=True))
    assert list(plans) == ["Optimized logical plan", "Physical plan", "Kernels", "Not fused"]
    # The filter and x * 2.0 are one kernel; upper(s) is left to DataFusion's projection.
    kernels = plans["Kernels"]
    assert line_with(kernels, "kernel [rows]") == 'kernel [rows](in0: f64 "x") -> (f64)'
    assert re.search(r"= gt %\d+, %\d+ : bool", kernels)
    assert re.search(r"= mul %\d+, %\d+ : f64", kernels)
    assert "Cranelift IR" in kernels
    not_fused = plans["Not fused"].strip().splitlines()
    assert not_fused[0].startswith("Projection: upper(")
    assert not_fused[1].startswith("  not fused: not supported by kernels: ")
    assert "Utf8" in not_fused[1]
    assert len(not_fused) == 2, "only the projection with the string function is listed"


def test_explain_kernels_without_the_jit_has_no_kernels() -> None:
    plans = sections(_upper_and_double(jit=False).explain(kernels=True))
    assert list(plans) == ["Optimized logical plan", "Physical plan", "Kernels"]
    assert plans["Kernels"].strip() == "(no fused stages)"
    assert "JitExec" not in plans["Physical plan"]
