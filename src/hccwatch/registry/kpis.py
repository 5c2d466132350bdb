"""Clinic KPIs of the follow-up registry, from the stored assessments (what assess said) and the
outreach log: nothing here decides anything clinical. Definitions are in ``docs/registry.md``.

Every KPI keeps its numerator and denominator, and is ``None`` (shown as "cannot be computed",
never 0) when nobody is in its denominator.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from sqlalchemy import func, select

from hccwatch.registry.models import AssessmentRow, OutreachEntry, Patient
from hccwatch.registry.roles import Action, Actor, require
from hccwatch.registry.service import Registry

__all__ = ["DEFAULT_PERIOD_DAYS", "ClinicKpis", "Ratio", "clinic_kpis"]

# The reporting period of "returned to care after outreach" (a reporting choice, not a clinical one).
DEFAULT_PERIOD_DAYS = 365


@dataclass(frozen=True)
class Ratio:
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


@dataclass(frozen=True)
class ClinicKpis:
    as_of: dt.date
    period_days: int
    # Patients on the worklist with a surveillance schedule who are not overdue.
    up_to_date: Ratio
    # Days covered by the schedule over days counted, summed over patients on the worklist.
    time_covered: Ratio
    # Median days overdue of the overdue patients on the worklist (None: nobody is overdue).
    median_days_overdue: float | None
    overdue_patients: int
    # Patients called in the period (still on the worklist) with a surveillance test on or after
    # their first call of the period.
    returned_after_outreach: Ratio


def clinic_kpis(
    registry: Registry, actor: Actor, *, as_of: dt.date, period_days: int = DEFAULT_PERIOD_DAYS
) -> ClinicKpis:
    require(actor, Action.VIEW)
    on_list = Patient.on_worklist.is_(True)
    assessed = AssessmentRow.error.is_(None)
    since = dt.datetime.combine(as_of - dt.timedelta(days=period_days), dt.time(), tzinfo=dt.UTC)
    with registry._sessions() as session:
        schedule: dict[bool | None, int] = {
            overdue: count
            for overdue, count in session.execute(
                select(AssessmentRow.overdue, func.count())
                .join(Patient, Patient.id == AssessmentRow.patient_id)
                .where(on_list, assessed, AssessmentRow.overdue.is_not(None))
                .group_by(AssessmentRow.overdue)
            )
        }
        covered, counted = session.execute(
            select(
                func.coalesce(func.sum(AssessmentRow.adherence_days_covered), 0),
                func.coalesce(func.sum(AssessmentRow.adherence_days_counted), 0),
            )
            .join(Patient, Patient.id == AssessmentRow.patient_id)
            .where(on_list, assessed, AssessmentRow.adherence_days_counted.is_not(None))
        ).one()
        late = [
            d
            for d in session.scalars(
                select(AssessmentRow.days_overdue)
                .join(Patient, Patient.id == AssessmentRow.patient_id)
                .where(
                    on_list,
                    assessed,
                    AssessmentRow.overdue.is_(True),
                    AssessmentRow.days_overdue.is_not(None),
                )
            )
            if d is not None
        ]
        first_call = (
            select(OutreachEntry.patient_id, func.min(OutreachEntry.at).label("first_at"))
            .where(OutreachEntry.at >= since)
            .group_by(OutreachEntry.patient_id)
            .subquery()
        )
        called = session.execute(
            select(first_call.c.first_at, AssessmentRow.last_test_date)
            .join(Patient, Patient.id == first_call.c.patient_id)
            .outerjoin(AssessmentRow, AssessmentRow.patient_id == Patient.id)
            .where(on_list)
        ).all()
    returned = sum(
        1 for first_at, last_test in called if last_test is not None and last_test >= first_at.date()
    )
    return ClinicKpis(
        as_of=as_of,
        period_days=period_days,
        up_to_date=Ratio(schedule.get(False, 0), sum(schedule.values())),
        time_covered=Ratio(int(covered or 0), int(counted or 0)),
        median_days_overdue=float(statistics.median(late)) if late else None,
        overdue_patients=len(late),
        returned_after_outreach=Ratio(returned, len(called)),
    )
