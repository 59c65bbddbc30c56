"""SQL over frames: :class:`SQLContext` (as Polars') and ``LazyFrame.sql``.

>>> import corepy as cp
>>> orders = cp.from_dict({"id": [1, 2, 3], "amount": [5.0, 20.0, 12.5]})
>>> ctx = cp.SQLContext(frames={"orders": orders})
>>> ctx.execute("SELECT count(*) AS n FROM orders WHERE amount > 10").compute().to_pydict()
{'n': [2]}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from corepy.frame import LazyFrame
    from corepy.session import Session

__all__ = ["SQLContext"]


class SQLContext:
    """Names for frames, and SQL over them. Each context has a session of its own, so its
    names never clash with the default session's tables; queries return lazy frames that
    compose with the lazy API.

    Frames may be lazy or computed corepy frames, pyarrow tables, Polars or pandas
    DataFrames, or anything with the Arrow PyCapsule interface; they are not copied.

    >>> import corepy as cp, pyarrow as pa
    >>> ctx = cp.SQLContext(a=cp.from_dict({"x": [1, 2]}), b=pa.table({"x": [2, 3]}))
    >>> ctx.execute("SELECT x FROM a JOIN b USING (x)").compute().to_pydict()
    {'x': [2]}
    """

    __slots__ = ("_session",)

    def __init__(self, frames: Mapping[str, Any] | None = None, **named_frames: Any) -> None:
        from corepy.session import Session

        self._session: Session = Session()
        for name, frame in {**(frames or {}), **named_frames}.items():
            self.register(name, frame)

    def register(self, name: str, frame: Any) -> SQLContext:
        """Makes ``frame`` the table ``name``; returns the context, for chaining.

        >>> import corepy as cp
        >>> ctx = cp.SQLContext().register("t", cp.from_dict({"a": [1, 2]}).compute())
        >>> ctx.execute("SELECT sum(a) AS total FROM t").compute().to_pydict()
        {'total': [3]}
        """
        from corepy.dataframe import DataFrame

        if isinstance(frame, DataFrame):
            frame = frame.lazy()
        self._session.register(name, frame)
        return self

    def unregister(self, name: str) -> SQLContext:
        """Forgets the table ``name`` (no error if there is none).

        >>> import corepy as cp
        >>> ctx = cp.SQLContext(t=cp.from_dict({"a": [1]}), u=cp.from_dict({"a": [2]}))
        >>> ctx.unregister("t").unregister("missing").tables()
        ['u']
        """
        self._session.deregister(name)
        return self

    def tables(self) -> list[str]:
        """The registered names, sorted.

        >>> import corepy as cp
        >>> lf = cp.from_dict({"x": [1]})
        >>> cp.SQLContext(frames={"b": lf, "a": lf}).tables()
        ['a', 'b']
        """
        return sorted(self._session.tables())

    def execute(self, query: str) -> LazyFrame:
        """The lazy frame of one SQL query over the registered frames.

        >>> import corepy as cp
        >>> ctx = cp.SQLContext(t=cp.from_dict({"g": ["a", "b", "a"], "x": [1, 2, 3]}))
        >>> ctx.execute("SELECT g, sum(x) AS x FROM t GROUP BY g").sort("g").compute().to_pydict()
        {'g': ['a', 'b'], 'x': [4, 2]}
        """
        return self._session.sql(query)

    def __repr__(self) -> str:
        return f"SQLContext(tables={self.tables()})"
