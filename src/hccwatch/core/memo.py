"""A small bounded memo for pure computations that recur across a population.

The same few fact patterns come back record after record (a labs-only record leaves the same
staging facts unknown as the next one), so their resolution is kept. The core stays pure: the
memo only stores what a pure function returned for the same hashable key.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["MAX_ENTRIES", "Memo"]

V = TypeVar("V")

# Entries kept per memo. Far above the distinct patterns of a real cohort (a few hundred), and a
# few megabytes at most; when full, the oldest entry is dropped.
MAX_ENTRIES = 4096


class Memo(Generic[V]):
    """A bounded, thread-safe map from a hashable key to a computed value (oldest dropped first)."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._max = max_entries
        self._values: dict[Hashable, V] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The value stored for ``key``, computing and storing it first if needed."""
        try:
            return self._values[key]
        except KeyError:
            pass
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
