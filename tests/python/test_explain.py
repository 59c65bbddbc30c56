"""EXPLAIN through the lazy API and through SQL."""

from __future__ import annotations

from pathlib import Path

import corepy as cp


def test_lazy_explain_shows_optimized_and_physical_plans(tpch_dir: Path) -> None:
    lf = (
        cp.scan_parquet(tpch_dir / "lineitem.parquet")
        .filter(cp.col("l_quantity") > 45)
        .select("l_orderkey", "l_quantity")
    )
    text = lf.explain()
    assert "== Optimized logical plan ==" in text
    assert "== Physical plan ==" in text
    assert "TableScan: lineitem" in text
    # The filter is pushed into the Parquet scan.
    assert "DataSourceExec" in text and "predicate=" in text


def test_explain_as_written_is_not_optimized(tpch_dir: Path) -> None:
    lf = cp.scan_parquet(tpch_dir / "nation.parquet").filter(cp.col("n_regionkey") == 1)
    text = lf.explain(optimized=False)
    assert text.startswith("== Logical plan ==")
    assert "Filter: lineitem" not in text and "Filter: nation.n_regionkey = Int64(1)" in text
    assert "Physical" not in text


def test_explain_analyze_runs_and_shows_metrics(tpch_dir: Path) -> None:
    lf = cp.scan_parquet(tpch_dir / "nation.parquet").group_by("n_regionkey").agg(cp.len())
    text = lf.explain(analyze=True)
    assert "== Physical plan with metrics ==" in text
    assert "output_rows=" in text and "elapsed_compute=" in text
    assert "5 rows in" in text


def test_sql_explain_variants(tpch_dir: Path) -> None:
    query = f"SELECT count(*) FROM '{tpch_dir}/nation.parquet' WHERE n_regionkey = 2"
    plain = cp.sql(f"EXPLAIN {query}").compute()
    assert plain.columns == ["plan_type", "plan"]
    text = repr(plain)
    assert "== logical_plan ==" in text and "== physical_plan ==" in text
    verbose = repr(cp.sql(f"EXPLAIN VERBOSE {query}").compute())
    assert "initial_logical_plan" in verbose and "physical_plan" in verbose
    analyzed = repr(cp.sql(f"EXPLAIN ANALYZE {query}").compute())
    assert "output_rows=" in analyzed
