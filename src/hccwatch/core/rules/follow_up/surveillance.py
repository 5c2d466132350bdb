"""Follow-up after HCC treatment: which schedule applies, what is due, what is overdue, adherence.

Phase. When no HCC treatment is recorded, the phase is ``at_risk``. Otherwise the latest treatment
that decides a phase (``surveillance.phase_by_treatment``) opens it:

| latest deciding treatment          | phase               |
|------------------------------------|---------------------|
| resection, ablation                | post_curative       |
| TACE, TARE, SBRT                   | post_locoregional   |
| transplant                         | post_transplant     |
| systemic therapy, still ongoing    | on_systemic         |

A systemic therapy is ongoing when it has no ``end_date`` or ends after the evaluation date; one
that has ended decides nothing, and the treatment before it decides. Deciding treatments on one day
that open different phases are ranked by ``surveillance.same_day_phase_precedence`` (transplant,
ongoing systemic, locoregional, curative), never by the order of the record's list. Treatments that decide
nothing (radiotherapy of a metastasis, or only an ended systemic therapy) give no phase.

Schedule. The profile (the ``profile`` argument, else ``record.surveillance_profile``, else
``"default"``) names a schedule per phase: bands ``{item, interval_months, from_month,
until_month}`` with months counted from the start of follow-up (the deciding treatment; when
``at_risk``, the first surveillance study on record). After a transplant, profiles that allow it
let RETREAT choose the schedule (core/rules/retreat.py) and fall back to their own when RETREAT
cannot decide. Every RETREAT schedule ends on the floor guidelines give all recipients (AFP with
chest and abdominal CT/MRI), so RETREAT 0 means no extra surveillance, not none.

What counts. A study counts for an item when it is that item's own kind (``surveillance.study_items``
maps modality:region to items; AFP and DCP come from the labs), or another item's kind that the band
in force on the study's date ``accepts`` (an ultrasound for the liver imaging once a schedule
accepts ultrasound, a liver CT/MRI for the ultrasound). A study of an accepted kind done when the
band did not accept it is named in the text, so a patient is not told "never" without the reason.

Next due, per item. The reference is the item's latest study after the start (else the start).
If a band covers the reference, due = reference + its interval; if only a later band exists,
due = the later of that band's start and reference + its interval; a due date after the item's
last band, or an evaluation date after it, means the item's schedule is complete (no entry). A
due date after 9999-12-31 (the end of the calendar) is given as null with a note, never overdue.
Overdue: the evaluation date is more than ``surveillance.grace_days`` after the due date. With
no start (``at_risk`` and no study ever), every item is due on the evaluation date and the
overall overdue flag is unknown.

Adherence (proportion of time covered; the measure follows SINGAL-2022), per item. The days
counted are those after the item's first due date + grace (the first day it could be overdue)
up to the evaluation date, on which the item is in the schedule. A counted day is covered when
the item is not overdue on that day, i.e. the day is no later than (due date computed from the
latest study on or before that day) + grace. Proportion = covered / counted (None when nothing
was counted yet); the overall proportion pools the days of all items. The due date changes only
on study days, so the days are counted per stretch between studies (bounded by the number of
studies, not by the length of follow-up).

Citations: AASLD-2023, EASL-2018, NHC-2024, BMJBP-HCC, YOON-2021, KATYAL-2000, MEHTA-2017,
MEHTA-2018, SINGAL-2022, TZARTZEVA-2018, HCCWATCH-ARTICLE, HCCWATCH-POLICY.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from operator import attrgetter

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding, Trace
from hccwatch.core.knowledge import JsonValue
from hccwatch.core.memo import Memo
from hccwatch.core.rules.follow_up.retreat import retreat
from hccwatch.errors import KnowledgeError
from hccwatch.record.model import Treatment

__all__ = ["ITEM_LABELS", "surveillance"]

ITEM_LABELS = {
    "liver_multiphase_ct_or_mri": "multiphase liver CT/MRI",
    "abdominal_ultrasound": "abdominal ultrasound",
    "afp": "AFP",
    "chest_ct": "chest CT",
    "dcp": "DCP (PIVKA-II)",
}
_LAB_ITEMS = ("afp", "dcp")
_DATE = attrgetter("date")
_PHASE_TEXT = {
    "at_risk": "no HCC treatment on record",
    "post_curative": "after curative treatment",
    "post_locoregional": "after locoregional treatment",
    "post_transplant": "after liver transplant",
    "on_systemic": "on systemic therapy",
}


@dataclass(frozen=True)
class Band:
    """One schedule band, in months (as the knowledge states it)."""

    item: str
    interval_months: float
    from_month: float
    until_month: float | None
    # Other items whose studies also count for this one while the band is in force.
    accepts: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, JsonValue]:
        return {
            "item": self.item,
            "interval_months": self.interval_months,
            "from_month": self.from_month,
            "until_month": self.until_month,
            "accepts": list(self.accepts),
        }


@dataclass(frozen=True)
class DayBand:
    """A band in whole days from the start of follow-up, so band edges never drift by rounding."""

    interval: int
    first: int
    end: int | None
    accepts: frozenset[str] = frozenset()

    def covers(self, day: int) -> bool:
        return self.first <= day and (self.end is None or day < self.end)


@dataclass(frozen=True)
class Phase:
    id: str | None
    treatment: Treatment | None


def _num(raw: JsonValue, what: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise KnowledgeError(f"schedule band field {what!r} is not a number: {raw!r}")
    return float(raw)


# A schedule parsed once per knowledge base: its bands, and each item's bands in days. Told apart by
# the identity of the knowledge list (immutable by convention), checked on a hit.
_Plan = tuple[tuple["Band", ...], dict[str, tuple["DayBand", ...]]]
_PLANS: Memo[tuple[object, _Plan]] = Memo()


def _plan(t: Trace, name: str, days_per_month: float) -> _Plan:
    """The schedule's bands (cited through ``t``) and, per item, its bands in whole days."""
    raw = t.items(f"surveillance.schedule.{name}")

    def parse() -> _Plan:
        bands = _bands(raw, name)
        items = dict.fromkeys(b.item for b in bands)
        days = {item: tuple(_in_days([b for b in bands if b.item == item], days_per_month)) for item in items}
        return tuple(bands), days

    held, plan = _PLANS.get((name, id(raw), days_per_month), lambda: (raw, parse()))
    return plan if held is raw else parse()


def _bands(schedule: list[JsonValue], name: str) -> list[Band]:
    out = []
    for raw in schedule:
        if not isinstance(raw, dict):
            raise KnowledgeError(f"surveillance.schedule.{name}: band {raw!r} is not a table")
        until = raw.get("until_month")
        accepts = raw.get("accepts", [])
        if not isinstance(accepts, list):
            raise KnowledgeError(f"surveillance.schedule.{name}: 'accepts' of {raw!r} is not a list")
        out.append(
            Band(
                item=str(raw["item"]),
                interval_months=_num(raw["interval_months"], "interval_months"),
                from_month=_num(raw["from_month"], "from_month"),
                until_month=None if until is None else _num(until, "until_month"),
                accepts=tuple(str(a) for a in accepts),
            )
        )
    return out


def _in_days(bands: Sequence[Band], days_per_month: float) -> list[DayBand]:
    return [
        DayBand(
            interval=round(b.interval_months * days_per_month),
            first=round(b.from_month * days_per_month),
            end=None if b.until_month is None else round(b.until_month * days_per_month),
            accepts=frozenset(b.accepts),
        )
        for b in bands
    ]


def next_due_day(bands: Sequence[DayBand], ref: int) -> int | None:
    """Day (from the start) an item is next due when it was last done on day ``ref``; None if complete."""
    # ``DayBand.covers`` written inline: covered_days asks this once per study of each item.
    for b in bands:
        if b.first <= ref and (b.end is None or ref < b.end):
            due = ref + b.interval
            break
    else:
        later = sorted((b for b in bands if b.first > ref), key=lambda b: b.first)
        if not later:
            return None
        due = max(later[0].first, ref + later[0].interval)
    for b in bands:
        if b.first <= due and (b.end is None or due < b.end):
            return due
    # The due date fell in a gap between bands or after the last one: next band start, or complete.
    starts = [b.first for b in bands if b.first > due]
    return min(starts) if starts else None


def _union(bands: Sequence[DayBand]) -> list[tuple[int, int | None]]:
    """The days some band covers, as disjoint ``[first, end)`` spans in order (None: open-ended)."""
    spans: list[tuple[int, int | None]] = []
    for b in sorted(bands, key=lambda b: b.first):
        if spans and (spans[-1][1] is None or b.first <= spans[-1][1]):
            end = spans[-1][1]
            spans[-1] = (spans[-1][0], None if end is None or b.end is None else max(end, b.end))
        else:
            spans.append((b.first, b.end))
    return spans


def covered_days(bands: Sequence[DayBand], studies: Sequence[int], today: int, grace: int) -> tuple[int, int]:
    """(days counted, days covered) for one item; see the module docstring for the definition.

    The due date only changes on a study day, so the days between two studies form one stretch
    with one due date: each stretch is counted by interval arithmetic, not day by day.
    """
    first_due = next_due_day(bands, 0)
    if first_due is None:
        return 0, 0
    lo = first_due + grace + 1
    if today < lo:
        return 0, 0
    # (first day, due date in force from that day); a study on day s sets the due date from day s on.
    changes: list[tuple[int, int | None]] = [(lo, first_due)]
    for day in sorted(studies):
        due = next_due_day(bands, day)
        if day <= lo:
            changes[0] = (lo, due)
        elif day <= today:
            changes.append((day, due))
    spans = _union(bands)
    counted = covered = 0
    # Each stretch runs to the day before the next change (the last one to today).
    lasts = [first - 1 for first, _ in changes[1:]]
    lasts.append(today)
    for (first, due), last in zip(changes, lasts, strict=True):
        cap = last if due is None else min(last, due + grace)
        # The days of ``first..last`` (counted) and of ``first..cap`` (covered) that the disjoint
        # spans hold, in one pass over the spans (some fifteen stretches per assessment).
        for begin, end in spans:
            low = first if first > begin else begin
            if end is None:
                high, high_covered = last, cap
            else:
                high, high_covered = min(end - 1, last), min(end - 1, cap)
            if high >= low:
                counted += high - low + 1
            if high_covered >= low:
                covered += high_covered - low + 1
    return counted, covered


def _profile_id(ctx: Context, t: Trace, requested: str | None) -> str:
    available = [str(p) for p in t.items("surveillance.profile_ids")]
    chosen = requested or ctx.record.surveillance_profile or "default"
    if chosen not in available:
        raise ValueError(f"unknown surveillance profile {chosen!r}; available: {', '.join(available)}")
    return chosen


def _ended(treatment: Treatment, as_of: date) -> bool:
    return treatment.type == "systemic" and treatment.end_date is not None and treatment.end_date <= as_of


def _phase(ctx: Context, t: Trace) -> Phase:
    treatments = ctx.treatments()
    if not treatments:
        return Phase("at_risk", None)
    by_type = t.table("surveillance.phase_by_treatment")
    for ended in (tr for tr in treatments if _ended(tr, ctx.as_of)):
        t.note(
            f"Systemic therapy ({ended.agent or 'agent not recorded'}) ended on {ended.end_date}: "
            "it no longer sets the follow-up schedule."
        )
    deciding = [tr for tr in treatments if tr.type in by_type and not _ended(tr, ctx.as_of)]
    if not deciding:
        t.need("treatments (none recorded sets a follow-up phase)")
        return Phase(None, None)
    same_day = [tr for tr in deciding if tr.date == deciding[-1].date]
    latest = same_day[-1]
    if len({by_type[tr.type] for tr in same_day}) > 1:
        # Same-day treatments opening different phases (TACE with an ablation, a transplant after
        # bridging): a stated precedence decides, never the order of the record's list.
        precedence = [str(p) for p in t.items("surveillance.same_day_phase_precedence")]
        latest = min(
            same_day,
            key=lambda tr: (
                precedence.index(str(by_type[tr.type]))
                if str(by_type[tr.type]) in precedence
                else len(precedence)
            ),
        )
        t.note(
            f"Treatments on {latest.date} open different follow-up phases "
            f"({', '.join(sorted({tr.type for tr in same_day}))}): the {latest.type} decides "
            f"({_PHASE_TEXT[str(by_type[latest.type])]})."
        )
    t.used("treatments.latest_deciding", latest.type, None, latest.date)
    return Phase(str(by_type[latest.type]), latest)


def _performed(ctx: Context, t: Trace) -> dict[str, list[date]]:
    """Dates of the studies done for each item (imaging by modality:region, AFP/DCP by lab)."""
    study_items = t.table("surveillance.study_items")
    found: dict[str, list[date]] = {}
    for study in ctx.imaging():
        targets = study_items.get(f"{study.modality}:{study.region}") or []
        for item in targets if isinstance(targets, list) else []:
            found.setdefault(str(item), []).append(study.date)
    for test in _LAB_ITEMS:
        found.setdefault(test, []).extend(map(_DATE, ctx.labs(test)))
    return {item: sorted(dates) for item, dates in found.items()}


def _schedule_name(
    ctx: Context, t: Trace, about: dict[str, JsonValue], phase: Phase
) -> tuple[str, dict[str, JsonValue] | None]:
    name = str(about[str(phase.id)])
    if phase.id != "post_transplant" or phase.treatment is None:
        return name, None
    if about.get("retreat") is not True:
        t.note("This profile does not tailor post-transplant follow-up by RETREAT.")
        return name, None
    score = retreat(ctx, t, phase.treatment)
    if score.schedule is None:
        t.note(
            "RETREAT cannot be scored from the data on record, so the profile's post-transplant "
            "schedule applies."
        )
        return name, score.values
    return score.schedule, score.values


@dataclass(frozen=True)
class FollowUp:
    """When follow-up started and how the items are judged on the evaluation date."""

    start: date | None
    # After a treatment only studies after it count; at risk the start is itself a study.
    count_start_day: bool
    as_of: date
    grace: int


@dataclass(frozen=True)
class ItemStatus:
    item: str
    due: date | None
    last_done: date | None
    overdue: bool
    counted: int
    covered: int
    # Due after the last date the calendar holds (9999-12-31): no date to show, not complete.
    beyond_calendar: bool = False
    # Which kind of study the last one was (another item's study where the band accepts it).
    last_kind: str | None = None
    # The latest study of an accepted kind done after the last credited one, but when the band
    # in force did not accept it: named so a patient is never told "never" without a reason.
    passed_over: tuple[date, str] | None = None


def _credited(
    item: str, bands: Sequence[DayBand], performed: dict[str, list[date]], f: FollowUp, start: date
) -> tuple[list[tuple[date, str]], tuple[date, str] | None]:
    """(studies that count for ``item``, oldest first; the latest accepted-kind study that did not)."""
    accepted = {kind for b in bands for kind in b.accepts}
    credited: list[tuple[date, str]] = []
    passed: list[tuple[date, str]] = []
    for kind in sorted({item} | accepted):
        for d in performed.get(kind, []):
            if not (d > start or (f.count_start_day and d == start)):
                continue
            day = (d - start).days
            if kind == item or any(kind in b.accepts and b.covers(day) for b in bands):
                credited.append((d, kind))
            else:
                passed.append((d, kind))
    # The item's own study first among same-day ones, so the last one shown is the item's own.
    credited.sort(key=lambda c: (c[0], c[1] == item))
    last = credited[-1][0] if credited else None
    later = [c for c in passed if last is None or c[0] > last]
    return credited, max(later) if later else None


def _item_status(
    item: str, bands: Sequence[DayBand], performed: dict[str, list[date]], f: FollowUp
) -> ItemStatus:
    if f.start is None:
        return ItemStatus(item, f.as_of, None, False, 0, 0)
    start = f.start
    credited, passed_over = _credited(item, bands, performed, f, start)
    done = [d for d, _ in credited]
    last = done[-1] if done else None
    last_kind = credited[-1][1] if credited else None
    due_day = next_due_day(bands, ((last or start) - start).days)
    today = (f.as_of - start).days
    counted, covered = covered_days(bands, [(d - start).days for d in done], today, f.grace)
    # Once an item's schedule has ended, a study missed during it is history, not a task.
    ended = not any(b.covers(today) or b.first > today for b in bands)
    if due_day is None or ended:
        due, beyond = None, False
    elif due_day > (date.max - start).days:
        due, beyond = None, True
    else:
        due, beyond = start + timedelta(days=due_day), False
    overdue = due is not None and (f.as_of - due).days > f.grace
    return ItemStatus(item, due, last, overdue, counted, covered, beyond, last_kind, passed_over)


def _start(phase: Phase, performed: dict[str, list[date]], kinds: Sequence[str]) -> date | None:
    if phase.treatment is not None:
        return phase.treatment.date
    firsts = [performed[i][0] for i in kinds if performed.get(i)]
    return min(firsts) if firsts else None


def _label(item: str) -> str:
    return ITEM_LABELS.get(item, item)


def _months_text(months: float) -> str:
    return "month" if months == 1 else f"{months:g} months"


def _band_text(b: Band) -> str:
    alternatives = "".join(f" or {_label(a)}" for a in b.accepts)
    return f"{_label(b.item)}{alternatives} every {_months_text(b.interval_months)}"


def _schedule_text(bands: Sequence[Band], month: float | None) -> str:
    """The bands in force at ``month`` since the start (all open bands when the start is unknown)."""
    if not bands:
        return "Schedule: no routine studies."
    at = month if month is not None else min(b.from_month for b in bands)
    now = [b for b in bands if b.from_month <= at and (b.until_month is None or at < b.until_month)]
    text = ", ".join(_band_text(b) for b in now) or "nothing yet"
    changes = sorted(
        {b.from_month for b in bands if b.from_month > at}
        | {b.until_month for b in now if b.until_month is not None}
    )
    when = f" at month {at:.1f} of follow-up" if month is not None else ""
    later = f"; the schedule changes at month {changes[0]:g}" if changes else ""
    return f"Schedule{when}: {text}{later}."


def _last_text(s: ItemStatus) -> str:
    """When the item was last done, by which study, and any study that did not count for it."""
    text = "never" if s.last_done is None else str(s.last_done)
    if s.last_done is not None and s.last_kind not in (None, s.item):
        text += f", {_label(str(s.last_kind))}, accepted at that stage of this schedule"
    if s.passed_over is not None:
        when, kind = s.passed_over
        text += f"; the {_label(kind)} on {when} does not count as {_label(s.item)}"
        text += " at that stage of this schedule"
    return text


def _status_text(statuses: Sequence[ItemStatus], grace: int, start: date | None) -> str:
    if start is None:
        return "No surveillance study is on record, so every item is due now."
    late = [s for s in statuses if s.overdue]
    upcoming = [s for s in statuses if s.due is not None and not s.overdue]
    done = [s for s in statuses if s.due is None and not s.beyond_calendar]
    beyond = [s for s in statuses if s.beyond_calendar]
    out = []
    if late:
        out.append(
            f"Overdue (more than {grace} days past due): "
            + ", ".join(f"{_label(s.item)} (due {s.due}, last {_last_text(s)})" for s in late)
            + "."
        )
    if upcoming:
        out.append(
            "Next due: "
            + ", ".join(f"{_label(s.item)} {s.due} (last {_last_text(s)})" for s in upcoming)
            + "."
        )
    if beyond:
        out.append(
            f"Next due after {date.max}, beyond the calendar hccwatch handles (no date shown): "
            + ", ".join(_label(s.item) for s in beyond)
            + "."
        )
    if done:
        out.append("Schedule complete for " + ", ".join(_label(s.item) for s in done) + ".")
    return " ".join(out)


def _adherence(statuses: Sequence[ItemStatus]) -> dict[str, JsonValue]:
    per_item: dict[str, JsonValue] = {
        s.item: {
            "proportion": s.covered / s.counted if s.counted else None,
            "days_counted": s.counted,
            "days_covered": s.covered,
        }
        for s in statuses
    }
    counted = sum(s.counted for s in statuses)
    covered = sum(s.covered for s in statuses)
    return {"proportion": covered / counted if counted else None, "per_item": per_item}


def _phase_text(phase: Phase, start: date | None, as_of: date, days_per_month: float) -> str:
    text = _PHASE_TEXT[str(phase.id)]
    if phase.treatment is not None:
        months = (as_of - phase.treatment.date).days / days_per_month
        text += f" ({phase.treatment.type} on {phase.treatment.date}, {months:.1f} months ago)"
    elif start is not None:
        text += f" (surveillance on record since {start})"
    return text[:1].upper() + text[1:]


def surveillance(ctx: Context, profile: str | None = None) -> Finding:
    """The follow-up schedule in force on ``ctx.as_of``, what is due and whether anything is overdue.

    Raises:
        ValueError: the profile id is not one of ``surveillance.profile_ids``.
    """
    t = ctx.trace("surveillance.schedule")
    pid = _profile_id(ctx, t, profile)
    about = dict(t.table(f"surveillance.profile.{pid}"))
    grace = int(t.num("surveillance.grace_days"))
    days_per_month = t.num("surveillance.days_per_month")
    values: dict[str, JsonValue] = {
        "phase": None,
        "profile": pid,
        "profile_title": str(about["title"]),
        "profile_basis": str(about["basis"]),
        "schedule": [],
        "next_due": [],
        "overdue": None,
        "grace_days": grace,
        "adherence": {"proportion": None, "per_item": {}},
        "retreat": None,
    }
    phase = _phase(ctx, t)
    if phase.id is None:
        return t.finish(
            values,
            "Cannot determine the follow-up phase: no recorded treatment sets one (only radiotherapy "
            "or an ended systemic therapy); the treating team sets the schedule.",
            determined=False,
        )
    name, retreat_values = _schedule_name(ctx, t, about, phase)
    bands, days = _plan(t, name, days_per_month)
    items = list(days)
    performed = _performed(ctx, t)
    kinds = list(dict.fromkeys([*items, *(kind for b in bands for kind in b.accepts)]))
    start = _start(phase, performed, kinds)
    follow_up = FollowUp(start, phase.treatment is None, ctx.as_of, grace)
    if phase.id == "at_risk":
        t.note(
            "The at-risk schedule is for people in a surveillance population (cirrhosis, chronic "
            "hepatitis B); eligibility is not checked here."
        )
        if ctx.record.tumors:
            t.note("Tumours are recorded without a treatment: staging and treatment planning come first.")
    statuses = [
        _item_status(
            item,
            days[item],
            performed,
            follow_up,
        )
        for item in items
    ]
    for s in statuses:
        if s.last_done is not None:
            t.used(f"surveillance.last.{s.item}", _label(s.last_kind or s.item), None, s.last_done)
        if s.beyond_calendar:
            t.note(f"{_label(s.item)}: the next due date falls after {date.max}; it is shown as null.")
    if start is None:
        t.need("imaging (no surveillance study on record)")
    else:
        t.cite("SINGAL-2022")
    overdue = None if start is None else any(s.overdue for s in statuses)
    adherence = _adherence(statuses)
    values.update(
        phase=phase.id,
        schedule=[b.to_dict() for b in bands],
        next_due=[
            {
                "item": s.item,
                "due": None if s.due is None else s.due.isoformat(),
                "last_done": None if s.last_done is None else s.last_done.isoformat(),
                "last_done_by": s.last_kind,
                "overdue": s.overdue,
            }
            for s in statuses
            if s.due is not None or s.beyond_calendar
        ],
        overdue=overdue,
        adherence=adherence,
        retreat=retreat_values,
    )
    explanation = " ".join(
        part
        for part in (
            f"{_phase_text(phase, start, ctx.as_of, days_per_month)}; profile {about['title']}.",
            _retreat_text(retreat_values, name),
            _schedule_text(bands, None if start is None else (ctx.as_of - start).days / days_per_month),
            _status_text(statuses, grace, start),
            _adherence_text(adherence),
        )
        if part
    )
    return t.finish(values, explanation, determined=overdue is not None)


def _retreat_text(values: dict[str, JsonValue] | None, schedule: str) -> str:
    if values is None:
        return ""
    score, span = values["score"], values["score_range"]
    shown = f"RETREAT {score}"
    if score is None and isinstance(span, list):
        shown = f"RETREAT between {span[0]} and {span[-1]} (incomplete data)"
    if values["schedule"] is None:
        return f"{shown}: the profile's post-transplant schedule applies."
    if score == 0:
        # Mehta 2017 suggests no surveillance at 0; the guideline floor for every recipient stays.
        return (
            f"{shown}: RETREAT adds no surveillance, but the AFP and CT/MRI that guidelines give every "
            f"transplant recipient continue ({schedule})."
        )
    return f"{shown} sets the schedule ({schedule}), above the follow-up every recipient keeps."


def _adherence_text(adherence: dict[str, JsonValue]) -> str:
    proportion = adherence["proportion"]
    if not isinstance(proportion, float):
        return ""
    return f"Time covered by the schedule since follow-up began: {proportion:.0%}."
