"""datafusion-python: the suite's SQL on DataFusion's own Python bindings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from bench.engines.base import SqlEngine
from bench.suites import Suite


class DataFusion(SqlEngine):
    takes_settings = True
    library = "datafusion"

    def describe(self) -> dict[str, str]:
        return {"target_partitions": str(self.threads), **super().describe()}

    def load(self, suite: Suite, directory: Path) -> None:
        import datafusion

        config = datafusion.SessionConfig().with_target_partitions(self.threads)
        self.ctx = datafusion.SessionContext(config)
        for key, value in self.settings.items():
            self.ctx.sql(f"SET {key} = {value}").collect()
        for table, path in self._paths(suite, directory).items():
            if suite.in_memory:
                batches = pq.read_table(path).to_batches(max_chunksize=1 << 16)
                self.ctx.register_record_batches(table, [batches])
            else:
                self.ctx.register_parquet(table, str(path))

    def run(self, query: str) -> Any:
        return self.ctx.sql(self.sql_text(query)).to_arrow_table()

    def to_arrow(self, result: Any) -> pa.Table:
        return result
