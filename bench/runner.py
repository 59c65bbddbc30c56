"""Runs a suite on several engines, each in its own process, interleaved, and checks every
answer against DuckDB's before timing it.

For each query: every engine runs it twice untimed, in an order shuffled from query to
query (the first run, where corepy measures its JIT compile time, and the warm-up, which
also hands back the answer); an answer that differs from the reference is reported as
wrong and that engine is not timed on the query. Then the engines with a correct answer
take turns, ``runs`` times, in a fresh shuffled order each time, so that a slow moment of
the machine, or the engine that ran just before, is spread over all of them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import random
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


def usable_cores() -> list[int]:
    """The CPUs this process may run on (affinity, as the engines' thread pools see it)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return list(range(os.cpu_count() or 1))


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
    #: The largest resident set of this engine's processes (one, unless restarted).
    peak_bytes: int = 0
    #: Why loading failed or timed out: the engine is not asked again.
    broken: str | None = None
    log: Any = field(default=None, repr=False)

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        threads = str(self.threads)
        for name in ("POLARS_MAX_THREADS", "OMP_NUM_THREADS", "NUMEXPR_MAX_THREADS"):
            env[name] = threads
        # Tokio (corepy, datafusion-python) sizes its pool from this, or from the affinity.
        env["TOKIO_WORKER_THREADS"] = threads
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        return env

    def _pin(self) -> None:
        """Runs in the child before exec: keeps it on ``threads`` cores when fewer than all."""
        cores = usable_cores()
        if self.threads < len(cores) and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, cores[: self.threads])

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
            preexec_fn=self._pin,
        )
        message = {"op": "load", "suite": self.suite, "directory": str(self.directory)}
        try:
            reply = self.request(message, timeout)
        except WorkerError as failure:
            self.broken = f"loading failed: {failure}"
            raise WorkerError(self.broken) from None
        if "error" in reply:
            self.stop()
            self.broken = f"loading failed: {reply['error']}"
            raise WorkerError(self.broken)
        if self.load_seconds is None:
            self.load_seconds = reply["seconds"]
        self.version = reply["version"]

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
            code = self.stop()
            raise WorkerError(f"the worker process died (exit code {code})") from None
        ready, _, _ = select.select([process.stdout], [], [], timeout)
        if not ready:
            self.stop(kill=True)
            raise WorkerError(f"no answer within {timeout:g} s (timeout)")
        line = process.stdout.readline()
        if not line:
            code = self.stop()
            raise WorkerError(f"the worker process died (exit code {code}; out of memory?)")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def stop(self, *, kill: bool = False) -> int | None:
        """Ends the process (closing its input, or killing it when it is busy or ``kill``)
        and records its peak memory from the kernel's accounting; returns its exit code."""
        process = self.process
        code = None
        if process is not None:
            assert process.stdin is not None
            with contextlib.suppress(OSError):
                process.stdin.close()
            code = _reap(process, 0.0 if kill else 5.0, self)
            self.process = None
        if self.log is not None:
            self.log.close()
            self.log = None
        return code


def _reap(process: subprocess.Popen[str], grace: float, worker: Worker) -> int | None:
    """Waits up to ``grace`` seconds for the process to exit, kills it otherwise, and reaps
    it with ``wait4``, which gives its rusage whether it exited or was killed."""
    deadline = time.monotonic() + grace
    while True:
        try:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        except ChildProcessError:
            return process.returncode
        if pid != 0:
            break
        if time.monotonic() >= deadline:
            process.kill()
            _, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(0.02)
    worker.peak_bytes = max(worker.peak_bytes, usage.ru_maxrss * 1024)  # KiB on Linux
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode


@dataclass
class Options:
    suite: str
    scale: float
    engines: list[str]
    runs: int = 3
    threads: int = field(default_factory=lambda: len(usable_cores()))
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
        "cores": len(usable_cores()),
        "memory_bytes": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def provenance() -> dict[str, Any]:
    """Which corepy was measured: the commit, whether the tree had changes, the libraries."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        except OSError:
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    import numpy

    # Results written or removed under bench/results do not make the measured code dirty.
    status = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/results")
    return {
        "commit": git("rev-parse", "HEAD"),
        "dirty": bool(status) if status is not None else None,
        "pyarrow": pa.__version__,
        "numpy": numpy.__version__,
    }


def _shuffled(items: list[str], *seed: object) -> list[str]:
    """``items`` in an order fixed by ``seed`` (the same run repeats the same orders)."""
    out = list(items)
    random.Random(repr(seed)).shuffle(out)
    return out


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


def _engines_for(
    suite: suites.Suite, specs: list[str], scale: float
) -> tuple[list[str], dict[str, str]]:
    """The engines that run the suite at this scale, and why the others do not."""
    running, skipped = [], {}
    for spec in specs:
        base = engines.split(spec)[0]
        if base in suite.not_for:
            skipped[spec] = suite.not_for[base]
        elif scale > suite.max_scale.get(base, float("inf")):
            limit = data.scale_name(suite.max_scale[base])
            skipped[spec] = f"{base} runs {suite.name} up to scale {limit}"
        else:
            running.append(spec)
    return running, skipped


def run(options: Options) -> dict[str, Any]:
    """Runs the suite and returns the results (see ``bench/README.md`` for the layout)."""
    suite = suites.get(options.suite)
    specs = engines.expand(options.engines)
    for spec in specs:
        engines.validate(spec)
    timed, skipped = _engines_for(suite, specs, options.scale)
    queries = list(options.queries or suite.queries)
    unknown = [q for q in queries if q not in suite.queries]
    if unknown:
        raise SystemExit(f"unknown queries {unknown} in {suite.name}; it has {suite.queries}")
    directory = suite.make_data(options.scale)
    log_dir = options.out / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    reference_spec = engines.REFERENCE
    workers = {
        spec: Worker(spec, options.threads, suite.name, directory, log_dir)
        for spec in dict.fromkeys([reference_spec, *timed])
    }
    started = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="corepy-bench-") as scratch:
        try:
            for query in queries:
                print(f"{suite.name} {query}:", end="", flush=True)
                results[query] = _run_query(
                    query, workers, timed, suite.ordered, options, Path(scratch)
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
        "provenance": provenance(),
        "threads": options.threads,
        "runs": options.runs,
        "engines": timed,
        "not_run": skipped,
        "reference": reference_spec,
        "engine_settings": {spec: engines.describe(spec, options.threads) for spec in timed},
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
    workers: dict[str, Worker],
    timed: list[str],
    ordered: bool,
    options: Options,
    scratch: Path,
) -> dict[str, Any]:
    reference_spec = engines.REFERENCE
    outcome: dict[str, dict[str, Any]] = {}
    answers: dict[str, Path] = {}
    # The reference answers first, then everyone else in a shuffled order.
    order = [reference_spec] + [s for s in _shuffled(timed, query) if s != reference_spec]
    for spec in order:
        message = {"op": "first", "query": query}
        first = _attempt(workers[spec], message, options.timeout)
        if "missing" in first:
            outcome[spec] = {"status": "missing", "detail": first["missing"]}
            continue
        if "error" in first:
            outcome[spec] = {"status": "error", "detail": first["error"]}
            continue
        answer = scratch / f"{query}-{len(answers)}.arrow"
        message = {"op": "run", "query": query, "answer": str(answer)}
        reply = _attempt(workers[spec], message, options.timeout)
        if "error" in reply:
            outcome[spec] = {"status": "error", "detail": reply["error"]}
        else:
            answers[spec] = answer
            outcome[spec] = {"status": "ok", "rows": reply["rows"], "warmup": reply["seconds"]}
            if first.get("seconds") is not None:
                outcome[spec]["compile_seconds"] = first["seconds"]
        print(f" {spec}", end="", flush=True)
    _check_answers(outcome, answers, timed, ordered)
    for path in answers.values():
        path.unlink(missing_ok=True)
    correct = [s for s in timed if outcome.get(s, {}).get("status") == "ok"]
    if not options.smoke:
        _time_query(query, correct, workers, outcome, options)
    return {spec: outcome[spec] for spec in timed}


def _check_answers(
    outcome: dict[str, dict[str, Any]], answers: dict[str, Path], timed: list[str], ordered: bool
) -> None:
    reference_spec = engines.REFERENCE
    if reference_spec not in answers:
        detail = outcome[reference_spec].get("detail", "no answer")
        for spec in timed:
            if outcome[spec]["status"] == "ok" and spec != reference_spec:
                outcome[spec] = {"status": "unchecked", "detail": f"reference failed: {detail}"}
        return
    expected = _read_answer(answers[reference_spec])
    sorted_reference = check.SortedReference()
    for spec in timed:
        if spec == reference_spec or outcome[spec]["status"] != "ok":
            continue
        actual = _read_answer(answers[spec])
        difference = check.compare(actual, expected, ordered=ordered, reference=sorted_reference)
        if difference is not None:
            outcome[spec] = {"status": "wrong", "detail": difference}


def _time_query(
    query: str,
    correct: list[str],
    workers: dict[str, Worker],
    outcome: dict[str, dict[str, Any]],
    options: Options,
) -> None:
    times: dict[str, list[float]] = {spec: [] for spec in correct}
    for repetition in range(options.runs):
        for spec in _shuffled(correct, query, repetition):
            if outcome[spec]["status"] != "ok":
                continue
            message = {"op": "run", "query": query, "answer": None}
            reply = _attempt(workers[spec], message, options.timeout)
            if "seconds" not in reply:
                outcome[spec] = {"status": "error", "detail": reply.get("error", str(reply))}
            elif reply["rows"] != outcome[spec]["rows"]:
                detail = f"{reply['rows']} rows in a timed run, {outcome[spec]['rows']} checked"
                outcome[spec] = {"status": "error", "detail": detail}
            else:
                times[spec].append(reply["seconds"])
    for spec in correct:
        if outcome[spec]["status"] == "ok" and times[spec]:
            outcome[spec].update(_summary(times[spec]))
            print(f" {spec}={outcome[spec]['median']:.3f}s", end="", flush=True)


def results_stem(result: dict[str, Any]) -> str:
    date = result["date"][:10]
    return f"{result['suite']}-{data.scale_name(result['scale'])}-{date}"


def write(result: dict[str, Any], out: Path) -> Path:
    """Writes the results JSON; a second run on the same day gets ``-2``, ``-3``, … rather
    than replacing the first."""
    out.mkdir(parents=True, exist_ok=True)
    stem = results_stem(result)
    path = out / f"{stem}.json"
    count = 1
    while path.exists() and not result["smoke"]:
        count += 1
        path = out / f"{stem}-{count}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    return path


def in_process_header(result: dict[str, Any], title: str, details: str) -> list[str]:
    """The first lines of an in-process suite's Markdown: its title and date, the machine,
    and ``details`` of the data."""
    machine = result["machine"]
    return [
        f"# {title}, {result['date'][:10]}",
        "",
        f"{machine['cpu']}, {machine['cores']} cores; {details}",
        "",
    ]


def write_in_process(result: dict[str, Any], text: str, out: Path) -> Path:
    """Writes an in-process suite's results (``tensor``, ``memory``) as
    ``<suite>-<date>.json`` and its Markdown table beside it; a second run on the same day
    gets ``-2``, ``-3``, … rather than replacing the first."""
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{result['suite']}-{result['date'][:10]}"
    path, count = out / f"{stem}.json", 1
    while path.exists():
        count += 1
        path = out / f"{stem}-{count}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    path.with_suffix(".md").write_text(text)
    return path
