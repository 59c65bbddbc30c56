"""The benchmark runner (``bench/``): answers are checked against DuckDB's before anything
is timed, a wrong answer is reported as wrong and never timed, and the smoke mode fails on
it. Nothing here asserts a time."""

from __future__ import annotations

import decimal
import sys
from pathlib import Path

import pyarrow as pa
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench import __main__ as bench_cli  # noqa: E402
from bench import check, report, runner  # noqa: E402

HERE = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def fake_engines_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers find ``bench_fake_engines`` through PYTHONPATH."""
    monkeypatch.setenv("PYTHONPATH", str(HERE))


def _options(tmp_path: Path, engines: list[str], **more: object) -> runner.Options:
    return runner.Options(
        suite="h2o",
        scale=1e5,
        engines=engines,
        runs=2,
        queries=["q01", "q09"],
        out=tmp_path,
        **more,  # type: ignore[arg-type]
    )


def test_a_wrong_answer_is_reported_wrong_and_not_timed(tmp_path: Path) -> None:
    result = runner.run(_options(tmp_path, ["duckdb", "bench_fake_engines:OffByOne", "polars"]))
    for query in ("q01", "q09"):
        entries = result["queries"][query]
        wrong = entries["bench_fake_engines:OffByOne"]
        assert wrong["status"] == "wrong"
        assert "row" in wrong["detail"]
        assert "median" not in wrong and "times" not in wrong
        for good in ("duckdb", "polars"):
            assert entries[good]["status"] == "ok"
            assert len(entries[good]["times"]) == 2
    text = report.markdown(result)
    assert "| q01 | ok" not in text
    assert "wrong" in text


def test_an_engine_error_is_reported_with_its_message(tmp_path: Path) -> None:
    result = runner.run(_options(tmp_path, ["duckdb", "bench_fake_engines:Failing"]))
    entry = result["queries"]["q01"]["bench_fake_engines:Failing"]
    assert entry["status"] == "error"
    assert "this engine always fails (q01)" in entry["detail"]


def test_smoke_mode_fails_on_a_wrong_answer(tmp_path: Path) -> None:
    argv = ["run", "h2o", "--smoke", "--queries", "q02", "--out", str(tmp_path)]
    assert bench_cli.main([*argv, "--engines", "duckdb,polars"]) == 0
    assert bench_cli.main([*argv, "--engines", "duckdb,bench_fake_engines:OffByOne"]) == 1


def test_an_unknown_engine_is_named() -> None:
    with pytest.raises(SystemExit, match="unknown engine 'duckbd'"):
        bench_cli.main(["run", "h2o", "--smoke", "--engines", "duckbd"])


def test_compare_tolerates_float_noise_and_type_differences() -> None:
    expected = pa.table({"k": pa.array(["a", "b"]), "v": pa.array([1.0, 2.0])})
    actual = pa.table(
        {
            "key": pa.array(["b", "a"], pa.large_string()),
            "v": pa.array([decimal.Decimal("2.0000000001"), decimal.Decimal("1")]),
        }
    )
    assert check.compare(actual, expected, ordered=False) is None
    assert check.compare(actual, expected, ordered=True) is not None


def test_compare_finds_each_kind_of_difference() -> None:
    expected = pa.table({"k": [1, 2], "v": [1.0, float("nan")]})
    assert (
        check.compare(pa.table({"k": [1, 2], "v": [1.0, float("nan")]}), expected, ordered=True)
        is None
    )
    assert "row 1" in str(
        check.compare(pa.table({"k": [1, 2], "v": [1.0, None]}), expected, ordered=True)
    )
    assert "row 0" in str(
        check.compare(pa.table({"k": [1, 2], "v": [1.001, float("nan")]}), expected, ordered=True)
    )
    assert "1 rows" in str(check.compare(pa.table({"k": [1], "v": [1.0]}), expected, ordered=True))
    assert "columns" in str(check.compare(pa.table({"k": [1, 2]}), expected, ordered=True))
    assert "column 'k'" in str(
        check.compare(pa.table({"k": ["1", "2"], "v": [1.0, 2.0]}), expected, ordered=True)
    )
