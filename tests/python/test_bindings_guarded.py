"""Every binding guards against panics: a Rust panic reaches Python as cp.InternalError (an
Exception), never as pyo3's PanicException (a BaseException that ``except Exception`` misses).

The bindings are read as source: each function exported to Python (``#[pyfunction]``, or a
method in a ``#[pymethods]`` block) must run its body inside ``guarded(...)``."""

from __future__ import annotations

import re
from pathlib import Path

BINDINGS = Path(__file__).resolve().parents[2] / "python" / "src"
# Trivial accessors that cannot panic may stay unguarded only if listed here, with a reason.
UNGUARDED: dict[str, str] = {}


def exported_functions(source: str) -> list[tuple[str, str]]:
    """(name, body) of every function exported to Python in one Rust file."""
    found: list[tuple[str, str]] = []
    lines = source.splitlines()
    in_methods = False
    for i, line in enumerate(lines):
        if line.startswith("#[pymethods]"):
            in_methods = True
        elif line.startswith("}"):
            in_methods = False
        match = re.match(r"^(\s*)(?:pub )?fn (\w+)\(", line)
        if not match:
            continue
        attributes = []
        j = i - 1
        while j >= 0 and lines[j].strip().startswith(("#[", "///")):
            attributes.append(lines[j].strip())
            j -= 1
        exported = any(a.startswith("#[pyfunction") for a in attributes) or (
            in_methods and match.group(1) == "    "
        )
        if not exported:
            continue
        indent = match.group(1)
        end = i + 1
        while not (lines[end].startswith(indent + "}") and lines[end].strip() == "}"):
            end += 1
        found.append((match.group(2), "\n".join(lines[i : end + 1])))
    return found


def test_every_exported_function_is_guarded() -> None:
    exported = [
        (path.name, name, body)
        for path in sorted(BINDINGS.glob("*.rs"))
        for name, body in exported_functions(path.read_text())
    ]
    assert len(exported) > 60, "the reader found the bindings"
    unguarded = [
        f"{file}::{name}"
        for file, name, body in exported
        if "guarded(" not in body and name not in UNGUARDED
    ]
    assert unguarded == []


def test_the_reader_sees_an_unguarded_function() -> None:
    source = "#[pymethods]\nimpl X {\n    fn f(&self) -> PyResult<u8> {\n        Ok(1)\n    }\n}\n"
    [(name, body)] = exported_functions(source)
    assert name == "f"
    assert "guarded(" not in body
