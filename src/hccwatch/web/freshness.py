"""Stored assessments are for a day: before the worklist is shown, those made for an earlier day
(or from an older record, knowledge base or program) are recomputed.

Cheap on the way: the stale check runs at most once a minute per app; the recomputation runs in
one background thread at a time. Only the request that started it waits, and briefly (a small
clinic's registry is fresh at once); a large registry is listed meanwhile with each row's older
assessment date shown, and no other request waits.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from hccwatch.app.server.logs import log_event
from hccwatch.registry import Registry
from hccwatch.registry.worklist_index import update_statistics

__all__ = ["Freshness"]

_CHECK_EVERY_S = 60.0
_WAIT_S = 3.0


@dataclass
class Freshness:
    registry: Registry
    clock: Callable[[], float] = time.monotonic
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _checked: tuple[dt.date, float] | None = None
    _thread: threading.Thread | None = None
    _analysed: bool = False

    def _run(self, as_of: dt.date) -> None:
        try:
            done = self.registry.refresh_assessments(as_of)
            if done:
                log_event("assessments_refreshed", recomputed=done, as_of=as_of.isoformat())
            if done or not self._analysed:
                update_statistics(self.registry)
                self._analysed = True
        except Exception as exc:
            # The worklist still shows the stored assessments, with their dates; the log says why.
            log_event("assessments_refresh_failed", logging.ERROR, error=type(exc).__name__)

    def ensure(self, as_of: dt.date) -> bool:
        """Start a refresh if one is due; True while one is still running after a short wait."""
        with self._lock:
            now = self.clock()
            running = self._thread is not None and self._thread.is_alive()
            due = (
                self._checked is None or self._checked[0] != as_of or now - self._checked[1] >= _CHECK_EVERY_S
            )
            if due and not running:
                self._checked = (as_of, now)
                self._thread = threading.Thread(target=self._run, args=(as_of,), daemon=True)
                self._thread.start()
            thread = self._thread
        if thread is None:
            return False
        thread.join(_WAIT_S)
        return thread.is_alive()
