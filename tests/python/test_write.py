"""Writing results to Parquet, IPC and CSV: round trips, read back by pyarrow and DuckDB, and
atomicity (no partial file after an error, an existing file left untouched)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

import corepy as cp

DATA = {
    "id": [1, 2, 3, None],
    "name": ["a", None, "c,d", "e"],
    "x": [0.5, None, 2.5, -1.0],
    "d": [dt.date(2024, 1, 1), None, dt.date(1969, 12, 31), dt.date(2000, 2, 29)],
}


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if "corepy-partial" in p.name)


@pytest.mark.parametrize("compression", ["zstd", "snappy", "uncompressed"])
def test_parquet_round_trip(tmp_path: Path, compression: str) -> None:
    path = tmp_path / "out.parquet"
    cp.from_dict(DATA).sink_parquet(path, compression=compression)  # type: ignore[arg-type]
    table = pq.read_table(path)
    assert table.to_pydict() == DATA
    codec = pq.ParquetFile(path).metadata.row_group(0).column(0).compression
    assert codec.lower() == compression
    assert cp.scan_parquet(path).compute().to_pydict() == DATA
    assert _leftovers(tmp_path) == []


def test_ipc_and_csv_round_trips(tmp_path: Path) -> None:
    lf = cp.from_dict(DATA)
    lf.write_ipc(tmp_path / "out.arrow")
    assert ipc.open_file(tmp_path / "out.arrow").read_all().to_pydict() == DATA
    lf.select("id", "name").write_csv(tmp_path / "out.csv")
    # Nulls are written as empty fields, as Polars and DuckDB write them.
    options = pacsv.ConvertOptions(strings_can_be_null=True)
    back = pacsv.read_csv(tmp_path / "out.csv", convert_options=options).to_pydict()
    assert back == {"id": [1, 2, 3, None], "name": ["a", None, "c,d", "e"]}
    lf.select("id").sink_csv(tmp_path / "bare.tsv", include_header=False, separator="\t")
    # A lone null is quoted, so that the row is not an empty line that readers skip.
    assert (tmp_path / "bare.tsv").read_text() == '1\n2\n3\n""\n'


def test_a_lazy_query_streams_into_the_file(tmp_path: Path) -> None:
    path = tmp_path / "features.parquet"
    query = (
        cp.from_dict({"g": ["a", "b", "a"], "v": [1.0, 2.0, 4.0]})
        .group_by("g")
        .agg(cp.col("v").mean().alias("mean"))
    )
    query.write_parquet(path)
    got = duckdb.sql(f"SELECT g, mean FROM '{path}' ORDER BY g").fetchall()
    assert got == [("a", 2.5), ("b", 2.0)]
    # A computed DataFrame writes too.
    query.compute().write_parquet(tmp_path / "again.parquet")
    assert pq.read_table(tmp_path / "again.parquet").num_rows == 2


def test_a_failed_query_leaves_no_file_and_keeps_the_old_one(tmp_path: Path) -> None:
    path = tmp_path / "out.parquet"
    path.write_bytes(b"old contents")
    failing = cp.from_dict({"s": ["1", "x"]}).select(cp.col("s").cast("int64"))
    with pytest.raises(cp.ComputeError, match="cast"):
        failing.sink_parquet(path)
    assert path.read_bytes() == b"old contents"
    assert _leftovers(tmp_path) == []
    with pytest.raises(cp.ComputeError):
        failing.sink_csv(tmp_path / "new.csv")
    assert not (tmp_path / "new.csv").exists()
    assert _leftovers(tmp_path) == []


def test_bad_destinations_are_clear_errors(tmp_path: Path) -> None:
    lf = cp.from_dict({"a": [1]})
    with pytest.raises(cp.PathNotFoundError, match="no_such_dir"):
        lf.sink_parquet(tmp_path / "no_such_dir" / "out.parquet")
    with pytest.raises(cp.InvalidArgumentError, match="is a directory"):
        lf.sink_parquet(tmp_path)
    with pytest.raises(cp.InvalidArgumentError, match="unknown Parquet compression 'lz77'"):
        lf.sink_parquet(tmp_path / "x.parquet", compression="lz77")  # type: ignore[arg-type]
    with pytest.raises(cp.InvalidArgumentError, match="one ASCII character"):
        lf.sink_csv(tmp_path / "x.csv", separator="::")
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        with pytest.raises(cp.InvalidArgumentError, match="cannot write in"):
            lf.sink_parquet(locked / "out.parquet")
    assert not list(tmp_path.glob("*.parquet"))


def test_large_result_is_written_in_batches(tmp_path: Path) -> None:
    n = 300_000
    table = pa.table({"i": pa.array(range(n), pa.int64())})
    path = tmp_path / "big.arrow"
    cp.from_arrow(table).filter(cp.col("i") % 3 == 0).sink_ipc(path)
    back = ipc.open_file(path).read_all()
    assert back.num_rows == n // 3
    assert sorted(back.column("i").to_pylist())[:3] == [0, 3, 6]
