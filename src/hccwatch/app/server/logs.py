"""Structured logs: one JSON object per line, never a patient datum, header or token.

Only fields chosen here are ever written (route template, status, duration, a request id, an
event name and counts); request bodies, query strings, headers and exception messages (which may
quote a record) never reach the log.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from typing import Any

from hccwatch.app.server.jsonio import dumps

__all__ = ["LOGGER_NAME", "configure_logging", "log_event"]

LOGGER_NAME = "hccwatch.server"
_logger = logging.getLogger(LOGGER_NAME)


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, "fields", {})
        line = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
            **fields,
        }
        return dumps(line).decode("utf-8")


class _StderrHandler(logging.Handler):
    """Writes to the current ``sys.stderr`` (looked up per line, so a redirected stream is honoured)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


def configure_logging(level: str) -> None:
    if not any(isinstance(h, _StderrHandler) for h in _logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(_JsonFormatter())
        _logger.addHandler(handler)
    _logger.setLevel(level)
    _logger.propagate = False


def log_event(event: str, level: int = logging.INFO, **fields: str | int | float | bool | None) -> None:
    """Log one event with scalar fields only (callers pass ids, counts and codes, never values)."""
    _logger.log(level, event, extra={"fields": fields})
