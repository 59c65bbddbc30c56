"""Fusion and the JIT as a user sees them: the switch, EXPLAIN, metrics, the kernel cache,
errors, and results equal to DataFusion's own evaluation on sliced Arrow data."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from itertools import count

import pyarrow as pa
import pytest

import corepy as cp

_unique = count(1)


def _jit_session() -> cp.Session:
    """A session with the JIT on whatever COREPY_JIT says: these tests are about kernels."""
    return cp.Session(config=cp.Config(jit=True))


def _frame(session: cp.Session) -> cp.LazyFrame:
    return session.from_dict(
        {
            "a": [1.5, None, -2.0, float("nan"), 4.0, 0.0],
            "b": [2.0, 3.0, None, 1.0, -1.0, 8.0],
            "k": [1, 2, 3, 4, 5, 6],
        }
    )


def _query(session: cp.Session) -> cp.LazyFrame:
    return (
        _frame(session)
        .filter(cp.col("k") > 1)
        .select((cp.col("a") * cp.col("b") + 1.0).alias("x"), "k")
    )


def _rows(df: cp.DataFrame) -> dict[str, list[object]]:
    """Columns as lists, NaN spelled "nan" so that it compares equal to itself."""

    def norm(v: object) -> object:
        return "nan" if isinstance(v, float) and math.isnan(v) else v

    return {k: [norm(v) for v in vs] for k, vs in df.to_pydict().items()}


def _run(table: pa.Table, sql: str, *, jit: bool) -> cp.DataFrame:
    """`sql` over `table` as "t", with fusion on or off (and fused only when on)."""
    session = cp.Session(config=cp.Config(jit=jit))
    session.register("t", table)
    assert ("JitExec" in session.sql(sql).explain()) == jit
    return session.sql(sql).compute()


def _both_ways(table: pa.Table, sql: str) -> tuple[cp.DataFrame, cp.DataFrame]:
    """The result with fusion on, then off."""
    return _run(table, sql, jit=True), _run(table, sql, jit=False)


def test_config_turns_fusion_off_per_session() -> None:
    fused = cp.Session(config=cp.Config(jit=True))
    plain = cp.Session(config=cp.Config(jit=False))
    assert fused.jit and not plain.jit
    assert "FusedStage" in _query(fused).explain() and "JitExec" in _query(fused).explain()
    text = _query(plain).explain()
    assert "FusedStage" not in text and "JitExec" not in text
    assert _rows(_query(fused).compute()) == _rows(_query(plain).compute())


@pytest.mark.parametrize(("value", "expected"), [("0", "False"), ("1", "True")])
def test_environment_variable_sets_the_default(value: str, expected: str) -> None:
    env = dict(os.environ, COREPY_JIT=value)
    out = subprocess.run(
        [sys.executable, "-c", "import corepy as cp; print(cp.Session().jit)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == expected


def test_explain_kernels_prints_the_kernel_ir_and_cranelift_ir() -> None:
    text = _query(_jit_session()).explain(kernels=True)
    assert "== Kernels ==" in text
    assert re.search(r"kernel \[rows\]\(in0: \w+ \"\w\"", text), text
    assert "select %" in text and "out0 = %" in text
    assert "-- Cranelift IR" in text and "function u0:0(i64) -> i64" in text
    assert text.count("-- Cranelift IR") == 1, "the code is listed once, in its own section"
    assert "(no fused stages)" in cp.Session(config=cp.Config(jit=False)).from_dict(
        {"a": [1]}
    ).select(cp.col("a") + 1).explain(kernels=True)


def test_plain_explain_shows_no_kernel_code() -> None:
    text = _query(_jit_session()).explain()
    assert "JitExec" in text
    assert "kernel [rows]" not in text and "Cranelift IR" not in text


def test_sql_explain_verbose_shows_the_kernels() -> None:
    session = _jit_session()
    session.register("t", _frame(session))
    text = session.sql("EXPLAIN VERBOSE SELECT a * b + 1.0 AS x FROM t WHERE k > 1").compute()
    plans = "\n".join(str(v) for v in text.to_pydict()["plan"])
    assert "JitExec" in plans and "kernel [rows]" in plans and "-- Cranelift IR" in plans


def _metric(text: str, name: str) -> str:
    match = re.search(rf"JitExec.*{name}=([^,\]\s]+)", text)
    assert match, text
    return match.group(1)


def test_analyze_reports_rows_kernel_and_compile_time_and_the_cache_compiles_once() -> None:
    session = _jit_session()
    # A constant no other test uses, so that this kernel is new to the process-wide cache.
    constant = 1000.0 + next(_unique) / 7
    lf = _frame(session).filter(cp.col("k") > 1).select(cp.col("a") * constant)
    first = lf.explain(analyze=True)
    assert re.search(r"JitExec.*input_rows=6.*output_rows=5", first) or re.search(
        r"JitExec.*output_rows=5.*input_rows=6", first
    ), first
    assert "kernel_time=" in first
    assert _metric(first, "kernels_compiled") == "1"
    assert _metric(first, "compile_time").endswith(("µs", "ms"))
    second = lf.explain(analyze=True)
    assert _metric(second, "kernels_compiled") == "0", "the second run compiled again"


def test_division_by_zero_names_the_expression_and_its_columns() -> None:
    lf = (
        _jit_session()
        .from_dict({"a": [1, 2, 3], "b": [1, 0, 3]})
        .select((cp.col("a") % cp.col("b")).alias("q"))
    )
    assert "JitExec" in lf.explain()
    with pytest.raises(cp.ComputeError, match=r"division by zero in `.*a % .*b`"):
        lf.compute()


def test_guarded_division_does_not_fail() -> None:
    session = _jit_session()
    session.register("t", _jit_session().from_dict({"a": [1, 2, 3], "b": [1, 0, 3]}))
    sql = "SELECT CASE WHEN b <> 0 THEN a / b ELSE -1 END AS q FROM t"
    assert "JitExec" in session.sql(f"EXPLAIN {sql}").compute().to_pydict()["plan"][1]
    assert session.sql(sql).compute().to_pydict() == {"q": [1, -1, 1]}


def test_unsupported_expressions_fall_back_to_datafusion() -> None:
    session = cp.Session()
    session.register("t", cp.from_dict({"a": [5.5, 7.0], "s": ["x", "y"]}))
    # Float % needs fmod (a call out of the loop): not fused, still computed.
    result = session.sql("SELECT a % 2.0 AS r, upper(s) AS u FROM t").compute()
    assert result.to_pydict() == {"r": [1.5, 1.0], "u": ["X", "Y"]}


@pytest.mark.parametrize("offset", [0, 1, 3, 8, 61, 64, 65])
def test_sliced_arrow_input_matches_datafusion(offset: int) -> None:
    n = 300
    table = pa.table(
        {
            "f": pa.array([None if i % 7 == 0 else i / 3 - 40 for i in range(n)]),
            "g": pa.array([float("nan") if i % 11 == 0 else (-1.0) ** i * i for i in range(n)]),
            "i": pa.array([None if i % 5 == 0 else i - 150 for i in range(n)], pa.int32()),
            "flag": pa.array([None if i % 13 == 0 else i % 3 == 0 for i in range(n)]),
        }
    ).slice(offset, n - offset - 17)
    sql = (
        "SELECT f * g + 1.0 AS x, CASE WHEN flag THEN i * 2 ELSE i - 1 END AS y, "
        "flag AND f > 0 AS z, greatest(f, g) AS m FROM t WHERE i > -100 OR flag"
    )
    fused, plain = _both_ways(table, sql)
    assert _rows(fused) == _rows(plain)
    assert len(_rows(fused)["x"]) > 100


def test_decimal_arithmetic_is_fused_and_matches_datafusion() -> None:
    from decimal import Decimal

    prices = [Decimal("10.25"), None, Decimal("-3.50"), Decimal("99999.99"), Decimal("0.01")]
    discounts = [Decimal("0.05"), Decimal("0.10"), None, Decimal("0.00"), Decimal("0.07")]
    table = pa.table(
        {
            "price": pa.array(prices, pa.decimal128(15, 2)),
            "discount": pa.array(discounts, pa.decimal128(15, 2)),
            "qty": pa.array([1, 2, 3, 4, None], pa.int64()),
        }
    )
    sql = (
        "SELECT price * (1 - discount) AS net, price + qty AS plus, -price AS neg, "
        "CAST(price AS DOUBLE) AS f FROM t WHERE discount < CAST(0.08 AS DECIMAL(15, 2))"
    )
    fused, plain = _both_ways(table, sql)
    assert fused.schema == plain.schema
    assert fused.to_pydict() == plain.to_pydict()
    expected = [Decimal("9.7375"), Decimal("99999.9900"), Decimal("0.0093")]
    assert fused.to_pydict()["net"] == expected


def test_decimal_overflow_raises_like_datafusion() -> None:
    table = pa.table({"d": pa.array([10**37, 1], pa.decimal128(38, 0))})
    with pytest.raises(cp.ComputeError, match=r"(?i)overflow"):
        _run(table, "SELECT d * d AS sq FROM t", jit=True)
    with pytest.raises(cp.ComputeError, match=r"(?i)overflow"):
        _run(table, "SELECT d * d AS sq FROM t", jit=False)


def test_supported_parts_of_a_partly_unsupported_projection_are_fused() -> None:
    session = _jit_session()
    session.register("t", _jit_session().from_dict({"a": [1.5, 2.0, None], "s": ["x", "y", "z"]}))
    lf = session.sql("SELECT upper(s) AS u, power(a * a + 1.0, 2.0) AS p FROM t")
    plan = lf.explain()
    assert "FusedStage" in plan and "__corepy_fused_0" in plan, plan
    assert lf.compute().to_pydict() == {"u": ["X", "Y", "Z"], "p": [10.5625, 25.0, None]}
