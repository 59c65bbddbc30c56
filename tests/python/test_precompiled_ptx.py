"""The precompiled PTX helpers (``codegen/cuda/*.ptx``) are what NVRTC makes of their CUDA
C sources today: regenerating them gives the committed text."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CUDA = Path(__file__).resolve().parents[2] / "codegen" / "cuda"


def test_regenerating_the_precompiled_ptx_gives_the_committed_text(tmp_path: Path) -> None:
    pytest.importorskip("nvidia.cuda_nvrtc", reason="NVRTC wheel (test extras) not installed")
    result = subprocess.run(
        [sys.executable, str(CUDA / "regenerate.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    sources = sorted(CUDA.glob("*.cu"))
    assert sources, "no CUDA sources"
    for source in sources:
        committed = source.with_suffix(".ptx").read_text()
        regenerated = (tmp_path / source.with_suffix(".ptx").name).read_text()
        assert regenerated == committed, f"{source.name}: run codegen/cuda/regenerate.py"
        assert ".version 8.0\n.target sm_80\n" in committed
