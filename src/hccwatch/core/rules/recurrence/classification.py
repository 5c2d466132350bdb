"""Recurrence after curative treatment: early or late, intrahepatic metastasis or a new tumour.

When a **confirmed** new intrahepatic lesion (``lesions.py``: not an indeterminate finding, not
only lesions under 1 cm) is recorded after the latest curative treatment (resection, ablation
or transplant, unless recorded as not curative) and on or before the evaluation date, then:

- **timing** is *early* when the lesion appeared less than ``recurrence.early_cutoff_months``
  (24) calendar months after that treatment, else *late* (COLECCHIA-2014). The 1-year
  (JUNG-JGS), 17-month (YAMAMOTO-2015) and, with microvascular invasion, 13-month
  (LIU-2023) cut-offs are reported as notes, never used for the answer.
- **favours** weighs the clues of the clinical reference §2.3 and §3, each a knowledge entry
  ``recurrence.clue.<name>`` holding its weight (HCCWATCH-POLICY, unverified: no criteria are
  established, CTG-2019-CLONALITY; histology or clonality decides):

  ==================  =================================  ==================================  ======
  clue                favours intrahepatic metastasis    favours de novo (multicentric)      source
  ==================  =================================  ==================================  ======
  primary_size        largest treated tumour > 5 cm      largest <= 3 cm                     Hao
  multiple_primary    >= 2 treated tumours               (no vote)                           Hao
  vascular_invasion   micro- or macrovascular invasion   (no vote)                           Hao
  satellites          satellite nodules in the primary   (no vote)                           [K]
  portal_vein         a treated tumour near the portal   (no vote)                           [K]
                      vein (spread runs in its branches)
  timing              early                              late                                Colecchia
  location            same or adjacent segment           a different, non-adjacent one       [K]
  new_multiplicity    >= 2 new nodules                   a solitary new nodule               [K]
  cirrhosis           (no vote)                          cirrhosis                           Hao
  ==================  =================================  ==================================  ======

  Hao 2017's pathology-typed factors weigh 2, the practical proxies 1. A side is favoured when
  its weighted lead is at least ``recurrence.decision_margin`` even if every unknown clue went
  to the other side; otherwise ``favours`` is ``not_decided``: determined (a real balance) when
  no unknown clue could tip it, else not determined with the unknown clues in ``missing``.
  Hepatitis inflammatory activity (Hao's other multicentric factor) has no record field and is
  said so in a note, never counted.

An indeterminate or sub-centimetre liver finding is listed under ``unconfirmed`` (a prompt for
follow-up imaging, raised as an alert by ``metastasis/suspicion.py``), with no timing.

When the reference treatment is a transplant, the native liver is gone: a lesion in the graft
is a recurrence of the original cancer, so IM vs de novo is not assessed. When there is no
curative treatment or no confirmed new lesion after it, timing and favours are null; that is an
answer (nothing to classify), not missing data.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding, Trace
from hccwatch.core.knowledge import JsonValue
from hccwatch.core.rules.recurrence.lesions import (
    LiverFinding,
    NewLesion,
    first_confirmed,
    liver_findings,
)
from hccwatch.record.model import Treatment, Tumor

__all__ = ["add_months", "curative_treatments", "months_between", "recurrence"]

IM = "intrahepatic_metastasis"
DE_NOVO = "de_novo"
NOT_DECIDED = "not_decided"
NEITHER = "neither"
SIDES = (IM, DE_NOVO)
KEYS = (
    "timing",
    "favours",
    "months_since_treatment",
    "early_cutoff_months",
    "treatment",
    "reasons_im",
    "reasons_de_novo",
    "weights",
    "unknown_weights",
    "decision_margin",
    "clues",
    "unknown_clues",
    "lesion",
    "unconfirmed",
)
LIST_KEYS = ("reasons_im", "reasons_de_novo", "clues", "unknown_clues", "unconfirmed")
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
    chosen = [tx for tx in ctx.treatments(*types) if tx.curative is not False]
    # Same-day treatments in a fixed order, whatever their order in the record.
    return sorted(chosen, key=lambda tx: (tx.date, tx.type))


# --- the clues ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Vote:
    """One clue's verdict: the side it favours with its weight, or what it could still give."""

    clue: str
    side: str | None = None
    weight: float = 0
    reason: str | None = None
    could: dict[str, float] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        return not self.could


@dataclass(frozen=True)
class _Case:
    ctx: Context
    t: Trace
    treatment: Treatment
    lesion: NewLesion
    early: bool
    months: int
    cutoff: int

    @property
    def primary(self) -> tuple[Tumor, ...] | None:
        """The treated tumours; None when unknown, or when assessed after the treatment (then
        they may be the recurrence itself, not the primary)."""
        assessed = self.ctx.record.tumors_assessed_on
        if assessed is not None and assessed > self.treatment.date:
            self.t.need(
                f"tumors of the treated primary (tumors_assessed_on {assessed.isoformat()} is after it)"
            )
            return None
        return self.ctx.record.tumors

    def weight(self, name: str) -> float:
        return self.t.num(f"recurrence.clue.{name}")

    def vote(self, clue: str, side: str, weight_name: str, reason: str) -> _Vote:
        return _Vote(clue, side, self.weight(weight_name), reason)

    def unknown(self, clue: str, needs: list[str], could: dict[str, str]) -> _Vote:
        """An unknown clue: what it needs, and the weight (entry name) it could give each side."""
        self.t.need(*needs)
        return _Vote(clue, could={side: self.weight(name) for side, name in could.items()})


def _primary_size_vote(case: _Case) -> _Vote:
    tumors = case.primary
    large, small = case.t.num("recurrence.large_primary_cm"), case.t.num("recurrence.small_primary_max_cm")
    sizes = [tumor.size_cm for tumor in tumors or () if tumor.size_cm is not None]
    largest = max(sizes) if sizes else None
    case.t.used("tumors[].size_cm (largest treated)", largest, "cm")
    if largest is not None and largest > large:
        return case.vote(
            "primary_size", IM, "large_primary", f"large primary: {largest:g} cm (> {large:g} cm)"
        )
    if not tumors or None in [tumor.size_cm for tumor in tumors]:
        could = {IM: "large_primary"} | (
            {DE_NOVO: "small_primary"} if largest is None or largest <= small else {}
        )
        return case.unknown("primary_size", ["tumors[].size_cm (treated tumour)"], could)
    if largest is not None and largest <= small:
        return case.vote(
            "primary_size", DE_NOVO, "small_primary", f"small primary: {largest:g} cm (<= {small:g} cm)"
        )
    return _Vote("primary_size", reason=f"primary {largest:g} cm: neither large nor small")


def _multiple_primary_vote(case: _Case) -> _Vote:
    tumors = case.primary
    if tumors is None:
        return case.unknown(
            "multiple_primary", ["tumors (number of treated tumours)"], {IM: "multiple_primary"}
        )
    minimum = case.t.num("recurrence.multiple_nodules_min")
    case.t.used("tumors (number treated)", len(tumors), "tumours")
    if len(tumors) >= minimum:
        return case.vote(
            "multiple_primary", IM, "multiple_primary", f"{len(tumors)} treated tumours (>= {minimum:g})"
        )
    return _Vote("multiple_primary", reason=f"{len(tumors)} treated tumour(s)")


def _flag_vote(case: _Case, clue: str, flags: list[tuple[str, str, bool | None]], none_reason: str) -> _Vote:
    """An IM-only clue from yes/no facts: any yes votes, all no gives no vote, else unknown."""
    for name, _, flag in flags:
        case.t.used(name, flag)
    found = [label for _, label, flag in flags if flag is True]
    if found:
        return case.vote(clue, IM, clue, " and ".join(found))
    unknown = [name for name, _, flag in flags if flag is None]
    if unknown:
        return case.unknown(clue, unknown, {IM: clue})
    return _Vote(clue, reason=none_reason)


def _any_true(flags: list[bool | None]) -> bool | None:
    if any(f is True for f in flags):
        return True
    return None if None in flags else False


def _tumour_flag(case: _Case, attr: str) -> bool | None:
    tumors = case.primary
    return None if not tumors else _any_true([getattr(tumor, attr) for tumor in tumors])


def _vascular_vote(case: _Case) -> _Vote:
    record = case.ctx.record
    flags = [
        ("microvascular_invasion", "microvascular invasion in the primary", record.microvascular_invasion),
        ("macrovascular_invasion", "macrovascular invasion in the primary", record.macrovascular_invasion),
    ]
    return _flag_vote(case, "vascular_invasion", flags, "no vascular invasion in the primary")


def _satellites_vote(case: _Case) -> _Vote:
    flags = [
        (
            "tumors[].satellite_nodules",
            "satellite nodules in the primary",
            _tumour_flag(case, "satellite_nodules"),
        )
    ]
    return _flag_vote(case, "satellites", flags, "no satellite nodules in the primary")


def _portal_vein_vote(case: _Case) -> _Vote:
    flags = [
        (
            "tumors[].near_portal_vein",
            "primary next to the portal vein",
            _tumour_flag(case, "near_portal_vein"),
        )
    ]
    return _flag_vote(case, "portal_vein", flags, "primary not next to the portal vein")


def _timing_vote(case: _Case) -> _Vote:
    when = f"{case.months} months after {case.treatment.type} on {case.treatment.date.isoformat()}"
    if case.early:
        return case.vote("timing", IM, "timing", f"early: {when} (< {case.cutoff} months)")
    return case.vote("timing", DE_NOVO, "timing", f"late: {when} (>= {case.cutoff} months)")


def _same_or_adjacent(a: str, b: str, neighbours: dict[str, JsonValue]) -> bool:
    # Segment 4 is the union of 4a and 4b.
    if a == b or ({a[:1], b[:1]} == {"4"} and "4" in (a, b)):
        return True
    near = neighbours.get(a, [])
    return isinstance(near, list) and b in near


def _location_vote(case: _Case) -> _Vote:
    tumors = case.primary or ()
    primary = sorted({tumor.segment for tumor in tumors if tumor.segment})
    new = case.lesion.segments
    needs = ([] if new else ["imaging.lesions[].segment (new liver lesion)"]) + (
        [] if primary else ["tumors[].segment (treated tumour)"]
    )
    if needs:
        return case.unknown("location", needs, {IM: "location", DE_NOVO: "location"})
    neighbours = dict(case.t.table("recurrence.adjacent_segments"))
    where = f"new lesion in segment {'/'.join(new)}, treated tumour in segment {'/'.join(primary)}"
    if any(_same_or_adjacent(a, b, neighbours) for a in new for b in primary):
        return case.vote("location", IM, "location", f"same or adjacent segment: {where}")
    return case.vote("location", DE_NOVO, "location", f"different, non-adjacent segment: {where}")


def _new_multiplicity_vote(case: _Case) -> _Vote:
    count = case.lesion.count
    if count is None:
        return case.unknown(
            "new_multiplicity",
            ["imaging.lesions (number of new liver nodules)"],
            {IM: "new_multiplicity", DE_NOVO: "new_multiplicity"},
        )
    case.t.used("new_liver_nodules", count, "nodules", case.lesion.study.date)
    minimum = case.t.num("recurrence.multiple_nodules_min")
    if count >= minimum:
        return case.vote(
            "new_multiplicity", IM, "new_multiplicity", f"multiple new nodules: {count} (>= {minimum:g})"
        )
    return case.vote("new_multiplicity", DE_NOVO, "new_multiplicity", "solitary new nodule")


def _cirrhosis_vote(case: _Case) -> _Vote:
    cirrhosis = case.ctx.record.liver.cirrhosis
    case.t.used("liver.cirrhosis", cirrhosis)
    if cirrhosis is None:
        return case.unknown("cirrhosis", ["liver.cirrhosis"], {DE_NOVO: "cirrhosis"})
    if cirrhosis:
        return case.vote("cirrhosis", DE_NOVO, "cirrhosis", "cirrhosis (a liver prone to new tumours)")
    return _Vote("cirrhosis", reason="no cirrhosis")


_CLUES: dict[str, Callable[[_Case], _Vote]] = {
    "primary_size": _primary_size_vote,
    "multiple_primary": _multiple_primary_vote,
    "vascular_invasion": _vascular_vote,
    "satellites": _satellites_vote,
    "portal_vein": _portal_vein_vote,
    "timing": _timing_vote,
    "location": _location_vote,
    "new_multiplicity": _new_multiplicity_vote,
    "cirrhosis": _cirrhosis_vote,
}


@dataclass(frozen=True)
class _Balance:
    weights: dict[str, float]
    unknown: dict[str, float]
    margin: float

    def favoured(self) -> str | None:
        """The side whose lead reaches the margin even if every unknown clue went the other way."""
        for side, other in ((IM, DE_NOVO), (DE_NOVO, IM)):
            if self.weights[side] - self.weights[other] - self.unknown[other] >= self.margin:
                return side
        return None

    def could_tip(self) -> bool:
        """Whether some outcome of the unknown clues would favour a side."""
        return any(
            self.weights[side] + self.unknown[side] - self.weights[other] >= self.margin
            for side, other in ((IM, DE_NOVO), (DE_NOVO, IM))
        )


def _balance(case: _Case, votes: list[_Vote]) -> _Balance:
    weights = {side: sum(v.weight for v in votes if v.side == side) for side in SIDES}
    # An unknown clue that could go either way adds its weight to each side's "could still get".
    unknown = {side: sum(w for v in votes for s, w in v.could.items() if s == side) for side in SIDES}
    return _Balance(weights, unknown, case.t.num("recurrence.decision_margin"))


def _clue_rows(votes: list[_Vote]) -> tuple[list[JsonValue], list[JsonValue]]:
    known: list[JsonValue] = [
        # A known clue that gives no vote favours "neither": null would read as unknown.
        {"clue": v.clue, "favours": v.side or NEITHER, "weight": v.weight, "reason": v.reason}
        for v in votes
        if v.known
    ]
    unknown: list[JsonValue] = [
        {"clue": v.clue, "could_favour": {s: w for s, w in sorted(v.could.items())}}
        for v in votes
        if not v.known
    ]
    return known, unknown


def _empty_values() -> dict[str, JsonValue]:
    values: dict[str, JsonValue] = {key: None for key in KEYS}
    for key in LIST_KEYS:
        values[key] = []
    return values


def _alternative_notes(case: _Case) -> None:
    names = ["one_year", "yamamoto"] + (["mvi"] if case.ctx.record.microvascular_invasion else [])
    for name in names:
        key = f"recurrence.alternative_cutoff_months.{name}"
        months = int(case.t.num(key))
        source = ", ".join(case.ctx.knowledge.entry(key).citations)
        timing = "early" if case.lesion.study.date < add_months(case.treatment.date, months) else "late"
        case.t.note(f"With the {months}-month cut-off ({source}) this recurrence would be {timing}.")


def _verdict(favours: str, balance: _Balance, open_answer: bool) -> str:
    w = balance.weights
    tally = (
        f"weights {w[IM]:g} for intrahepatic metastasis vs {w[DE_NOVO]:g} for de novo, "
        f"margin {balance.margin:g}"
    )
    if favours != NOT_DECIDED:
        unknown = balance.unknown[DE_NOVO if favours == IM else IM]
        rest = f"; unknown clues could add at most {unknown:g} to the other side" if unknown else ""
        return f"The clues favour {favours.replace('_', ' ')} ({tally}{rest})."
    if open_answer:
        return f"Not decided ({tally}): the unknown clues could change the balance."
    return f"Not decided: the clues are balanced ({tally})."


def _classify(case: _Case, unconfirmed: list[LiverFinding]) -> Finding:
    t = case.t
    t.cite("COLECCHIA-2014")
    _alternative_notes(case)
    values = _empty_values()
    values.update(
        timing="early" if case.early else "late",
        months_since_treatment=case.months,
        early_cutoff_months=case.cutoff,
        treatment={"type": case.treatment.type, "date": case.treatment.date.isoformat()},
        lesion=case.lesion.to_dict(),
        unconfirmed=[f.to_dict() for f in unconfirmed],
    )
    head = (
        f"Confirmed new intrahepatic lesion on {case.lesion.study.date.isoformat()}, {case.months} months "
        f"after {case.treatment.type} on {case.treatment.date.isoformat()}: {values['timing']} recurrence "
        f"(cut-off {case.cutoff} months)."
    )
    if case.treatment.type == "transplant":
        return t.finish(
            values,
            f"{head} After liver transplant a lesion in the graft is a recurrence of the original "
            "cancer; intrahepatic metastasis vs a new tumour of the native liver does not apply.",
            determined=True,
        )
    votes = [_CLUES[str(name)](case) for name in t.items("recurrence.im_mo_clues")]
    t.note(
        "Hepatitis inflammatory activity (Ishak grade; a multicentric-occurrence factor in Hao 2017) "
        "has no record field and is not weighed."
    )
    balance = _balance(case, votes)
    favours = balance.favoured() or NOT_DECIDED
    open_answer = favours == NOT_DECIDED and balance.could_tip()
    known, unknown = _clue_rows(votes)
    values.update(
        favours=favours,
        reasons_im=[f"{v.reason} (weight {v.weight:g})" for v in votes if v.side == IM],
        reasons_de_novo=[f"{v.reason} (weight {v.weight:g})" for v in votes if v.side == DE_NOVO],
        weights=dict(balance.weights),
        unknown_weights=dict(balance.unknown),
        decision_margin=balance.margin,
        clues=known,
        unknown_clues=unknown,
    )
    return t.finish(
        values,
        f"{head} {_verdict(favours, balance, open_answer)} Only histology or clonality testing can "
        "prove the origin.",
        determined=not open_answer,
    )


def _unconfirmed_text(findings: list[LiverFinding], minimum: float) -> str:
    parts = []
    for f in findings:
        what = "an indeterminate finding" if f.kind == "indeterminate" else f"lesion(s) under {minimum:g} cm"
        parts.append(f"{what} on {f.study.modality} of the {f.study.region} {f.study.date.isoformat()}")
    return (
        f" Not a confirmed recurrence: {'; '.join(parts)}. Lesions under {minimum:g} cm or indeterminate "
        "cannot be diagnosed: repeat multiphase imaging (see the imaging alert), and weigh them "
        "when confirmed."
    )


def _nothing(
    t: Trace, treatment: Treatment | None, explanation: str, unconfirmed: list[LiverFinding]
) -> Finding:
    t.cite("COLECCHIA-2014")
    values = _empty_values()
    if treatment is not None:
        values["treatment"] = {"type": treatment.type, "date": treatment.date.isoformat()}
    if unconfirmed:
        values["unconfirmed"] = [f.to_dict() for f in unconfirmed]
        explanation += _unconfirmed_text(unconfirmed, t.num("recurrence.confirmed_lesion_min_cm"))
    return t.finish(values, explanation, determined=True)


def recurrence(ctx: Context) -> Finding:
    """Classify the first confirmed new intrahepatic lesion after the latest curative treatment."""
    t = ctx.trace("recurrence.type")
    treatments = curative_treatments(ctx, t)
    if not treatments:
        return _nothing(
            t,
            None,
            "No curative treatment (resection, ablation, transplant) is recorded on or before "
            f"{ctx.as_of.isoformat()}, so there is no recurrence to classify.",
            [],
        )
    treatment = treatments[-1]
    t.used("curative_treatment", treatment.type, None, treatment.date)
    findings = liver_findings(ctx, t, after=treatment.date)
    lesion = first_confirmed(findings)
    unconfirmed = [
        f for f in findings if f.kind != "confirmed" and (lesion is None or f.study.date < lesion.study.date)
    ]
    if lesion is None:
        return _nothing(
            t,
            treatment,
            f"No confirmed new intrahepatic lesion recorded after {treatment.type} on "
            f"{treatment.date.isoformat()} (up to {ctx.as_of.isoformat()}).",
            unconfirmed,
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
    return _classify(case, unconfirmed)
