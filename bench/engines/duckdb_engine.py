"""DuckDB: the suite's SQL over views of the Parquet files (or tables in memory)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from bench.engines.base import SqlEngine
from bench.suites import Suite


class DuckDB(SqlEngine):
    takes_settings = True
    library = "duckdb"

    def load(self, suite: Suite, directory: Path) -> None:
        import duckdb

        self.con = duckdb.connect()
        self.con.execute(f"SET threads = {self.threads}")
        for key, value in self.settings.items():
            self.con.execute(f"SET {key} = {value}")
        for table, path in self._paths(suite, directory).items():
            if suite.in_memory:
                # Its own storage, as the other engines hold theirs (a registered Arrow
                # table would be read back through pyarrow's scanner).
                self.con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet('{path}')")
            else:
                self.con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{path}')")

    def run(self, query: str) -> Any:
        return self.con.sql(self.sql_text(query)).to_arrow_table()

    def to_arrow(self, result: Any) -> pa.Table:
        return result
