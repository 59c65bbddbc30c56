"""The expression cases as corepy lazy frames (the answers of the cases' SQL)."""

from __future__ import annotations

import corepy as cp
from bench.suites.expr import frame_queries

QUERIES = frame_queries(cp.col)
