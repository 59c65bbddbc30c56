"""Tensor workloads: corepy against NumPy, numexpr, and (when installed) JAX ``jit`` on the
CPU and PyTorch, in one process, interleaved.

Cases, on a float32 tensor of ``--shape`` (issue 14: 64x3x512x512):

* ``normalize-clip`` — ``((x - 0.485) / 0.229).clip(0, 1)``;
* ``chain6``        — ``tanh((x * 1.7 - 0.3) / 2.1 + 0.05) * 0.5 + 0.5`` (six operations);
* ``chain-sum``     — the normalize-and-clip chain, then ``sum(axis=-1)``;
* ``matmul``        — ``a @ b`` for float32 ``--matmul``² matrices.

Every engine's answer is checked against NumPy's (float tolerance) before it is timed.
Medians of ``--repeat`` runs; the ratio is the peer's time over corepy's (> 1: corepy is
faster).

    python bench/tensors.py [--shape 64,3,512,512] [--matmul 2048] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import corepy as cp


def cases(x: np.ndarray[Any, Any]) -> dict[str, dict[str, Callable[[], Any]]]:
    t = cp.asarray(x)
    engines: dict[str, dict[str, Callable[[], Any]]] = {
        "normalize-clip": {
            "corepy": lambda: ((t - 0.485) / 0.229).clip(0.0, 1.0).compute().numpy(),
            "numpy": lambda: np.clip((x - np.float32(0.485)) / np.float32(0.229), 0, 1),
        },
        "chain6": {
            "corepy": lambda: (((t * 1.7 - 0.3) / 2.1 + 0.05).tanh() * 0.5 + 0.5).compute().numpy(),
            "numpy": lambda: (
                np.tanh(
                    (x * np.float32(1.7) - np.float32(0.3)) / np.float32(2.1) + np.float32(0.05)
                )
                * np.float32(0.5)
                + np.float32(0.5)
            ),
        },
        "chain-sum": {
            "corepy": lambda: ((t - 0.485) / 0.229).clip(0.0, 1.0).sum(axis=-1).compute().numpy(),
            "numpy": lambda: np.clip((x - np.float32(0.485)) / np.float32(0.229), 0, 1).sum(
                axis=-1
            ),
        },
    }
    try:
        import numexpr as ne

        engines["normalize-clip"]["numexpr"] = lambda: ne.evaluate(
            "where(y < 0, 0, where(y > 1, 1, y))",
            local_dict={"y": ne.evaluate("(x - 0.485) / 0.229", local_dict={"x": x})},
        )
        engines["chain6"]["numexpr"] = lambda: ne.evaluate(
            "tanh((x * 1.7 - 0.3) / 2.1 + 0.05) * 0.5 + 0.5", local_dict={"x": x}
        )
    except ImportError:
        pass
    try:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_platforms", "cpu")
        xj = jnp.asarray(x)
        norm = jax.jit(lambda v: jnp.clip((v - 0.485) / 0.229, 0, 1))
        chain = jax.jit(lambda v: jnp.tanh((v * 1.7 - 0.3) / 2.1 + 0.05) * 0.5 + 0.5)
        total = jax.jit(lambda v: jnp.clip((v - 0.485) / 0.229, 0, 1).sum(axis=-1))
        engines["normalize-clip"]["jax"] = lambda: np.asarray(norm(xj).block_until_ready())
        engines["chain6"]["jax"] = lambda: np.asarray(chain(xj).block_until_ready())
        engines["chain-sum"]["jax"] = lambda: np.asarray(total(xj).block_until_ready())
    except ImportError:
        pass
    try:
        import torch

        xt = torch.from_numpy(x)
        engines["normalize-clip"]["torch"] = lambda: ((xt - 0.485) / 0.229).clamp(0, 1).numpy()
        engines["chain6"]["torch"] = lambda: (
            torch.tanh((xt * 1.7 - 0.3) / 2.1 + 0.05) * 0.5 + 0.5
        ).numpy()
        engines["chain-sum"]["torch"] = lambda: (
            ((xt - 0.485) / 0.229).clamp(0, 1).sum(dim=-1).numpy()
        )
    except ImportError:
        pass
    return engines


def matmul_case(n: int) -> dict[str, Callable[[], Any]]:
    rng = np.random.default_rng(1)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    ta, tb = cp.asarray(a), cp.asarray(b)
    out: dict[str, Callable[[], Any]] = {
        "corepy": lambda: (ta @ tb).compute().numpy(),
        "numpy": lambda: a @ b,
    }
    try:
        import torch

        at, bt = torch.from_numpy(a), torch.from_numpy(b)
        out["torch"] = lambda: (at @ bt).numpy()
    except ImportError:
        pass
    return out


def timed(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="64,3,512,512")
    parser.add_argument("--matmul", type=int, default=2048)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    shape = tuple(int(n) for n in args.shape.split(","))
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    table = dict(cases(x))
    table["matmul"] = matmul_case(args.matmul)
    print(f"shape {shape} float32, matmul {args.matmul}², median of {args.repeat}")
    print(f"{'case':16} {'engine':10} {'seconds':>9} {'vs corepy':>10}")
    for case, engines in table.items():
        expected = engines["numpy"]()
        results = {}
        for fn in engines.values():
            got = np.asarray(fn())
            np.testing.assert_allclose(got, expected, rtol=2e-3, atol=2e-3 * max(1, shape[-1]))
            fn()  # warm-up (compiles)
        for name, fn in engines.items():
            results[name] = timed(fn, args.repeat)
        base = results["corepy"]
        for name, seconds in results.items():
            print(f"{case:16} {name:10} {seconds:9.4f} {seconds / base:10.2f}")


if __name__ == "__main__":
    main()
