"""Fused stages' output columns live in pooled chunks (`planner/src/memory/chunks.rs`): a
result keeps its memory while later queries reuse freed chunks, at every output size (heap,
carved, an allocation of its own), with and without NULLs; and the benchmarks' triad."""

from __future__ import annotations

import gc

import numpy as np
import pyarrow as pa
import pytest

import corepy as cp
from corepy import _core

EXPRESSION = "(a + b) * (c - a) / (b + 1.0)"


def _session(rows: int, batch_size: int, nulls: bool) -> tuple[cp.Session, dict[str, np.ndarray]]:
    rng = np.random.default_rng(rows + batch_size)
    data = {c: rng.random(rows) for c in "abc"}
    arrays = {
        c: pa.array(v, mask=(rng.random(rows) < 0.1) if nulls else None) for c, v in data.items()
    }
    session = cp.Session(target_partitions=2, batch_size=batch_size)
    table = pa.table(arrays)
    # Batches of the session's batch size reach the stage whole (a scan splits larger ones
    # but never joins smaller ones), so each case's outputs have the size it names.
    batches = table.to_batches(max_chunksize=batch_size)
    session.register("t", pa.Table.from_batches(batches, table.schema))
    return session, {c: arrays[c].to_numpy(zero_copy_only=False) for c in arrays}


def _expected(data: dict[str, np.ndarray], scale: float = 1.0) -> np.ndarray:
    a, b, c = data["a"], data["b"], data["c"]
    return ((a + b) * (c - a) / (b + 1.0)) * scale


@pytest.mark.parametrize("nulls", [False, True])
# 1 000-row batches stay on the heap, 4 096 are carved from chunks, 100 000 (800 KB) get
# memory of their own.
@pytest.mark.parametrize("batch_size", [1_000, 4_096, 100_000])
def test_kept_results_survive_later_queries(batch_size: int, nulls: bool) -> None:
    rows = 300_000
    session, data = _session(rows, batch_size, nulls)
    kept = [
        session.sql(f"SELECT ({EXPRESSION}) * {k}.0 AS x FROM t").compute().to_arrow()
        for k in range(1, 4)
    ]
    # Later queries allocate, fill and free many chunks, some of them reused ones.
    for _ in range(5):
        scratch = session.sql(f"SELECT {EXPRESSION} + 7.0 AS y FROM t").compute()
        del scratch
        gc.collect()
    for k, table in enumerate(kept, start=1):
        got = table.column("x").to_numpy(zero_copy_only=False)
        assert len(got) == rows
        np.testing.assert_allclose(got, _expected(data, k), rtol=1e-12, equal_nan=True)
        if nulls:
            expected_nulls = np.isnan(_expected(data))
            assert np.array_equal(np.isnan(got), expected_nulls)


def test_outputs_read_after_their_stage_finished_through_every_interface() -> None:
    session, data = _session(50_000, 8_192, nulls=False)
    result = session.sql(f"SELECT {EXPRESSION} AS x, a FROM t").compute()
    gc.collect()
    x = result.to_arrow().column("x").to_numpy()
    np.testing.assert_allclose(x, _expected(data), rtol=1e-12)
    np.testing.assert_allclose(result.to_polars()["x"].to_numpy(), x)
    np.testing.assert_allclose(result.to_pandas()["x"].to_numpy(), x)


def test_the_triad_times_a_run_and_rejects_empty_input() -> None:
    triad = _core._Triad(1000, 2)
    assert triad.bytes() == 3 * 8 * 1000
    assert triad.run() > 0.0
    with pytest.raises(ValueError, match="at least one row"):
        _core._Triad(0, 2)


def test_the_memory_speed_benchmark_checks_answers_and_reports_fractions() -> None:
    from bench import memory_speed

    result = memory_speed.run(rows=20_000, threads=2, repeat=2)
    assert set(result) == {"triad", "ops2-sql", "ops5-sql", "ops10-sql", "ops10-lazy"}
    for name, figures in result.items():
        runs = 2 * 4 if name == "triad" else 2  # the triad runs before every case
        assert figures["seconds"] > 0 and len(figures["all_seconds"]) == runs, name
        if name != "triad":
            assert figures["fraction_of_triad"] > 0 and figures["paired_fraction"] > 0
    assert "| ops10-sql |" in memory_speed.markdown(
        {
            "date": "2026-12-06",
            "machine": {"cpu": "x", "cores": 2},
            "rows": 20_000,
            "threads": 2,
            "repeat": 2,
            "times": result,
        }
    )
