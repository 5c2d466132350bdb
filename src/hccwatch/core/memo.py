"""A small bounded memo for pure computations that recur across a population.

The same few fact patterns come back record after record (a labs-only record leaves the same
staging facts unknown as the next one), so their resolution is kept. The core stays pure: the
memo only stores what a pure function returned for the same hashable key.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

__all__ = ["MAX_ENTRIES", "MAX_FINDINGS", "Memo", "clear_all"]

V = TypeVar("V")

# Entries kept per memo, far above the distinct fact patterns of a real cohort (a few hundred);
# when full, the oldest entry is dropped. Small values (a staging resolution, under 1 KB): about
# 4 MB at most. Whole findings (a dozen transplant findings, up to about 20 KB): about 10 MB.
MAX_ENTRIES = 4096
MAX_FINDINGS = 512

_ALL: weakref.WeakSet[Memo[Any]] = weakref.WeakSet()


def clear_all() -> None:
    """Empty every memo (for benchmarks that measure a cold start)."""
    for memo in list(_ALL):
        memo.clear()


class Memo(Generic[V]):
    """A bounded, thread-safe map from a hashable key to a computed value (oldest dropped first)."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._max = max_entries
        self._values: dict[Hashable, V] = {}
        self._lock = threading.Lock()
        _ALL.add(self)

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The value stored for ``key``, computing and storing it first if needed.

        A key that cannot be hashed (a fact holding a list) is computed and not stored.
        """
        try:
            return self._values[key]
        except KeyError:
            pass
        except TypeError:
            return compute()
        value = compute()
        with self._lock:
            if len(self._values) >= self._max:
                del self._values[next(iter(self._values))]
            self._values[key] = value
        return value

    def __len__(self) -> int:
        return len(self._values)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
