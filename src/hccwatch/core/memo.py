"""A small bounded memo for pure computations that recur across a population.

The same few fact patterns come back record after record (a labs-only record leaves the same
staging facts unknown as the next one), so their resolution is kept. The core stays pure: the
memo only stores what a pure function returned for the same hashable key.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar, overload

__all__ = ["MAX_ENTRIES", "MAX_FINDINGS", "Memo", "clear_all", "once"]

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


class once(Generic[V]):
    """``functools.cached_property`` without its lock: a value computed on first read and kept in
    the instance's ``__dict__`` (later reads never reach the descriptor).

    Python 3.11's version takes a lock on every first read, which costs more than most values
    here (a context's lab index, a burden's counts), read once or twice per assessment. What is
    computed is pure in the instance, so two threads computing it at once store equal values.
    """

    def __init__(self, compute: Callable[[Any], V]) -> None:
        self._compute = compute
        self._name = compute.__name__
        self.__doc__ = compute.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> once[V]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> V: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> V | once[V]:
        if instance is None:
            return self
        value = self._compute(instance)
        instance.__dict__[self._name] = value
        return value
