"""UNOS/OPTN rules: downstaging (UNOS-DS) entry and the 2017 AFP rule for the T2 exception.

**UNOS-DS entry** (``unos_downstaging``; AASLD-2023 Table 4):
When the viable burden is beyond Milan but within one of the entry arms (1 lesion ≤ 8 cm;
2–3 lesions each ≤ 5 cm with total ≤ 8 cm; 4–5 lesions each ≤ 3 cm with total ≤ 8 cm), with
no vascular invasion, extrahepatic spread or infiltrative growth, Then the patient is eligible
for the downstaging protocol. Within Milan Then not eligible (downstaging is not needed);
beyond the entry arms Then not eligible.

**Standardized T2 exception and AFP** (``unos_afp_exception``; UNOS-2017-HCC, WALD-2013):
lesions are counted from 1 cm (OPTN class 5); T2 = one lesion 2–5 cm, or 2–3 lesions each
≤ 3 cm (within Milan and not a single lesion < 2 cm).

AFP history = results after the latest resection or transplant, up to the evaluation date.

| T2 | AFP history                                                              | eligible |
|----|--------------------------------------------------------------------------|----------|
| no | any                                                                      | false    |
| yes| never > 1000 ng/mL, current AFP known                                    | true     |
| yes| > 1000, no locoregional therapy since                                    | false    |
| yes| > 1000, then locoregional therapy, every AFP since < 500 (current known) | true     |
| yes| > 1000, then locoregional therapy, any AFP since ≥ 500                   | false (review board) |

Both rules concern current lesions: tumours recorded before a resection or transplant make
the current burden unknown here, and AFP results up to that operation reflect the removed
tumour, so they are not part of the AFP history (a pre-resection AFP > 1000 does not bar a
later recurrence). The record does not carry the OPTN imaging class: every recorded lesion
≥ 1 cm is taken as class 5, and the finding says so.
"""

from __future__ import annotations

import dataclasses

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding, Trace
from hccwatch.core.knowledge import JsonValue
from hccwatch.core.rules.transplant._decide import (
    Facts,
    arms_text,
    cases,
    conclude,
    fits,
    open_trace,
    read_arms,
)
from hccwatch.core.rules.transplant._facts import LOCOREGIONAL, Burden, read_exclusions

__all__ = ["unos_afp_exception", "unos_downstaging"]


def _kleene_and(*parts: bool | None) -> bool | None:
    if any(p is False for p in parts):
        return False
    return True if all(p is True for p in parts) else None


def _not_excluded(facts: Facts) -> bool | None:
    state = facts.exclusions.state
    return None if state is None else not state


def unos_downstaging(ctx: Context, facts: Facts) -> Finding:
    facts = dataclasses.replace(
        facts, burden=facts.burden.current(), exclusions=read_exclusions(ctx, infiltrative=True)
    )
    t = open_trace(ctx, facts, "unos_downstaging")
    milan = read_arms(t, "transplant.milan.arms")
    entry = read_arms(t, "transplant.unos_downstaging.entry_arms")
    best, worst = cases(facts.burden)
    # Beyond Milan grows with the burden, within the entry arms shrinks: test each at its own extreme.
    beyond_milan = True if not fits(milan, best.extent) else (False if fits(milan, worst.extent) else None)
    in_entry = False if not fits(entry, best.extent) else (True if fits(entry, worst.extent) else None)
    eligible = _kleene_and(_not_excluded(facts), beyond_milan, in_entry)
    if facts.exclusions.present:
        reason: str | None = "excluded"
    elif beyond_milan is False:
        reason = "within_milan"
    elif in_entry is False:
        reason = "beyond_entry"
    else:
        # The burden's own verdict, even while an unknown exclusion leaves eligibility open.
        reason = "within_entry" if beyond_milan and in_entry else None
    words = {
        "within_milan": f"within Milan ({arms_text(milan)}), so listing does not need downstaging",
        "beyond_entry": f"beyond the downstaging entry criteria ({arms_text(entry)})",
        "within_entry": f"beyond Milan but within the downstaging entry criteria ({arms_text(entry)})",
    }
    how = words.get(reason or "", f"entry needs beyond Milan and {arms_text(entry)}")
    detail = f"{facts.burden.describe()}; {how}"
    if eligible:
        detail += "; no infiltrative growth"
    values: dict[str, JsonValue] = {
        **facts.burden.exact_values(),
        "beyond_milan": beyond_milan,
        "reason": reason,
    }
    name = "the UNOS downstaging protocol"
    return conclude(
        t,
        facts,
        eligible,
        name,
        detail=detail,
        values=values,
        key="eligible",
        yes="Eligible for",
        no="Not eligible for",
    )


def _t2(t: Trace, burden: Burden) -> tuple[bool | None, str]:
    """T2 (an imaging stage) on the lesions that count, tri-state, and its definition."""
    milan = read_arms(t, "transplant.milan.arms")
    single_min = t.num("transplant.unos_afp_exception.t2_single_min_cm")
    rule = f"T2 = {arms_text(milan)}, but not a single lesion < {single_min:g} cm"
    best = burden.extent(worst=False)
    if not fits(milan, best):
        return False, rule
    if not burden.exact:
        return None, rule
    return best.nodules > 0 and not (best.nodules == 1 and best.largest_cm < single_min), rule


def _afp_rule(ctx: Context, t: Trace) -> tuple[bool | None, str, float | None]:
    """The 2017 AFP rule on the AFP history: (passes, why, current AFP)."""
    exclusion = t.num("transplant.unos_afp_exception.afp_exclusion_ng_ml")
    below = t.num("transplant.unos_afp_exception.afp_reeligible_below_ng_ml")
    removals = ctx.treatments("resection", "transplant")
    since = removals[-1] if removals else None
    latest = ctx.latest_lab(t, "afp")
    series = ctx.lab_series(t, "afp")
    history = [lab for lab in series if since is None or lab.date > since.date]
    if since is not None and len(history) < len(series):
        t.note(
            f"AFP results up to the {since.type} of {since.date.isoformat()} reflect the removed tumour "
            "and are not part of the UNOS AFP history."
        )
        if latest is not None and latest.date <= since.date:
            t.need(f"labs.afp (after the {since.type} of {since.date.isoformat()})")
            latest = None
    now = None if latest is None else latest.canonical.value
    high = [lab for lab in history if lab.canonical.value > exclusion]
    if not high:
        if latest is None:
            return None, "the current AFP is unknown", now
        return True, f"AFP has not exceeded {exclusion:g} ng/mL", now
    first = high[0]
    t.used("labs.afp (first above the exclusion level)", first.canonical.value, "ng/mL", first.date)
    peak = f"AFP {first.canonical.value:g} ng/mL on {first.date.isoformat()} (> {exclusion:g})"
    therapy = [tx for tx in ctx.treatments(*LOCOREGIONAL) if tx.date >= first.date]
    if not therapy:
        return False, f"{peak} with no locoregional therapy since: not initially eligible", now
    lrt = therapy[0]
    t.used("locoregional therapy after the AFP", lrt.type, None, lrt.date)
    after = [lab for lab in history if lab.date > lrt.date]
    too_high = [lab for lab in after if lab.canonical.value >= below]
    if too_high:
        worst = too_high[0]
        return (
            False,
            (
                f"{peak}; after {lrt.type.upper()} on {lrt.date.isoformat()} AFP was "
                f"{worst.canonical.value:g} ng/mL on {worst.date.isoformat()} (≥ {below:g}): "
                "refer to the review board"
            ),
            now,
        )
    if not after or latest is None:
        t.need("labs.afp after locoregional therapy")
        return None, f"{peak}; no current AFP after {lrt.type.upper()} on {lrt.date.isoformat()}", now
    return (
        True,
        (
            f"{peak}; every AFP since {lrt.type.upper()} on {lrt.date.isoformat()} is < {below:g} ng/mL "
            f"(latest {now:g})"
        ),
        now,
    )


def unos_afp_exception(ctx: Context, facts: Facts) -> Finding:
    current = facts.burden.current()
    if current is not facts.burden:  # the same facts otherwise: their recording is kept
        facts = dataclasses.replace(facts, burden=current)
    t = open_trace(ctx, facts, "unos_afp_exception")
    min_cm = t.num("transplant.unos_afp_exception.min_lesion_cm")
    burden = facts.burden.at_least(min_cm)
    t.note(
        f"OPTN counts only class 5 lesions of at least {min_cm:g} cm; the record does not give the imaging "
        "class, so every recorded lesion of that size is taken as class 5."
    )
    t2, t2_rule = _t2(t, burden)
    afp_ok, why, afp_now = _afp_rule(ctx, t)
    eligible = _kleene_and(_not_excluded(facts), t2, afp_ok)
    t2_text = {True: "meets T2", False: "does not meet T2", None: "T2 cannot be determined"}[t2]
    detail = f"{burden.describe()} (lesions ≥ {min_cm:g} cm); {t2_text} ({t2_rule}); {why}"
    values: dict[str, JsonValue] = {**burden.exact_values(), "t2": t2, "afp_ng_ml": afp_now}
    return conclude(
        t,
        facts,
        eligible,
        "a standardized HCC (T2) exception under the 2017 UNOS AFP rule",
        detail=detail,
        values=values,
        key="eligible",
        yes="Eligible for",
        no="Not eligible for",
    )
