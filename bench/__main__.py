"""``python -m bench``: run a suite and write its results, or render results again.

python -m bench run tpch --scale 1 --engines corepy,duckdb,polars,datafusion,pandas
python -m bench run h2o --scale 1e7 --engines corepy,duckdb,polars,datafusion
python -m bench run expr --engines corepy,corepy-nojit,duckdb,polars,datafusion,numexpr
python -m bench run tensor --runs 3        # tensors: corepy, NumPy, numexpr, JAX, torch, Pillow
python -m bench run memory --runs 9        # fused expressions against the triad, in one process
python -m bench run tpch --smoke           # tiny data, answers checked, nothing timed
python -m bench report bench/results/tpch-1-2026-12-01.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench import report, runner, suites

DEFAULT_ENGINES = "corepy,duckdb,polars,datafusion,pandas"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a suite")
    run.add_argument("suite", choices=[*suites.SUITES, "tensor", "memory", "all"])
    run.add_argument("--scale", type=float, help="TPC-H scale factor, H2O rows, expr rows")
    run.add_argument("--engines", default=DEFAULT_ENGINES, help="comma-separated")
    run.add_argument("--runs", type=int, default=3, help="timed runs per query after warm-up")
    run.add_argument("--threads", type=int, default=len(runner.usable_cores()))
    run.add_argument("--timeout", type=float, default=600, help="seconds per query run")
    run.add_argument("--queries", help="comma-separated subset, e.g. q01,q06")
    run.add_argument("--smoke", action="store_true", help="tiny data, check answers only")
    run.add_argument("--out", type=Path, help="results directory (default bench/results)")
    again = commands.add_parser("report", help="write the Markdown table and chart again")
    again.add_argument("results", type=Path, nargs="+")
    return parser


def _render(result: dict[str, object], json_path: Path) -> str:
    text = report.markdown(result)  # type: ignore[arg-type]
    json_path.with_suffix(".md").write_text(text)
    if not result["smoke"]:
        report.chart(result, json_path.with_suffix(".png"))  # type: ignore[arg-type]
    return text


def _failures(result: dict[str, object]) -> list[str]:
    queries: dict[str, dict[str, dict[str, str]]] = result["queries"]  # type: ignore[assignment]
    return [
        f"{result['suite']} {query} {spec}: {entry['status']} — {entry.get('detail', '')}"
        for query, entries in queries.items()
        for spec, entry in entries.items()
        if entry["status"] in ("wrong", "error", "unchecked")
    ]


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "report":
        for path in args.results:
            print(_render(json.loads(path.read_text()), path))
        return 0
    names = list(suites.SUITES) if args.suite == "all" else [args.suite]
    if args.scale is not None and len(names) > 1:
        raise SystemExit("--scale needs one suite: the suites count scale differently")
    out = args.out or runner.ROOT / "bench" / "results" / ("smoke" if args.smoke else "")
    if args.suite == "tensor":
        # In-process peers (NumPy, numexpr, JAX, torch, Pillow): see bench/tensors.py.
        from bench import tensors

        small = ["--shape", "2,3,64,64", "--matmul", "128", "--images", "4"] if args.smoke else []
        tensors.main([*small, "--repeat", str(args.runs)], out=out)
        return 0
    if args.suite == "memory":
        # Fused expressions against the triad, in one process: see bench/memory_speed.py.
        from bench import memory_speed

        rows = ["--rows", "100000"] if args.smoke else []
        memory_speed.main([*rows, "--repeat", str(args.runs)], out=out)
        return 0
    failures: list[str] = []
    for name in names:
        suite = suites.get(name)
        scale = suite.smoke_scale if args.smoke else (args.scale or suite.default_scale)
        options = runner.Options(
            suite=name,
            scale=scale,
            engines=[e.strip() for e in args.engines.split(",") if e.strip()],
            runs=args.runs,
            threads=args.threads,
            timeout=args.timeout,
            smoke=args.smoke,
            queries=args.queries.split(",") if args.queries else None,
            out=out,
        )
        result = runner.run(options)
        path = runner.write(result, out)
        print(_render(result, path))
        print(f"results: {path}")
        failures += _failures(result)
    if failures:
        print("\nwrong or failed answers:\n" + "\n".join(failures), file=sys.stderr)
    return 1 if args.smoke and failures else 0


if __name__ == "__main__":
    sys.exit(main())
