"""Devices: where fused stages and tensor kernels run.

corepy renders every fused kernel for the CPU (Cranelift) and, on request, for NVIDIA GPUs
(PTX, run through the CUDA driver). A stage goes to the GPU when it is asked for —
``compute(device="cuda")``, :func:`set_backend`, or the environment variable
``COREPY_DEVICE_PRIORITY=gpu,cpu`` — or, with ``"auto"``, when the cost model expects it to
be faster there. A stage the GPU cannot take (no driver, no device, a kernel not rendered
for the GPU, a device failure) runs on the CPU with a :class:`GpuFallbackWarning`, or
raises :class:`DeviceError` with ``Config(gpu_fallback="raise")``; EXPLAIN says where each
stage ran and why.
"""

from __future__ import annotations

import warnings
from typing import Any

from corepy import _core
from corepy.exceptions import GpuFallbackWarning

__all__ = ["get_backend", "gpu_available", "gpu_info", "set_backend"]

_backend: str = "cpu"


def set_backend(device: str) -> None:
    """Where later computations run by default: ``"gpu"`` (or ``"cuda"``, ``"cuda:N"``),
    ``"cpu"`` or ``"auto"``, for the default session's queries and for tensors.

    >>> import corepy as cp
    >>> cp.set_backend("auto")
    >>> cp.get_backend()
    'auto'
    >>> cp.set_backend("cpu")
    """
    global _backend
    canonical = str(_core.parse_device(device))
    from corepy.session import default_session

    default_session()._session.set_device(canonical)
    _backend = canonical


def get_backend() -> str:
    """The default device set by :func:`set_backend` (``"cpu"`` unless set).

    >>> import corepy as cp
    >>> cp.get_backend()
    'cpu'
    """
    return _backend


def gpu_info(device: str = "cuda:0") -> dict[str, Any] | None:
    """The GPU's name, compute capability, memory and driver version, or ``None`` when
    there is none (:func:`gpu_available` says why).

    >>> import corepy as cp
    >>> info = cp.gpu_info()
    >>> info is None or "name" in info
    True
    """
    status = _core.gpu_status(_ordinal(device))
    return status if isinstance(status, dict) else None


def gpu_available(device: str = "cuda:0") -> tuple[bool, str]:
    """Whether ``device`` can run kernels, and the device's name or why not.

    >>> import corepy as cp
    >>> ok, why = cp.gpu_available()
    >>> isinstance(ok, bool) and isinstance(why, str)
    True
    """
    status = _core.gpu_status(_ordinal(device))
    if isinstance(status, dict):
        return True, str(status["name"])
    return False, str(status)


def gpu_selftest(count: int = 500, device: str = "cuda:0") -> dict[str, Any]:
    """Runs ``count`` random row kernels and ``count`` random tensor kernels of corepy's
    differential suites on the GPU, against the interpreter and the CPU JIT: how many ran,
    how many were not rendered for the GPU, and each mismatch. Raises
    :class:`DeviceError` where there is no GPU. (``tests/gpu/run.sh`` runs it.)

    >>> import corepy as cp
    >>> from corepy.device import gpu_selftest
    >>> try:
    ...     report = gpu_selftest(5)
    ... except cp.DeviceError:
    ...     report = {"mismatches": []}
    >>> report["mismatches"]
    []
    """
    return dict(_core.gpu_selftest(count, _ordinal(device)))


def _ordinal(device: str) -> int:
    canonical = str(_core.parse_device(device))
    if not canonical.startswith("cuda:"):
        from corepy.exceptions import InvalidArgumentError

        raise InvalidArgumentError(f"{device!r} is not a GPU device (use 'cuda' or 'cuda:N')")
    return int(canonical.split(":")[1])


def issue_warnings(stacklevel: int = 3) -> None:
    """Issues the fallback warnings the last computation left (as GpuFallbackWarning)."""
    for message in _core.take_warnings():
        warnings.warn(message, GpuFallbackWarning, stacklevel=stacklevel)
