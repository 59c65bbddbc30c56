"""``python -m bench.gpu``: corepy's GPU stages against its CPU stages, on one machine.

- ``expr10``: a fused 10-operation f64 expression over ``--rows`` rows. From EXPLAIN
  ANALYZE: the GPU kernel's time alone (the data already on the device: the
  device-resident figure, as a fraction of the device's memory bandwidth), the GPU stage
  with its copies (transfer-inclusive), and the CPU JIT stage.
- ``tensor``: ``tanh(exp(x) * 0.5 + 1)`` summed over rows, realized on the GPU (copies
  included) and on the CPU, wall time.
- ``tpch``: TPC-H Q1 and Q6 at ``--scale`` with ``device="cuda"`` and ``"cpu"``; EXPLAIN
  says which stages ran on the GPU (decimal arithmetic is not rendered to PTX yet, so
  those stages fall back and the ratio is about 1).

Each figure is the median of ``--runs`` runs after a warm-up. Without a GPU the script says
so and writes nothing else.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

import corepy as cp

# Memory bandwidth of the devices we report against (bytes/s), by name.
PEAK_BANDWIDTH = {"H200": 4.8e12, "H100": 3.35e12, "A100": 2.0e12}

UNITS = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def metric_seconds(text: str, name: str) -> float:
    """The sum of a time metric (``kernel_time=1.2ms``) over the plan's operators."""
    total = 0.0
    for value, unit in re.findall(rf"{name}=([0-9.]+)(ns|µs|us|ms|s)\b", text):
        total += float(value) * UNITS[unit]
    return total


def median_of(runs: int, work: Any) -> float:
    work()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def expr10(rows: int, runs: int, peak: float | None) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    table = pa.table({"x": rng.random(rows) + 0.5, "y": rng.random(rows) + 0.5})
    # One batch per partition: a GPU stage pays one launch and one copy each way per batch.
    session = cp.Session(batch_size=1 << 24, target_partitions=1)
    lf = session.from_arrow(table).select(
        (
            (
                (cp.col("x") * 1.5 + cp.col("y")) * (cp.col("x") - 0.25) / (cp.col("y") + 2.0)
                + cp.col("x") * cp.col("y")
                - 1.0
            )
            * 0.5
            + cp.col("y")
        ).alias("z")
    )
    out: dict[str, Any] = {"rows": rows, "bytes_touched": rows * 24}
    for device in ("cuda", "cpu"):
        kernel, copy, wall = [], [], []
        for i in range(runs + 1):
            started = time.perf_counter()
            text = lf.explain(analyze=True, device=device)
            elapsed = time.perf_counter() - started
            if i == 0:
                out[f"{device}_plan"] = text
                continue
            kernel.append(metric_seconds(text, "kernel_time"))
            copy.append(metric_seconds(text, "copy_time"))
            wall.append(elapsed)
        out[device] = {
            "kernel_s": statistics.median(kernel),
            "copy_s": statistics.median(copy),
            "wall_s": statistics.median(wall),
        }
    gpu_kernel = out["cuda"]["kernel_s"]
    out["gpu_kernel_bytes_per_s"] = out["bytes_touched"] / gpu_kernel if gpu_kernel else None
    if peak and out["gpu_kernel_bytes_per_s"]:
        out["fraction_of_peak_bandwidth"] = out["gpu_kernel_bytes_per_s"] / peak
    out["resident_speedup_vs_cpu_kernel"] = (
        out["cpu"]["kernel_s"] / gpu_kernel if gpu_kernel else None
    )
    gpu_stage = out["cuda"]["kernel_s"] + out["cuda"]["copy_s"]
    out["transfer_inclusive_speedup_vs_cpu_kernel"] = (
        out["cpu"]["kernel_s"] / gpu_stage if gpu_stage else None
    )
    return out


def tensor(rows: int, runs: int) -> dict[str, Any]:
    x = cp.asarray(np.random.default_rng(2).random((rows // 256, 256)))
    t = ((x.exp() * 0.5 + 1.0).tanh()).sum(axis=1)
    gpu = median_of(runs, lambda: t.compute(device="cuda", gpu_fallback="raise"))
    cpu = median_of(runs, lambda: t.compute(device="cpu"))
    same = np.allclose(t.compute(device="cuda").numpy(), t.compute().numpy(), rtol=1e-12)
    return {
        "elements": rows,
        "gpu_wall_s": gpu,
        "cpu_wall_s": cpu,
        "speedup": cpu / gpu,
        "same_answer": bool(same),
    }


def tpch(scale: float, runs: int) -> dict[str, Any]:
    from bench import data

    directory = data.tpch(scale)
    session = cp.Session()
    session.register_parquet("lineitem", str(directory / "lineitem.parquet"))
    out: dict[str, Any] = {"scale": scale}
    for name in ("q01", "q06"):
        sql_file = (
            Path(__file__).parent / "suites" / "tpch" / "sql" / f"{name.upper()[0]}{name[1:]}.sql"
        )
        if not sql_file.exists():
            sql_file = sql_file.with_name(f"{name}.sql")
        lf = session.sql(sql_file.read_text())
        gpu = median_of(runs, lambda lf=lf: lf.compute(device="cuda"))
        cpu = median_of(runs, lambda lf=lf: lf.compute(device="cpu"))
        plan = lf.explain(device="cuda")
        out[name] = {
            "gpu_wall_s": gpu,
            "cpu_wall_s": cpu,
            "speedup": cpu / gpu,
            "gpu_stages": plan.count("GpuExec"),
            "cpu_stages": plan.count("JitExec"),
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gpu", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=50_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0, help="TPC-H scale factor")
    parser.add_argument("--out", type=Path, default=Path("gpu-bench.json"))
    args = parser.parse_args()
    info = cp.gpu_info()
    if info is None:
        print(f"no GPU: {cp.gpu_available()[1]}")
        return 0
    peak = next((bw for name, bw in PEAK_BANDWIDTH.items() if name in str(info["name"])), None)
    result: dict[str, Any] = {"device": info, "peak_bandwidth": peak}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cp.GpuFallbackWarning)
        result["expr10"] = expr10(args.rows, args.runs, peak)
        result["tensor"] = tensor(args.rows, args.runs)
        result["tpch"] = tpch(args.scale, args.runs)
    args.out.write_text(json.dumps(result, indent=1, default=str))
    summary = {k: v for k, v in result["expr10"].items() if not k.endswith("_plan")}
    print(
        json.dumps(
            {"expr10": summary, "tensor": result["tensor"], "tpch": result["tpch"]}, indent=1
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
