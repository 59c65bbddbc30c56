"""Compressed CSV and NDJSON (.gz, .bz2, .xz, .zst): read by the scans and by SQL, written by
the sinks and by COPY … TO, checked against Python's own codecs and DuckDB; a corrupt,
truncated or badly quoted compressed file names its path."""

from __future__ import annotations

import bz2
import gzip
import lzma
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

import corepy as cp

CSV = 'id,name,price\n1,a,1.5\n2,"b, quoted",\n3,,-2.25\n4,d,0\n'
EXPECTED = {
    "id": [1, 2, 3, 4],
    "name": ["a", "b, quoted", None, "d"],
    "price": [1.5, None, -2.25, 0.0],
}

# Python's codecs write the files corepy reads; zstd has no codec in this Python, so
# DuckDB writes those.
WRITERS: dict[str, Callable[[bytes], bytes]] = {
    "gz": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
}
READERS: dict[str, Callable[[bytes], bytes]] = {
    "gz": gzip.decompress,
    "bz2": bz2.decompress,
    "xz": lzma.decompress,
}


def write_compressed(path: Path, text: str) -> Path:
    codec = path.suffix.lstrip(".")
    if codec == "zst":
        plain = path.with_suffix("")
        plain.write_text(text)
        duckdb.sql(
            f"COPY (SELECT * FROM read_csv('{plain}', all_varchar=true)) "
            f"TO '{path}' (FORMAT csv, COMPRESSION zstd)"
        )
        plain.unlink()
    else:
        path.write_bytes(WRITERS[codec](text.encode()))
    return path


@pytest.mark.parametrize("codec", ["gz", "bz2", "xz", "zst"])
def test_scan_csv_reads_every_codec(tmp_path: Path, codec: str) -> None:
    path = write_compressed(tmp_path / f"t.csv.{codec}", CSV)
    frame = cp.scan_csv(path).sort("id").compute().to_pydict()
    if codec == "zst":
        # DuckDB wrote every column as text, quoting nothing it need not.
        assert frame["id"] == EXPECTED["id"]
        assert frame["name"] == EXPECTED["name"]
    else:
        assert frame == EXPECTED
    rows = cp.sql(f"SELECT count(*) AS n, sum(id) AS s FROM '{path}'").compute()
    assert rows.to_pydict() == {"n": [4], "s": [10]}


def test_a_compressed_glob_and_sql_agree_with_duckdb(tmp_path: Path) -> None:
    for i in range(3):
        body = "".join(f"{i * 100 + j},{j * 0.5}\n" for j in range(100))
        write_compressed(tmp_path / f"part{i}.csv.gz", "id,x\n" + body)
    pattern = f"{tmp_path}/*.csv.gz"
    query = "SELECT count(*) AS n, sum(id) AS s, sum(x) AS x FROM {}"
    ours = cp.sql(query.format(f"'{pattern}'")).compute().to_pydict()
    theirs = duckdb.sql(query.format(f"read_csv('{pattern}')")).fetchall()[0]
    assert (ours["n"][0], ours["s"][0], ours["x"][0]) == theirs
    lazy = cp.scan_csv(pattern).filter(cp.col("id") % 100 == 7).select("id").sort("id")
    assert lazy.compute().to_pydict() == {"id": [7, 107, 207]}


def test_tsv_gz_is_tab_separated(tmp_path: Path) -> None:
    path = write_compressed(tmp_path / "t.tsv.gz", "a\tb\n1\tx\n2\ty\n")
    assert cp.scan_csv(path).sort("a").compute().to_pydict() == {
        "a": [1, 2],
        "b": ["x", "y"],
    }


@pytest.mark.parametrize("codec", ["gz", "bz2", "xz", "zst"])
def test_ndjson_reads_and_writes_every_codec(tmp_path: Path, codec: str) -> None:
    frame = cp.from_dict(EXPECTED)
    path = tmp_path / f"t.ndjson.{codec}"
    frame.sink_ndjson(path)
    if codec in READERS:
        lines = READERS[codec](path.read_bytes()).decode().splitlines()
        assert lines[0] == '{"id":1,"name":"a","price":1.5}'
        assert len(lines) == 4
    assert cp.scan_ndjson(path).sort("id").compute().to_pydict() == EXPECTED
    assert cp.read_ndjson(path).height == 4


@pytest.mark.parametrize("codec", ["gz", "bz2", "xz", "zst"])
def test_sink_csv_compresses_as_the_extension_says(tmp_path: Path, codec: str) -> None:
    frame = cp.from_dict(EXPECTED)
    plain, compressed = tmp_path / "plain.csv", tmp_path / f"t.csv.{codec}"
    frame.sink_csv(plain)
    frame.sink_csv(compressed)
    if codec in READERS:
        assert READERS[codec](compressed.read_bytes()) == plain.read_bytes()
    else:
        duck = duckdb.sql(f"SELECT * FROM read_csv('{compressed}') ORDER BY id").fetchall()
        assert [row[0] for row in duck] == EXPECTED["id"]
    assert compressed.stat().st_size < 10 * plain.stat().st_size
    assert cp.scan_csv(compressed).sort("id").compute().to_pydict() == EXPECTED


def test_compression_argument_overrides_the_extension(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    cp.from_dict({"a": [1, 2]}).compute().write_csv(path, compression="gzip")
    assert gzip.decompress(path.read_bytes()) == b"a\n1\n2\n"
    with pytest.raises(cp.InvalidArgumentError, match="unknown compression 'lz5'"):
        cp.from_dict({"a": [1]}).sink_csv(tmp_path / "u.csv", compression="lz5")  # type: ignore[arg-type]
    assert not (tmp_path / "u.csv").exists()


@pytest.mark.parametrize(
    ("target", "codec"),
    [("out.csv.gz", "gz"), ("out.csv.bz2", "bz2"), ("out.csv.xz", "xz"), ("out.json.gz", "gz")],
)
def test_copy_to_a_compressed_file(tmp_path: Path, target: str, codec: str) -> None:
    path = tmp_path / target
    cp.sql("CREATE TABLE copied AS VALUES (1, 'x'), (2, 'y')").compute()
    try:
        result = cp.sql(f"COPY copied TO '{path}'").compute().to_pydict()
        assert result == {"count": [2]}
        text = READERS[codec](path.read_bytes()).decode()
        if target.endswith(".json.gz"):
            assert text.splitlines()[0] == '{"column1":1,"column2":"x"}'
        else:
            assert text.splitlines() == ["column1,column2", "1,x", "2,y"]
        back = cp.sql(f"SELECT sum(column1) AS s FROM '{path}'").compute().to_pydict()
        assert back == {"s": [3]}
    finally:
        cp.sql("DROP TABLE copied").compute()


def test_a_corrupt_compressed_file_names_its_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv.gz"
    path.write_bytes(b"this is not gzip")
    with pytest.raises(cp.FileFormatError, match="not a valid gzip file") as error:
        cp.scan_csv(path).compute()
    assert str(path) in str(error.value)


def test_a_truncated_compressed_file_is_refused(tmp_path: Path) -> None:
    whole = gzip.compress(("id,x\n" + "".join(f"{i},{i}\n" for i in range(5000))).encode())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(cp.FileFormatError) as error:
        cp.scan_csv(path).compute()
    assert str(path) in str(error.value)


def test_an_unterminated_quote_is_found_inside_the_codec(tmp_path: Path) -> None:
    path = write_compressed(tmp_path / "open.csv.xz", 'id,x\n1,"unterminated\n2,3\n')
    with pytest.raises(cp.FileFormatError, match="line 2") as error:
        cp.scan_csv(path).compute()
    assert str(path) in str(error.value)


def test_binary_formats_are_not_whole_file_compressed(tmp_path: Path) -> None:
    plain = tmp_path / "t.parquet"
    cp.from_dict({"a": [1]}).sink_parquet(plain)
    path = tmp_path / "t.parquet.gz"
    path.write_bytes(gzip.compress(plain.read_bytes()))
    with pytest.raises(cp.FileFormatError, match="cannot be gzip-compressed"):
        cp.scan_parquet(path)
    with pytest.raises(cp.FileFormatError, match="cannot be gzip-compressed"):
        cp.sql(f"SELECT * FROM '{path}'").compute()


def test_a_glob_of_mixed_codecs_is_refused(tmp_path: Path) -> None:
    write_compressed(tmp_path / "a.csv.gz", "x\n1\n")
    write_compressed(tmp_path / "b.csv.bz2", "x\n2\n")
    with pytest.raises(cp.FileFormatError, match="different compressions"):
        cp.scan_csv(f"{tmp_path}/*.csv.*")
