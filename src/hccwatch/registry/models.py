"""The registry's tables (SQLAlchemy 2). The schema itself is made by the Alembic migrations.

A patient is stored as its record JSON (the source of truth, exactly what ``assess`` reads) plus
a few columns a worklist filters on; the latest assessment is stored beside it with the facts a
worklist sorts by. Timestamps are UTC.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "AssessmentRow",
    "AuditEvent",
    "Base",
    "OutreachEntry",
    "Patient",
    "RegistrySetting",
    "User",
    "WebSession",
]

# Constraint names are fixed so migrations name the same objects on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[dt.datetime]):
    """An aware UTC datetime on every backend (SQLite keeps no zone; it is put back on read)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the registry; use an aware UTC time")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The record's own ``id`` (an MRN or pseudonym): unique in the registry.
    record_id: Mapped[str] = mapped_column(String(200), unique=True)
    record_json: Mapped[str] = mapped_column(Text)
    # Contact details are the registry's, not the record's: the record is what assess reads.
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(64))
    family_doctor: Mapped[str | None] = mapped_column(String(200))
    sex: Mapped[str | None] = mapped_column(String(8))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    last_treatment_date: Mapped[dt.date | None] = mapped_column(Date)
    # On the worklist unless a coded reason took the patient off it (death, discharge, moved).
    on_worklist: Mapped[bool] = mapped_column(Boolean, default=True)
    left_reason: Mapped[str | None] = mapped_column(String(32))
    left_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # Indexed: the web worklist's fingerprint reads its maximum on every page.
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class AssessmentRow(Base):
    """The stored assessment of a patient (one per patient: the latest)."""

    __tablename__ = "assessments"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    knowledge_version: Mapped[str] = mapped_column(String(32))
    hccwatch_version: Mapped[str] = mapped_column(String(32))
    # The patient version it was computed from: a mismatch means the data changed since.
    patient_version: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    # Assessment.to_dict() as JSON, or null when the stored record could not be assessed (error).
    result_json: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    # Worklist columns, copied from the assessment (no rule here: only what assess said).
    top_urgency: Mapped[str | None] = mapped_column(String(16))
    urgency_rank: Mapped[int] = mapped_column(Integer)
    alert_count: Mapped[int] = mapped_column(Integer, default=0)
    afp_trend: Mapped[str | None] = mapped_column(String(32))
    afp_suspicious: Mapped[bool] = mapped_column(Boolean, default=False)
    overdue: Mapped[bool | None] = mapped_column(Boolean)
    days_overdue: Mapped[int | None] = mapped_column(Integer)
    next_due: Mapped[dt.date | None] = mapped_column(Date)
    bclc_stage: Mapped[str | None] = mapped_column(String(8))
    phase: Mapped[str | None] = mapped_column(String(32))
    # The title of the most urgent alert (the worklist says why a patient is there).
    top_alert: Mapped[str | None] = mapped_column(String(300))
    # For the clinic KPIs: the latest surveillance test, and the days assess counted and found
    # covered by the schedule (summed over the schedule's items).
    last_test_date: Mapped[dt.date | None] = mapped_column(Date)
    adherence_days_counted: Mapped[int | None] = mapped_column(Integer)
    adherence_days_covered: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_assessments_worklist", "urgency_rank", "days_overdue"),
        # Covers the worklist index, counts and KPIs (migration 0002 says why).
        Index(
            "ix_assessments_summary",
            "patient_id",
            "urgency_rank",
            "top_urgency",
            "alert_count",
            "afp_suspicious",
            "overdue",
            "days_overdue",
            "next_due",
            "as_of",
            "error",
            "adherence_days_counted",
            "adherence_days_covered",
            "last_test_date",
        ),  # fmt: skip
    )


class OutreachEntry(Base):
    __tablename__ = "outreach"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    outcome: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)


class AuditEvent(Base):
    """Append-only (database triggers refuse UPDATE and DELETE on every backend)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    user_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(200))
    patient_id: Mapped[int | None] = mapped_column(Integer, index=True)
    before_json: Mapped[str | None] = mapped_column(Text)
    after_json: Mapped[str | None] = mapped_column(Text)


class WebSession(Base):
    """A web login: the SHA-256 of its random id (never the id), its CSRF token, its times."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_seen: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class RegistrySetting(Base):
    """A fact about the database itself (``demo``: created by ``hccwatch serve --demo``)."""

    __tablename__ = "registry_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
