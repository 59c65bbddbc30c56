"""One engine's process: ``python -m bench.worker ENGINE THREADS``.

Reads one JSON request a line on stdin and answers one JSON line each; the protocol goes
over a private copy of stdout, and fd 1 is pointed at stderr so that whatever a library
prints cannot garble it. Requests:

* ``{"op": "load", "suite": S, "directory": D}`` → ``{"seconds", "version"}``
* ``{"op": "run", "query": Q, "answer": PATH | null}`` → ``{"seconds", "rows"}`` (the
  answer written as an Arrow IPC file when a path is given), ``{"missing": why}``, or
  ``{"error": text}``
* ``{"op": "first", "query": Q}`` → ``{"seconds": JIT compile time | null}`` (the query's
  first run; see :meth:`bench.engines.base.Engine.first_run`)
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any, TextIO

import pyarrow as pa

from bench import engines, suites


def _write_answer(table: pa.Table, path: str) -> None:
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def handle(engine: engines.Engine, request: dict[str, Any]) -> dict[str, Any]:
    op = request["op"]
    if op == "load":
        started = time.perf_counter()
        engine.load(suites.get(request["suite"]), Path(request["directory"]))
        return {"seconds": time.perf_counter() - started, "version": engine.version()}
    if op == "run":
        why = engine.missing(request["query"])
        if why is not None:
            return {"missing": why}
        started = time.perf_counter()
        result = engine.run(request["query"])
        seconds = time.perf_counter() - started
        table = engine.to_arrow(result)
        if request.get("answer"):
            _write_answer(table, request["answer"])
        return {"seconds": seconds, "rows": table.num_rows}
    if op == "first":
        why = engine.missing(request["query"])
        if why is not None:
            return {"missing": why}
        return {"seconds": engine.first_run(request["query"])}
    raise ValueError(f"unknown request {op!r}")


def serve(engine: engines.Engine, requests: TextIO, replies: TextIO) -> None:
    for line in requests:
        try:
            reply = handle(engine, json.loads(line))
        except Exception as error:
            text = f"{type(error).__name__}: {error}"
            traceback.print_exc(file=sys.stderr)
            reply = {"error": text[:2000]}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def main() -> None:
    spec, threads = sys.argv[1], int(sys.argv[2])
    replies = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    serve(engines.create(spec, threads), sys.stdin, replies)


if __name__ == "__main__":
    main()
