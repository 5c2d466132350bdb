"""Symptom checks in the registry: patient links, submissions, acknowledgement, reminders, reports.

A patient answers through a personal link (a long random token; only its SHA-256 is stored).
Submitting maps the FHIR QuestionnaireResponse to the record's symptoms, merges them into the
stored record and re-assesses it in the same audited transaction (actor "patient link"); the
submission keeps the most urgent alert ``assess`` raised from the reported symptoms. A patient
with a link that is not revoked is on the weekly schedule (``symptom_check.interval_days``).
Nothing here decides anything clinical: urgencies are read from the assessment. It is part of
the registry's service layer (same package), so it uses the layer's own session, audit and
assessment helpers: a submission is one transaction with the record change it makes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hccwatch.api import assess
from hccwatch.errors import HccwatchError
from hccwatch.registry.errors import ConflictError, NotFoundError, RegistryError
from hccwatch.registry.models import Patient, SymptomLink, SymptomSubmission
from hccwatch.registry.roles import Action, Actor, require
from hccwatch.registry.service import Registry, _patient_snapshot
from hccwatch.symptoms import LANGUAGES, Outcome, choose_outcome, symptoms_from_response

__all__ = [
    "PATIENT_LINK",
    "CreatedLink",
    "DueCheck",
    "LinkState",
    "LinkView",
    "PatientCompletion",
    "ReportView",
    "SubmissionResult",
    "SymptomChecks",
    "SymptomReport",
    "token_hash",
]

# 32 random bytes: 256 bits, written as 43 URL-safe characters.
TOKEN_BYTES = 32
# Longer than any token made here: refused without a database look-up.
_MAX_TOKEN_CHARS = 200
# The urgencies that put a patient report at the top of the worklist.
FLAGGED = ("emergency", "urgent")
LinkState = Literal["active", "expired", "revoked", "none"]


class _PatientLinkActor(Actor):
    """The patient, acting through a symptom-check link (shown as "patient link" in the audit)."""

    @property
    def label(self) -> str:
        return "patient link"


PATIENT_LINK: Actor = _PatientLinkActor("patient link", "readonly")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LinkView:
    id: int
    patient_id: int
    created_by: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    used_count: int
    state: LinkState


@dataclass(frozen=True)
class CreatedLink:
    """A new link: ``token`` is shown once and never stored."""

    token: str
    link: LinkView


@dataclass(frozen=True)
class LinkTarget:
    """Where a working token leads (never shown to anyone but that token's holder)."""

    link_id: int
    patient_id: int


@dataclass(frozen=True)
class SubmissionResult:
    submission_id: int
    outcome: Outcome | None
    # Why no outcome could be read (the stored record could not be assessed), else None.
    error: str | None
    reported_codes: tuple[str, ...]
    next_due: dt.date


@dataclass(frozen=True)
class ReportView:
    """A patient report for the care team (the worklist's "patient-reported" rows)."""

    id: int
    patient_id: int
    record_id: str
    name: str | None
    phone: str | None
    received_at: dt.datetime
    top_urgency: str | None
    alert_ids: tuple[str, ...]
    acknowledged_by: str | None
    acknowledged_at: dt.datetime | None
    escalated_at: dt.datetime | None
    escalation: str | None
    response: dict[str, Any]


@dataclass(frozen=True)
class DueCheck:
    patient_id: int
    record_id: str
    phone: str | None
    due: dt.date
    link_state: LinkState


@dataclass(frozen=True)
class PatientCompletion:
    patient_id: int
    record_id: str
    expected: int
    completed: int

    @property
    def rate(self) -> float | None:
        return None if self.expected == 0 else min(1.0, self.completed / self.expected)


@dataclass(frozen=True)
class SymptomReport:
    as_of: dt.date
    patients: tuple[PatientCompletion, ...]
    emergencies: int
    acknowledged: int
    ack_minutes_median: float | None
    ack_minutes_max: float | None

    @property
    def clinic_expected(self) -> int:
        return sum(p.expected for p in self.patients)

    @property
    def clinic_completed(self) -> int:
        return sum(min(p.completed, p.expected) for p in self.patients)

    @property
    def clinic_rate(self) -> float | None:
        return None if self.clinic_expected == 0 else self.clinic_completed / self.clinic_expected


def _state(link: SymptomLink, now: dt.datetime) -> LinkState:
    if link.revoked_at is not None:
        return "revoked"
    return "expired" if link.expires_at <= now else "active"


def _link_view(link: SymptomLink, now: dt.datetime) -> LinkView:
    return LinkView(
        link.id,
        link.patient_id,
        link.created_by,
        link.created_at,
        link.expires_at,
        link.revoked_at,
        link.used_count,
        _state(link, now),
    )


def _merge(record: Mapping[str, Any], new: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    """The record with the reported symptoms added; one already recorded exactly so is kept once."""
    merged = dict(record)
    current = list(merged.get("symptoms") or [])
    for entry in new:
        if entry not in current:
            current.append(entry)
    merged["symptoms"] = current
    return merged


class SymptomChecks:
    """The symptom-check functions of one registry (roles checked, writes audited)."""

    def __init__(self, registry: Registry, *, link_days: int = 90) -> None:
        self.registry = registry
        self.link_days = link_days

    @property
    def interval_days(self) -> int:
        return int(self.registry.knowledge.number("symptom_check.interval_days"))

    def _now(self) -> dt.datetime:
        return self.registry._now()

    def _session(self) -> Session:
        return self.registry._sessions()

    # -- links ----------------------------------------------------------------------------------

    def create_link(self, actor: Actor, patient_id: int, *, days: int | None = None) -> CreatedLink:
        require(actor, Action.OUTREACH)
        days = self.link_days if days is None else days
        if days < 1:
            raise RegistryError("a link must stay valid for at least one day")
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = self._now()
        with self._session() as session:
            patient = self.registry._patient(session, patient_id)
            link = SymptomLink(
                patient_id=patient.id,
                token_hash=token_hash(token),
                created_by=actor.label,
                created_at=now,
                expires_at=now + dt.timedelta(days=days),
                used_count=0,
            )
            session.add(link)
            session.flush()
            # The token never enters the audit trail: its holder could answer as the patient.
            self.registry._audit(
                session, actor, "symptom_link.create", "symptom_link", str(link.id),
                patient_id=patient.id, after={"expires_at": link.expires_at.isoformat()},
            )  # fmt: skip
            session.commit()
            return CreatedLink(token, _link_view(link, now))

    def revoke_link(self, actor: Actor, link_id: int) -> LinkView:
        require(actor, Action.OUTREACH)
        now = self._now()
        with self._session() as session:
            link = session.get(SymptomLink, link_id)
            if link is None:
                raise NotFoundError(f"no symptom-check link {link_id}")
            if link.revoked_at is None:
                link.revoked_at, link.revoked_by = now, actor.label
                self.registry._audit(
                    session, actor, "symptom_link.revoke", "symptom_link", str(link.id),
                    patient_id=link.patient_id, after={"revoked_at": now.isoformat()},
                )  # fmt: skip
                session.commit()
            return _link_view(link, now)

    def links(self, actor: Actor, patient_id: int) -> list[LinkView]:
        require(actor, Action.VIEW)
        now = self._now()
        with self._session() as session:
            self.registry._patient(session, patient_id)
            rows = session.scalars(
                select(SymptomLink)
                .where(SymptomLink.patient_id == patient_id)
                .order_by(SymptomLink.created_at.desc(), SymptomLink.id.desc())
            )
            return [_link_view(link, now) for link in rows]

    def resolve(self, token: str) -> tuple[LinkState, LinkTarget | None]:
        """What a token is: ``none`` (unknown), ``expired``, ``revoked``, or ``active`` with its target."""
        if not token or len(token) > _MAX_TOKEN_CHARS:
            return "none", None
        with self._session() as session:
            link = session.scalars(
                select(SymptomLink).where(SymptomLink.token_hash == token_hash(token))
            ).one_or_none()
            if link is None:
                return "none", None
            state = _state(link, self._now())
            return state, (LinkTarget(link.id, link.patient_id) if state == "active" else None)

    # -- submissions ----------------------------------------------------------------------------

    def submit(self, token: str, response: Mapping[str, Any], *, lang: str = "en") -> SubmissionResult:
        """Store a patient's answers, merge them into the record and re-assess it, in one transaction.

        Raises:
            NotFoundError: the token is unknown, expired or revoked (one message for all three).
            hccwatch.symptoms.ResponseError: the answers cannot be read (each problem named).
        """
        lang = lang if lang in LANGUAGES else "en"
        for _attempt in range(3):
            try:
                return self._submit(token, response, lang)
            except ConflictError:
                continue  # a staff edit landed meanwhile: merge into the new version
        raise ConflictError("the record kept changing while the answers were saved; send them again")

    def _submit(self, token: str, response: Mapping[str, Any], lang: str) -> SubmissionResult:
        reg = self.registry
        today = reg._today()
        mapped = symptoms_from_response(response, today=today)
        now = self._now()
        with self._session() as session:
            link = session.scalars(
                select(SymptomLink).where(SymptomLink.token_hash == token_hash(token))
            ).one_or_none()
            if link is None or _state(link, now) != "active":
                raise NotFoundError("this link cannot be used")
            patient = reg._patient(session, link.patient_id)
            outcome: Outcome | None = None
            error: str | None = None
            if mapped.symptoms:
                before = _patient_snapshot(patient)
                try:
                    rec = reg._parse(_merge(json.loads(patient.record_json), mapped.symptoms))
                    outcome = choose_outcome(
                        assess(rec, as_of=today, lang=lang, knowledge=reg.knowledge), mapped.codes
                    )
                except HccwatchError as exc:
                    # The stored record itself cannot be read: the answers are kept, the patient is
                    # told to call, and the team sees the report at the top (never a silent pass).
                    error, rec = str(exc), None
                if rec is not None:
                    reg._set_record_columns(patient, rec)
                    patient.updated_at = now
                    session.flush()
                    reg._store_assessment(session, patient, today, rec)
                    reg._audit_patient_change(session, PATIENT_LINK, "patient.update_record", patient, before)
            else:
                outcome = Outcome("routine", None, (), ())
            top = outcome.urgency if outcome is not None else "urgent"
            submission = SymptomSubmission(
                patient_id=patient.id,
                link_id=link.id,
                received_at=now,
                lang=lang,
                response_json=json.dumps(dict(response), ensure_ascii=False, sort_keys=True),
                top_urgency=top,
                alert_ids=json.dumps(list(outcome.alert_ids)) if outcome is not None else None,
            )
            session.add(submission)
            link.used_count += 1
            link.last_used_at = now
            session.flush()
            reg._audit(
                session, PATIENT_LINK, "symptom_check.submit", "symptom_submission", str(submission.id),
                patient_id=patient.id,
                after={"symptoms": list(mapped.symptoms), "top_urgency": top, "error": error},
            )  # fmt: skip
            reg._commit(session, f"patient {patient.record_id}")
            return SubmissionResult(
                submission.id, outcome, error, mapped.codes, today + dt.timedelta(days=self.interval_days)
            )

    def acknowledge(self, actor: Actor, submission_id: int) -> ReportView:
        """Record who saw a patient report and when (the first acknowledgement stands)."""
        require(actor, Action.OUTREACH)
        now = self._now()
        with self._session() as session:
            sub = self._submission(session, submission_id)
            if sub.acknowledged_at is None:
                sub.acknowledged_by, sub.acknowledged_at = actor.label, now
                self.registry._audit(
                    session, actor, "symptom_check.acknowledge", "symptom_submission", str(sub.id),
                    patient_id=sub.patient_id, after={"acknowledged_at": now.isoformat()},
                )  # fmt: skip
                session.commit()
            return self._report_view(session, sub)

    def _submission(self, session: Session, submission_id: int) -> SymptomSubmission:
        sub = session.get(SymptomSubmission, submission_id)
        if sub is None:
            raise NotFoundError(f"no symptom check {submission_id}")
        return sub

    def _report_view(self, session: Session, s: SymptomSubmission) -> ReportView:
        p = self.registry._patient(session, s.patient_id)
        return ReportView(
            s.id, p.id, p.record_id, p.name, p.phone, s.received_at, s.top_urgency,
            tuple(json.loads(s.alert_ids)) if s.alert_ids else (), s.acknowledged_by, s.acknowledged_at,
            s.escalated_at, s.escalation, json.loads(s.response_json),
        )  # fmt: skip

    def submission(self, actor: Actor, submission_id: int) -> ReportView:
        require(actor, Action.VIEW)
        with self._session() as session:
            return self._report_view(session, self._submission(session, submission_id))

    def submissions(self, actor: Actor, patient_id: int) -> list[ReportView]:
        require(actor, Action.VIEW)
        with self._session() as session:
            self.registry._patient(session, patient_id)
            rows = session.scalars(
                select(SymptomSubmission)
                .where(SymptomSubmission.patient_id == patient_id)
                .order_by(SymptomSubmission.received_at.desc(), SymptomSubmission.id.desc())
            )
            return [self._report_view(session, s) for s in rows]

    def open_reports(self, actor: Actor) -> list[ReportView]:
        """Unacknowledged emergency and urgent patient reports: emergencies first, oldest first."""
        require(actor, Action.VIEW)
        with self._session() as session:
            rows = list(
                session.scalars(
                    select(SymptomSubmission).where(
                        SymptomSubmission.acknowledged_at.is_(None),
                        SymptomSubmission.top_urgency.in_(FLAGGED),
                    )
                )
            )
            rows.sort(key=lambda s: (FLAGGED.index(s.top_urgency or "urgent"), s.received_at, s.id))
            return [self._report_view(session, s) for s in rows]

    # -- escalation -----------------------------------------------------------------------------

    def escalate_due(
        self, now: dt.datetime, *, after_minutes: float, notify: Callable[[ReportView], str]
    ) -> list[ReportView]:
        """Escalate every emergency report not acknowledged within ``after_minutes`` of ``now``.

        ``notify`` sends the notification and says how ("webhook, email", "no channel configured");
        an exception from it leaves the report to be tried again at the next call.
        """
        cutoff = now - dt.timedelta(minutes=after_minutes)
        done: list[ReportView] = []
        with self._session() as session:
            due = list(
                session.scalars(
                    select(SymptomSubmission)
                    .where(
                        SymptomSubmission.acknowledged_at.is_(None),
                        SymptomSubmission.escalated_at.is_(None),
                        SymptomSubmission.top_urgency == "emergency",
                        SymptomSubmission.received_at <= cutoff,
                    )
                    .order_by(SymptomSubmission.received_at)
                )
            )
            for sub in due:
                view = self._report_view(session, sub)
                try:
                    how = notify(view)
                except Exception as exc:  # any channel failure is retried at the next call, never lost
                    sub.escalation = f"failed, will retry: {exc}"[:500]
                    session.commit()
                    continue
                sub.escalated_at, sub.escalation = now, how[:500]
                after = {"escalated_at": now.isoformat(), "how": how}
                self.registry._audit(
                    session, Actor("escalation", "admin"), "symptom_check.escalate", "symptom_submission",
                    str(sub.id), patient_id=sub.patient_id, after=after,
                )  # fmt: skip
                session.commit()
                done.append(self._report_view(session, sub))
        return done

    # -- reminders and reports ------------------------------------------------------------------

    def _schedules(self, session: Session) -> dict[int, tuple[dt.date, LinkState, dt.date | None]]:
        """Patients on the schedule: first link date, state of their newest link, last submission day."""
        now = self._now()
        out: dict[int, tuple[dt.date, LinkState, dt.date | None]] = {}
        links = session.scalars(select(SymptomLink).order_by(SymptomLink.created_at, SymptomLink.id))
        by_patient: dict[int, list[SymptomLink]] = {}
        for link in links:
            by_patient.setdefault(link.patient_id, []).append(link)
        latest = select(SymptomSubmission.patient_id, func.max(SymptomSubmission.received_at)).group_by(
            SymptomSubmission.patient_id
        )
        last: dict[int, dt.datetime] = {row[0]: row[1] for row in session.execute(latest)}
        for pid, plinks in by_patient.items():
            live = [link for link in plinks if link.revoked_at is None]
            if not live:
                continue  # every link revoked: off the schedule
            newest = max(live, key=lambda link: (link.created_at, link.id))
            last_at = last.get(pid)
            out[pid] = (
                plinks[0].created_at.date(),
                _state(newest, now),
                last_at.date() if last_at is not None else None,
            )
        return out

    def due_checks(self, actor: Actor, as_of: dt.date) -> list[DueCheck]:
        """Patients whose next weekly check is due on or before ``as_of``, most overdue first."""
        require(actor, Action.VIEW)
        interval = dt.timedelta(days=self.interval_days)
        out: list[DueCheck] = []
        with self._session() as session:
            for pid, (start, state, last) in self._schedules(session).items():
                due = (last or start) + interval
                if due > as_of:
                    continue
                p = session.get(Patient, pid)
                if p is None or not p.on_worklist:
                    continue
                out.append(DueCheck(pid, p.record_id, p.phone, due, state))
        out.sort(key=lambda d: (d.due, d.record_id))
        return out

    def report(self, actor: Actor, as_of: dt.date) -> SymptomReport:
        """Completion per patient (weeks with a check / weeks on the schedule) and time to acknowledge."""
        require(actor, Action.VIEW)
        interval = self.interval_days
        patients: list[PatientCompletion] = []
        with self._session() as session:
            for pid, (start, _, _) in sorted(self._schedules(session).items()):
                p = session.get(Patient, pid)
                if p is None:
                    continue
                expected = max(0, (as_of - start).days) // interval
                days = session.scalars(
                    select(SymptomSubmission.received_at).where(SymptomSubmission.patient_id == pid)
                )
                weeks = {(d.date() - start).days // interval for d in days if d.date() < as_of}
                completed = len({w for w in weeks if 0 <= w < expected})
                patients.append(PatientCompletion(pid, p.record_id, expected, completed))
            emergencies = list(
                session.execute(
                    select(SymptomSubmission.received_at, SymptomSubmission.acknowledged_at).where(
                        SymptomSubmission.top_urgency == "emergency"
                    )
                )
            )
        minutes = [(ack - got).total_seconds() / 60 for got, ack in emergencies if ack is not None]
        return SymptomReport(
            as_of,
            tuple(patients),
            len(emergencies),
            len(minutes),
            statistics.median(minutes) if minutes else None,
            max(minutes) if minutes else None,
        )
