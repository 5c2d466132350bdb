"""The embedded engine's worker processes (``duckdb_engine._Workers``): results in order whatever
the window and chunk, a worker's exception raised again in the parent, a worker that dies named
instead of a hang, and every worker reaped at the end."""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading

import pytest

from hccwatch.population import duckdb_engine
from hccwatch.population.duckdb_engine import _Workers


def _square(n: int) -> int:
    # Later items finish first now and then, so the order must come from the parent.
    if n % 7 == 0:
        sum(range(20_000))
    return n * n


def _fail_on_five(n: int) -> int:
    if n == 5:
        raise ValueError("item five is bad")
    return n


def _die(n: int) -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return n


@pytest.mark.parametrize(("window", "chunk"), [(1, 1), (3, 2), (200, 4), (7, 50)])
def test_results_come_in_the_items_order(window: int, chunk: int) -> None:
    workers = _Workers(2, (), 700)
    try:
        assert list(workers.map(_square, range(60), window=window, chunk=chunk)) == [n * n for n in range(60)]
        assert list(workers.map(_square, [], window=window, chunk=chunk)) == []
    finally:
        workers.close()
    assert workers.procs == []


def test_a_worker_exception_is_raised_in_the_parent() -> None:
    workers = _Workers(2, (), 700)
    try:
        with pytest.raises(ValueError, match="item five is bad") as raised:
            list(workers.map(_fail_on_five, range(20), window=8, chunk=2))
        assert "in a worker process" in raised.value.__notes__[0]
        assert "_fail_on_five" in raised.value.__notes__[0]
    finally:
        workers.terminate()


def test_a_worker_that_dies_is_named_not_waited_for() -> None:
    workers = _Workers(2, (), 700)
    try:
        with pytest.raises(RuntimeError, match="worker process ended unexpectedly"):
            list(workers.map(_die, range(4), window=4, chunk=1))
    finally:
        workers.terminate()


def test_closing_reaps_every_worker() -> None:
    workers = _Workers(3, (), 700)
    procs = list(workers.procs)
    list(workers.map(_square, range(10), window=4, chunk=1))
    workers.close()
    assert all(p.exitcode == 0 for p in procs)


def test_a_worker_that_took_the_end_early_ends_after_its_task() -> None:
    """A worker reading ahead takes the next task from the pipe before it works on the current
    one; when that was the end (None), it must end after answering, not wait for another task."""
    mine, theirs = multiprocessing.Pipe()
    mine.send((duckdb_engine._assess_groups, []))
    mine.send(None)
    young = gc.get_threshold()[0]
    worker = threading.Thread(target=duckdb_engine._serve, args=(theirs, (), None, young), daemon=True)
    try:
        worker.start()
        assert mine.recv() == (True, [])
        worker.join(timeout=60)  # a guard against hanging the suite, not a speed bound
        assert not worker.is_alive()
    finally:
        gc.unfreeze()
        mine.close()
