"""Failed logins, counted per username and per client address in a sliding window.

Kept in memory: one server process serves the web app (a restart forgets the counts, which only
ever errs toward letting a person try again).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["FailureLimiter"]


class FailureLimiter:
    """At most ``limit`` failures per key in ``window_s`` seconds; past that the key is blocked
    until its oldest failure leaves the window."""

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] >= self.window_s:
            times.popleft()
        return times

    def wait_s(self, *keys: str) -> float:
        """Seconds until any of ``keys`` may try again (0: now)."""
        with self._lock:
            now = self._clock()
            waits = [
                self.window_s - (now - times[0])
                for times in (self._recent(k, now) for k in keys)
                if len(times) >= self.limit
            ]
            return max(waits, default=0.0)

    def failed(self, *keys: str) -> None:
        with self._lock:
            now = self._clock()
            for key in keys:
                self._recent(key, now).append(now)
            if len(self._failures) > 10_000:
                # Bound the memory an attacker can make us spend on names: drop keys whose window passed.
                for k in [k for k, t in self._failures.items() if not t or now - t[-1] >= self.window_s]:
                    del self._failures[k]

    def succeeded(self, username_key: str) -> None:
        with self._lock:
            self._failures.pop(username_key, None)
