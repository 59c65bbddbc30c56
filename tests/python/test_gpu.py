"""GPU placement from Python: devices asked for, the fallback chain, EXPLAIN with PTX, the
PTX dump, and (where a GPU is present) the GPU's answers against the CPU's.

Most machines that run these tests have no GPU: the fallback tests run there (and in a
subprocess with ``COREPY_GPU=0`` everywhere); the tests that need a GPU skip without one
and run in ``tests/gpu/run.sh`` on a GPU machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import corepy as cp

HAS_GPU, GPU_WHY = cp.gpu_available()
# Only fused stages run on a GPU: the frame tests fuse whatever COREPY_JIT says.
FUSING = cp.Session(config=cp.Config(jit=True))
needs_no_gpu = pytest.mark.skipif(HAS_GPU, reason="a GPU is present")
needs_gpu = pytest.mark.skipif(not HAS_GPU, reason=f"no GPU: {GPU_WHY}")


def frame() -> cp.LazyFrame:
    rng = np.random.default_rng(7)
    n = 5000
    a = rng.integers(-1000, 1000, n)
    b = rng.normal(size=n)
    b[::17] = np.nan
    table = pa.table(
        {
            "a": pa.array(a, mask=rng.random(n) < 0.1),
            "b": pa.array(b, mask=rng.random(n) < 0.05),
            "c": pa.array(rng.integers(1, 50, n).astype(np.int32)),
        }
    )
    return FUSING.from_arrow(table)


def query(lf: cp.LazyFrame) -> cp.LazyFrame:
    return lf.filter((cp.col("a") > -500) & (cp.col("b") < 1.5)).select(
        (cp.col("a") * 3 + cp.col("c")).alias("x"),
        (cp.col("b") * 2.0 - 1.0).alias("y"),
        (cp.col("a") // cp.col("c")).alias("q"),
        (cp.col("b") > 0).alias("positive"),
    )


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "COREPY_JIT": "1", **env},
        timeout=120,
    )


@needs_no_gpu
def test_cuda_without_a_gpu_warns_names_the_stage_and_gives_the_cpu_answer() -> None:
    lf = query(frame())
    expected = lf.compute().to_pydict()
    with pytest.warns(cp.GpuFallbackWarning) as caught:
        got = lf.compute(device="cuda").to_pydict()
    assert got == expected
    message = str(caught[0].message)
    assert "stage `" in message and "runs on the CPU" in message, message
    assert "no GPU" in message and ("driver" in message or "device" in message), message


@needs_no_gpu
def test_raise_fails_with_a_device_error_naming_what_is_missing() -> None:
    session = cp.Session(config=cp.Config(jit=True, gpu_fallback="raise"))
    lf = query(session.from_arrow(frame().compute().to_arrow()))
    with pytest.raises(cp.DeviceError, match=r"cannot run on the GPU: no GPU \((driver|device)"):
        lf.compute(device="cuda:0")
    # The session is still usable, on the CPU.
    assert lf.compute().height > 0


@needs_no_gpu
def test_silent_falls_back_without_a_warning() -> None:
    session = cp.Session(config=cp.Config(jit=True, device="cuda", gpu_fallback="silent"))
    lf = query(session.from_arrow(frame().compute().to_arrow()))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert lf.compute().height > 0
    assert "fell back from the GPU" in lf.explain()


def test_auto_never_warns_and_explain_says_why() -> None:
    lf = query(frame())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lf.compute(device="auto")
    text = lf.explain(device="auto")
    assert "auto:" in text, text


def test_explain_shows_the_ptx_of_each_stage_on_any_machine() -> None:
    lf = query(frame())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cp.GpuFallbackWarning)
        text = lf.explain(kernels=True, device="cuda")
    assert "-- PTX (" in text, text
    assert ".version 8.0" in text and ".target sm_80" in text
    assert ".visible .entry corepy_" in text
    # The filter's two passes: count, then write.
    assert "_count(" in text
    # Without a device asked for, no PTX.
    assert ".entry" not in lf.explain(kernels=True)


def test_a_kernel_not_rendered_for_the_gpu_says_why() -> None:
    t = (cp.arange(1, 6, dtype="float64") * 2.0).log()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = t.compute(device="cuda").tolist()
    assert got == t.compute().tolist()
    messages = [str(w.message) for w in caught if issubclass(w.category, cp.GpuFallbackWarning)]
    assert any("not rendered for the GPU" in m and "Ln" in m for m in messages), messages
    assert "PTX: not rendered" in t.explain(kernels=True, device="cuda")


def test_decimal_stages_render_for_the_gpu() -> None:
    lf = FUSING.from_dict({"d": [1, 2, 3]}).select(
        (cp.col("d").cast(cp.Decimal(10, 2)) * cp.col("d").cast(cp.Decimal(10, 2))).alias("p")
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cp.GpuFallbackWarning)
        assert lf.compute(device="cuda").to_pydict() == lf.compute().to_pydict()
        text = lf.explain(kernels=True, device="cuda")
    assert "-- PTX (" in text and "mul.hi.u64" in text, text


def test_a_gpu_without_fusion_says_nothing_runs_there() -> None:
    plain = cp.Session(config=cp.Config(jit=False))
    lf = query(plain.from_arrow(frame().compute().to_arrow()))
    with pytest.warns(cp.GpuFallbackWarning, match="fusion is off"):
        assert lf.compute(device="cuda").to_pydict() == lf.compute().to_pydict()
    strict = cp.Session(config=cp.Config(jit=False, gpu_fallback="raise"))
    with pytest.raises(cp.DeviceError, match="fusion is off"):
        query(strict.from_arrow(frame().compute().to_arrow())).compute(device="cuda")


def test_bad_device_strings_are_invalid_arguments() -> None:
    lf = query(frame())
    with pytest.raises(cp.InvalidArgumentError, match="tpu"):
        lf.compute(device="tpu")
    with pytest.raises(cp.InvalidArgumentError, match="cuda:N"):
        cp.set_backend("cuda:x")
    with pytest.raises(cp.InvalidArgumentError, match="loud"):
        cp.Session(config=cp.Config(gpu_fallback="loud"))
    with pytest.raises(cp.InvalidArgumentError):
        cp.ones((2,)).compute(device="npu")


def test_set_backend_moves_the_default_session_and_tensors() -> None:
    try:
        cp.set_backend("gpu")
        assert cp.get_backend() == "cuda:0"
        assert cp.default_session().device == "cuda:0"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", cp.GpuFallbackWarning)
            assert (cp.arange(4) * 2).compute().tolist() == [0, 2, 4, 6]
            assert cp.sql("SELECT 1 + 1 AS two").compute().to_pydict() == {"two": [2]}
    finally:
        cp.set_backend("cpu")
    assert cp.default_session().device == "cpu"


@needs_no_gpu
def test_tensor_kernels_fall_back_per_the_policy() -> None:
    t = (cp.arange(10, dtype="float64") * 2.5).exp().sum()
    expected = t.compute().item()
    with pytest.warns(cp.GpuFallbackWarning, match="tensor step"):
        assert t.compute(device="cuda").item() == expected
    with pytest.raises(cp.DeviceError, match="no GPU"):
        t.compute(device="cuda", gpu_fallback="raise")
    with pytest.warns(cp.GpuFallbackWarning):
        assert (cp.arange(3) + 1).to_device("cuda").tolist() == [1, 2, 3]


def test_tensor_explain_shows_ptx_for_cuda() -> None:
    t = (cp.ones((64, 64)) * 3.0).tanh().sum(axis=1)
    text = t.explain(kernels=True, device="cuda")
    assert "PTX (" in text and ".entry corepy_" in text and "_finish(" in text, text
    assert ".entry" not in t.explain(kernels=True)


def test_ptx_is_dumped_where_corepy_dump_ptx_says(tmp_path: Path) -> None:
    code = (
        "import warnings, corepy as cp\n"
        "warnings.simplefilter('ignore')\n"
        "lf = cp.from_dict({'a': [1, 2, 3]}).filter(cp.col('a') > 1)\n"
        "lf = lf.select((cp.col('a') * 2).alias('b'))\n"
        "print(lf.compute(device='cuda').to_pydict())\n"
    )
    result = run_python(code, COREPY_DUMP_PTX=str(tmp_path / "ptx"), COREPY_GPU="0")
    assert result.returncode == 0, result.stderr
    assert "{'b': [4, 6]}" in result.stdout
    dumped = list((tmp_path / "ptx").glob("corepy_*.ptx"))
    assert len(dumped) == 1, dumped
    text = dumped[0].read_text()
    assert text.startswith(".version 8.0\n.target sm_80\n")
    assert f".visible .entry {dumped[0].stem}(" in text


def test_no_gpu_in_a_subprocess_falls_back_with_the_reason() -> None:
    code = (
        "import warnings, corepy as cp\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    lf = cp.from_dict({'a': [1, 2]}).select((cp.col('a') + 1).alias('b'))\n"
        "    lf.compute(device='cuda')\n"
        "print([str(x.message) for x in w])\n"
        "print(cp.gpu_available())\n"
    )
    result = run_python(code, COREPY_GPU="0")
    assert result.returncode == 0, result.stderr
    assert "runs on the CPU: no GPU (driver: the GPU is disabled (COREPY_GPU=0))" in result.stdout
    assert "(False, 'the GPU is disabled (COREPY_GPU=0)')" in result.stdout


def test_device_priority_from_the_environment() -> None:
    code = (
        "import warnings, corepy as cp\n"
        "print(cp.Session().device)\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    cp.from_dict({'a': [1]}).select((cp.col('a') * 2).alias('b')).compute()\n"
        "print(len(w))\n"
    )
    result = run_python(code, COREPY_DEVICE_PRIORITY="gpu,cpu", COREPY_GPU="0")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["cuda:0", "1"]
    bad = run_python("import corepy as cp; cp.Session()", COREPY_DEVICE_PRIORITY="gpu,tpu")
    assert bad.returncode != 0 and "COREPY_DEVICE_PRIORITY" in bad.stderr


@needs_gpu
def test_gpu_answers_are_the_cpus() -> None:
    lf = query(frame())
    assert lf.compute(device="cuda").to_pydict() == lf.compute().to_pydict()
    text = lf.explain(analyze=True, device="cuda")
    assert "GpuExec" in text and "bytes_to_device" in text, text
    t = (cp.arange(100_000, dtype="float64") / 1000.0).exp().tanh()
    assert np.array_equal(t.compute(device="cuda").numpy(), t.compute().numpy())


@needs_gpu
def test_gpu_kernel_failures_are_the_cpus_errors() -> None:
    lf = FUSING.from_dict({"a": [1, 2, 0, 4]}).select((cp.lit(10) // cp.col("a")).alias("q"))
    with pytest.raises(cp.ComputeError, match="division by zero"):
        lf.compute(
            device="cuda",
        )
