"""Row order: with_row_index, tail, first/last, maintain_order, unique(keep=…), forward and
backward fill_null, horizontal concat — against Polars, over in-memory frames and over
multi-file, multi-row-group Parquet scans read by several partitions."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import corepy as cp

DATA = {
    "g": ["b", "a", "b", "c", "a", "b", "a"],
    "x": [None, 1, 2, None, None, 5, 6],
    "s": ["p", None, "q", "r", None, None, "t"],
}


def test_with_row_index_matches_polars() -> None:
    ours = cp.from_dict(DATA).with_row_index("i", offset=10).compute().to_pydict()
    theirs = pl.DataFrame(DATA).with_row_index("i", offset=10).to_dict(as_series=False)
    assert ours == theirs


@pytest.fixture(scope="module")
def many_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three Parquet files of several row groups each; column n is the global row number."""
    root = tmp_path_factory.mktemp("ordered")
    start = 0
    for part, rows in enumerate([70_000, 5, 130_000]):
        n = list(range(start, start + rows))
        table = pa.table({"n": n, "odd": [v % 2 == 1 for v in n]})
        pq.write_table(table, root / f"part-{part}.parquet", row_group_size=8_192)
        start += rows
    return root


@pytest.mark.parametrize("partitions", [1, 2, 4])
def test_a_scan_is_numbered_in_file_order(many_files: Path, partitions: int) -> None:
    session = cp.Session(target_partitions=partitions)
    lf = session.scan_parquet(many_files / "*.parquet")
    out = lf.with_row_index().compute().to_arrow()
    assert out.column("index").to_pylist() == out.column("n").to_pylist()
    assert out.column("n").to_pylist() == list(range(out.num_rows))
    # After a filter the kept rows are numbered again, still in file order.
    odd = lf.filter(cp.col("odd")).with_row_index("k").compute().to_arrow()
    assert odd.column("k").to_pylist() == list(range(odd.num_rows))
    assert odd.column("n").to_pylist() == list(range(1, 2 * odd.num_rows, 2))
    assert lf.tail(3).compute().to_pydict()["n"] == [200_002, 200_003, 200_004]
    assert lf.head(3).compute().to_pydict()["n"] == [0, 1, 2]
    assert lf.slice(69_998, 4).compute().to_pydict()["n"] == [69_998, 69_999, 70_000, 70_001]
    assert lf.filter(cp.col("odd")).head(2).compute().to_pydict()["n"] == [1, 3]
    # A sorted frame keeps its own order (and DataFusion's top-k).
    top = lf.sort("n", descending=True).head(2)
    assert top.compute().to_pydict()["n"] == [200_004, 200_003]
    assert "RowIndex" not in top.explain()


def test_a_directory_is_numbered_in_file_order(many_files: Path) -> None:
    out = cp.scan_parquet(many_files).with_row_index().select("index", "n").compute()
    assert out.to_pydict()["index"] == out.to_pydict()["n"]


def test_a_sorted_frame_is_numbered_in_sort_order() -> None:
    lf = cp.from_dict({"v": [3, 1, 2]}).sort("v", descending=True).with_row_index()
    assert lf.compute().to_pydict() == {"index": [0, 1, 2], "v": [3, 2, 1]}


def test_tail_matches_polars() -> None:
    for n in [0, 2, 7, 20]:
        assert cp.from_dict(DATA).tail(n).compute().to_pydict() == pl.DataFrame(DATA).tail(
            n
        ).to_dict(as_series=False)


def test_first_last_and_maintain_order_match_polars() -> None:
    ours = (
        cp.from_dict(DATA)
        .group_by("g", maintain_order=True)
        .agg(
            cp.col("x").first().alias("first_x"),
            cp.col("x").last().alias("last_x"),
            cp.col("s").first().alias("first_s"),
            cp.col("x").sum(),
        )
        .compute()
        .to_pydict()
    )
    theirs = (
        pl.DataFrame(DATA)
        .group_by("g", maintain_order=True)
        .agg(
            pl.col("x").first().alias("first_x"),
            pl.col("x").last().alias("last_x"),
            pl.col("s").first().alias("first_s"),
            pl.col("x").sum(),
        )
        .to_dict(as_series=False)
    )
    assert ours == theirs
    whole = cp.from_dict(DATA).select(cp.col("s").first(), cp.col("x").last().alias("l"))
    assert whole.compute().to_pydict() == {"s": ["p"], "l": [6]}


@pytest.mark.parametrize("keep", ["first", "last", "none", "any"])
@pytest.mark.parametrize("subset", [None, "g"])
def test_unique_keep_matches_polars(keep: str, subset: str | None) -> None:
    data = {**DATA, "g": ["b", "a", "b", "c", "a", "b", "a"], "x": [1, 1, 1, 2, 1, 5, 1]}
    data["s"] = ["p", "p", "p", "r", "p", "q", "p"] if subset is None else data["s"]
    ours = cp.from_dict(data).unique(subset, keep=keep, maintain_order=True)  # type: ignore[arg-type]
    theirs = pl.DataFrame(data).unique(subset, keep=keep, maintain_order=True)  # type: ignore[arg-type]
    if keep == "any":
        assert sorted(map(str, ours.compute().to_pylist())) == sorted(map(str, theirs.to_dicts()))
    else:
        assert ours.compute().to_pydict() == theirs.to_dict(as_series=False)


@pytest.mark.parametrize("strategy", ["forward", "backward", "min", "max", "mean", "zero", "one"])
def test_fill_null_strategies_match_polars(strategy: str) -> None:
    # A float column: for an integer one Polars truncates the mean to an integer.
    data = {"x": [None if v is None else float(v) for v in DATA["x"]]}
    ours = cp.from_dict(data).select(cp.col("x").fill_null(strategy=strategy))  # type: ignore[arg-type]
    theirs = pl.DataFrame(data).select(pl.col("x").fill_null(strategy=strategy))  # type: ignore[arg-type]
    got, want = ours.compute().to_pydict()["x"], theirs.to_dict(as_series=False)["x"]
    assert [None if v is None else float(v) for v in got] == [
        None if v is None else float(v) for v in want
    ]


def test_frame_fill_null_forward_and_within_groups_match_polars() -> None:
    data = {**DATA, "i": list(range(len(DATA["g"])))}
    for strategy in ["forward", "backward"]:
        ours = cp.from_dict(data).fill_null(strategy=strategy).sort("i")  # type: ignore[arg-type]
        theirs = pl.DataFrame(data).fill_null(strategy=strategy)  # type: ignore[arg-type]
        assert ours.compute().to_pydict() == theirs.to_dict(as_series=False)
        grouped = cp.from_dict(data).with_columns(
            cp.col("x").fill_null(strategy=strategy).over("g").alias("f")  # type: ignore[arg-type]
        )
        expected = pl.DataFrame(data).with_columns(
            pl.col("x").fill_null(strategy=strategy).over("g").alias("f")  # type: ignore[arg-type]
        )
        assert grouped.sort("i").compute().to_pydict() == expected.to_dict(as_series=False)


def test_horizontal_concat_matches_polars() -> None:
    a = {"x": [1, 2, 3]}
    b = {"y": ["p", "q"], "z": [1.5, None]}
    ours = cp.concat([cp.from_dict(a), cp.from_dict(b)], how="horizontal").compute()
    # Polars 2 pads the shorter frame with how="horizontal_extend" (its "horizontal" raises).
    theirs = pl.concat([pl.DataFrame(a), pl.DataFrame(b)], how="horizontal_extend")
    assert ours.to_pydict() == theirs.to_dict(as_series=False)
    with pytest.raises(ValueError, match="twice"):
        cp.concat([cp.from_dict(a), cp.from_dict(a)], how="horizontal")


def test_row_order_bad_input() -> None:
    lf = cp.from_dict(DATA)
    with pytest.raises(ValueError, match="already has a column"):
        lf.with_row_index("g")
    with pytest.raises(ValueError, match="value or a strategy"):
        lf.fill_null()
    with pytest.raises(ValueError, match="unknown fill_null strategy"):
        lf.select(cp.col("x").fill_null(strategy="sideways"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="keep="):
        lf.unique(keep="middle")  # type: ignore[arg-type]
