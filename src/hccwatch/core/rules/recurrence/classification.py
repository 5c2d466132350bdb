"""Recurrence after curative treatment: early or late, intrahepatic metastasis or a new tumour.

When a new intrahepatic lesion is recorded after the latest curative treatment (resection,
ablation or transplant, unless recorded as not curative) and on or before the evaluation date,
then:

- **timing** is *early* when the lesion appeared less than ``recurrence.early_cutoff_months``
  (24) calendar months after that treatment, else *late* (COLECCHIA-2014). The 1-year
  (POON-2000, unverified), 17-month (YAMAMOTO-2015) and, with microvascular invasion, 13-month
  (LIU-2023) cut-offs are reported as notes, never used for the answer.
- **favours** weighs practical clues, one vote each (clinical reference §3; HAO-2017;
  [K, derived], so always unverified: no criteria are established, CTG-2019-CLONALITY):

  ============================  ===============================  ==============================
  clue                          votes intrahepatic metastasis    votes de novo (multicentric)
  ============================  ===============================  ==============================
  timing                        early                            late
  location                      same or adjacent segment         a different, non-adjacent one
  multiplicity                  >= 2 new nodules                 a solitary new nodule
  primary_invasion              MVI or satellites in primary     (no vote)
  cirrhosis                     (no vote)                        cirrhosis
  ============================  ===============================  ==============================

  A side is favoured only if its lead exceeds the votes the unknown clues could still give the
  other side; otherwise ``favours`` is null and both reason lists are shown (a tie is null too).
  Active hepatitis and nearness to the resection margin have no record field yet.

When the reference treatment is a transplant, the native liver is gone: a lesion in the graft
is a recurrence of the original cancer, so IM vs de novo is not assessed. When there is no
curative treatment or no new lesion after it, timing and favours are null; that is an answer
(nothing to classify), not missing data.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding, Trace
from hccwatch.core.knowledge import JsonValue
from hccwatch.record.model import Imaging, ImagingLesion, Treatment

__all__ = [
    "NewLesion",
    "add_months",
    "curative_treatments",
    "first_new_liver_lesion",
    "months_between",
    "recurrence",
]

IM = "intrahepatic_metastasis"
DE_NOVO = "de_novo"
KEYS = (
    "timing",
    "favours",
    "months_since_treatment",
    "early_cutoff_months",
    "treatment",
    "reasons_im",
    "reasons_de_novo",
    "lesion",
)
# The calendar's own count, not a clinical number (so not a knowledge entry).
MONTHS_PER_YEAR = len(calendar.month_abbr) - 1


def add_months(day: date, months: int) -> date:
    """The same day ``months`` calendar months later (clamped to the month's last day)."""
    index = day.month - 1 + months
    year, month = day.year + index // MONTHS_PER_YEAR, index % MONTHS_PER_YEAR + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def months_between(start: date, end: date) -> int:
    """Completed calendar months from ``start`` to ``end`` (consistent with :func:`add_months`)."""
    months = (end.year - start.year) * MONTHS_PER_YEAR + end.month - start.month
    return months - 1 if add_months(start, months) > end else months


def curative_treatments(ctx: Context, t: Trace) -> list[Treatment]:
    """Curative treatments on or before ``as_of``, oldest first (not those recorded as non-curative)."""
    types = [str(x) for x in t.items("recurrence.curative_treatments")]
    return [tx for tx in ctx.treatments(*types) if tx.curative is not False]


@dataclass(frozen=True)
class NewLesion:
    """The first study showing a new intrahepatic lesion, and the liver lesions it lists."""

    study: Imaging
    lesions: tuple[ImagingLesion, ...]

    @property
    def count(self) -> int | None:
        return sum(lesion.count for lesion in self.lesions) if self.lesions else None

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(sorted({lesion.segment for lesion in self.lesions if lesion.segment}))

    def to_dict(self) -> dict[str, JsonValue]:
        sizes = [lesion.size_cm for lesion in self.lesions if lesion.size_cm is not None]
        return {
            "date": self.study.date.isoformat(),
            "modality": self.study.modality,
            "region": self.study.region,
            "result": self.study.result,
            "count": self.count,
            "segments": list(self.segments),
            "largest_cm": max(sizes) if sizes else None,
        }


def _liver_lesions(study: Imaging, regions: list[JsonValue], results: list[JsonValue]) -> NewLesion | None:
    liver = tuple(x for x in study.lesions if x.site == "liver" and x.new is not False)
    marked_new = tuple(x for x in liver if x.new is True)
    if marked_new:
        return NewLesion(study, marked_new)
    if study.region not in regions or study.result not in results:
        return None
    # A "new lesion" report that lists only extrahepatic lesions is not an intrahepatic recurrence.
    if study.lesions and not liver:
        return None
    return NewLesion(study, liver)


def first_new_liver_lesion(ctx: Context, t: Trace, *, after: date) -> NewLesion | None:
    """The first new intrahepatic lesion dated after ``after`` and on or before ``as_of``."""
    regions = t.items("recurrence.new_lesion_regions")
    results = t.items("recurrence.new_lesion_results")
    for study in ctx.imaging():
        found = _liver_lesions(study, regions, results) if study.date > after else None
        if found is not None:
            return found
    return None


@dataclass(frozen=True)
class _Vote:
    side: str | None = None
    reason: str | None = None
    could_be: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _Case:
    ctx: Context
    t: Trace
    treatment: Treatment
    lesion: NewLesion
    early: bool
    months: int
    cutoff: int


def _timing_vote(case: _Case) -> _Vote:
    when = f"{case.months} months after {case.treatment.type} on {case.treatment.date.isoformat()}"
    if case.early:
        return _Vote(IM, f"early: {when} (< {case.cutoff} months)")
    return _Vote(DE_NOVO, f"late: {when} (>= {case.cutoff} months)")


def _same_or_adjacent(a: str, b: str, neighbours: dict[str, JsonValue]) -> bool:
    # Segment 4 is the union of 4a and 4b.
    if a == b or ({a[:1], b[:1]} == {"4"} and "4" in (a, b)):
        return True
    near = neighbours.get(a, [])
    return isinstance(near, list) and b in near


def _location_vote(case: _Case) -> _Vote:
    tumors = case.ctx.record.tumors or ()
    primary = sorted({tumor.segment for tumor in tumors if tumor.segment})
    new = case.lesion.segments
    if not new:
        case.t.need("imaging.lesions[].segment (new liver lesion)")
    if not primary:
        case.t.need("tumors[].segment (treated tumour)")
    if not new or not primary:
        return _Vote(could_be=frozenset({IM, DE_NOVO}))
    neighbours = dict(case.t.table("recurrence.adjacent_segments"))
    where = f"new lesion in segment {'/'.join(new)}, treated tumour in segment {'/'.join(primary)}"
    if any(_same_or_adjacent(a, b, neighbours) for a in new for b in primary):
        return _Vote(IM, f"same or adjacent segment: {where}")
    return _Vote(DE_NOVO, f"different, non-adjacent segment: {where}")


def _multiplicity_vote(case: _Case) -> _Vote:
    count = case.lesion.count
    if count is None:
        case.t.need("imaging.lesions (number of new liver nodules)")
        return _Vote(could_be=frozenset({IM, DE_NOVO}))
    case.t.used("new_liver_nodules", count, "nodules", case.lesion.study.date)
    minimum = case.t.num("recurrence.multiple_nodules_min")
    if count >= minimum:
        return _Vote(IM, f"multiple new nodules: {count} (>= {minimum:g})")
    return _Vote(DE_NOVO, "solitary new nodule")


def _any_true(flags: list[bool | None]) -> bool | None:
    if any(f is True for f in flags):
        return True
    return None if None in flags else False


def _primary_invasion_vote(case: _Case) -> _Vote:
    record = case.ctx.record
    satellites = (
        None if record.tumors is None else _any_true([tumor.satellite_nodules for tumor in record.tumors])
    )
    flags = (
        ("microvascular_invasion", "microvascular invasion", record.microvascular_invasion),
        ("tumors[].satellite_nodules", "satellite nodules", satellites),
    )
    for name, _, flag in flags:
        case.t.used(name, flag)
    found = [label for _, label, flag in flags if flag is True]
    if found:
        return _Vote(IM, f"{' and '.join(found)} in the primary")
    unknown = [name for name, _, flag in flags if flag is None]
    case.t.need(*unknown)
    return _Vote(could_be=frozenset({IM})) if unknown else _Vote()


def _cirrhosis_vote(case: _Case) -> _Vote:
    cirrhosis = case.ctx.record.liver.cirrhosis
    case.t.used("liver.cirrhosis", cirrhosis)
    if cirrhosis is None:
        case.t.need("liver.cirrhosis")
        return _Vote(could_be=frozenset({DE_NOVO}))
    return _Vote(DE_NOVO, "cirrhosis (a liver prone to new tumours)") if cirrhosis else _Vote()


_CLUES: dict[str, Callable[[_Case], _Vote]] = {
    "timing": _timing_vote,
    "location": _location_vote,
    "multiplicity": _multiplicity_vote,
    "primary_invasion": _primary_invasion_vote,
    "cirrhosis": _cirrhosis_vote,
}


def _weigh(votes: list[_Vote]) -> tuple[str | None, bool]:
    """The favoured side (or None) and whether unknown clues left the answer open."""
    tally = {side: sum(v.side == side for v in votes) for side in (IM, DE_NOVO)}
    open_to = {side: sum(side in v.could_be for v in votes) for side in (IM, DE_NOVO)}
    for side, other in ((IM, DE_NOVO), (DE_NOVO, IM)):
        if tally[side] > tally[other] + open_to[other]:
            return side, False
    balanced = tally[IM] == tally[DE_NOVO]
    return None, not (balanced and not any(open_to.values()))


def _alternative_notes(case: _Case) -> None:
    names = ["poon", "yamamoto"] + (["mvi"] if case.ctx.record.microvascular_invasion else [])
    for name in names:
        key = f"recurrence.alternative_cutoff_months.{name}"
        months = int(case.t.num(key))
        source = ", ".join(case.ctx.knowledge.entry(key).citations)
        timing = "early" if case.lesion.study.date < add_months(case.treatment.date, months) else "late"
        case.t.note(f"With the {months}-month cut-off ({source}) this recurrence would be {timing}.")


def _classify(case: _Case) -> Finding:
    t = case.t
    t.cite("COLECCHIA-2014")
    _alternative_notes(case)
    values: dict[str, JsonValue] = {
        "timing": "early" if case.early else "late",
        "favours": None,
        "months_since_treatment": case.months,
        "early_cutoff_months": case.cutoff,
        "treatment": {"type": case.treatment.type, "date": case.treatment.date.isoformat()},
        "reasons_im": [],
        "reasons_de_novo": [],
        "lesion": case.lesion.to_dict(),
    }
    head = (
        f"New intrahepatic lesion on {case.lesion.study.date.isoformat()}, {case.months} months after "
        f"{case.treatment.type} on {case.treatment.date.isoformat()}: {values['timing']} recurrence "
        f"(cut-off {case.cutoff} months)."
    )
    if case.treatment.type == "transplant":
        return t.finish(
            values,
            f"{head} After liver transplant a lesion in the graft is a recurrence of the original "
            "cancer; intrahepatic metastasis vs a new tumour of the native liver does not apply.",
            determined=True,
        )
    clue_names = [str(c) for c in t.items("recurrence.im_mo_clues")]
    votes = [_CLUES[name](case) for name in clue_names]
    reasons_im: list[JsonValue] = [v.reason for v in votes if v.side == IM and v.reason]
    reasons_de_novo: list[JsonValue] = [v.reason for v in votes if v.side == DE_NOVO and v.reason]
    favours, open_answer = _weigh(votes)
    values.update(favours=favours, reasons_im=reasons_im, reasons_de_novo=reasons_de_novo)
    tally = f"{len(reasons_im)} clue(s) for IM vs {len(reasons_de_novo)} for de novo"
    if favours is not None:
        verdict = f"The clues favour {favours.replace('_', ' ')} ({tally})."
    elif open_answer:
        verdict = f"Not decided ({tally}): the unknown clues could change the balance."
    else:
        verdict = f"The clues are balanced ({tally}): neither side is favoured."
    return t.finish(
        values,
        f"{head} {verdict} Only histology or clonality testing can prove the origin.",
        determined=not open_answer,
    )


def _nothing(t: Trace, treatment: Treatment | None, explanation: str) -> Finding:
    t.cite("COLECCHIA-2014")
    values: dict[str, JsonValue] = {key: None for key in KEYS}
    values["reasons_im"], values["reasons_de_novo"] = [], []
    if treatment is not None:
        values["treatment"] = {"type": treatment.type, "date": treatment.date.isoformat()}
    return t.finish(values, explanation, determined=True)


def recurrence(ctx: Context) -> Finding:
    """Classify the first new intrahepatic lesion after the latest curative treatment."""
    t = ctx.trace("recurrence.type")
    treatments = curative_treatments(ctx, t)
    if not treatments:
        return _nothing(
            t,
            None,
            "No curative treatment (resection, ablation, transplant) is recorded on or before "
            f"{ctx.as_of.isoformat()}, so there is no recurrence to classify.",
        )
    treatment = treatments[-1]
    t.used("curative_treatment", treatment.type, None, treatment.date)
    lesion = first_new_liver_lesion(ctx, t, after=treatment.date)
    if lesion is None:
        return _nothing(
            t,
            treatment,
            f"No new intrahepatic lesion recorded after {treatment.type} on "
            f"{treatment.date.isoformat()} (up to {ctx.as_of.isoformat()}).",
        )
    t.used("new_liver_lesion", lesion.study.result, None, lesion.study.date)
    cutoff = int(t.num("recurrence.early_cutoff_months"))
    case = _Case(
        ctx=ctx,
        t=t,
        treatment=treatment,
        lesion=lesion,
        early=lesion.study.date < add_months(treatment.date, cutoff),
        months=months_between(treatment.date, lesion.study.date),
        cutoff=cutoff,
    )
    return _classify(case)
