"""Remote files: https:// and s3:// paths in the lazy API and in SQL, read through
object_store from a local HTTP server (with ranged GETs, as real servers answer) and from a
local S3-compatible server (moto), and compared with the same files read locally."""

from __future__ import annotations

import gzip
import http.server
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

import corepy as cp

FRAME = {
    "id": list(range(1, 2001)),
    "group": [f"g{i % 7}" for i in range(2000)],
    "x": [i * 0.25 for i in range(2000)],
}


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder with HEAD and ranged GET (`Range: bytes=a-b`), and records each GET's
    path and Range header."""

    requests: ClassVar[list[tuple[str, str]]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        RangeHandler.requests.append((self.path, self.headers.get("Range", "")))
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        path = Path(self.translate_path(self.path))
        if match is None or not path.is_file():
            super().do_GET()
            return
        data = path.read_bytes()
        start = int(match.group(1))
        end = int(match.group(2)) if match.group(2) else len(data) - 1
        end = min(end, len(data) - 1)
        if start >= len(data):
            self.send_error(416)
            return
        self.send_response(206)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Last-Modified", self.date_time_string(int(path.stat().st_mtime)))
        self.end_headers()
        self.wfile.write(data[start : end + 1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("served")
    frame = cp.from_dict(FRAME)
    frame.sink_parquet(folder / "t.parquet")
    frame.sink_csv(folder / "t.csv")
    frame.sink_csv(folder / "t.csv.gz")
    frame.sink_ndjson(folder / "t.ndjson")
    frame.sink_ipc(folder / "t.arrow")
    (folder / "bad.parquet").write_bytes(b"PAR1 not really parquet")
    (folder / "open.csv").write_text('id,x\n1,"never closed\n2,3\n')

    def handler(*args: Any) -> RangeHandler:
        return RangeHandler(*args, directory=str(folder))

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", folder
    server.shutdown()


SUMMARY = 'SELECT "group", count(*) AS n, sum(x) AS x FROM {} GROUP BY "group" ORDER BY "group"'


@pytest.mark.parametrize(
    ("name", "scan"),
    [
        ("t.parquet", cp.scan_parquet),
        ("t.csv", cp.scan_csv),
        ("t.csv.gz", cp.scan_csv),
        ("t.ndjson", cp.scan_ndjson),
        ("t.arrow", cp.scan_ipc),
    ],
)
def test_http_files_read_as_the_local_ones(served: tuple[str, Path], name: str, scan: Any) -> None:
    base, folder = served
    local = scan(folder / name).filter(cp.col("id") % 3 == 0).sort("id").compute()
    remote = scan(f"{base}/{name}").filter(cp.col("id") % 3 == 0).sort("id").compute()
    assert remote.to_pydict() == local.to_pydict()
    assert remote.height == 666
    ours = cp.sql(SUMMARY.format(f"'{base}/{name}'")).compute().to_pydict()
    assert ours == cp.sql(SUMMARY.format(f"'{folder / name}'")).compute().to_pydict()


def test_parquet_over_http_reads_ranges(served: tuple[str, Path]) -> None:
    base, _ = served
    RangeHandler.requests.clear()
    result = cp.scan_parquet(f"{base}/t.parquet").select(cp.col("id").max()).compute()
    assert result.to_pydict() == {"id": [2000]}
    ranged = [r for path, r in RangeHandler.requests if path == "/t.parquet" and r]
    assert ranged, f"no ranged GET of t.parquet: {RangeHandler.requests}"


def test_http_errors_name_the_url(served: tuple[str, Path]) -> None:
    base, _ = served
    with pytest.raises(cp.PathNotFoundError, match=r"missing\.parquet"):
        cp.scan_parquet(f"{base}/missing.parquet")
    with pytest.raises(cp.FileFormatError, match=r"bad\.parquet") as error:
        cp.scan_parquet(f"{base}/bad.parquet").compute()
    assert base in str(error.value)
    with pytest.raises(cp.FileFormatError, match="unterminated quote"):
        cp.scan_csv(f"{base}/open.csv").compute()
    with pytest.raises(cp.InvalidArgumentError, match="cannot list"):
        cp.scan_parquet(f"{base}/*.parquet")
    with pytest.raises(cp.InvalidArgumentError, match="cannot list"):
        cp.scan_parquet(f"{base}/")
    with pytest.raises(cp.InvalidArgumentError, match="query string"):
        cp.scan_parquet(f"{base}/t.parquet?token=secret")
    with pytest.raises(cp.InvalidArgumentError, match="scheme 'ftp' is not supported"):
        cp.scan_parquet("ftp://127.0.0.1/t.parquet")


def test_a_server_that_is_not_there_fails_fast() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(cp.FileFormatError, match=f"127.0.0.1:{port}"):
        cp.scan_parquet(f"http://127.0.0.1:{port}/t.parquet")
    assert time.monotonic() - started < 60


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A moto S3 server on a free local port, a bucket of files, and AWS_* variables
    pointing at it (as a user's environment would)."""
    boto3 = pytest.importorskip("boto3")
    server_module = pytest.importorskip("moto.server")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    saved = {k: os.environ.get(k) for k in ENVIRONMENT}
    os.environ.update(ENVIRONMENT, AWS_ENDPOINT_URL=endpoint)
    folder = tmp_path_factory.mktemp("bucket")
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket="corepy-test")
    frame = cp.from_dict(FRAME)
    for i in range(3):
        part = frame.filter(cp.col("id") % 3 == i)
        part.sink_parquet(folder / f"part{i}.parquet")
        client.upload_file(str(folder / f"part{i}.parquet"), "corepy-test", f"data/part{i}.parquet")
    frame.sink_csv(folder / "t.csv.gz")
    client.upload_file(str(folder / "t.csv.gz"), "corepy-test", "csv/t.csv.gz")
    client.put_object(Bucket="corepy-test", Key="data/notes.txt", Body=b"not data")
    # A folder as Spark leaves one: files at two depths and a _SUCCESS marker.
    client.upload_file(str(folder / "part0.parquet"), "corepy-test", "folder/part0.parquet")
    client.upload_file(str(folder / "part1.parquet"), "corepy-test", "folder/x/part1.parquet")
    client.put_object(Bucket="corepy-test", Key="folder/_SUCCESS", Body=b"")
    try:
        yield "s3://corepy-test", folder
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        os.environ.pop("AWS_ENDPOINT_URL", None)
        server.stop()


ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
}


def test_s3_globs_and_files_read_as_the_local_ones(s3: tuple[str, Path]) -> None:
    bucket, folder = s3
    local = cp.scan_parquet(f"{folder}/part*.parquet").sort("id").compute().to_pydict()
    remote = cp.scan_parquet(f"{bucket}/data/*.parquet").sort("id").compute().to_pydict()
    assert remote == local == FRAME
    one = cp.scan_parquet(f"{bucket}/data/part1.parquet").compute()
    assert one.height == 667
    csv = cp.scan_csv(f"{bucket}/csv/t.csv.gz").sort("id").compute().to_pydict()
    assert csv == FRAME
    ours = cp.sql(SUMMARY.format(f"'{bucket}/data/*.parquet'")).compute().to_pydict()
    assert ours == cp.sql(SUMMARY.format(f"'{folder}/part*.parquet'")).compute().to_pydict()


def test_an_s3_folder_is_every_file_under_it(s3: tuple[str, Path]) -> None:
    bucket, _ = s3
    ids = cp.scan_parquet(f"{bucket}/folder/").select(cp.col("id")).sort("id").compute()
    expected = sorted(i for i in FRAME["id"] if i % 3 in (0, 1))
    assert ids.to_pydict() == {"id": expected}
    rows = cp.sql(f"SELECT count(*) AS n FROM '{bucket}/folder/'").compute().to_pydict()
    assert rows == {"n": [len(expected)]}
    with pytest.raises(cp.PathNotFoundError):
        cp.scan_parquet(f"{bucket}/empty-folder/")


def test_s3_errors_name_the_url(s3: tuple[str, Path]) -> None:
    bucket, _ = s3
    with pytest.raises(cp.PathNotFoundError, match=r"nothing\.parquet"):
        cp.scan_parquet(f"{bucket}/data/nothing.parquet")
    with pytest.raises(cp.PathNotFoundError, match=r"\*\.csv"):
        cp.scan_csv(f"{bucket}/data/*.csv")
    with pytest.raises(cp.PathNotFoundError, match="no-such-bucket"):
        cp.scan_parquet("s3://no-such-bucket/t.parquet")
    saved = os.environ.pop("AWS_ENDPOINT_URL")
    try:
        # An endpoint nobody listens on: an error naming the URL within seconds.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{probe.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(cp.FileFormatError, match=r"s3://corepy-test/data/part0\.parquet"):
            cp.scan_parquet(f"{bucket}/data/part0.parquet")
        assert time.monotonic() - started < 60
    finally:
        os.environ["AWS_ENDPOINT_URL"] = saved


def test_gzip_served_over_http_keeps_its_codec(served: tuple[str, Path]) -> None:
    base, folder = served
    assert gzip.decompress((folder / "t.csv.gz").read_bytes()).startswith(b"id,group,x\n")
    result = cp.scan_csv(f"{base}/t.csv.gz").select(cp.col("id").sum()).compute()
    assert result.to_pydict() == {"id": [sum(FRAME["id"])]}
