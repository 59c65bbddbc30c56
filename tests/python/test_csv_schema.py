"""Column types given to the CSV and NDJSON readers (Polars' ``schema=`` and
``schema_overrides=``), with corepy's dtype objects, checked against Polars."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

import corepy as cp

CSV = "id,code,price,day\n1,007,1.50,2024-01-02\n2,010,,2024-02-29\n3,,-2.25,\n"


@pytest.fixture()
def csv(tmp_path: Path) -> Path:
    path = tmp_path / "t.csv"
    path.write_text(CSV)
    return path


def test_overrides_keep_what_inference_would_lose(csv: Path) -> None:
    overrides = {"code": cp.String, "price": cp.Float32}
    ours = cp.scan_csv(csv, schema_overrides=overrides).sort("id").compute()
    theirs = pl.read_csv(csv, schema_overrides={"code": pl.String, "price": pl.Float32})
    # Polars leaves dates as text unless asked to parse them; corepy infers them.
    expected = theirs.sort("id").drop("day").to_dict(as_series=False)
    assert ours.select(["id", "code", "price"]).to_pydict() == expected
    assert ours.lazy().collect_schema()["code"] == cp.String
    assert ours.lazy().collect_schema()["price"] == cp.Float32
    assert cp.read_csv(csv, schema_overrides=overrides).height == 3


def test_a_whole_schema_names_and_types_every_column(csv: Path) -> None:
    schema = {"k": cp.Int32, "c": cp.String, "p": cp.Float64, "d": cp.Date}
    ours = cp.scan_csv(csv, schema=schema).sort("k").compute()
    assert ours.to_pydict() == {
        "k": [1, 2, 3],
        "c": ["007", "010", None],
        "p": [1.5, None, -2.25],
        "d": [dt.date(2024, 1, 2), dt.date(2024, 2, 29), None],
    }
    assert ours.lazy().collect_schema() == cp.Schema(schema)


def test_wrong_schemas_are_named(csv: Path) -> None:
    with pytest.raises(cp.FileFormatError, match="schema= names 2 columns, but the file has 4"):
        cp.scan_csv(csv, schema={"a": cp.Int64, "b": cp.Int64})
    with pytest.raises(cp.ColumnNotFoundError, match="cod") as error:
        cp.scan_csv(csv, schema_overrides={"cod": cp.String})
    assert "code" in str(error.value)
    with pytest.raises(cp.CorepyError, match=r"abc|parse|Int64"):
        bad = csv.parent / "bad.csv"
        bad.write_text("id\n1\nabc\n")
        cp.scan_csv(bad, schema={"id": cp.Int64}).compute()


def test_ndjson_takes_types_too(tmp_path: Path) -> None:
    path = tmp_path / "t.ndjson"
    path.write_text('{"a": 1, "b": 2.5}\n{"a": 2, "b": null}\n')
    ours = cp.scan_ndjson(path, schema_overrides={"a": cp.Int8}).compute()
    assert ours.lazy().collect_schema()["a"] == cp.Int8
    assert cp.read_ndjson(path, schema={"a": cp.Int16, "b": cp.Float32}).to_pydict() == {
        "a": [1, 2],
        "b": [2.5, None],
    }
