"""Transplant criteria that look only at the tumours: Milan, UCSF, Shanghai Fudan, Asan, up-to-seven.

When the viable tumour burden (see ``_facts``) meets one of the criterion's arms and there is
no macrovascular invasion or extrahepatic spread, Then the patient is within the criterion;
when it meets none of them, or an exclusion is present, Then beyond.

| Criterion (key)          | Within if                                               | Source            |
|--------------------------|---------------------------------------------------------|-------------------|
| Milan (milan)            | 1 nodule ≤ 5 cm; or 2–3 nodules each ≤ 3 cm             | MAZZAFERRO-1996   |
| UCSF (ucsf)              | 1 nodule ≤ 6.5 cm; or 2–3 nodules ≤ 4.5 cm, total ≤ 8 cm | YAO-2001          |
| Shanghai Fudan (fudan)   | 1 nodule ≤ 9 cm; or ≤ 3 nodules ≤ 5 cm, total ≤ 9 cm    | FAN-2009          |
| Asan (asan)              | ≤ 6 nodules, each ≤ 5 cm                                | PAVEL-2018        |
| Up-to-seven              | largest (cm) + number of nodules ≤ 7                    | MAZZAFERRO-2009   |

All bounds are inclusive (table 1.2 of the reference); the numbers are knowledge entries
``transplant.<key>.arms`` and ``transplant.up_to_seven.max_sum``. Up-to-seven was derived
on explant pathology with no microvascular invasion; before transplant it is applied to
imaging with the macrovascular/extrahepatic exclusions, as here.
"""

from __future__ import annotations

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding
from hccwatch.core.rules.transplant._decide import (
    Case,
    Facts,
    arms_text,
    cases,
    conclude,
    decide,
    fits,
    open_trace,
    read_arms,
    span,
)

__all__ = ["SIZE_CRITERIA", "size_criterion", "up_to_seven"]

# Contract key -> (display name, knowledge entry holding its arms).
SIZE_CRITERIA = {
    "milan": ("Milan", "transplant.milan.arms"),
    "ucsf": ("UCSF", "transplant.ucsf.arms"),
    "fudan": ("Shanghai Fudan", "transplant.fudan.arms"),
    "asan": ("Asan", "transplant.asan.arms"),
}


def size_criterion(ctx: Context, facts: Facts, key: str) -> Finding:
    """Milan, UCSF, Fudan or Asan (``key``), from the arms in the knowledge base."""
    name, arms_key = SIZE_CRITERIA[key]
    t = open_trace(ctx, facts, key)
    arms = read_arms(t, arms_key)
    best, worst = cases(facts.burden)
    within = decide(lambda c: fits(arms, c.extent), best, worst, facts.exclusions.state)
    detail = f"{facts.burden.describe()}; {name} requires {arms_text(arms)}"
    return conclude(t, facts, within, name, detail=detail, values=facts.burden.exact_values())


def _sum(c: Case) -> float:
    return c.extent.largest_cm + c.extent.nodules


def up_to_seven(ctx: Context, facts: Facts) -> Finding:
    t = open_trace(ctx, facts, "up_to_seven")
    limit = t.num("transplant.up_to_seven.max_sum")
    best, worst = cases(facts.burden)
    within = decide(lambda c: _sum(c) <= limit, best, worst, facts.exclusions.state)
    total = _sum(best)
    detail = (
        f"{facts.burden.describe()}; largest diameter (cm) + number of nodules = "
        f"{span(total, _sum(worst))} (must be ≤ {limit:g})"
    )
    values = {**facts.burden.exact_values(), "sum": total if total == _sum(worst) else None}
    return conclude(t, facts, within, "up-to-seven", detail=detail, values=values)
