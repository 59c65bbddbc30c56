"""The examples in the docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "corepy",
    "corepy.expr",
    "corepy.frame",
    "corepy.dataframe",
    "corepy.session",
    "corepy.exceptions",
    "corepy.namespaces",
    "corepy.sql_context",
    "corepy.aggregations",
    "corepy.time_windows",
    "corepy.datatypes",
    "corepy.data",
    "corepy.tensor",
    "corepy.random",
    "corepy.schema",
    "corepy.vision",
    "corepy.tensor_columns",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(module, optionflags=flags, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
    assert result.attempted > 0 or name == "corepy.exceptions"
