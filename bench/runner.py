"""Runs a suite on several engines, each in its own process, interleaved, and checks every
answer against DuckDB's before timing it.

For each query: every engine runs it once (the warm-up), in an order that rotates from
query to query, and writes its answer; an answer that differs from the reference is
reported as wrong and that engine is not timed on the query. Then the engines with a
correct answer take turns, ``runs`` times, so that a slow moment of the machine is spread
over all of them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import select
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from bench import check, data, engines, suites

ROOT = Path(__file__).resolve().parent.parent


class WorkerError(Exception):
    """The worker died or did not answer in time; it is restarted for the next query."""


@dataclass
class Worker:
    """An engine's process, started (and its tables loaded) on first use."""

    spec: str
    threads: int
    suite: str
    directory: Path
    log_dir: Path
    process: subprocess.Popen[str] | None = None
    load_seconds: float | None = None
    version: str = "?"
    peak_bytes: int = 0
    #: Why loading failed: the engine is not asked again.
    broken: str | None = None
    log: Any = field(default=None, repr=False)

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        threads = str(self.threads)
        for name in ("POLARS_MAX_THREADS", "OMP_NUM_THREADS", "NUMEXPR_MAX_THREADS"):
            env[name] = threads
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        return env

    def start(self, timeout: float) -> None:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.spec)
        self.log = open(self.log_dir / f"{safe}.log", "a")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.worker", self.spec, str(self.threads)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            cwd=ROOT,
            env=self._environment(),
        )
        reply = self.request(
            {"op": "load", "suite": self.suite, "directory": str(self.directory)}, timeout
        )
        if "error" in reply:
            self.stop()
            self.broken = f"loading failed: {reply['error']}"
            raise WorkerError(self.broken)
        self.load_seconds, self.version = reply["seconds"], reply["version"]

    def request(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        if self.broken is not None:
            raise WorkerError(self.broken)
        if self.process is None:
            self.start(timeout)
        process = self.process
        assert process is not None and process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(json.dumps(message) + "\n")
            process.stdin.flush()
        except BrokenPipeError:
            self.stop()
            raise WorkerError("the worker process died") from None
        ready, _, _ = select.select([process.stdout], [], [], timeout)
        if not ready:
            self.stop()
            raise WorkerError(f"no answer within {timeout:g} s (timeout)")
        line = process.stdout.readline()
        if not line:
            code = process.wait()
            self.stop()
            raise WorkerError(f"the worker process died (exit code {code}; out of memory?)")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                try:
                    rss = self._rss()
                    self.peak_bytes = max(self.peak_bytes, rss)
                except Exception:
                    pass
            self.process.kill()
            self.process.wait()
            self.process = None
        if self.log is not None:
            self.log.close()
            self.log = None

    def _rss(self) -> int:
        process = self.process
        assert process is not None and process.stdin is not None and process.stdout is not None
        process.stdin.write(json.dumps({"op": "rss"}) + "\n")
        process.stdin.flush()
        ready, _, _ = select.select([process.stdout], [], [], 10)
        return int(json.loads(process.stdout.readline())["peak_bytes"]) if ready else 0


@dataclass
class Options:
    suite: str
    scale: float
    engines: list[str]
    runs: int = 3
    threads: int = os.cpu_count() or 1
    timeout: float = 600.0
    smoke: bool = False
    queries: list[str] | None = None
    out: Path = ROOT / "bench" / "results"


def machine() -> dict[str, Any]:
    """What the results were measured on."""
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_bytes": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def _rotated(items: list[str], offset: int) -> list[str]:
    if not items:
        return items
    k = offset % len(items)
    return items[k:] + items[:k]


def _read_answer(path: Path) -> pa.Table:
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).read_all()


def _summary(times: list[float]) -> dict[str, Any]:
    return {
        "median": statistics.median(times),
        "min": min(times),
        "max": max(times),
        "times": times,
    }


def run(options: Options) -> dict[str, Any]:
    """Runs the suite and returns the results (see ``bench/README.md`` for the layout)."""
    suite = suites.get(options.suite)
    specs = engines.expand(options.engines)
    for spec in specs:
        engines.check(spec)
    timed = [s for s in specs if engines.split(s)[0] not in suite.not_for]
    skipped = {s: suite.not_for[engines.split(s)[0]] for s in specs if s not in timed}
    queries = list(options.queries or suite.queries)
    unknown = [q for q in queries if q not in suite.queries]
    if unknown:
        raise SystemExit(f"unknown queries {unknown} in {suite.name}; it has {suite.queries}")
    directory = suite.make_data(options.scale)
    scratch = Path(tempfile.mkdtemp(prefix="corepy-bench-"))
    log_dir = options.out / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    reference_spec = engines.REFERENCE
    workers = {
        spec: Worker(spec, options.threads, suite.name, directory, log_dir)
        for spec in dict.fromkeys([reference_spec, *timed])
    }
    started = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    try:
        for index, query in enumerate(queries):
            print(f"{suite.name} {query}:", end="", flush=True)
            results[query] = _run_query(
                query, index, workers, timed, reference_spec, suite.ordered, options, scratch
            )
            print(flush=True)
    finally:
        for worker in workers.values():
            worker.stop()
    return {
        "suite": suite.name,
        "scale": options.scale,
        "smoke": options.smoke,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "threads": options.threads,
        "runs": options.runs,
        "engines": timed,
        "not_run": skipped,
        "reference": reference_spec,
        "versions": {spec: w.version for spec, w in workers.items()},
        "load_seconds": {spec: w.load_seconds for spec, w in workers.items()},
        "peak_rss_bytes": {spec: w.peak_bytes for spec, w in workers.items()},
        "data": str(directory),
        "wall_seconds": time.perf_counter() - started,
        "queries": results,
    }


def _attempt(worker: Worker, message: dict[str, Any], timeout: float) -> dict[str, Any]:
    try:
        return worker.request(message, timeout)
    except WorkerError as failure:
        return {"error": str(failure)}


def _run_query(
    query: str,
    index: int,
    workers: dict[str, Worker],
    timed: list[str],
    reference_spec: str,
    ordered: bool,
    options: Options,
    scratch: Path,
) -> dict[str, Any]:
    outcome: dict[str, dict[str, Any]] = {}
    answers: dict[str, Path] = {}
    # The reference answers first, then everyone else's warm-up run, in rotating order.
    order = [reference_spec] + [s for s in _rotated(timed, index) if s != reference_spec]
    for spec in order:
        answer = scratch / f"{query}-{len(answers)}.arrow"
        reply = _attempt(
            workers[spec], {"op": "run", "query": query, "answer": str(answer)}, options.timeout
        )
        if "missing" in reply:
            outcome[spec] = {"status": "missing", "detail": reply["missing"]}
        elif "error" in reply:
            outcome[spec] = {"status": "error", "detail": reply["error"]}
        else:
            answers[spec] = answer
            outcome[spec] = {"status": "ok", "rows": reply["rows"], "warmup": reply["seconds"]}
        print(f" {spec}", end="", flush=True)
    if reference_spec not in answers:
        detail = outcome[reference_spec].get("detail", "no answer")
        for spec in timed:
            if outcome[spec]["status"] == "ok":
                outcome[spec] = {"status": "unchecked", "detail": f"reference failed: {detail}"}
    else:
        expected = _read_answer(answers[reference_spec])
        sorted_reference = check.SortedReference()
        for spec in timed:
            if spec == reference_spec or outcome[spec]["status"] != "ok":
                continue
            actual = _read_answer(answers[spec])
            difference = check.compare(
                actual, expected, ordered=ordered, reference=sorted_reference
            )
            if difference is not None:
                outcome[spec] = {"status": "wrong", "detail": difference}
    for path in answers.values():
        path.unlink(missing_ok=True)
    correct = [s for s in timed if outcome.get(s, {}).get("status") == "ok"]
    if not options.smoke:
        _time_query(query, correct, workers, outcome, options)
    return {spec: outcome[spec] for spec in timed}


def _time_query(
    query: str,
    correct: list[str],
    workers: dict[str, Worker],
    outcome: dict[str, dict[str, Any]],
    options: Options,
) -> None:
    times: dict[str, list[float]] = {spec: [] for spec in correct}
    for repetition in range(options.runs):
        for spec in _rotated(correct, repetition):
            if outcome[spec]["status"] != "ok":
                continue
            reply = _attempt(
                workers[spec], {"op": "run", "query": query, "answer": None}, options.timeout
            )
            if "seconds" in reply:
                times[spec].append(reply["seconds"])
            else:
                outcome[spec] = {"status": "error", "detail": reply.get("error", str(reply))}
    for spec in correct:
        if outcome[spec]["status"] == "ok" and times[spec]:
            outcome[spec].update(_summary(times[spec]))
            if engines.split(spec)[0].startswith("corepy"):
                reply = _attempt(workers[spec], {"op": "compile", "query": query}, options.timeout)
                outcome[spec]["compile_seconds"] = reply.get("seconds")
    for spec in correct:
        print(f" {spec}={outcome[spec].get('median', float('nan')):.3f}s", end="", flush=True)


def results_stem(result: dict[str, Any]) -> str:
    date = result["date"][:10]
    return f"{result['suite']}-{data.scale_name(result['scale'])}-{date}"


def write(result: dict[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{results_stem(result)}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    return path
