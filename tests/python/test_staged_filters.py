"""Filters the JIT runs in two stages: the cheap conjuncts (date ranges, string tests)
over every row, the costly ones (decimal ranges, arithmetic) over the rows those keep.
The answers are DataFusion's with the JIT off, NULLs and chunk edges included."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pyarrow as pa

import corepy as cp


def _table(rows: int = 5_003) -> pa.Table:
    rng = random.Random(16)

    def maybe(value: object) -> object:
        return None if rng.random() < 0.04 else value

    start = dt.date(1993, 1, 1)
    return pa.table(
        {
            "day": pa.array(
                [maybe(start + dt.timedelta(days=rng.randrange(1500))) for _ in range(rows)],
                pa.date32(),
            ),
            "due": pa.array(
                [maybe(start + dt.timedelta(days=rng.randrange(1500))) for _ in range(rows)],
                pa.date32(),
            ),
            "disc": pa.array(
                [maybe(Decimal(rng.randrange(11)) / 100) for _ in range(rows)],
                pa.decimal128(15, 2),
            ),
            "qty": pa.array(
                [maybe(Decimal(rng.randrange(1, 51))) for _ in range(rows)],
                pa.decimal128(15, 2),
            ),
            "price": pa.array(
                [maybe(Decimal(rng.randrange(100, 10_000_000)) / 100) for _ in range(rows)],
                pa.decimal128(15, 2),
            ),
            "mode": pa.array(
                [
                    maybe(rng.choice(["AIR", "AIR REG", "MAIL", "SHIP", "TRUCK"]))
                    for _ in range(rows)
                ]
            ),
            "x": pa.array([maybe(rng.uniform(-10, 10)) for _ in range(rows)], pa.float64()),
        }
    )


_TABLE = _table()


def _run(sql: str, jit: bool) -> tuple[cp.DataFrame, str]:
    session = cp.Session(config=cp.Config(jit=jit))
    session.register("t", _TABLE)
    frame = session.sql(sql)
    return frame.compute(), frame.explain(kernels=True)


def _rows(table: cp.DataFrame) -> list[tuple[object, ...]]:
    columns = table.to_pydict()
    return sorted(zip(*columns.values(), strict=True), key=repr)


def test_a_q6_sum_is_exact_and_its_date_tests_run_four_rows_at_once() -> None:
    sql = """
        SELECT sum(price * disc) AS revenue, count(*) AS n FROM t
        WHERE day >= DATE '1994-01-01' AND day < DATE '1995-01-01'
          AND disc BETWEEN 0.05 AND 0.07 AND qty < 24
    """
    (folded, shown), (plain, _) = _run(sql, True), _run(sql, False)
    assert "JitAggregateExec" in shown
    assert "i32x4" in shown, shown
    assert folded.to_pydict() == plain.to_pydict()
    assert 0 < folded["n"][0].as_py() < len(_TABLE) // 10


def test_a_q19_filter_keeps_the_rows_datafusion_keeps() -> None:
    sql = """
        SELECT day, qty, price FROM t
        WHERE (mode = 'AIR' OR mode = 'AIR REG')
          AND (qty BETWEEN 1 AND 11 OR qty BETWEEN 10 AND 20 OR qty BETWEEN 20 AND 30)
    """
    (kept, shown), (plain, _) = _run(sql, True), _run(sql, False)
    assert "JitExec" in shown
    assert _rows(kept) == _rows(plain)
    assert 0 < len(_rows(kept)) < len(_TABLE)


def test_negated_ranges_comparisons_of_two_dates_and_float_arithmetic() -> None:
    for where in [
        "day < due AND NOT (qty BETWEEN 10 AND 40 OR disc > 0.08)",
        "day >= DATE '1995-06-01' AND x * 2.5 + 1 > 3 AND due > DATE '1994-01-01'",
        "mode IS NOT NULL AND day < due AND price > 50000",
        "due <= DATE '1996-01-01' AND (disc IS NULL OR qty < 5)",
    ]:
        sql = f"SELECT day, due, qty, disc, x FROM t WHERE {where}"
        (kept, _), (plain, _) = _run(sql, True), _run(sql, False)
        assert _rows(kept) == _rows(plain), where
        grouped = (
            "SELECT mode, sum(price) AS s, min(qty) AS q, count(*) AS n "
            f"FROM t WHERE {where} GROUP BY mode"
        )
        (folded, _), (reference, _) = _run(grouped, True), _run(grouped, False)
        assert _rows(folded) == _rows(reference), where


def test_delete_and_update_with_a_staged_predicate_touch_exactly_their_rows() -> None:
    # A date range and a decimal range: the shape the JIT stages in queries. A statement's
    # WHERE keeps its meaning with the JIT on and off.
    where = "day >= DATE '1994-01-01' AND day < DATE '1995-01-01' AND disc BETWEEN 0.05 AND 0.07"
    counts = []
    for jit in (True, False):
        session = cp.Session(config=cp.Config(jit=jit))
        session.register("src", _TABLE)
        session.sql("CREATE TABLE t AS SELECT * FROM src").compute()
        named = session.sql(f"SELECT count(*) AS n FROM t WHERE {where}").compute().to_pydict()
        updated = session.sql(f"UPDATE t SET qty = 0 WHERE {where}").compute().to_pydict()
        zeroed = session.sql("SELECT count(*) AS n FROM t WHERE qty = 0").compute().to_pydict()
        deleted = session.sql(f"DELETE FROM t WHERE {where}").compute().to_pydict()
        left = session.sql("SELECT count(*) AS n FROM t").compute().to_pydict()
        assert updated["count"] == named["n"] == zeroed["n"] == deleted["count"]
        assert left["n"][0] == len(_TABLE) - named["n"][0]
        counts.append(named["n"][0])
    assert counts[0] == counts[1] > 0
