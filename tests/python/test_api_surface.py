"""The typed Python package covers the whole extension module: every binding is wrapped,
and the public API is typed and documented."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import pytest

import corepy as cp
from corepy import _core

PACKAGE = Path(cp.__file__).parent
# Private classes (``_core._Triad``, the benchmarks' yardstick) are not part of the API.
BINDING_CLASSES = sorted(
    n for n in dir(_core) if inspect.isclass(getattr(_core, n)) and not n.startswith("_")
)


def _public(names: list[str]) -> list[str]:
    return [n for n in names if not n.startswith("_") or n == "__arrow_c_stream__"]


def _attributes() -> list[ast.Attribute]:
    """Every attribute access (``x.name``) in the pure-Python package's source."""
    trees = [ast.parse(p.read_text(), str(p)) for p in sorted(PACKAGE.glob("*.py"))]
    return [node for tree in trees for node in ast.walk(tree) if isinstance(node, ast.Attribute)]


def _receiver(node: ast.Attribute) -> str | None:
    """The plain name an attribute is read from (``_core`` in ``_core.col``), if any."""
    return node.value.id if isinstance(node.value, ast.Name) else None


def test_every_binding_function_has_a_wrapper() -> None:
    functions = [
        n for n in _public(dir(_core)) if callable(getattr(_core, n)) and n not in BINDING_CLASSES
    ]
    used = {node.attr for node in _attributes() if _receiver(node) == "_core"}
    unused = sorted(set(functions) - used)
    assert not unused, f"_core functions the Python package never calls: {unused}"


def test_every_binding_method_has_a_wrapper() -> None:
    # A binding object is reached as self._lf, self._expr, other._expr, a local variable, …:
    # an attribute read from anything but ``self``, ``cls`` or the ``_core`` module. The name
    # must be the whole attribute: "neg" inside ".negate" or "filter" in a comment is no use.
    used = {node.attr for node in _attributes() if _receiver(node) not in {"self", "cls", "_core"}}
    assert BINDING_CLASSES == ["DataFrame", "Expr", "LazyFrame", "Session", "TensorNode"]
    unused = [
        f"_core.{class_name}.{name}"
        for class_name in BINDING_CLASSES
        for name, value in vars(getattr(_core, class_name)).items()
        if name in _public([name])
        and (callable(value) or inspect.isdatadescriptor(value))
        and name not in used
    ]
    assert not unused, f"binding methods the Python package never calls: {unused}"


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
