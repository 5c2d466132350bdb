"""The registry's service layer: the typed functions every face (CLI, web app, API) calls.

Each write is one transaction that also appends its audit row (who, when, what, before and
after); a failure leaves nothing behind. Role checks happen here. A patient carries a version:
an edit names the version it was based on, and a change made meanwhile raises
:class:`ConflictError` instead of being overwritten. Stored assessments are recomputed on every
write and by :meth:`Registry.refresh_assessments` when the day, the knowledge or the program
changed; nothing here decides anything clinical, it stores what :func:`hccwatch.assess` said.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, TypeVar, cast

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from hccwatch.api import assess
from hccwatch.core.knowledge import Knowledge, default_knowledge
from hccwatch.errors import HccwatchError, InvalidRecordError
from hccwatch.record.model import PatientRecord, parse_record
from hccwatch.registry import passwords
from hccwatch.registry.backup import backup as backup_registry
from hccwatch.registry.backup import restore as restore_registry
from hccwatch.registry.config import database_url
from hccwatch.registry.db import create_registry_engine, migrate
from hccwatch.registry.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    RegistryError,
)
from hccwatch.registry.models import AssessmentRow, AuditEvent, OutreachEntry, Patient, User
from hccwatch.registry.roles import ROLES, Action, Actor, Role, require
from hccwatch.version import __version__

__all__ = [
    "LEAVE_REASONS",
    "OUTCOMES",
    "WORKLIST_GROUPS",
    "AuditView",
    "ImportResult",
    "OutreachView",
    "PatientView",
    "Registry",
    "UserView",
    "WorklistRow",
    "record_json",
]

# Coded outcomes of an outreach attempt (issue 8).
OUTCOMES: tuple[str, ...] = (
    "reached",
    "no_answer",
    "wrong_number",
    "declined",
    "test_booked",
    "test_done_elsewhere",
    "moved",
    "died",
    "discharged",
)
# Why a patient leaves the worklist. The outcomes "moved", "died" and "discharged" take the
# patient off it by themselves; the others are set explicitly.
LEAVE_REASONS: tuple[str, ...] = ("died", "moved", "discharged", "declined_follow_up", "followed_elsewhere")
_OUTCOME_LEAVES = {"moved": "moved", "died": "died", "discharged": "discharged"}

# Urgency order of assess's alerts; a patient without alerts sorts after every alert.
_URGENCY = ("emergency", "urgent", "soon", "routine")
_NO_ALERT_RANK = len(_URGENCY)

WorklistGroup = Literal["alerts", "afp", "overdue", "lost", "due_soon", "not_assessed", "off_worklist"]
WORKLIST_GROUPS: tuple[WorklistGroup, ...] = (
    "alerts",
    "afp",
    "overdue",
    "lost",
    "due_soon",
    "not_assessed",
    "off_worklist",
)


_MAX_USERNAME_CHARS = 64


def record_json(record: PatientRecord) -> str:
    """The stored form of a record: its values as given (units too), canonical key order."""
    data = record.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


_F = TypeVar("_F", bound=Callable[..., Any])


def _no_silent_overwrite(method: _F) -> _F:
    """A write that finds its row changed under it (the version column matched no row, at flush
    or at commit) raises ConflictError; its transaction is rolled back, so nothing was written."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except StaleDataError:
            raise ConflictError("changed by someone else meanwhile; nothing was written") from None

    return cast(_F, wrapper)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class PatientView:
    id: int
    record_id: str
    version: int
    record: dict[str, Any]
    name: str | None
    phone: str | None
    family_doctor: str | None
    on_worklist: bool
    left_reason: str | None
    assessment: dict[str, Any] | None
    assessment_as_of: dt.date | None
    assessment_error: str | None


@dataclass(frozen=True)
class WorklistRow:
    patient_id: int
    record_id: str
    name: str | None
    phone: str | None
    version: int
    top_urgency: str | None
    alert_count: int
    afp_suspicious: bool
    afp_trend: str | None
    overdue: bool | None
    days_overdue: int | None
    next_due: dt.date | None
    bclc_stage: str | None
    phase: str | None
    as_of: dt.date | None
    error: str | None
    on_worklist: bool
    left_reason: str | None
    lost_to_follow_up: bool
    last_outreach: str | None
    last_outreach_at: dt.datetime | None
    # Not overdue, next test due within ``worklist.due_soon_days`` of the assessment date.
    due_soon: bool = False
    top_alert: str | None = None


@dataclass(frozen=True)
class OutreachView:
    id: int
    patient_id: int
    actor: str
    at: dt.datetime
    outcome: str
    note: str | None


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    display_name: str | None
    role: Role
    active: bool
    created_at: dt.datetime


@dataclass(frozen=True)
class AuditView:
    id: int
    at: dt.datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    patient_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class ImportResult:
    """What an import did with one record: ``added``, ``updated`` or ``unchanged``."""

    record_id: str
    patient_id: int
    status: Literal["added", "updated", "unchanged"]


@dataclass
class _Summary:
    """The worklist columns of one assessment (copied from what assess said)."""

    top_urgency: str | None = None
    urgency_rank: int = _NO_ALERT_RANK
    alert_count: int = 0
    afp_trend: str | None = None
    afp_suspicious: bool = False
    overdue: bool | None = None
    days_overdue: int | None = None
    next_due: dt.date | None = None
    bclc_stage: str | None = None
    phase: str | None = None
    top_alert: str | None = None
    last_test_date: dt.date | None = None
    adherence_days_counted: int | None = None
    adherence_days_covered: int | None = None


def _summarise(result: Mapping[str, Any], as_of: dt.date) -> _Summary:
    s = _Summary()
    alerts = result.get("alerts") or []
    s.alert_count = len(alerts)
    ranks = [_URGENCY.index(a["urgency"]) for a in alerts if a.get("urgency") in _URGENCY]
    if ranks:
        s.urgency_rank = min(ranks)
        s.top_urgency = _URGENCY[s.urgency_rank]
        top = next(a for a in alerts if a.get("urgency") == s.top_urgency)
        s.top_alert = str(top.get("title") or top.get("id") or "")[:300] or None
    afp = result.get("afp") or {}
    s.afp_trend = afp.get("trend")
    s.afp_suspicious = any(str(a.get("id", "")).startswith("afp") for a in alerts)
    surveillance = result.get("surveillance") or {}
    s.phase = surveillance.get("phase")
    s.overdue = surveillance.get("overdue")
    dues = [dt.date.fromisoformat(d["due"]) for d in surveillance.get("next_due") or [] if d.get("due")]
    if dues:
        s.next_due = min(dues)
    late = [
        dt.date.fromisoformat(d["due"])
        for d in surveillance.get("next_due") or []
        if d.get("overdue") and d.get("due")
    ]
    if late:
        s.days_overdue = (as_of - min(late)).days
    s.bclc_stage = ((result.get("staging") or {}).get("bclc") or {}).get("stage")
    done = [
        dt.date.fromisoformat(d["last_done"])
        for d in surveillance.get("next_due") or []
        if d.get("last_done")
    ]
    s.last_test_date = max(done, default=None)
    items = ((surveillance.get("adherence") or {}).get("per_item") or {}).values()
    counted = [
        i for i in items if isinstance(i.get("days_counted"), int) and isinstance(i.get("days_covered"), int)
    ]
    if counted:
        s.adherence_days_counted = sum(i["days_counted"] for i in counted)
        s.adherence_days_covered = sum(i["days_covered"] for i in counted)
    return s


def _patient_snapshot(p: Patient) -> dict[str, Any]:
    return {
        "record_id": p.record_id,
        "version": p.version,
        "record": json.loads(p.record_json),
        "name": p.name,
        "phone": p.phone,
        "family_doctor": p.family_doctor,
        "on_worklist": p.on_worklist,
        "left_reason": p.left_reason,
    }


def _user_snapshot(u: User) -> dict[str, Any]:
    # Never the hash itself: the audit trail is read by people.
    return {"username": u.username, "display_name": u.display_name, "role": u.role, "active": u.active}


def _dumps(data: Mapping[str, Any] | None) -> str | None:
    return None if data is None else json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)


class Registry:
    """A registry database and the functions to work it.

    ``today`` gives the evaluation date for assessments made on a write (the registry, an
    adapter, may read the clock; the rules never do); tests pass a fixed one.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        knowledge: Knowledge | None = None,
        today: Callable[[], dt.date] = dt.date.today,
        now: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        self.engine = engine
        self.knowledge = knowledge if knowledge is not None else default_knowledge()
        self._today = today
        self._now = now
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        today: Callable[[], dt.date] = dt.date.today,
        now: Callable[[], dt.datetime] = _utcnow,
    ) -> Registry:
        """Open (and create and migrate, on first use) the registry at ``url`` or the configured one."""
        engine = create_registry_engine(url or database_url())
        migrate(engine)
        return cls(engine, today=today, now=now)

    def close(self) -> None:
        self.engine.dispose()

    # -- plumbing -------------------------------------------------------------------------------

    def _audit(
        self,
        session: Session,
        actor: Actor,
        action: str,
        entity: str,
        entity_id: str | None,
        *,
        patient_id: int | None = None,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> None:
        session.add(
            AuditEvent(
                at=self._now(),
                user_id=actor.user_id,
                actor=actor.label,
                action=action,
                entity=entity,
                entity_id=entity_id,
                patient_id=patient_id,
                before_json=_dumps(before),
                after_json=_dumps(after),
            )
        )

    def _patient(self, session: Session, patient_id: int) -> Patient:
        patient = session.get(Patient, patient_id)
        if patient is None:
            raise NotFoundError(f"no patient with id {patient_id}")
        return patient

    def _parse(self, record: PatientRecord | Mapping[str, Any]) -> PatientRecord:
        return parse_record(record, knowledge=self.knowledge)

    def _store_assessment(
        self, session: Session, patient: Patient, as_of: dt.date, record: PatientRecord | None = None
    ) -> None:
        """Assess the patient's stored record (``record``: the same record, already parsed)."""
        row = session.get(AssessmentRow, patient.id)
        if row is None:
            row = AssessmentRow(patient_id=patient.id)
            session.add(row)
        result: dict[str, Any] | None = None
        error: str | None = None
        try:
            source: PatientRecord | dict[str, Any] = (
                record if record is not None else json.loads(patient.record_json)
            )
            result = assess(source, as_of=as_of, knowledge=self.knowledge).to_dict()
        except InvalidRecordError as exc:
            error = "; ".join(exc.problems)
        except HccwatchError as exc:
            error = str(exc)
        summary = _summarise(result, as_of) if result is not None else _Summary()
        row.as_of = as_of
        row.knowledge_version = self.knowledge.version
        row.hccwatch_version = __version__
        row.patient_version = patient.version
        row.computed_at = self._now()
        row.result_json = None if result is None else json.dumps(result, ensure_ascii=False, allow_nan=False)
        row.error = error
        row.top_urgency = summary.top_urgency
        row.urgency_rank = summary.urgency_rank
        row.alert_count = summary.alert_count
        row.afp_trend = summary.afp_trend
        row.afp_suspicious = summary.afp_suspicious
        row.overdue = summary.overdue
        row.days_overdue = summary.days_overdue
        row.next_due = summary.next_due
        row.bclc_stage = summary.bclc_stage
        row.phase = summary.phase
        row.top_alert = summary.top_alert
        row.last_test_date = summary.last_test_date
        row.adherence_days_counted = summary.adherence_days_counted
        row.adherence_days_covered = summary.adherence_days_covered

    def _commit(self, session: Session, what: str) -> None:
        try:
            session.commit()
        except StaleDataError:
            session.rollback()
            raise ConflictError(f"{what}: changed by someone else meanwhile; nothing was written") from None

    @staticmethod
    def _set_record_columns(patient: Patient, record: PatientRecord) -> None:
        patient.record_json = record_json(record)
        patient.sex = record.sex
        patient.birth_date = record.birth_date
        patient.last_treatment_date = max((t.date for t in record.treatments), default=None)

    def _view(self, session: Session, p: Patient) -> PatientView:
        row = session.get(AssessmentRow, p.id)
        return PatientView(
            id=p.id,
            record_id=p.record_id,
            version=p.version,
            record=json.loads(p.record_json),
            name=p.name,
            phone=p.phone,
            family_doctor=p.family_doctor,
            on_worklist=p.on_worklist,
            left_reason=p.left_reason,
            assessment=json.loads(row.result_json) if row is not None and row.result_json else None,
            assessment_as_of=row.as_of if row is not None else None,
            assessment_error=row.error if row is not None else None,
        )

    # -- patients -------------------------------------------------------------------------------

    @_no_silent_overwrite
    def add_patient(
        self,
        actor: Actor,
        record: PatientRecord | Mapping[str, Any],
        *,
        name: str | None = None,
        phone: str | None = None,
        family_doctor: str | None = None,
    ) -> PatientView:
        """A new patient; raises :class:`InvalidRecordError` naming each bad field, or
        :class:`RegistryError` if the record id is already in the registry."""
        require(actor, Action.EDIT_RECORD)
        rec = self._parse(record)
        now = self._now()
        with self._sessions() as session:
            patient = Patient(
                record_id=rec.id,
                name=name,
                phone=phone,
                family_doctor=family_doctor,
                on_worklist=True,
                created_at=now,
                updated_at=now,
            )
            self._set_record_columns(patient, rec)
            session.add(patient)
            try:
                session.flush()
            except IntegrityError:
                session.rollback()
                raise RegistryError(
                    f"a patient with record id {rec.id!r} is already in the registry"
                ) from None
            self._store_assessment(session, patient, self._today(), rec)
            self._audit(
                session,
                actor,
                "patient.add",
                "patient",
                rec.id,
                patient_id=patient.id,
                after=_patient_snapshot(patient),
            )
            self._commit(session, f"patient {rec.id}")
            return self._view(session, patient)

    @_no_silent_overwrite
    def update_record(
        self,
        actor: Actor,
        patient_id: int,
        record: PatientRecord | Mapping[str, Any],
        *,
        expected_version: int,
    ) -> PatientView:
        """Replace a patient's clinical record; ``expected_version`` is the version it was based on."""
        require(actor, Action.EDIT_RECORD)
        rec = self._parse(record)
        with self._sessions() as session:
            patient = self._patient(session, patient_id)
            self._check_version(patient, expected_version)
            if rec.id != patient.record_id:
                raise RegistryError(
                    f"the record's id {rec.id!r} is not this patient's ({patient.record_id!r}); "
                    "a record id cannot be changed by an edit"
                )
            before = _patient_snapshot(patient)
            self._set_record_columns(patient, rec)
            patient.updated_at = self._now()
            session.flush()
            self._store_assessment(session, patient, self._today(), rec)
            self._audit_patient_change(session, actor, "patient.update_record", patient, before)
            self._commit(session, f"patient {patient.record_id}")
            return self._view(session, patient)

    @_no_silent_overwrite
    def set_contact(
        self,
        actor: Actor,
        patient_id: int,
        *,
        expected_version: int,
        name: str | None,
        phone: str | None,
        family_doctor: str | None,
    ) -> PatientView:
        require(actor, Action.EDIT_RECORD)

        def change(patient: Patient) -> None:
            patient.name, patient.phone, patient.family_doctor = name, phone, family_doctor

        return self._edit_patient(actor, patient_id, expected_version, "patient.set_contact", change)

    def _edit_patient(
        self,
        actor: Actor,
        patient_id: int,
        expected_version: int,
        event: str,
        change: Callable[[Patient], None],
    ) -> PatientView:
        """One audited edit of a patient's own columns, refused if its version moved on."""
        with self._sessions() as session:
            patient = self._patient(session, patient_id)
            self._check_version(patient, expected_version)
            before = _patient_snapshot(patient)
            change(patient)
            patient.updated_at = self._now()
            session.flush()
            self._audit_patient_change(session, actor, event, patient, before)
            self._commit(session, f"patient {patient.record_id}")
            return self._view(session, patient)

    @staticmethod
    def _check_version(patient: Patient, expected_version: int) -> None:
        if patient.version != expected_version:
            raise ConflictError(
                f"patient {patient.record_id} was changed by someone else (now version {patient.version}, "
                f"the edit was based on version {expected_version}); nothing was written",
                current_version=patient.version,
            )

    @_no_silent_overwrite
    def import_record(self, actor: Actor, record: PatientRecord | Mapping[str, Any]) -> ImportResult:
        """Add the record, or replace the stored one with the same id (audited, before and after);
        an identical record is left as it is. One transaction per record: an import stopped at any
        point keeps every record committed before and never half of one."""
        require(actor, Action.IMPORT)
        rec = self._parse(record)
        stored = record_json(rec)
        with self._sessions() as session:
            patient = session.scalars(select(Patient).where(Patient.record_id == rec.id)).one_or_none()
            if patient is not None and patient.record_json == stored:
                return ImportResult(rec.id, patient.id, "unchanged")
            now = self._now()
            before = None if patient is None else _patient_snapshot(patient)
            if patient is None:
                patient = Patient(record_id=rec.id, on_worklist=True, created_at=now, updated_at=now)
                session.add(patient)
            self._set_record_columns(patient, rec)
            patient.updated_at = now
            try:
                session.flush()
            except IntegrityError:
                session.rollback()
                raise ConflictError(
                    f"patient {rec.id} was added by someone else meanwhile; import it again"
                ) from None
            self._store_assessment(session, patient, self._today(), rec)
            self._audit(
                session,
                actor,
                "patient.import",
                "patient",
                rec.id,
                patient_id=patient.id,
                before=before,
                after=_patient_snapshot(patient),
            )
            self._commit(session, f"patient {rec.id}")
            return ImportResult(rec.id, patient.id, "added" if before is None else "updated")

    def get_patient(self, actor: Actor, patient_id: int) -> PatientView:
        """Read a patient (the web app calls :meth:`record_view` when a person opens the page)."""
        require(actor, Action.VIEW)
        with self._sessions() as session:
            return self._view(session, self._patient(session, patient_id))

    def find_patient(self, actor: Actor, record_id: str) -> PatientView:
        require(actor, Action.VIEW)
        with self._sessions() as session:
            patient = session.scalars(select(Patient).where(Patient.record_id == record_id)).one_or_none()
            if patient is None:
                raise NotFoundError(f"no patient with record id {record_id!r}")
            return self._view(session, patient)

    def record_view(self, actor: Actor, patient_id: int) -> None:
        """Log that ``actor`` viewed the patient (every view of a patient leaves an audit row)."""
        require(actor, Action.VIEW)
        with self._sessions() as session:
            patient = self._patient(session, patient_id)
            self._audit(session, actor, "patient.view", "patient", patient.record_id, patient_id=patient.id)
            session.commit()

    def last_change(self, actor: Actor, patient_id: int) -> AuditView | None:
        """The latest write to a patient (who and when), so an edit refused as a conflict can say
        who changed it meanwhile; views are not changes."""
        require(actor, Action.VIEW)
        stmt = (
            select(AuditEvent)
            .where(AuditEvent.patient_id == patient_id, AuditEvent.action != "patient.view")
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )
        with self._sessions() as session:
            e = session.scalars(stmt).first()
            if e is None:
                return None
            return AuditView(e.id, e.at, e.actor, e.action, e.entity, e.entity_id, e.patient_id, None, None)

    def count_patients(self, actor: Actor) -> int:
        require(actor, Action.VIEW)
        with self._sessions() as session:
            return int(session.scalar(select(func.count()).select_from(Patient)) or 0)

    # -- worklist and assessments ---------------------------------------------------------------

    def _worklist_cuts(self) -> tuple[float, float]:
        """(days ahead that count as due soon, days overdue after which a patient is lost to
        follow-up), both from the knowledge base."""
        k = self.knowledge
        months = k.number("worklist.lost_to_follow_up_months")
        lost_after_days = months * k.number("surveillance.days_per_month")
        return k.number("worklist.due_soon_days"), lost_after_days

    def worklist(
        self,
        actor: Actor,
        *,
        group: WorklistGroup | None = None,
        search: str | None = None,
        limit: int | None = None,
        urgency: str | None = None,
        stage: str | None = None,
        ids: Sequence[int] | None = None,
    ) -> list[WorklistRow]:
        """Patients on the worklist, most urgent alert first, then most days overdue.

        ``group`` narrows it: ``alerts`` (any alert), ``afp`` (an AFP alert), ``overdue`` (but not
        lost), ``lost`` (overdue by more than ``worklist.lost_to_follow_up_months``), ``due_soon``
        (not overdue, next test due within ``worklist.due_soon_days`` of the assessment date),
        ``not_assessed`` (the stored record could not be assessed), ``off_worklist``. ``urgency``
        keeps the patients whose most urgent alert has that level (``none``: no alert), ``stage``
        those of that BCLC stage (``unknown``: not staged). ``ids`` keeps only these patients.
        """
        require(actor, Action.VIEW)
        due_within_days, lost_after_days = self._worklist_cuts()
        last = (
            select(OutreachEntry.patient_id, func.max(OutreachEntry.id).label("last_id"))
            .group_by(OutreachEntry.patient_id)
            .subquery()
        )
        stmt = (
            # Only the worklist's columns: never the record or assessment JSON of thousands of rows.
            select(
                Patient.id,
                Patient.record_id,
                Patient.name,
                Patient.phone,
                Patient.version,
                Patient.on_worklist,
                Patient.left_reason,
                AssessmentRow.patient_id.label("assessed"),
                AssessmentRow.top_urgency,
                AssessmentRow.top_alert,
                AssessmentRow.alert_count,
                AssessmentRow.afp_suspicious,
                AssessmentRow.afp_trend,
                AssessmentRow.overdue,
                AssessmentRow.days_overdue,
                AssessmentRow.next_due,
                AssessmentRow.bclc_stage,
                AssessmentRow.phase,
                AssessmentRow.as_of,
                AssessmentRow.error,
                OutreachEntry.outcome,
                OutreachEntry.at.label("outreach_at"),
            )  # fmt: skip
            .outerjoin(AssessmentRow, AssessmentRow.patient_id == Patient.id)
            .outerjoin(last, last.c.patient_id == Patient.id)
            .outerjoin(OutreachEntry, OutreachEntry.id == last.c.last_id)
        )
        stmt = stmt.where(Patient.on_worklist.is_(group != "off_worklist"))
        if group == "alerts":
            stmt = stmt.where(AssessmentRow.alert_count > 0)
        elif group == "afp":
            stmt = stmt.where(AssessmentRow.afp_suspicious.is_(True))
        elif group == "overdue":
            stmt = stmt.where(AssessmentRow.overdue.is_(True), AssessmentRow.days_overdue <= lost_after_days)
        elif group == "lost":
            stmt = stmt.where(AssessmentRow.overdue.is_(True), AssessmentRow.days_overdue > lost_after_days)
        elif group == "due_soon":
            stmt = stmt.where(
                or_(AssessmentRow.overdue.is_(False), AssessmentRow.overdue.is_(None)),
                AssessmentRow.next_due.is_not(None),
            )
        elif group == "not_assessed":
            stmt = stmt.where(or_(AssessmentRow.error.is_not(None), AssessmentRow.patient_id.is_(None)))
        elif group is not None and group != "off_worklist":
            raise RegistryError(f"unknown worklist group {group!r}; one of {', '.join(WORKLIST_GROUPS)}")
        if ids is not None:
            stmt = stmt.where(Patient.id.in_(list(ids)))
        if urgency == "none":
            stmt = stmt.where(AssessmentRow.top_urgency.is_(None))
        elif urgency:
            stmt = stmt.where(AssessmentRow.top_urgency == urgency)
        if stage == "unknown":
            stmt = stmt.where(AssessmentRow.bclc_stage.is_(None))
        elif stage:
            stmt = stmt.where(AssessmentRow.bclc_stage == stage)
        if search:
            pattern = f"%{search.strip().lower()}%"
            stmt = stmt.where(
                or_(func.lower(Patient.record_id).like(pattern), func.lower(Patient.name).like(pattern))
            )
        stmt = stmt.order_by(
            AssessmentRow.urgency_rank.asc().nulls_last(),
            AssessmentRow.days_overdue.desc().nulls_last(),
            AssessmentRow.next_due.asc().nulls_last(),
            Patient.record_id,
        )
        if limit is not None and group != "due_soon":
            stmt = stmt.limit(limit)
        rows: list[WorklistRow] = []
        with self._sessions() as session:
            for r in session.execute(stmt):
                assessed = r.assessed is not None
                due_soon = bool(
                    not r.overdue
                    and r.next_due is not None
                    and r.as_of is not None
                    and (r.next_due - r.as_of).days <= due_within_days
                )
                if group == "due_soon" and not due_soon:
                    continue
                rows.append(
                    WorklistRow(
                        patient_id=r.id,
                        record_id=r.record_id,
                        name=r.name,
                        phone=r.phone,
                        version=r.version,
                        top_urgency=r.top_urgency,
                        alert_count=r.alert_count or 0,
                        afp_suspicious=bool(r.afp_suspicious),
                        afp_trend=r.afp_trend,
                        overdue=r.overdue,
                        days_overdue=r.days_overdue,
                        next_due=r.next_due,
                        bclc_stage=r.bclc_stage,
                        phase=r.phase,
                        as_of=r.as_of,
                        error=r.error if assessed else "not assessed yet",
                        on_worklist=r.on_worklist,
                        left_reason=r.left_reason,
                        lost_to_follow_up=bool(
                            r.overdue and r.days_overdue is not None and r.days_overdue > lost_after_days
                        ),
                        last_outreach=r.outcome,
                        last_outreach_at=r.outreach_at,
                        due_soon=due_soon,
                        top_alert=r.top_alert,
                    )
                )
                if limit is not None and len(rows) >= limit:
                    break
        return rows

    def worklist_counts(self, actor: Actor) -> dict[str, int]:
        """How many patients each worklist group holds (``all``: everyone on the worklist)."""
        require(actor, Action.VIEW)
        due_within_days, lost_after_days = self._worklist_cuts()
        counts = dict.fromkeys(("all", *WORKLIST_GROUPS), 0)
        stmt = select(
            Patient.on_worklist, AssessmentRow.patient_id.label("assessed"), AssessmentRow.alert_count,
            AssessmentRow.afp_suspicious, AssessmentRow.overdue, AssessmentRow.days_overdue,
            AssessmentRow.next_due, AssessmentRow.as_of, AssessmentRow.error,
        ).outerjoin(AssessmentRow, AssessmentRow.patient_id == Patient.id)  # fmt: skip
        with self._sessions() as session:
            for r in session.execute(stmt):
                if not r.on_worklist:
                    counts["off_worklist"] += 1
                    continue
                counts["all"] += 1
                if r.assessed is None or r.error is not None:
                    counts["not_assessed"] += 1
                    continue
                counts["alerts"] += r.alert_count > 0
                counts["afp"] += bool(r.afp_suspicious)
                if r.overdue:
                    lost = r.days_overdue is not None and r.days_overdue > lost_after_days
                    counts["lost" if lost else "overdue"] += 1
                elif r.next_due is not None and (r.next_due - r.as_of).days <= due_within_days:
                    counts["due_soon"] += 1
        return counts

    @_no_silent_overwrite
    def refresh_assessments(self, as_of: dt.date | None = None, *, actor: Actor | None = None) -> int:
        """Recompute every stored assessment that is stale: made for another day, from an older
        version of the patient, or by another knowledge base or hccwatch version. Returns how many
        were recomputed. Batches of patients commit one by one, so a stopped refresh keeps its work."""
        actor = actor or Actor("system", "admin")
        require(actor, Action.REFRESH)
        when = as_of or self._today()
        batch = 200
        done = 0
        with self._sessions() as session:
            stale = (
                select(Patient.id)
                .outerjoin(AssessmentRow, AssessmentRow.patient_id == Patient.id)
                .where(
                    or_(
                        AssessmentRow.patient_id.is_(None),
                        AssessmentRow.as_of != when,
                        AssessmentRow.patient_version != Patient.version,
                        AssessmentRow.knowledge_version != self.knowledge.version,
                        AssessmentRow.hccwatch_version != __version__,
                    )
                )
                .order_by(Patient.id)
            )
            ids = list(session.scalars(stale))
        for start in range(0, len(ids), batch):
            with self._sessions() as session:
                for pid in ids[start : start + batch]:
                    patient = session.get(Patient, pid)
                    if patient is not None:
                        self._store_assessment(session, patient, when)
                        done += 1
                session.commit()
        if done:
            with self._sessions() as session:
                self._audit(
                    session,
                    actor,
                    "assessments.refresh",
                    "assessment",
                    None,
                    after={
                        "as_of": when.isoformat(),
                        "recomputed": done,
                        "knowledge_version": self.knowledge.version,
                    },
                )
                session.commit()
        return done

    # -- outreach -------------------------------------------------------------------------------

    @_no_silent_overwrite
    def log_outreach(
        self,
        actor: Actor,
        patient_id: int,
        outcome: str,
        *,
        note: str | None = None,
        at: dt.datetime | None = None,
        expected_version: int | None = None,
    ) -> OutreachView:
        """Log one outreach attempt. ``moved``, ``died`` and ``discharged`` also take the patient
        off the worklist (with that reason), in the same transaction. With ``expected_version``
        (the version the caller saw), a patient changed meanwhile raises :class:`ConflictError`."""
        require(actor, Action.OUTREACH)
        if outcome not in OUTCOMES:
            raise RegistryError(f"unknown outreach outcome {outcome!r}; one of {', '.join(OUTCOMES)}")
        when = at or self._now()
        if when.tzinfo is None:
            raise RegistryError("an outreach time needs a time zone")
        with self._sessions() as session:
            patient = self._patient(session, patient_id)
            if expected_version is not None:
                self._check_version(patient, expected_version)
            entry = OutreachEntry(
                patient_id=patient.id,
                user_id=actor.user_id,
                actor=actor.label,
                at=when,
                outcome=outcome,
                note=note,
            )
            session.add(entry)
            session.flush()
            self._audit(
                session,
                actor,
                "outreach.log",
                "outreach",
                str(entry.id),
                patient_id=patient.id,
                after={"outcome": outcome, "note": note, "at": when.isoformat()},
            )
            leaves = _OUTCOME_LEAVES.get(outcome)
            if leaves is not None and patient.on_worklist:
                self._leave(session, actor, patient, leaves)
            self._commit(session, f"patient {patient.record_id}")
            return OutreachView(entry.id, patient.id, entry.actor, entry.at, entry.outcome, entry.note)

    def outreach_history(self, actor: Actor, patient_id: int) -> list[OutreachView]:
        require(actor, Action.VIEW)
        with self._sessions() as session:
            self._patient(session, patient_id)
            entries = session.scalars(
                select(OutreachEntry)
                .where(OutreachEntry.patient_id == patient_id)
                .order_by(OutreachEntry.at.desc(), OutreachEntry.id.desc())
            )
            return [OutreachView(e.id, e.patient_id, e.actor, e.at, e.outcome, e.note) for e in entries]

    def _audit_patient_change(
        self, session: Session, actor: Actor, event: str, patient: Patient, before: dict[str, Any]
    ) -> None:
        """The audit row of a change to one patient: its state before and after."""
        self._audit(
            session,
            actor,
            event,
            "patient",
            patient.record_id,
            patient_id=patient.id,
            before=before,
            after=_patient_snapshot(patient),
        )

    def _leave(self, session: Session, actor: Actor, patient: Patient, reason: str) -> None:
        before = _patient_snapshot(patient)
        patient.on_worklist = False
        patient.left_reason = reason
        patient.left_at = self._now()
        patient.updated_at = patient.left_at
        session.flush()
        self._audit_patient_change(session, actor, "worklist.leave", patient, before)

    @_no_silent_overwrite
    def leave_worklist(
        self, actor: Actor, patient_id: int, reason: str, *, expected_version: int
    ) -> PatientView:
        require(actor, Action.OUTREACH)
        if reason not in LEAVE_REASONS:
            raise RegistryError(
                f"unknown reason to leave the worklist {reason!r}; one of {', '.join(LEAVE_REASONS)}"
            )
        with self._sessions() as session:
            patient = self._patient(session, patient_id)
            self._check_version(patient, expected_version)
            self._leave(session, actor, patient, reason)
            self._commit(session, f"patient {patient.record_id}")
            return self._view(session, patient)

    @_no_silent_overwrite
    def return_to_worklist(self, actor: Actor, patient_id: int, *, expected_version: int) -> PatientView:
        require(actor, Action.OUTREACH)

        def change(patient: Patient) -> None:
            patient.on_worklist, patient.left_reason, patient.left_at = True, None, None

        return self._edit_patient(actor, patient_id, expected_version, "worklist.return", change)

    # -- export and audit -----------------------------------------------------------------------

    def export_records(self, actor: Actor) -> Iterator[dict[str, Any]]:
        """Every stored record, in record-id order. The role is checked and the export audited at
        the call, before the first record is read."""
        require(actor, Action.EXPORT)
        with self._sessions() as session:
            self._audit(session, actor, "registry.export", "registry", None)
            session.commit()
        return self._records()

    def _records(self) -> Iterator[dict[str, Any]]:
        with self._sessions() as session:
            for raw in session.scalars(select(Patient.record_json).order_by(Patient.record_id)):
                yield json.loads(raw)

    def audit_events(
        self, actor: Actor, *, patient_id: int | None = None, limit: int = 1000
    ) -> list[AuditView]:
        require(actor, Action.READ_AUDIT)
        stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
        if patient_id is not None:
            stmt = stmt.where(AuditEvent.patient_id == patient_id)
        with self._sessions() as session:
            return [
                AuditView(
                    e.id,
                    e.at,
                    e.actor,
                    e.action,
                    e.entity,
                    e.entity_id,
                    e.patient_id,
                    json.loads(e.before_json) if e.before_json else None,
                    json.loads(e.after_json) if e.after_json else None,
                )
                for e in session.scalars(stmt)
            ]

    def backup(self, actor: Actor, out: IO[bytes]) -> dict[str, int]:
        """Write a full backup to ``out`` (the backup is audited, and holds its own audit row)."""
        require(actor, Action.BACKUP)
        with self._sessions() as session:
            self._audit(session, actor, "registry.backup", "registry", None)
            session.commit()
        return backup_registry(self.engine, out)

    def restore(self, actor: Actor, source: Path) -> dict[str, int]:
        """Load a backup into this registry, which must be empty: all of it, or nothing."""
        require(actor, Action.BACKUP)
        audit = {
            "at": self._now(), "user_id": actor.user_id, "actor": actor.label, "action": "registry.restore",
            "entity": "registry", "entity_id": source.name, "patient_id": None, "before_json": None,
            "after_json": None,
        }  # fmt: skip
        return restore_registry(self.engine, source, audit)

    # -- users ----------------------------------------------------------------------------------

    @_no_silent_overwrite
    def add_user(
        self, actor: Actor, username: str, role: str, password: str, *, display_name: str | None = None
    ) -> UserView:
        require(actor, Action.MANAGE_USERS)
        name = username.strip()
        if not name or len(name) > _MAX_USERNAME_CHARS or any(c.isspace() for c in name):
            raise RegistryError("a username is 1 to 64 characters without spaces")
        checked_role = _role(role)
        passwords.check_strength(password)
        with self._sessions() as session:
            user = User(
                username=name,
                display_name=display_name,
                role=checked_role,
                password_hash=passwords.hash_password(password),
                active=True,
                created_at=self._now(),
            )
            session.add(user)
            try:
                session.flush()
            except IntegrityError:
                session.rollback()
                raise RegistryError(f"user {name!r} already exists") from None
            self._audit(session, actor, "user.add", "user", name, after=_user_snapshot(user))
            session.commit()
            return _user_view(user)

    def list_users(self, actor: Actor) -> list[UserView]:
        require(actor, Action.MANAGE_USERS)
        with self._sessions() as session:
            return [_user_view(u) for u in session.scalars(select(User).order_by(User.username))]

    def _user(self, session: Session, username: str) -> User:
        user = session.scalars(select(User).where(User.username == username)).one_or_none()
        if user is None:
            raise NotFoundError(f"no user {username!r}")
        return user

    @_no_silent_overwrite
    def disable_user(self, actor: Actor, username: str) -> UserView:
        require(actor, Action.MANAGE_USERS)
        if actor.username == username and actor.user_id is not None:
            raise RegistryError("an administrator cannot disable their own account")
        with self._sessions() as session:
            user = self._user(session, username)
            before = _user_snapshot(user)
            user.active = False
            session.flush()
            self._audit(
                session, actor, "user.disable", "user", username, before=before, after=_user_snapshot(user)
            )
            self._commit(session, f"user {username}")
            return _user_view(user)

    @_no_silent_overwrite
    def set_password(self, actor: Actor, username: str, password: str) -> None:
        """An administrator sets anyone's password; any user may set their own."""
        if not (actor.user_id is not None and actor.username == username):
            require(actor, Action.MANAGE_USERS)
        passwords.check_strength(password)
        with self._sessions() as session:
            user = self._user(session, username)
            user.password_hash = passwords.hash_password(password)
            session.flush()
            self._audit(
                session,
                actor,
                "user.set_password",
                "user",
                username,
                before=_user_snapshot(user),
                after={**_user_snapshot(user), "password": "changed"},
            )
            self._commit(session, f"user {username}")

    def authenticate(self, username: str, password: str) -> Actor:
        """The actor for a correct password of an active user, else :class:`AuthenticationError`.
        Both outcomes are audited; a hash made with older parameters is upgraded on success."""
        with self._sessions() as session:
            user = session.scalars(select(User).where(User.username == username)).one_or_none()
            ok = user is not None and user.active and passwords.verify_password(user.password_hash, password)
            if not ok or user is None:
                if user is None:
                    passwords.burn_time()  # an unknown name costs the same time as a wrong password
                session.add(
                    AuditEvent(
                        at=self._now(),
                        user_id=user.id if user else None,
                        actor=username[:100],
                        action="user.login_failed",
                        entity="user",
                        entity_id=username[:200],
                    )
                )
                session.commit()
                raise AuthenticationError("unknown user, wrong password or disabled account")
            if passwords.needs_rehash(user.password_hash):
                user.password_hash = passwords.hash_password(password)
            actor = Actor(user.username, _role(user.role), user.id)
            self._audit(session, actor, "user.login", "user", user.username)
            session.commit()
            return actor


def _role(role: str) -> Role:
    for r in ROLES:
        if r == role:
            return r
    raise RegistryError(f"unknown role {role!r}; one of {', '.join(ROLES)}")


def _user_view(u: User) -> UserView:
    return UserView(u.id, u.username, u.display_name, _role(u.role), u.active, u.created_at)
