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
    "DeviceError",
    "FileFormatError",
    "GpuFallbackWarning",
    "InternalError",
    "InvalidArgumentError",
    "PathNotFoundError",
    "PlanError",
    "SQLError",
    "SchemaError",
    "ShapeError",
]


class CorepyError(Exception):
    """Base class of every error corepy raises.

    >>> import corepy as cp
    >>> try:
    ...     cp.sql("SELECT * FROM no_such_table")
    ... except cp.CorepyError as error:
    ...     print(type(error).__name__)
    PlanError
    """


class SchemaError(CorepyError):
    """A type mismatch or invalid schema; the message names the expression.

    >>> import corepy as cp
    >>> cp.from_dict({"a": ["x"]}).select(cp.col("a") + 1)
    Traceback (most recent call last):
    ...
    corepy.exceptions.SchemaError: type mismatch in expression `a + 1`: ...
    """


class ColumnNotFoundError(SchemaError):
    """A column name the input does not have.

    Attributes: ``column`` (the name asked for), ``candidates`` (the closest existing
    names, best first) and ``available`` (all names).

    >>> import corepy as cp
    >>> cp.from_dict({"price": [1.0], "qty": [2]}).select(cp.col("prise"))
    Traceback (most recent call last):
    ...
    corepy.exceptions.ColumnNotFoundError: column 'prise' not found; did you mean 'price'?
    """

    column: str = ""
    candidates: list[str]
    available: list[str]

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.candidates = []
        self.available = []


class SQLError(CorepyError):
    """SQL text that does not parse. ``line`` and ``column`` locate the problem (1-based).

    >>> import corepy as cp
    >>> try:
    ...     cp.sql("SELECT *\\nFROM t WHERE a = = 1")
    ... except cp.SQLError as error:
    ...     print(error.line, error.column)
    2 18
    """

    line: int | None = None
    column: int | None = None


class PlanError(CorepyError):
    """A query that cannot be planned: unknown table or function, unsupported operation.

    >>> import corepy as cp
    >>> cp.sql("SELECT * FROM no_such_table")
    Traceback (most recent call last):
    ...
    corepy.exceptions.PlanError: table '...no_such_table' not found
    """


class PathNotFoundError(CorepyError, FileNotFoundError):
    """A path or glob that names no file. ``path`` is the path as given.

    >>> import corepy as cp
    >>> try:
    ...     cp.scan_parquet("/no/such/file.parquet")
    ... except FileNotFoundError as error:
    ...     print(type(error).__name__, error.path)
    PathNotFoundError /no/such/file.parquet
    """

    path: str = ""

    def __str__(self) -> str:
        # OSError would format its errno and filename instead of corepy's message.
        return str(self.args[0]) if self.args else ""


class FileFormatError(CorepyError):
    """A file that cannot be read: empty, truncated, corrupt, or of another schema than its
    siblings (also a directory whose files differ). ``path`` names the file (or glob).

    >>> import corepy as cp, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "bad.parquet")
    >>> _ = open(path, "w").write("not parquet")
    >>> try:
    ...     cp.scan_parquet(path)
    ... except cp.FileFormatError as error:
    ...     print(error.path == path, "PAR1" in str(error))
    True True
    """

    path: str = ""


class InvalidArgumentError(CorepyError, ValueError):
    """An invalid argument to a corepy function.

    >>> import corepy as cp
    >>> try:
    ...     cp.Session(target_partitions=0)
    ... except ValueError as error:
    ...     print(type(error).__name__, error)
    InvalidArgumentError target_partitions must be at least 1
    """


class ShapeError(CorepyError, ValueError):
    """Tensor shapes that do not fit an operation: operands that do not broadcast (both
    shapes shown), an axis out of range, a reshape to another size, an index out of bounds.

    >>> import corepy as cp
    >>> try:
    ...     cp.ones((2, 3)) + cp.ones((4,))
    ... except cp.ShapeError as error:
    ...     print(error)
    operands could not be broadcast together with shapes (2, 3) (4,)
    """


class ComputeError(CorepyError):
    """An error while computing: division by zero, a failed cast, decimal overflow, …
    (integer ``+ - *`` wrap around on overflow, as in DataFusion and Polars).

    >>> import corepy as cp
    >>> cp.from_dict({"a": [1]}).select(cp.col("a") // 0).compute()
    Traceback (most recent call last):
    ...
    corepy.exceptions.ComputeError: division by zero
    """


class DeviceError(CorepyError):
    """A device asked for cannot run a stage — no CUDA driver, no such device, a kernel not
    rendered for the GPU, a device failure — and ``Config(gpu_fallback="raise")`` says to
    fail rather than run it on the CPU. The message names the stage and what is missing.

    >>> import corepy as cp
    >>> issubclass(cp.DeviceError, cp.CorepyError)
    True
    """


class GpuFallbackWarning(UserWarning):
    """A stage placed on the GPU ran on the CPU instead; the message names the stage and
    the reason (``Config(gpu_fallback="silent")`` turns these off).

    >>> import corepy as cp
    >>> issubclass(cp.GpuFallbackWarning, UserWarning)
    True
    """


class CancelledError(CorepyError):
    """The query was cancelled before it finished.

    It is a :class:`CorepyError` like the others (Ctrl-C during :meth:`LazyFrame.compute`
    raises ``KeyboardInterrupt`` instead):

    >>> import corepy as cp
    >>> try:
    ...     raise cp.CancelledError("query cancelled")
    ... except cp.CorepyError as error:
    ...     print(type(error).__name__, error)
    CancelledError query cancelled
    """


class InternalError(CorepyError):
    """A bug in corepy (a Rust panic or broken invariant). Please report it.

    A panic in the Rust core arrives as this error (not as pyo3's ``PanicException``), so
    ``except cp.CorepyError`` catches it:

    >>> import corepy as cp
    >>> try:
    ...     raise cp.InternalError("panic: index out of bounds")
    ... except cp.CorepyError as error:
    ...     print(type(error).__name__, error)
    InternalError panic: index out of bounds
    """
