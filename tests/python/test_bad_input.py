"""Bad files and paths: each gives a corepy error that names the path and the problem,
through the lazy API and through SQL, and never crashes or hangs the interpreter."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

import corepy as cp


@pytest.fixture()
def table() -> pa.Table:
    return pa.table({"a": list(range(1000)), "b": [f"s{i}" for i in range(1000)]})


def both_ways(path: Path | str, scan: Callable[[str], cp.LazyFrame]) -> list[Callable[[], object]]:
    """The same read through the lazy API and through SQL."""
    return [
        lambda: scan(str(path)).compute(),
        lambda: cp.sql(f"SELECT * FROM '{path}'").compute(),
    ]


def test_missing_file_is_a_file_not_found_error(tmp_path: Path) -> None:
    path = tmp_path / "missing.parquet"
    for read in both_ways(path, cp.scan_parquet):
        with pytest.raises(cp.PathNotFoundError) as info:
            read()
        assert isinstance(info.value, FileNotFoundError)
        assert isinstance(info.value, cp.CorepyError)
        assert info.value.path == str(path)
        assert str(path) in str(info.value)


def test_glob_matching_nothing(tmp_path: Path) -> None:
    with pytest.raises(cp.PathNotFoundError, match=r"\*\.parquet"):
        cp.scan_parquet(tmp_path / "*.parquet")


@pytest.mark.parametrize("suffix", ["parquet", "arrow", "csv"])
def test_empty_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"empty.{suffix}"
    path.touch()
    scan = {"parquet": cp.scan_parquet, "arrow": cp.scan_ipc, "csv": cp.scan_csv}[suffix]
    for read in both_ways(path, scan):
        with pytest.raises(cp.FileFormatError, match="empty") as info:
            read()
        assert info.value.path == str(path)


def test_truncated_parquet(tmp_path: Path, table: pa.Table) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    for read in both_ways(path, cp.scan_parquet):
        with pytest.raises(cp.FileFormatError, match="truncated") as info:
            read()
        assert str(path) in str(info.value)


def test_corrupt_parquet_footer(tmp_path: Path, table: pa.Table) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    data = bytearray(path.read_bytes())
    # Keep both magic numbers, scramble the metadata before the footer.
    for i in range(len(data) - 200, len(data) - 8):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    for read in both_ways(path, cp.scan_parquet):
        with pytest.raises(cp.FileFormatError) as info:
            read()
        assert str(path) in str(info.value)


def test_not_a_parquet_file(tmp_path: Path) -> None:
    path = tmp_path / "text.parquet"
    path.write_text("hello, this is not parquet\n")
    with pytest.raises(cp.FileFormatError, match="not a Parquet file"):
        cp.scan_parquet(path)


def test_truncated_ipc(tmp_path: Path, table: pa.Table) -> None:
    path = tmp_path / "t.arrow"
    feather.write_feather(table, path, compression="uncompressed")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 100])
    for read in both_ways(path, cp.scan_ipc):
        with pytest.raises(cp.FileFormatError, match="truncated") as info:
            read()
        assert str(path) in str(info.value)


def test_csv_with_a_malformed_row(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n3,4\n5,6,7\n8,9\n")
    for read in both_ways(path, cp.scan_csv):
        with pytest.raises(cp.FileFormatError) as info:
            read()
        message = str(info.value)
        assert str(path) in message
        assert "line 4" in message


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        # The reader would take the rest of the file as one field: one row, silently.
        ('id,x\n1,"unterminated\n2,3\n', "starts on line 2 is never closed"),
        ('id,x\n1,"ok ""quoted"" text"\n2,"open\n', "starts on line 3 is never closed"),
        ("id,x\n1,2\n3\n", "line 3"),
        ("id,x\n1,2\n3,4,5\n", "line 3"),
        (b"id,x\n1,ab\xff\xfe\n", "line 2"),
    ],
)
def test_malformed_csv_names_the_file_and_the_line(
    tmp_path: Path, text: str | bytes, problem: str
) -> None:
    path = tmp_path / "bad.csv"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    for read in [*both_ways(path, cp.scan_csv), lambda: cp.read_csv(str(path))]:
        with pytest.raises(cp.FileFormatError) as info:
            read()
        assert str(path) in str(info.value)
        assert problem in str(info.value)


def test_quotes_that_close_read_back(tmp_path: Path) -> None:
    path = tmp_path / "good.csv"
    path.write_text('id,x\n1,"a, ""b""\nc"\n2,d\n')
    assert cp.read_csv(str(path)).to_pydict() == {"id": [1, 2], "x": ['a, "b"\nc', "d"]}


def test_glob_over_files_of_different_schemas(tmp_path: Path) -> None:
    pq.write_table(pa.table({"a": [1, 2]}), tmp_path / "one.parquet")
    pq.write_table(pa.table({"a": ["x"], "b": [1.5]}), tmp_path / "two.parquet")
    pattern = tmp_path / "*.parquet"
    for read in both_ways(pattern, cp.scan_parquet):
        with pytest.raises(cp.FileFormatError, match="different schemas") as info:
            read()
        message = str(info.value)
        assert "one.parquet" in message and "two.parquet" in message


def test_glob_over_files_with_different_column_types(tmp_path: Path) -> None:
    pq.write_table(pa.table({"a": [1, 2]}), tmp_path / "one.parquet")
    pq.write_table(pa.table({"a": ["x"]}), tmp_path / "two.parquet")
    with pytest.raises(cp.FileFormatError, match="type of column 'a'"):
        cp.scan_parquet(tmp_path / "*.parquet")


def test_a_directory_is_read_as_one_table(tmp_path: Path, table: pa.Table) -> None:
    pq.write_table(table, tmp_path / "part.parquet")
    for read in both_ways(tmp_path, cp.scan_parquet):
        assert read().shape[0] == table.num_rows


def test_an_empty_directory_names_itself(tmp_path: Path) -> None:
    for read in both_ways(tmp_path, cp.scan_parquet):
        with pytest.raises(cp.FileFormatError, match="no data files") as info:
            read()
        assert str(tmp_path) in str(info.value)


def test_unknown_extension_in_sql(tmp_path: Path) -> None:
    path = tmp_path / "data.xyz"
    path.write_text("a\n1\n")
    with pytest.raises(cp.CorepyError):
        cp.sql(f"SELECT * FROM '{path}'").compute()
    # Naming the format explicitly reads it.
    assert cp.scan_csv(path).compute().to_pydict() == {"a": [1]}


def test_file_changed_after_scan_is_reported_when_computed(tmp_path: Path, table: pa.Table) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    frame = cp.scan_parquet(path)
    path.write_bytes(b"PAR1 garbage garbage PAR1")
    with pytest.raises(cp.FileFormatError) as info:
        frame.compute()
    assert str(path) in str(info.value)


def test_good_files_of_every_format_read_back(tmp_path: Path, table: pa.Table) -> None:
    pq.write_table(table, tmp_path / "t.parquet")
    feather.write_feather(table, tmp_path / "t.feather")
    shutil.copy(tmp_path / "t.feather", tmp_path / "t.ipc")
    pacsv.write_csv(table, tmp_path / "t.csv")
    for frame in [
        cp.scan_parquet(tmp_path / "t.parquet"),
        cp.scan_ipc(tmp_path / "t.feather"),
        cp.scan_ipc(tmp_path / "t.ipc"),
        cp.scan_csv(tmp_path / "t.csv"),
        cp.sql(f"SELECT * FROM '{tmp_path}/t.feather'"),
    ]:
        out = frame.sort("a").compute().to_arrow()
        assert out.column("a").to_pylist() == table.column("a").to_pylist()
        assert out.column("b").cast(pa.string()).to_pylist() == table.column("b").to_pylist()


def test_session_survives_bad_input(tmp_path: Path) -> None:
    with pytest.raises(cp.PathNotFoundError):
        cp.sql(f"SELECT * FROM '{tmp_path}/nope.csv'").compute()
    assert cp.sql("SELECT 1 AS x").compute().to_pydict() == {"x": [1]}
