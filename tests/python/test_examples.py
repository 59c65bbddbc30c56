"""The example the README's main job runs: the lazy TPC-H Q1 gives the SQL version's answer."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tpch_q1.py"


def test_lazy_q1_agrees_with_sql(tpch_dir: Path) -> None:
    spec = importlib.util.spec_from_file_location("tpch_q1", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    lineitem = tpch_dir / "lineitem.parquet"
    lazy = module.q1_lazy(lineitem).compute().to_pydict()
    assert lazy == module.q1_sql(lineitem).compute().to_pydict()
    assert len(lazy["l_returnflag"]) == 4


def test_the_example_script_reports_agreement(tpch_dir: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(EXAMPLE), str(tpch_dir)], capture_output=True, text=True, check=True
    )
    assert "lazy API and SQL agree: True" in run.stdout
