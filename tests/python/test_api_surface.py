"""The typed Python package covers the whole extension module: every binding is wrapped,
and the public API is typed and documented."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest

import corepy as cp
from corepy import _core

PACKAGE = Path(cp.__file__).parent
SOURCES = "\n".join(p.read_text() for p in PACKAGE.glob("*.py"))


def _public(names: list[str]) -> list[str]:
    return [n for n in names if not n.startswith("_") or n == "__arrow_c_stream__"]


def test_every_binding_function_has_a_wrapper() -> None:
    functions = [n for n in _public(dir(_core)) if callable(getattr(_core, n))]
    classes = {n for n in functions if inspect.isclass(getattr(_core, n))}
    for name in sorted(set(functions) - classes):
        assert f"_core.{name}(" in SOURCES, f"_core.{name} is not used by the Python package"


def test_every_binding_method_has_a_wrapper() -> None:
    for class_name in ["Expr", "LazyFrame", "DataFrame", "Session"]:
        cls = getattr(_core, class_name)
        for name in _public(list(vars(cls))):
            if callable(getattr(cls, name)) or isinstance(vars(cls)[name], property):
                assert f".{name}" in SOURCES, f"_core.{class_name}.{name} has no wrapper"


def test_the_stub_file_lists_every_binding() -> None:
    stub = (PACKAGE / "_core.pyi").read_text()
    for name in _public(dir(_core)):
        if name in {"__version__"}:
            continue
        assert f" {name}(" in stub or f"class {name}" in stub or f"def {name}(" in stub, name


def test_public_api_is_documented_and_typed() -> None:
    assert (PACKAGE / "py.typed").exists()
    for name in cp.__all__:
        obj = getattr(cp, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert obj.__doc__, f"cp.{name} has no docstring"
        if inspect.isfunction(obj):
            hints = inspect.signature(obj)
            assert hints.return_annotation is not inspect.Signature.empty, name


def _api_docs() -> Any:
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "scripts" / "api_docs.py"
    if not path.exists():
        pytest.skip("scripts/api_docs.py is not in this checkout")
    spec = importlib.util.spec_from_file_location("api_docs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_public_method_and_property_has_a_docstring() -> None:
    api = _api_docs()
    missing = []
    for name, obj in api.public_names():
        if api.is_own(obj) and inspect.isclass(obj):
            for member, value in api.members(obj):
                target = value.fget if isinstance(value, property) else value
                if not inspect.getdoc(target) and not member.startswith("__"):
                    missing.append(f"{name}.{member}")
    assert not missing, f"no docstring: {missing}"


def test_the_api_reference_page_is_up_to_date() -> None:
    api = _api_docs()
    assert api.PAGE.read_text() == api.render(), "run python scripts/api_docs.py"
    for name in cp.__all__:
        assert f"cp.{name}" in api.PAGE.read_text(), name


def test_every_public_function_and_method_has_an_example() -> None:
    api = _api_docs()
    missing = []
    for name, obj in api.public_names():
        items = []
        if api.is_own(obj):
            items.append((f"cp.{name}", obj))
        if api.is_own(obj) and inspect.isclass(obj):
            for member, value in api.members(obj):
                items.append(
                    (f"{name}.{member}", value.fget if isinstance(value, property) else value)
                )
        missing += [label for label, item in items if ">>>" not in (inspect.getdoc(item) or "")]
    assert not missing, f"no example in the docstring: {missing}"
