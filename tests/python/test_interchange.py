"""Interchange with pandas, Polars, NumPy and pyarrow; row and value access; SQL over frames
(SQLContext, LazyFrame.sql, session.register of every kind of frame)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import corepy as cp


def test_from_pandas_polars_numpy() -> None:
    pdf = pd.DataFrame({"a": [1, 2, None], "s": ["x", None, "z"]}, index=[10, 11, 12])
    assert cp.from_pandas(pdf).compute().to_pydict() == {
        "a": [1.0, 2.0, None],
        "s": ["x", None, "z"],
    }
    pldf = pl.DataFrame({"a": [1, None], "s": ["x", "y"]})
    assert cp.from_polars(pldf).compute().to_pydict() == pldf.to_dict(as_series=False)
    assert cp.from_polars(pldf.lazy()).compute().to_pydict() == pldf.to_dict(as_series=False)
    out = cp.from_numpy({"a": np.arange(3), "f": np.array([0.5, 1.5, 2.5])}).compute()
    assert out.to_pydict() == {"a": [0, 1, 2], "f": [0.5, 1.5, 2.5]}
    two_d = cp.from_numpy(np.array([[1.0, 2.0], [3.0, 4.0]])).compute()
    assert two_d.to_pydict() == {"column_0": [1.0, 3.0], "column_1": [2.0, 4.0]}
    with pytest.raises(ValueError, match="2 columns"):
        cp.from_numpy(np.zeros((2, 2)), schema=["a"])
    with pytest.raises(ValueError, match="3 dimensions"):
        cp.from_numpy(np.zeros((2, 2, 2)))


def test_rows_items_columns() -> None:
    df = cp.from_dict({"a": [1, 2, 3], "b": ["x", "y", None]}).sort("a").compute()
    assert df.to_dicts() == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}, {"a": 3, "b": None}]
    assert df.row(1) == (2, "y")
    assert df.row(-1, named=True) == {"a": 3, "b": None}
    assert df.item(2, "a") == 3 and df.item(0, 1) == "x"
    assert df["b"].to_pylist() == ["x", "y", None]
    assert df.get_column(0).to_pylist() == [1, 2, 3]
    assert df.to_numpy().shape == (3, 2)
    with pytest.raises(ValueError, match="1×1 frame"):
        df.item()
    with pytest.raises(IndexError, match="row 3 is out of range"):
        df.row(3)
    with pytest.raises(cp.ColumnNotFoundError, match="did you mean 'b'"):
        df["bb"]


def test_a_large_numeric_column_crosses_without_a_copy() -> None:
    values = np.arange(5_000_000, dtype=np.float64)
    table = pa.table({"x": values})
    source_address = table.column("x").chunk(0).buffers()[1].address
    assert source_address == values.ctypes.data  # pyarrow itself did not copy
    out = cp.from_arrow(table).select("x").compute()
    result = out.to_arrow().column("x")
    assert result.num_chunks >= 1
    first = result.chunk(0).buffers()[1]
    assert first.address == source_address, "the column was copied on the way"
    single = cp.from_arrow(pa.table({"x": values})).compute().to_numpy()
    assert single.shape == (5_000_000, 1)


def test_sql_context_and_lazy_frame_sql() -> None:
    orders = cp.from_dict({"id": [1, 2, 3], "cust": [7, 8, 7]})
    customers = pl.DataFrame({"cust": [7, 8], "name": ["Ada", "Bo"]})
    payments = pd.DataFrame({"id": [1, 3], "paid": [True, False]})
    ctx = cp.SQLContext(frames={"orders": orders}, customers=customers)
    ctx.register("payments", payments).register("computed", orders.compute())
    assert ctx.tables() == ["computed", "customers", "orders", "payments"]
    query = ctx.execute(
        "SELECT o.id, c.name, p.paid FROM orders o JOIN customers c ON o.cust = c.cust "
        "LEFT JOIN payments p ON p.id = o.id ORDER BY o.id"
    )
    assert query.compute().to_pydict() == {
        "id": [1, 2, 3],
        "name": ["Ada", "Bo", "Ada"],
        "paid": [True, None, False],
    }
    # The result composes with the lazy API.
    assert query.filter(cp.col("name") == "Bo").compute().to_pydict()["id"] == [2]
    ctx.unregister("payments")
    with pytest.raises(cp.PlanError, match="payments"):
        ctx.execute("SELECT * FROM payments")
    out = orders.sql("SELECT cust, count(*) AS n FROM self GROUP BY cust ORDER BY cust")
    assert out.compute().to_pydict() == {"cust": [7, 8], "n": [2, 1]}
    named = orders.sql("SELECT max(id) AS m FROM t", table_name="t")
    assert named.compute().item() == 3


def test_session_register_takes_every_kind_of_frame() -> None:
    session = cp.Session()
    session.register("lazy", cp.from_dict({"a": [1]}))
    session.register("computed", cp.from_dict({"a": [2]}).compute())
    session.register("arrow", pa.table({"a": [3]}))
    session.register("polars", pl.DataFrame({"a": [4]}))
    session.register("pandas", pd.DataFrame({"a": [5]}))
    union = " UNION ALL ".join(
        f"SELECT a FROM {t}" for t in ["lazy", "computed", "arrow", "polars", "pandas"]
    )
    got = session.sql(f"SELECT a FROM ({union}) ORDER BY a").compute().to_pydict()
    assert got == {"a": [1, 2, 3, 4, 5]}
    with pytest.raises(TypeError, match="expected Arrow data"):
        session.register("bad", [1, 2])
