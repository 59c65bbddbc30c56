"""The exceptions corepy raises.

Every corepy error derives from :class:`CorepyError`, so ``except cp.CorepyError`` catches
them all; the subclasses say what went wrong and carry the details as attributes.

>>> import corepy as cp
>>> try:
...     cp.from_dict({"price": [1.0]}).select(cp.col("prise")).compute()
... except cp.ColumnNotFoundError as error:
...     print(error.column, error.candidates)
prise ['price']
"""

from __future__ import annotations

__all__ = [
    "CancelledError",
    "ColumnNotFoundError",
    "ComputeError",
    "CorepyError",
    "FileFormatError",
    "InternalError",
    "InvalidArgumentError",
    "PathNotFoundError",
    "PlanError",
    "SQLError",
    "SchemaError",
]


class CorepyError(Exception):
    """Base class of every error corepy raises."""


class SchemaError(CorepyError):
    """A type mismatch or invalid schema; the message names the expression."""


class ColumnNotFoundError(SchemaError):
    """A column name the input does not have.

    Attributes: ``column`` (the name asked for), ``candidates`` (the closest existing
    names, best first) and ``available`` (all names).
    """

    column: str = ""
    candidates: list[str]
    available: list[str]

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.candidates = []
        self.available = []


class SQLError(CorepyError):
    """SQL text that does not parse. ``line`` and ``column`` locate the problem (1-based)."""

    line: int | None = None
    column: int | None = None


class PlanError(CorepyError):
    """A query that cannot be planned: unknown table or function, unsupported operation."""


class PathNotFoundError(CorepyError, FileNotFoundError):
    """A path or glob that names no file. ``path`` is the path as given."""

    path: str = ""


class FileFormatError(CorepyError):
    """A file that cannot be read: empty, truncated, corrupt, a directory, or of another
    schema than its siblings. ``path`` names the file (or glob)."""

    path: str = ""


class InvalidArgumentError(CorepyError, ValueError):
    """An invalid argument to a corepy function."""


class ComputeError(CorepyError):
    """An error while computing: overflow, division by zero, a failed cast, …"""


class CancelledError(CorepyError):
    """The query was cancelled before it finished."""


class InternalError(CorepyError):
    """A bug in corepy (a Rust panic or broken invariant). Please report it."""
