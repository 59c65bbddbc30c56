"""Tensor workloads: corepy against NumPy, numexpr, and (when installed) JAX ``jit`` on the
CPU and PyTorch, in one process, interleaved.

Cases, on a float32 tensor of ``--shape`` (issue 14: 64x3x512x512):

* ``normalize-clip`` — ``((x - 0.485) / 0.229).clip(0, 1)``;
* ``chain6``        — ``tanh((x * 1.7 - 0.3) / 2.1 + 0.05) * 0.5 + 0.5`` (six operations);
* ``chain-sum``     — the normalize-and-clip chain, then ``sum(axis=-1)``;
* ``matmul``        — ``a @ b`` for float32 ``--matmul``² matrices;
* ``images``        — ``--images`` JPEGs (500 x 375, written once into ``bench/data``) decoded
  and resized to 224 x 224 (antialiased bilinear): ``cp.read_images(..., size=)`` against a
  Pillow loop (``Image.open().convert("RGB").resize()``, then ``np.stack``).

Every engine's answer is checked against NumPy's (float tolerance; for images, Pillow's
within the two JPEG decoders' differences) before it is timed. Medians of ``--repeat``
runs; the ratio is the peer's time over corepy's (> 1: corepy is faster). The results go
to ``bench/results/tensor-<date>.json`` and ``.md``, like the other suites'.

    python -m bench run tensor [--runs 3] [--smoke]
    python -m bench.tensors [--shape 64,3,512,512] [--matmul 2048] [--images 256] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import corepy as cp

#: JPEG side lengths of the image case (a typical ImageNet photo), and the resize target.
PHOTO = (375, 500)
TARGET = (224, 224)


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


def photos(count: int) -> Path:
    """A folder of ``count`` JPEGs (written once)."""
    from PIL import Image

    from bench import data

    folder = data.DATA_DIR / f"photos-{count}"
    if len(list(folder.glob("*.jpg"))) == count:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0 : PHOTO[0], 0 : PHOTO[1]]
    for i in range(count):
        planes = [127 + 90 * np.sin(x / (9 + c + i % 5) + y / (13 + i % 7)) for c in range(3)]
        pixels = np.stack(planes, -1) + rng.normal(0, 12, (*PHOTO, 3))
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(
            folder / f"{i:04d}.jpg", quality=90
        )
    return folder


def images_case(count: int) -> dict[str, Callable[[], Any]]:
    from PIL import Image

    folder = photos(count)
    files = sorted(folder.glob("*.jpg"))
    pattern = str(folder / "*.jpg")

    def pillow() -> Any:
        return np.stack(
            [
                np.asarray(
                    Image.open(f).convert("RGB").resize(TARGET[::-1], Image.Resampling.BILINEAR)
                )
                for f in files
            ]
        )

    return {
        "corepy": lambda: cp.read_images(pattern, size=TARGET).numpy(),
        "pillow": pillow,
    }


def timed(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def check(case: str, got: Any, expected: Any, last_side: int) -> None:
    got, expected = np.asarray(got), np.asarray(expected)
    if case == "images":
        # Two JPEG decoders (a few levels apart) and two resamplers (one level).
        diff = np.abs(got.astype(int) - expected.astype(int))
        assert got.shape == expected.shape and diff.mean() < 1.5, diff.mean()
        return
    np.testing.assert_allclose(got, expected, rtol=2e-3, atol=2e-3 * max(1, last_side))


def run(shape: tuple[int, ...], matmul: int, images: int, repeat: int) -> dict[str, Any]:
    """Every case on every engine installed; times in seconds, by case and engine."""
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    table = dict(cases(x))
    table["matmul"] = matmul_case(matmul)
    reference = {case: "numpy" for case in table}
    try:
        table["images"] = images_case(images)
        reference["images"] = "pillow"
    except ImportError:
        pass
    results: dict[str, dict[str, float]] = {}
    for case, engines in table.items():
        expected = engines[reference[case]]()
        for fn in engines.values():
            check(case, fn(), expected, shape[-1])
            fn()  # warm-up (compiles)
        results[case] = {name: timed(fn, repeat) for name, fn in engines.items()}
    return results


def markdown(result: dict[str, Any]) -> str:
    from bench import runner

    details = (
        f"shape {tuple(result['shape'])} float32, matmul {result['matmul']}², "
        f"{result['images']} JPEGs; median of {result['repeat']}."
    )
    lines = [
        *runner.in_process_header(result, "tensor suite", details),
        "| case | engine | seconds | vs corepy |",
        "|---|---|---:|---:|",
    ]
    for case, engines in result["times"].items():
        base = engines["corepy"]
        for name, seconds in engines.items():
            lines.append(f"| {case} | {name} | {seconds:.4f} | {seconds / base:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None, out: Path | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="64,3,512,512")
    parser.add_argument("--matmul", type=int, default=2048)
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    shape = tuple(int(n) for n in args.shape.split(","))
    from bench import runner

    result = {
        "suite": "tensor",
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": runner.machine(),
        "provenance": runner.provenance(),
        "shape": shape,
        "matmul": args.matmul,
        "images": args.images,
        "repeat": args.repeat,
        "times": run(shape, args.matmul, args.images, args.repeat),
    }
    text = markdown(result)
    print(text)
    if out is not None:
        print(f"results: {runner.write_in_process(result, text, out)}")


if __name__ == "__main__":
    main()
