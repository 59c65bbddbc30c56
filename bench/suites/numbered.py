"""``QUERIES`` of a query module: its functions ``q01 … qNN``, by name."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any


def numbered(
    namespace: Mapping[str, Any], count: int, missing: Collection[str] = ()
) -> dict[str, Callable[..., Any]]:
    """``{"q01": q01, …}`` for the module whose ``globals()`` is ``namespace``; every one
    of the ``count`` functions but those ``missing`` must be there, so that a query cannot
    be left out by mistake."""
    names = [f"q{i:02d}" for i in range(1, count + 1) if f"q{i:02d}" not in missing]
    absent = [name for name in names if not callable(namespace.get(name))]
    if absent:
        raise ImportError(f"{namespace['__name__']} lacks {', '.join(absent)}")
    return {name: namespace[name] for name in names}
