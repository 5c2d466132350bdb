"""CDS Hooks feedback (accepted / overridden, with override reasons), kept in SQLite.

The EHR may report the same outcome more than once (CDS Hooks 2.0 §Feedback): a repeated report
is recognised by (service, card, outcome, timestamp) and stored once. Cards the service issued are
recorded too (uuid, indicator, topic; never the patient or the card's text), so the summary can
say how often critical and warning cards were accepted.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["FeedbackItem", "FeedbackStore", "parse_feedback"]

OUTCOMES = ("accepted", "overridden")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    service TEXT NOT NULL,
    card TEXT NOT NULL,
    outcome TEXT NOT NULL,
    outcome_timestamp TEXT NOT NULL,
    accepted_suggestions TEXT NOT NULL,
    reason_system TEXT,
    reason_code TEXT,
    reason_display TEXT,
    user_comment TEXT,
    issuer TEXT,
    PRIMARY KEY (service, card, outcome, outcome_timestamp)
);
CREATE TABLE IF NOT EXISTS issued_card (
    uuid TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    indicator TEXT NOT NULL,
    topic TEXT,
    issued_on TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class FeedbackItem:
    card: str
    outcome: str
    outcome_timestamp: str
    accepted_suggestions: tuple[str, ...]
    reason_system: str | None
    reason_code: str | None
    reason_display: str | None
    user_comment: str | None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_feedback(data: object) -> tuple[list[FeedbackItem], list[dict[str, str]]]:
    """The feedback items, or the problems (field, detail) that make the body unusable."""
    if not isinstance(data, dict) or not isinstance(data.get("feedback"), list):
        return [], [{"field": "feedback", "detail": "expected an object with a 'feedback' array"}]
    items: list[FeedbackItem] = []
    errors: list[dict[str, str]] = []
    for i, raw in enumerate(data["feedback"]):
        where = f"feedback[{i}]"
        if not isinstance(raw, dict):
            errors.append({"field": where, "detail": "expected an object"})
            continue
        card, outcome, when = _str(raw.get("card")), raw.get("outcome"), _str(raw.get("outcomeTimestamp"))
        if card is None:
            errors.append({"field": f"{where}.card", "detail": "required: the uuid of the card"})
        if outcome not in OUTCOMES:
            errors.append({"field": f"{where}.outcome", "detail": "must be 'accepted' or 'overridden'"})
        if when is None:
            errors.append({"field": f"{where}.outcomeTimestamp", "detail": "required (RFC 3339 UTC)"})
        accepted = raw.get("acceptedSuggestions", [])
        ids: list[str] = []
        if not isinstance(accepted, list) or not all(
            isinstance(a, dict) and _str(a.get("id")) for a in accepted
        ):
            errors.append({"field": f"{where}.acceptedSuggestions", "detail": "expected [{'id': uuid}, ...]"})
        else:
            ids = [a["id"] for a in accepted]
        reason = raw.get("overrideReason")
        coding: Mapping[str, Any] = {}
        comment = None
        if reason is not None:
            if not isinstance(reason, dict):
                errors.append({"field": f"{where}.overrideReason", "detail": "expected an object"})
            else:
                given = reason.get("reason")
                coding = given if isinstance(given, dict) else {}
                comment = _str(reason.get("userComment"))
        if card is None or outcome not in OUTCOMES or when is None:
            continue
        items.append(
            FeedbackItem(
                card=card,
                outcome=str(outcome),
                outcome_timestamp=when,
                accepted_suggestions=tuple(ids),
                reason_system=_str(coding.get("system")),
                reason_code=_str(coding.get("code")),
                reason_display=_str(coding.get("display")),
                user_comment=comment,
            )
        )
    return items, errors


class FeedbackStore:
    """One SQLite file; each call opens its own short transaction (safe from worker threads)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        if not self._ready:
            self._path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self._path, timeout=5.0)
        # WAL with NORMAL sync: a commit does not wait for a full fsync (a crash loses at most the
        # last few records of issued cards, never corrupts the file).
        conn.execute("PRAGMA synchronous=NORMAL")
        if not self._ready:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            self._ready = True
        return conn

    def add(self, service: str, items: Iterable[FeedbackItem], issuer: str | None) -> int:
        """Store the items (repeats ignored); returns how many were new."""
        rows = [
            (
                service,
                f.card,
                f.outcome,
                f.outcome_timestamp,
                json.dumps(list(f.accepted_suggestions)),
                f.reason_system,
                f.reason_code,
                f.reason_display,
                f.user_comment,
                issuer,
            )
            for f in items
        ]
        with self._lock:
            conn = self._connect()
            try:
                with conn:
                    before = conn.total_changes
                    conn.executemany("INSERT OR IGNORE INTO feedback VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
                    return conn.total_changes - before
            finally:
                conn.close()

    def issued(self, service: str, cards: Iterable[Mapping[str, Any]], day: str) -> None:
        rows = []
        for card in cards:
            uuid = card.get("uuid")
            if not isinstance(uuid, str):
                continue
            topic = card.get("source", {}).get("topic") if isinstance(card.get("source"), dict) else None
            code = topic.get("code") if isinstance(topic, dict) else None
            rows.append((uuid, service, str(card.get("indicator", "")), code, day))
        if not rows:
            return
        with self._lock:
            conn = self._connect()
            try:
                with conn:
                    conn.executemany("INSERT OR IGNORE INTO issued_card VALUES (?,?,?,?,?)", rows)
            finally:
                conn.close()

    def summary(self) -> dict[str, Any]:
        with self._lock:
            conn = self._connect()
            try:
                outcomes = conn.execute(
                    "SELECT f.service, COALESCE(c.indicator, 'unknown'), f.outcome, COUNT(*) "
                    "FROM feedback f LEFT JOIN issued_card c ON c.uuid = f.card "
                    "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
                ).fetchall()
                reasons = conn.execute(
                    "SELECT service, reason_system, reason_code, reason_display, COUNT(*) FROM feedback "
                    "WHERE outcome = 'overridden' GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC, 3"
                ).fetchall()
                issued = conn.execute(
                    "SELECT service, indicator, COUNT(*) FROM issued_card GROUP BY 1, 2 ORDER BY 1, 2"
                ).fetchall()
            finally:
                conn.close()
        services: dict[str, dict[str, Any]] = {}

        def entry(service: str) -> dict[str, Any]:
            return services.setdefault(
                service, {"issued": {}, "outcomes": {}, "override_reasons": [], "acceptance_rate": None}
            )

        for service, indicator, count in issued:
            entry(service)["issued"][indicator] = count
        for service, indicator, outcome, count in outcomes:
            entry(service)["outcomes"].setdefault(indicator, {o: 0 for o in OUTCOMES})[outcome] = count
        for service, system, code, display, count in reasons:
            entry(service)["override_reasons"].append(
                {"system": system, "code": code, "display": display, "count": count}
            )
        for data in services.values():
            accepted = sum(v["accepted"] for v in data["outcomes"].values())
            total = accepted + sum(v["overridden"] for v in data["outcomes"].values())
            # No feedback yet is not a rate of zero.
            data["acceptance_rate"] = round(accepted / total, 3) if total else None
        total_feedback = sum(int(row[3]) for row in outcomes)
        return {"feedback_count": total_feedback, "services": services}
