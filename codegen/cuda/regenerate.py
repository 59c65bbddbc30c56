"""Compiles every ``*.cu`` file beside this script to ``*.ptx`` with NVRTC, which needs no
GPU: ``python codegen/cuda/regenerate.py [OUT_DIR]`` (default: this folder).

NVRTC comes from the PyPI wheel ``nvidia-cuda-nvrtc-cu12==12.0.140`` (in the test extras),
pinned because the PTX it writes declares its own ISA version: 12.0 writes ``.version
8.0``, which drivers from CUDA 12.0 on load. The modules are committed, embedded in the
engine with ``include_str!``, and ``tests/python/test_precompiled_ptx.py`` checks that
regenerating them gives the committed text.
"""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OPTIONS = [b"--gpu-architecture=compute_80"]


def nvrtc() -> ctypes.CDLL:
    import nvidia.cuda_nvrtc  # the wheel's package

    lib = Path(next(iter(nvidia.cuda_nvrtc.__path__))) / "lib"
    candidates = sorted(lib.glob("libnvrtc.so*"))
    if not candidates:
        raise SystemExit(f"no libnvrtc in {lib}")
    return ctypes.CDLL(str(candidates[0]))


def compile_cu(library: ctypes.CDLL, source: Path) -> str:
    program = ctypes.c_void_p()
    check = _checker(library)
    check(
        library.nvrtcCreateProgram(
            ctypes.byref(program), source.read_bytes(), source.name.encode(), 0, None, None
        ),
        "create",
    )
    options = (ctypes.c_char_p * len(OPTIONS))(*OPTIONS)
    status = library.nvrtcCompileProgram(program, len(OPTIONS), options)
    if status != 0:
        size = ctypes.c_size_t()
        library.nvrtcGetProgramLogSize(program, ctypes.byref(size))
        log = ctypes.create_string_buffer(size.value)
        library.nvrtcGetProgramLog(program, log)
        raise SystemExit(f"{source.name} does not compile:\n{log.value.decode()}")
    size = ctypes.c_size_t()
    check(library.nvrtcGetPTXSize(program, ctypes.byref(size)), "size")
    text = ctypes.create_string_buffer(size.value)
    check(library.nvrtcGetPTX(program, text), "ptx")
    library.nvrtcDestroyProgram(ctypes.byref(program))
    return text.value.decode()


def _checker(library: ctypes.CDLL):  # type: ignore[no-untyped-def]
    library.nvrtcGetErrorString.restype = ctypes.c_char_p

    def check(status: int, what: str) -> None:
        if status != 0:
            raise SystemExit(f"NVRTC {what}: {library.nvrtcGetErrorString(status).decode()}")

    return check


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    out.mkdir(parents=True, exist_ok=True)
    library = nvrtc()
    for source in sorted(HERE.glob("*.cu")):
        text = compile_cu(library, source)
        if ".version 8.0" not in text:
            raise SystemExit(f"{source.name}: NVRTC wrote another PTX version (pin NVRTC 12.0)")
        (out / source.with_suffix(".ptx").name).write_text(text)
        print(f"{source.name} -> {out / source.with_suffix('.ptx').name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
