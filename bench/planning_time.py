"""Planning time on TPC-H: how much of each query's time is spent before a row is read.

For each of the 22 queries, in one process: the median time of corepy's ``explain()`` (SQL
parsing, analysis, corepy's and DataFusion's optimizer rules, fusion and the physical plan,
no execution) beside the median time of ``compute()`` (which plans the same way, then runs),
and DuckDB's ``EXPLAIN`` of the same text beside its run. On the small queries (q02, q11,
q16, q22 run in 30 to 60 ms at SF1) planning is a large share of corepy's time, so it is
measured here rather than inferred from profiles.

    python -m bench.planning_time [--scale 1] [--repeat 7] [--queries q02,q11]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench import data
from bench.gpu import median_of

SQL_DIR = Path(__file__).parent / "suites" / "tpch" / "sql"


def main(argv: list[str] | None = None) -> None:
    import duckdb

    import corepy as cp

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--queries", default="")
    args = parser.parse_args(argv)

    directory = data.tpch(args.scale)
    session = cp.Session()
    con = duckdb.connect()
    con.sql(f"SET threads = {args.threads}")
    for path in sorted(directory.glob("*.parquet")):
        session.register_parquet(path.stem, str(path))
        con.sql(f"CREATE VIEW {path.stem} AS SELECT * FROM '{path}'")

    names = args.queries.split(",") if args.queries else sorted(p.stem for p in SQL_DIR.glob("q*"))
    header = ["query", "corepy plan", "run", "share", "  duckdb plan", "run"]
    print(" ".join(f"{h:>12}" if i else f"{h:6}" for i, h in enumerate(header)))
    for name in names:
        sql = (SQL_DIR / f"{name}.sql").read_text()

        def plan_corepy(text: str = sql) -> object:
            return session.sql(text).explain()

        def run_corepy(text: str = sql) -> object:
            return session.sql(text).compute()

        def plan_duckdb(text: str = sql) -> object:
            return con.sql(f"EXPLAIN {text}").fetchall()

        def run_duckdb(text: str = sql) -> object:
            return con.sql(text).fetchall()

        plan = median_of(args.repeat, plan_corepy)
        run = median_of(args.repeat, run_corepy)
        duck_plan = median_of(args.repeat, plan_duckdb)
        duck_run = median_of(args.repeat, run_duckdb)
        print(
            f"{name:6} {plan * 1e3:10.1f}ms {run * 1e3:10.1f}ms {plan / run:12.0%}"
            f" {duck_plan * 1e3:10.1f}ms {duck_run * 1e3:10.1f}ms",
            flush=True,
        )


if __name__ == "__main__":
    main()
