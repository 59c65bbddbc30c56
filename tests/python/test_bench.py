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


@pytest.mark.parametrize(
    ("engine", "reason"),
    [("bench_fake_engines:Sleeping", "timeout"), ("bench_fake_engines:Crashing", "exit code 3")],
)
def test_a_hung_or_dead_engine_is_reported_and_restarted(
    tmp_path: Path, engine: str, reason: str
) -> None:
    options = runner.Options(
        suite="h2o",
        scale=1e5,
        engines=["duckdb", engine],
        runs=1,
        timeout=5,
        queries=["q02", "q01"],
        out=tmp_path,
    )
    result = runner.run(options)
    failed = result["queries"]["q02"][engine]
    assert failed["status"] == "error" and reason in failed["detail"]
    # The next query runs on a new process, and is checked and timed.
    assert result["queries"]["q01"][engine]["status"] == "ok"
    assert len(result["queries"]["q01"][engine]["times"]) == 1
    assert result["peak_rss_bytes"][engine] > 0


def test_corepy_reports_the_compile_time_of_a_first_run(tmp_path: Path) -> None:
    options = runner.Options(
        suite="expr", scale=1e4, engines=["corepy-sql"], runs=1, queries=["ops10"], out=tmp_path
    )
    entry = runner.run(options)["queries"]["ops10"]["corepy-sql"]
    assert entry["status"] == "ok"
    assert entry["compile_seconds"] > 0


def test_pandas_is_not_run_above_its_scale(tmp_path: Path) -> None:
    suite = runner.suites.get("tpch")
    running, skipped = runner._engines_for(suite, ["duckdb", "pandas"], 10)
    assert running == ["duckdb"] and "up to scale 1" in skipped["pandas"]


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


def test_compare_is_exact_for_integers_and_decimals() -> None:
    # DuckDB's sum(BIGINT) is a decimal(38, 0); an int64 off by one is wrong at any size.
    expected = pa.table({"s": pa.array([decimal.Decimal(38_000_000)], pa.decimal128(38, 0))})
    assert check.compare(pa.table({"s": [38_000_000]}), expected, ordered=True) is None
    assert check.compare(pa.table({"s": [38_000_001]}), expected, ordered=True) is not None
    money = pa.table({"m": pa.array([decimal.Decimal("10.25")], pa.decimal128(38, 2))})
    same = pa.table({"m": pa.array([decimal.Decimal("10.2500")], pa.decimal128(25, 4))})
    assert check.compare(same, money, ordered=True) is None
    off = pa.table({"m": pa.array([decimal.Decimal("10.2501")], pa.decimal128(25, 4))})
    assert check.compare(off, money, ordered=True) is not None


def test_compare_accepts_neighbours_swapped_on_a_float_tie_only() -> None:
    expected = pa.table({"k": [1, 2, 3], "v": [5.0, 5.0 + 1e-12, 1.0]})
    swapped = pa.table({"k": [2, 1, 3], "v": [5.0 + 1e-12, 5.0, 1.0]})
    assert check.compare(swapped, expected, ordered=True) is None
    reversed_order = pa.table({"k": [3, 2, 1], "v": [1.0, 5.0 + 1e-12, 5.0]})
    assert check.compare(reversed_order, expected, ordered=True) is not None


def test_compare_handles_null_typed_and_empty_answers() -> None:
    expected = pa.table({"v": pa.array([None], pa.float64())})
    assert check.compare(pa.table({"v": pa.array([None])}), expected, ordered=True) is None
    empty = pa.table({"k": pa.array([], pa.int64()), "v": pa.array([], pa.float64())})
    assert check.compare(empty, empty, ordered=False) is None
    with_null = pa.table({"k": [2, None], "v": [1.0, 2.0]})
    assert (
        check.compare(pa.table({"k": [None, 2], "v": [2.0, 1.0]}), with_null, ordered=False) is None
    )


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
