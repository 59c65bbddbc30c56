"""The expression cases as Polars lazy frames (the answers of the cases' SQL)."""

from __future__ import annotations

import polars as pl

from bench.suites.expr import frame_queries

QUERIES = frame_queries(pl.col)
