"""Processor time of a piece of work, for the benchmarks that time one layer in one process."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_cpu_seconds(repeat: int, work: Callable[[], object]) -> float:
    """The least processor time of ``repeat`` runs of ``work``: the run least disturbed by the
    rest of the machine (other processes, frequency changes) is the closest to its own cost."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return best
