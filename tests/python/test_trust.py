"""The examples of issue 13, as a user meets them, with the JIT on and off: a statement
changes only the rows it names, and integer overflow is an error, never a wrap."""

from __future__ import annotations

import pytest

import corepy as cp


@pytest.fixture(params=[True, False], ids=["jit", "nojit"])
def session(request: pytest.FixtureRequest) -> cp.Session:
    return cp.Session(config=cp.Config(jit=request.param))


def rows(session: cp.Session, query: str) -> dict[str, list[object]]:
    return session.sql(query).compute().to_pydict()


def test_delete_and_update_touch_only_the_rows_they_name(session: cp.Session) -> None:
    session.sql("CREATE TABLE t AS VALUES (1, 'a'), (2, 'b'), (3, 'c')").compute()
    assert rows(session, "DELETE FROM t WHERE column1 > 1") == {"count": [2]}
    assert rows(session, "SELECT * FROM t") == {"column1": [1], "column2": ["a"]}
    session.sql("INSERT INTO t VALUES (2, 'b'), (3, 'c')").compute()
    assert rows(session, "UPDATE t SET column2 = 'x' WHERE column1 = 2") == {"count": [1]}
    assert rows(session, "SELECT * FROM t ORDER BY column1") == {
        "column1": [1, 2, 3],
        "column2": ["a", "x", "c"],
    }


def test_a_statement_corepy_cannot_apply_exactly_changes_nothing(session: cp.Session) -> None:
    session.sql("CREATE TABLE t AS VALUES (1), (2), (3)").compute()
    session.sql("CREATE TABLE s AS VALUES (2)").compute()
    with pytest.raises(cp.PlanError, match="nothing was changed"):
        session.sql("DELETE FROM t WHERE column1 IN (SELECT column1 FROM s)").compute()
    assert rows(session, "SELECT count(*) AS n FROM t") == {"n": [3]}


def test_sql_overflow_is_an_error(session: cp.Session) -> None:
    with pytest.raises(cp.ComputeError, match="overflow"):
        session.sql("SELECT CAST(9223372036854775807 AS BIGINT) + 1").compute()


def test_lazy_overflow_names_the_expression(session: cp.Session) -> None:
    frame = session.from_dict({"a": [2**62, 1]})
    with pytest.raises(cp.ComputeError, match=r"overflow in `.*a \* 4`"):
        frame.select(cp.col("a") * 4).compute()
    assert frame.filter(cp.col("a") < 10).select(cp.col("a") * 4).compute().to_pydict() == {
        "a": [4]
    }


def test_lazy_sums_fail_instead_of_wrapping(session: cp.Session) -> None:
    frame = session.from_dict({"g": ["x", "x", "y"], "a": [2**63 - 1, 1, 5]})
    with pytest.raises(cp.ComputeError, match="overflow"):
        frame.select(cp.col("a").sum()).compute()
    with pytest.raises(cp.ComputeError, match="overflow"):
        frame.group_by("g").agg(cp.col("a").sum()).compute()
    exact = frame.filter(cp.col("a") < 10).select(cp.col("a").sum()).compute()
    assert exact.to_pydict() == {"a": [6]}
