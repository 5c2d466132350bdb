"""Clinic KPIs on small hand-built registries (SQLite and PostgreSQL): each figure against the
stored assessments read one by one, the empty cases, and "returned to care after a call"."""

from __future__ import annotations

import datetime as dt
import statistics

from registry_support import ADMIN, AS_OF, NOON

from hccwatch.registry import Registry
from hccwatch.registry.demo import demo_patients
from hccwatch.registry.kpis import clinic_kpis


def _load(registry: Registry, courses: dict[str, int]) -> list[int]:
    """The first ``n`` demo patients of each course, added to the registry; their ids."""
    wanted = dict(courses)
    ids = []
    for p in demo_patients(AS_OF):
        if wanted.get(p.course, 0) > 0:
            wanted[p.course] -= 1
            ids.append(registry.add_patient(ADMIN, p.record, name=p.name).id)
    return ids


def test_an_empty_registry_says_it_cannot_compute(registry: Registry) -> None:
    k = clinic_kpis(registry, ADMIN, as_of=AS_OF)
    assert k.up_to_date.value is None
    assert k.time_covered.value is None
    assert k.median_days_overdue is None
    assert k.overdue_patients == 0
    assert k.returned_after_outreach.value is None


def test_figures_match_the_stored_assessments(registry: Registry) -> None:
    ids = _load(registry, {"up to date": 2, "overdue": 3, "lost to follow-up": 1, "due soon": 1})
    surveillance = [registry.get_patient(ADMIN, i).assessment["surveillance"] for i in ids]  # type: ignore[index]
    scheduled = [s for s in surveillance if s["overdue"] is not None]
    late = [
        (AS_OF - min(dt.date.fromisoformat(d["due"]) for d in s["next_due"] if d["overdue"])).days
        for s in scheduled
        if s["overdue"]
    ]
    items = [i for s in surveillance if s.get("adherence") for i in s["adherence"]["per_item"].values()]
    k = clinic_kpis(registry, ADMIN, as_of=AS_OF)
    assert k.up_to_date.denominator == len(scheduled)
    assert k.up_to_date.numerator == sum(1 for s in scheduled if s["overdue"] is False)
    assert k.overdue_patients == len(late) >= 4
    assert k.median_days_overdue == statistics.median(late)
    assert k.time_covered.numerator == sum(i["days_covered"] for i in items)
    assert k.time_covered.denominator == sum(i["days_counted"] for i in items)
    assert 0 < (k.time_covered.value or 0) < 1


def test_patients_off_the_worklist_are_not_counted(registry: Registry) -> None:
    ids = _load(registry, {"overdue": 2})
    before = clinic_kpis(registry, ADMIN, as_of=AS_OF)
    registry.log_outreach(ADMIN, ids[0], "died", at=NOON)
    after = clinic_kpis(registry, ADMIN, as_of=AS_OF)
    assert after.up_to_date.denominator == before.up_to_date.denominator - 1
    assert after.overdue_patients == before.overdue_patients - 1


def test_returned_to_care_after_a_call(registry: Registry) -> None:
    ids = _load(registry, {"up to date": 2, "overdue": 1})
    last_tests = {
        i: max(
            dt.date.fromisoformat(d["last_done"])
            for d in registry.get_patient(ADMIN, i).assessment["surveillance"]["next_due"]  # type: ignore[index]
            if d.get("last_done")
        )
        for i in ids
    }
    early, late_call, never = ids
    # Called before their latest test: returned. Called after it: not (yet). Called a year and
    # more ago: outside the period.
    registry.log_outreach(
        ADMIN,
        early,
        "no_answer",
        at=NOON.replace(year=last_tests[early].year, month=last_tests[early].month, day=last_tests[early].day)
        - dt.timedelta(days=3),
    )
    registry.log_outreach(ADMIN, late_call, "reached", at=NOON)
    registry.log_outreach(ADMIN, never, "reached", at=NOON - dt.timedelta(days=400))
    k = clinic_kpis(registry, ADMIN, as_of=AS_OF)
    assert (k.returned_after_outreach.numerator, k.returned_after_outreach.denominator) == (1, 2)
    assert clinic_kpis(registry, ADMIN, as_of=AS_OF, period_days=500).returned_after_outreach.denominator == 3
