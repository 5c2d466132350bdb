"""A lean reading of the whole worklist, for a page that shows a few rows of each group.

``worklist_index`` reads only the sort and group columns of the patients on the worklist (no
outreach, no JSON, no timestamps), in the worklist's order, so a page can place every patient in
its group and then read the full rows of the few it shows (``Registry.worklist(ids=...)``).
``fingerprint`` changes whenever anything the worklist shows may have changed: a page may keep
what it computed from the registry until then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, and_, case, func, or_, select, type_coerce

from hccwatch.registry.models import AssessmentRow, OutreachEntry, Patient
from hccwatch.registry.roles import Action, Actor, require
from hccwatch.registry.service import WORKLIST_GROUPS, Registry

__all__ = ["IndexEntry", "fingerprint", "group_counts", "update_statistics", "worklist_index"]

# Rows SQLite samples per index when it updates its statistics (quick on any registry size).
_ANALYSIS_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class IndexEntry:
    patient_id: int
    top_urgency: str | None
    alert_count: int
    afp_suspicious: bool
    overdue: bool | None
    lost_to_follow_up: bool
    due_soon: bool
    # The stored record could not be assessed, or has no assessment yet.
    not_assessed: bool


def worklist_index(registry: Registry, actor: Actor) -> list[IndexEntry]:
    """Every patient on the worklist, in the order of :meth:`Registry.worklist`."""
    require(actor, Action.VIEW)
    due_within_days, lost_after_days = registry._worklist_cuts()
    a = AssessmentRow
    if registry.engine.dialect.name == "sqlite":
        days_to_due: Any = func.julianday(a.next_due) - func.julianday(a.as_of)
    else:
        days_to_due = a.next_due - a.as_of
    # The flags are computed by the database: no date is read into Python for thousands of rows.
    not_overdue = or_(a.overdue.is_(False), a.overdue.is_(None))
    lost = case((and_(a.overdue.is_(True), a.days_overdue > lost_after_days), 1), else_=0)
    due_soon = case((and_(not_overdue, a.next_due.is_not(None), days_to_due <= due_within_days), 1), else_=0)
    not_assessed = case((or_(a.patient_id.is_(None), a.error.is_not(None)), 1), else_=0)
    stmt = (
        select(
            Patient.id,
            a.top_urgency,
            type_coerce(a.alert_count, Integer),
            type_coerce(a.afp_suspicious, Integer),
            type_coerce(a.overdue, Integer),
            lost,
            due_soon,
            not_assessed,
        )  # fmt: skip
        .outerjoin(a, a.patient_id == Patient.id)
        .where(Patient.on_worklist.is_(True))
        .order_by(
            a.urgency_rank.asc().nulls_last(),
            a.days_overdue.desc().nulls_last(),
            a.next_due.asc().nulls_last(),
            Patient.record_id,
        )
    )
    with registry.engine.connect() as conn:
        return [
            IndexEntry(
                patient_id=pid,
                top_urgency=urgency,
                alert_count=alerts or 0,
                afp_suspicious=bool(afp),
                overdue=None if overdue is None else bool(overdue),
                lost_to_follow_up=bool(is_lost),
                due_soon=bool(soon),
                not_assessed=bool(missing),
            )
            for pid, urgency, alerts, afp, overdue, is_lost, soon, missing in conn.execute(stmt)
        ]


def group_counts(registry: Registry, actor: Actor, entries: list[IndexEntry]) -> dict[str, int]:
    """What :meth:`Registry.worklist_counts` says, from an index already read (one small query
    more, for the patients off the worklist)."""
    require(actor, Action.VIEW)
    counts = dict.fromkeys(("all", *WORKLIST_GROUPS), 0)
    for e in entries:
        counts["all"] += 1
        if e.not_assessed:
            counts["not_assessed"] += 1
            continue
        counts["alerts"] += e.alert_count > 0
        counts["afp"] += e.afp_suspicious
        if e.overdue:
            counts["lost" if e.lost_to_follow_up else "overdue"] += 1
        elif e.due_soon:
            counts["due_soon"] += 1
    with registry._sessions() as session:
        off = select(func.count()).select_from(Patient).where(Patient.on_worklist.is_(False))
        counts["off_worklist"] = int(session.scalar(off) or 0)
    return counts


def fingerprint(registry: Registry) -> tuple[object, ...]:
    """A few aggregates that change with every write the worklist can show (one cheap query)."""
    stmt = select(
        select(func.count()).select_from(Patient).scalar_subquery(),
        select(func.max(Patient.updated_at)).scalar_subquery(),
        select(func.max(OutreachEntry.id)).scalar_subquery(),
        select(func.count()).select_from(AssessmentRow).scalar_subquery(),
        select(func.max(AssessmentRow.computed_at)).scalar_subquery(),
    )
    with registry._sessions() as session:
        return tuple(session.execute(stmt).one())


def update_statistics(registry: Registry) -> None:
    """Let SQLite's planner know the tables' sizes (so it reads the narrow covering index, not the
    wide assessment rows). Sampled, so it is quick; PostgreSQL keeps its own statistics."""
    if registry.engine.dialect.name != "sqlite":
        return
    with registry.engine.connect() as conn:
        conn.exec_driver_sql(f"PRAGMA analysis_limit={_ANALYSIS_LIMIT}")
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
