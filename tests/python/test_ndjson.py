"""Newline-delimited JSON: read with the lazy API, the eager readers and SQL, written with
sink_ndjson, checked against Polars; bad files name their path."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import corepy as cp

ROWS = [
    {"id": 1, "price": 1.5, "name": "a", "ok": True},
    {"id": 2, "price": None, "name": "b", "ok": False},
    {"id": 3, "price": -2.25, "name": None, "ok": None},
    {"id": 4, "price": 0.0, "name": "d", "ok": True},
]


@pytest.fixture()
def ndjson(tmp_path: Path) -> Path:
    path = tmp_path / "rows.ndjson"
    pl.DataFrame(ROWS).write_ndjson(path)
    return path


def test_scan_and_read_match_polars(ndjson: Path) -> None:
    expected = pl.read_ndjson(ndjson).sort("id").to_dict(as_series=False)
    assert cp.scan_ndjson(ndjson).sort("id").compute().to_pydict() == expected
    assert cp.read_ndjson(ndjson).sort("id").to_pydict() == expected
    lazy = cp.scan_ndjson(ndjson).filter(cp.col("price") > 0).select("id", "name")
    assert lazy.compute().to_pydict() == {"id": [1], "name": ["a"]}


def test_sql_reads_json_paths_and_globs(tmp_path: Path) -> None:
    for i in range(2):
        pl.DataFrame(ROWS[2 * i : 2 * i + 2]).write_ndjson(tmp_path / f"part{i}.jsonl")
    query = f"SELECT count(*) AS n, sum(id) AS s FROM '{tmp_path}/*.jsonl'"
    assert cp.sql(query).compute().to_pydict() == {"n": [4], "s": [10]}


def test_sink_ndjson_round_trips(tmp_path: Path, ndjson: Path) -> None:
    out = tmp_path / "out.ndjson"
    cp.scan_ndjson(ndjson).with_columns((cp.col("id") * 10).alias("id10")).sink_ndjson(out)
    written = pl.read_ndjson(out).sort("id")
    assert written["id10"].to_list() == [10, 20, 30, 40]
    assert written["name"].to_list() == ["a", "b", None, "d"]
    cp.read_ndjson(out).write_ndjson(tmp_path / "again.ndjson")
    again = cp.read_ndjson(tmp_path / "again.ndjson").sort("id").to_pydict()
    assert again == cp.read_ndjson(out).sort("id").to_pydict()


@pytest.mark.parametrize("text", ['{"id": 1}\n{"id": 2\n', '{"id": 1}\nnot json\n', "[1, 2, 3]\n"])
def test_malformed_json_names_the_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.ndjson"
    path.write_text(text)
    for read in (lambda: cp.read_ndjson(path), lambda: cp.sql(f"SELECT * FROM '{path}'").compute()):
        with pytest.raises(cp.FileFormatError) as info:
            read()
        assert str(path) in str(info.value)


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_text("")
    with pytest.raises(cp.FileFormatError, match="empty"):
        cp.read_ndjson(path)
