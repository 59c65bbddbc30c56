"""Queries release the GIL while they run, and Ctrl-C stops them promptly without
breaking the session."""

from __future__ import annotations

import _thread
import threading
import time

import pytest

import corepy as cp

# Billions of rows: runs for minutes unless interrupted.
ENDLESS = "SELECT count(*) AS n FROM generate_series(1, 20000000000) AS t(x) WHERE x % 7 = 3"


def test_ctrl_c_interrupts_a_query_and_the_session_stays_usable() -> None:
    session = cp.Session()
    timer = threading.Timer(0.5, _thread.interrupt_main)
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            session.sql(ENDLESS).compute()
    finally:
        timer.cancel()
    assert time.monotonic() - started < 10
    assert session.sql("SELECT 41 + 1 AS x").compute().to_pydict() == {"x": [42]}


def test_the_gil_is_released_while_a_query_runs() -> None:
    session = cp.Session()
    ticks = 0
    done = threading.Event()

    def query() -> None:
        session.sql(
            "SELECT count(*) FROM generate_series(1, 30000000) AS t(x) WHERE x % 3 = 1"
        ).compute()
        done.set()

    worker = threading.Thread(target=query)
    worker.start()
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    worker.join()
    assert ticks > 10, "the main thread could not run while the query ran"
