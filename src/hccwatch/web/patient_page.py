"""What the patient page shows, built from a registry :class:`PatientView` (pure, no I/O).

The findings are :func:`hccwatch.assess`'s, re-read for display: the stored record assessed on
the stored assessment's date with the registry's knowledge (deterministic, so the same answer
the registry stored, now as typed objects the report views and ``cards`` read). A stored
assessment that failed is shown as its error, never as a blank page; nothing is re-decided here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hccwatch.api import assess
from hccwatch.core.assessment import Assessment
from hccwatch.core.finding import AssumedInput
from hccwatch.core.knowledge import JsonValue, Knowledge
from hccwatch.errors import HccwatchError, InvalidRecordError
from hccwatch.record.model import PatientRecord, parse_record
from hccwatch.record.units import canonical_unit
from hccwatch.registry import OutreachView, PatientView
from hccwatch.report import cards
from hccwatch.report.labels import labels
from hccwatch.report.view import ReportView, Section, build, fmt_value
from hccwatch.web.afp_chart import (
    AfpChart,
    Scale,
    afp_points,
    chart_thresholds,
    render_chart,
    treatment_markers,
)
from hccwatch.web.timeline import TimelineRow, timeline
from hccwatch.web.wording import wording

__all__ = [
    "HeaderItem",
    "LikelySite",
    "PatientPage",
    "ScheduleRow",
    "TumourRow",
    "assessment_of",
    "build_page",
]

# The header's findings, in the order a clinician scans them.
HEADER_STAGES = ("bclc", "cnlc")
HEADER_SCORES = ("child_pugh", "meld_3", "albi")
# Report sections shown on the page as they are (the report's own reading of each finding).
PAGE_SECTIONS = (
    "alerts",
    "workup",
    "surveillance",
    "afp",
    "scores",
    "staging",
    "transplant",
    "metastasis",
    "recurrence",
    "options",
    "patient_summary",
)


@dataclass(frozen=True)
class HeaderItem:
    key: str
    label: str
    text: str
    tone: str = "plain"


@dataclass(frozen=True)
class ScheduleRow:
    item: str
    label: str
    due: str | None
    last_done: str | None
    overdue: bool | None


@dataclass(frozen=True)
class LikelySite:
    site: str
    frequency: str
    of: str
    reasons: tuple[str, ...]
    citations: tuple[str, ...]


@dataclass(frozen=True)
class TumourRow:
    number: int
    cells: tuple[tuple[str, str], ...]  # (column label, value) in record order


@dataclass(frozen=True)
class PatientPage:
    patient: PatientView
    assessment: Assessment | None
    error: str | None  # why there is no assessment to show (stored error, or the record's problems)
    report: ReportView | None
    header: tuple[HeaderItem, ...]
    sections: Mapping[str, Section]
    chart: AfpChart
    timeline: tuple[TimelineRow, ...]
    tumours: tuple[TumourRow, ...]
    tumours_assessed_on: str | None
    tumours_unknown: bool  # the record does not say (None), as against an empty list
    criteria: tuple[cards.CriterionView, ...]
    likely_sites: tuple[LikelySite, ...]
    schedule: tuple[ScheduleRow, ...]
    assumptions: tuple[AssumedInput, ...]
    outreach: tuple[OutreachView, ...]


def assessment_of(
    view: PatientView, knowledge: Knowledge, *, lang: str = "en", record: PatientRecord | None = None
) -> tuple[Assessment | None, str | None]:
    """The patient's assessment on its stored date, or why there is none (never both None).
    ``record``: the stored record already parsed with ``knowledge`` (saves parsing it twice)."""
    if view.assessment_error:
        return None, view.assessment_error
    if view.assessment_as_of is None:
        return None, "This patient has not been assessed yet (the registry assesses on every change)."
    source: PatientRecord | dict[str, Any] = record if record is not None else view.record
    try:
        return assess(source, as_of=view.assessment_as_of, knowledge=knowledge, lang=lang), None
    except InvalidRecordError as exc:
        return None, "; ".join(exc.problems) or str(exc)
    except HccwatchError as exc:
        return None, str(exc)


def _record(view: PatientView, knowledge: Knowledge) -> PatientRecord | None:
    try:
        return parse_record(view.record, knowledge=knowledge)
    except InvalidRecordError:
        return None  # the error is shown from the assessment


def _months_between(start: dt.date, end: dt.date) -> tuple[int, int]:
    months = (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)
    return divmod(max(months, 0), 12)


def _since(record: PatientRecord | None, as_of: dt.date | None) -> str:
    if record is None or not record.treatments:
        return labels().word("none")
    last = max(record.treatments, key=lambda t: (t.date, t.type))
    name = wording("en").treatments.get(last.type, last.type)
    if as_of is None:
        return f"{name} {last.date.isoformat()}"
    years, months = _months_between(last.date, as_of)
    ago = f"{years} y {months} m" if years else f"{months} m"
    return f"{name} {last.date.isoformat()} ({ago} before {as_of.isoformat()})"


def _header(a: Assessment | None, record: PatientRecord | None, error: str | None) -> tuple[HeaderItem, ...]:
    cannot = labels().word("cannot")
    items: list[HeaderItem] = []
    if a is None:
        items.append(HeaderItem("assessment", "Assessment", f"{cannot}: {error}", "cannot"))
    else:
        for key in HEADER_STAGES:
            f = a.staging.get(key)
            if f is not None:
                s = cards.stage(key, f)
                items.append(HeaderItem(key, s.label, s.text, "plain" if s.determined else "cannot"))
        for key in HEADER_SCORES:
            f = a.scores.get(key)
            if f is not None:
                v = cards.score(key, f)
                items.append(HeaderItem(key, v.label, v.text, "plain" if v.determined else "cannot"))
    items.append(HeaderItem("since", "Last treatment", _since(record, a.as_of if a else None)))
    if a is not None:
        b = cards.bottom_line(a)
        dues = [
            str(row.get("due"))
            for row in _rows(a.surveillance.get("next_due"))
            if isinstance(row.get("due"), str)
        ]
        if b.overdue is None:
            items.append(HeaderItem("next_due", "Next due", b.overdue_text, "cannot"))
        else:
            next_due = min(dues) if dues else labels().word("none")
            late = f"; {len(b.overdue)} overdue" if b.overdue else ""
            items.append(
                HeaderItem("next_due", "Next due", f"{next_due}{late}", "urgent" if late else "plain")
            )
        top = b.alert
        items.append(
            HeaderItem(
                "urgency",
                "Top urgency",
                f"{top.badge}: {top.title}" if top else labels().word("none"),
                top.tone if top else "plain",
            )
        )
    return tuple(items)


def _rows(value: JsonValue) -> list[dict[str, Any]]:
    return [r for r in value if isinstance(r, dict)] if isinstance(value, list) else []


def _schedule(a: Assessment) -> tuple[ScheduleRow, ...]:
    out = []
    for row in _rows(a.surveillance.get("next_due")):
        item = str(row.get("item"))
        name = labels().key(item)
        due, last, late = row.get("due"), row.get("last_done"), row.get("overdue")
        out.append(
            ScheduleRow(
                item,
                name[:1].upper() + name[1:],
                due if isinstance(due, str) else None,
                last if isinstance(last, str) else None,
                late if isinstance(late, bool) else None,
            )
        )
    return tuple(out)


def _likely_sites(a: Assessment) -> tuple[LikelySite, ...]:
    out = []
    for row in _rows(a.metastasis.get("likely_sites")):
        reasons = row.get("reasons")
        cites = row.get("citations")
        site = labels().key(str(row.get("site")))
        out.append(
            LikelySite(
                site[:1].upper() + site[1:],
                fmt_value(row.get("frequency")),
                fmt_value(row.get("of")),
                tuple(fmt_value(r) for r in reasons) if isinstance(reasons, list) else (),
                tuple(str(c) for c in cites) if isinstance(cites, list) else (),
            )
        )
    return tuple(out)


# Tumour columns in the order a radiologist reads them; unknown values show as "unknown".
_TUMOUR_FIELDS = (
    "size_cm",
    "segment",
    "viable",
    "capsule",
    "margin",
    "satellite_nodules",
    "near_portal_vein",
    "near_hepatic_vein",
    "near_ivc",
    "ruptured",
)


def _tumours(record: PatientRecord | None) -> tuple[TumourRow, ...]:
    if record is None or record.tumors is None:
        return ()
    out = []
    for n, t in enumerate(record.tumors, start=1):
        cells = tuple((labels().key(name), fmt_value(getattr(t, name))) for name in _TUMOUR_FIELDS)
        out.append(TumourRow(n, cells))
    return tuple(out)


def _assumptions(a: Assessment) -> tuple[AssumedInput, ...]:
    seen: dict[tuple[str, str], AssumedInput] = {}
    for f in a.findings():
        for x in f.assumptions:
            seen.setdefault((x.field, x.reason), x)
    return tuple(seen.values())


def build_page(
    view: PatientView,
    knowledge: Knowledge,
    outreach: Sequence[OutreachView] = (),
    *,
    scale: Scale = "linear",
    lang: str = "en",
) -> PatientPage:
    """Everything the patient page shows (``scale`` of the AFP chart)."""
    record = _record(view, knowledge)
    a, error = assessment_of(view, knowledge, lang=lang, record=record)
    report = build(a) if a is not None else None
    sections = {s.key: s for s in report.sections} if report is not None else {}
    trend = a.afp.get("trend") if a is not None else None
    chart = render_chart(
        afp_points(record) if record is not None else (),
        chart_thresholds(knowledge, a.afp.values if a is not None else None),
        treatment_markers(record) if record is not None else (),
        scale=scale,
        unit=canonical_unit("afp", knowledge),
        trend=trend if isinstance(trend, str) else None,
    )
    return PatientPage(
        patient=view,
        assessment=a,
        error=error,
        report=report,
        header=_header(a, record, error),
        sections=sections,
        chart=chart,
        timeline=timeline(record, outreach) if record is not None else (),
        tumours=_tumours(record),
        tumours_assessed_on=(
            record.tumors_assessed_on.isoformat() if record and record.tumors_assessed_on else None
        ),
        tumours_unknown=record is None or record.tumors is None,
        criteria=cards.criteria(a) if a is not None else (),
        likely_sites=_likely_sites(a) if a is not None else (),
        schedule=_schedule(a) if a is not None else (),
        assumptions=_assumptions(a) if a is not None else (),
        outreach=tuple(outreach),
    )
