"""The corepy command line, run as a user would: as a separate process."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

CLI = [sys.executable, "-m", "corepy.cli"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)


def test_the_corepy_script_is_installed() -> None:
    script = shutil.which("corepy", path=str(Path(sys.executable).parent))
    assert script is not None
    done = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "sql" in done.stdout and "gen" in done.stdout


def test_sql_prints_a_table(tpch_dir: Path) -> None:
    done = run(
        "sql",
        f"SELECT n_regionkey, count(*) AS n FROM '{tpch_dir}/nation.parquet' "
        "GROUP BY n_regionkey ORDER BY n_regionkey",
    )
    assert done.returncode == 0, done.stderr
    assert "| n_regionkey | n |" in done.stdout
    assert "5 rows, 2 columns" in done.stdout


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_output_formats_to_files(tpch_dir: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"regions.{fmt}"
    query = f"SELECT r_regionkey, r_name FROM '{tpch_dir}/region.parquet' ORDER BY r_regionkey"
    done = run("sql", query, "--format", fmt, "--output", str(out))
    assert done.returncode == 0, done.stderr
    if fmt == "csv":
        lines = out.read_text().splitlines()
        assert lines[0] == "r_regionkey,r_name" and lines[1] == "0,AFRICA"
    elif fmt == "json":
        rows = json.loads(out.read_text())
        assert rows[0] == {"r_regionkey": 0, "r_name": "AFRICA"} and len(rows) == 5
    else:
        assert pq.read_table(out).num_rows == 5


def test_csv_to_stdout() -> None:
    done = run("sql", "SELECT 1 AS a, 'x' AS b", "--format", "csv")
    assert done.stdout == "a,b\n1,x\n"


def test_explain_prints_plans(tpch_dir: Path) -> None:
    done = run("sql", f"EXPLAIN SELECT * FROM '{tpch_dir}/region.parquet' WHERE r_regionkey > 2")
    assert done.returncode == 0, done.stderr
    assert "== logical_plan ==" in done.stdout and "== physical_plan ==" in done.stdout
    done = run("sql", f"EXPLAIN ANALYZE SELECT count(*) FROM '{tpch_dir}/region.parquet'")
    assert "output_rows=" in done.stdout


def test_failed_query_leaves_no_output_file(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    done = run("sql", "SELECT 1 / 0 AS x", "--format", "csv", "--output", str(out))
    assert done.returncode == 1
    assert "error:" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_errors_name_the_problem(tmp_path: Path) -> None:
    done = run("sql", f"SELECT * FROM '{tmp_path}/missing.parquet'")
    assert done.returncode == 1
    assert "missing.parquet" in done.stderr and "Traceback" not in done.stderr
    done = run("sql", "SELEC 1")
    assert done.returncode == 1 and "SQL error" in done.stderr


def test_usage_error_exits_with_two() -> None:
    done = run("sql", "SELECT 1", "--format", "xml")
    assert done.returncode == 2 and "xml" in done.stderr


def test_gen_tpch(tmp_path: Path) -> None:
    done = run("gen", "tpch", "--scale", "0.001", "--output", str(tmp_path / "tpch"))
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in (tmp_path / "tpch").iterdir())
    assert names == sorted(
        f"{t}.parquet"
        for t in [
            "region",
            "nation",
            "supplier",
            "customer",
            "part",
            "partsupp",
            "orders",
            "lineitem",
        ]
    )
    assert pq.read_table(tmp_path / "tpch" / "nation.parquet").num_rows == 25
    bad = run("gen", "tpch", "--scale", "-1", "--output", str(tmp_path / "x"))
    assert bad.returncode == 1 and "scale" in bad.stderr
