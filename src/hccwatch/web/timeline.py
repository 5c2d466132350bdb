"""One dated list of what happened to a patient: treatments, imaging, labs, symptoms, metastases
and outreach calls, newest first. Pure: a record and an outreach history in, typed rows out.

Labs of one day share a row (a clinic draws them together). Entries without a date (a symptom
with no onset) are kept, last, marked "date unknown", never dropped.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from hccwatch.record.model import PatientRecord
from hccwatch.registry import OutreachView
from hccwatch.report.labels import labels
from hccwatch.web.wording import wording

__all__ = ["Kind", "TimelineRow", "timeline"]

Kind = Literal["treatment", "imaging", "labs", "symptom", "metastasis", "outreach"]
# Within one day: what was done to the patient first, then what was found, then the calls.
_KIND_ORDER: dict[Kind, int] = {
    "treatment": 0,
    "imaging": 1,
    "labs": 2,
    "symptom": 3,
    "metastasis": 4,
    "outreach": 5,
}


@dataclass(frozen=True)
class TimelineRow:
    date: dt.date | None
    kind: Kind
    kind_label: str
    title: str
    detail: str

    @property
    def date_text(self) -> str:
        return self.date.isoformat() if self.date is not None else wording("en").timeline["undated"]


def _num(v: float) -> str:
    return str(int(v)) if v == int(v) else f"{v:g}"


def _words(code: str) -> str:
    text = labels().key(code)
    return text[:1].upper() + text[1:]


def _treatments(record: PatientRecord) -> list[TimelineRow]:
    w = wording("en")
    rows = []
    for t in record.treatments:
        parts = [
            p
            for p in (
                t.agent and labels().key(t.agent),
                t.margin and f"margin {t.margin}",
                t.site and f"site {t.site}",
                t.end_date and w.timeline["ended"].format(date=t.end_date.isoformat()),
            )
            if p
        ]
        title = w.treatments.get(t.type, t.type)
        rows.append(TimelineRow(t.date, "treatment", w.timeline["treatment"], title, "; ".join(parts)))
    return rows


def _imaging(record: PatientRecord) -> list[TimelineRow]:
    w = wording("en")
    rows = []
    for im in record.imaging:
        title = f"{labels().key(im.modality)} {labels().key(im.region)}"
        lesions = sum(lesion.count for lesion in im.lesions)
        detail = _words(im.result)
        if lesions:
            detail += f"; {w.timeline['lesions'].format(n=lesions)}"
        rows.append(
            TimelineRow(im.date, "imaging", w.timeline["imaging"], title[:1].upper() + title[1:], detail)
        )
    return rows


def _labs(record: PatientRecord) -> list[TimelineRow]:
    by_day: dict[dt.date, list[str]] = defaultdict(list)
    for lab in record.labs:
        unit = lab.canonical.unit
        shown = (
            f"{labels().key(lab.test)} {_num(lab.canonical.value)}{'' if unit in {'', '1'} else ' ' + unit}"
        )
        if lab.unit and lab.unit != unit and lab.canonical.value != lab.value:
            shown += f" ({_num(lab.value)} {lab.unit})"
        by_day[lab.date].append(shown)
    label = wording("en").timeline["labs"]
    return [TimelineRow(day, "labs", label, label, "; ".join(items)) for day, items in by_day.items()]


def _symptoms(record: PatientRecord) -> list[TimelineRow]:
    w = wording("en")
    rows = []
    for s in record.symptoms:
        parts = [p for p in ("sudden" if s.sudden else "", "progressive" if s.progressive else "") if p]
        if s.spinal_level:
            parts.append(s.spinal_level)
        if s.resolved:
            parts.append(w.timeline["resolved"].format(date=s.resolved.isoformat()))
        rows.append(TimelineRow(s.onset, "symptom", w.timeline["symptom"], _words(s.code), "; ".join(parts)))
    return rows


def _metastases(record: PatientRecord) -> list[TimelineRow]:
    w = wording("en")
    rows = []
    for m in record.metastatic_sites:
        detail = w.timeline["lesions"].format(n=m.count) if m.count else ""
        rows.append(TimelineRow(m.date, "metastasis", w.timeline["metastasis"], _words(m.site), detail))
    return rows


def _outreach(history: Sequence[OutreachView]) -> list[TimelineRow]:
    w = wording("en")
    rows = []
    for o in history:
        # Stored in UTC; SQLite hands it back without a zone.
        at = o.at if o.at.tzinfo is None else o.at.astimezone(dt.UTC)
        parts = [w.timeline["by"].format(actor=o.actor), at.strftime("%H:%M UTC")]
        if o.note:
            parts.append(o.note)
        rows.append(
            TimelineRow(at.date(), "outreach", w.timeline["outreach"], _words(o.outcome), "; ".join(parts))
        )
    return rows


def timeline(record: PatientRecord, outreach: Sequence[OutreachView] = ()) -> tuple[TimelineRow, ...]:
    """Every dated event, newest first; same-day rows in a fixed kind order; undated rows last."""
    rows = (
        _treatments(record)
        + _imaging(record)
        + _labs(record)
        + _symptoms(record)
        + _metastases(record)
        + _outreach(outreach)
    )
    dated = sorted(
        (r for r in rows if r.date is not None),
        key=lambda r: (-r.date.toordinal() if r.date else 0, _KIND_ORDER[r.kind], r.title, r.detail),
    )
    undated = sorted((r for r in rows if r.date is None), key=lambda r: (_KIND_ORDER[r.kind], r.title))
    return (*dated, *undated)
