"""China Liver Cancer staging (CNLC) and the treatments the Chinese guideline lists for each stage.

The rules are checked in this order:

| When | Then |
|---|---|
| ECOG performance status 3-4, or Child-Pugh C | IV |
| extrahepatic metastasis (including lymph nodes) | IIIb |
| macrovascular invasion (tumour thrombus) | IIIa |
| a single tumour <= 5 cm | Ia |
| a single tumour > 5 cm, or 2-3 tumours with the largest <= 3 cm | Ib |
| 2-3 tumours with the largest > 3 cm | IIa |
| 4 or more tumours | IIb |

Stages I-III assume ECOG 0-2 and Child-Pugh A or B. When an input is unknown, the stage is
given only if no value of that input could change it. Otherwise the stage is null and the
deciding unknowns are named. The staging is from the 2019 text. The 2022 and 2024 editions are
believed to keep it, but this is not verified. The treatment lists of stages Ia-IIIb follow the 2024
edition's treatment passages as read in a transcription (secondary); stage IV's is unverified.

Citations: CNLC-2019, CNLC-2024, OKEN-1982, PUGH-1973.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding, Trace
from hccwatch.core.knowledge import JsonValue
from hccwatch.core.rules.staging.staging_common import (
    BOTH,
    child_pugh_grade,
    deciding,
    extrahepatic_spread,
    flag,
    grade_matches,
    in_order,
    options,
    recorded_as,
    resolve,
    undecisive_gaps,
    words,
)
from hccwatch.core.rules.staging.tumour_burden import tumour_burden

__all__ = ["cnlc"]

# Fact names, as they are named when missing.
LIVER, ECOG = "scores.child_pugh", "ecog"
MACRO, EHS, COUNT, SIZE = "macrovascular_invasion", "extrahepatic_metastasis", "tumors", "tumors.size_cm"


ORDER = ("Ia", "Ib", "IIa", "IIb", "IIIa", "IIIb", "IV")


@dataclass(frozen=True)
class _Cuts:
    single_cm: float
    multiple_nodules: int
    multiple_cm: float
    stage_iv_ecog: int


def _stage(s: Mapping[str, Any], cut: _Cuts) -> str | None:
    # Each fact is read only where it matters: the resolver branches on the unknowns read.
    n = s[COUNT]
    if n == 0 and not (s[MACRO] or s[EHS]):
        return None  # no disease recorded: a poor ECOG or liver alone is not an HCC stage
    if s[ECOG] or s[LIVER]:
        return "IV"
    if s[EHS]:
        return "IIIb"
    if s[MACRO]:
        return "IIIa"
    if n == 1:
        return "Ia" if s[SIZE] <= cut.single_cm else "Ib"
    if n <= cut.multiple_nodules:
        return "Ib" if s[SIZE] <= cut.multiple_cm else "IIa"
    return "IIb"


def _stage_iv_ecog(ctx: Context, t: Trace, cut: _Cuts) -> tuple[bool, ...]:
    ecog = ctx.record.ecog
    if ecog is None:
        t.need(ECOG)
        return BOTH
    t.used(ECOG, ecog)
    return (ecog >= cut.stage_iv_ecog,)


def _stage_iv_liver(t: Trace, child_pugh: Finding) -> tuple[bool, ...]:
    cls, points = child_pugh_grade(t, child_pugh)
    if cls is None:
        return BOTH
    match = grade_matches(t.items("cnlc.stage_iv_child_pugh"), cls, points)
    return BOTH if match is None else (match,)


def cnlc(ctx: Context, child_pugh: Finding) -> Finding:
    """The CNLC stage with the guideline's treatment list (see the module docstring)."""
    t = ctx.trace("staging.cnlc")
    t.cite("CNLC-2019")
    cut = _Cuts(
        single_cm=t.num("cnlc.single_max_cm"),
        multiple_nodules=int(t.num("cnlc.multiple_max_nodules")),
        multiple_cm=t.num("cnlc.multiple_max_cm"),
        stage_iv_ecog=int(t.num("cnlc.ecog_stage_iv_min")),
    )
    burden = tumour_burden(ctx, t)
    domains: dict[str, Any] = {
        ECOG: _stage_iv_ecog(ctx, t, cut),
        LIVER: _stage_iv_liver(t, child_pugh),
        EHS: extrahepatic_spread(ctx, t),
        MACRO: flag(t, MACRO, ctx.record.macrovascular_invasion),
        COUNT: burden.count_candidates([cut.multiple_nodules]),
        SIZE: burden.largest_candidates([cut.single_cm, cut.multiple_cm]),
    }
    result = resolve(domains, lambda s: _stage(s, cut), key=("staging.cnlc", cut))
    stage = result.value
    if not result.certain or stage is None:
        if result.certain:
            text = "No CNLC stage: no tumour is recorded, so there is nothing to stage."
        else:
            stages = in_order(result.outcomes, ORDER, "not stageable")
            gaps = deciding(t, result, list(domains))
            text = f"Cannot determine the CNLC stage: it could be {words(stages)}, depending on {gaps}."
        # With no disease recorded, "no stage" is itself the answer.
        return t.finish(
            {"stage": None, "treatments": []}, f"{text} {recorded_as(burden)}", determined=result.certain
        )
    values: dict[str, JsonValue] = {"stage": stage, "treatments": options(t, f"cnlc.treatments.{stage}")}
    reason = _reason(ctx, stage, domains, cut)
    text = f"CNLC stage {stage}: {reason}. {recorded_as(burden)}{undecisive_gaps(t)}"
    return t.finish(values, text, determined=True)


def _reason(ctx: Context, stage: str, domains: Mapping[str, Any], cut: _Cuts) -> str:
    record = ctx.record
    if stage == "IV":
        causes = [
            *([f"ECOG {record.ecog} (stage IV from ECOG {cut.stage_iv_ecog})"] * (domains[ECOG] == (True,))),
            *(["Child-Pugh C liver function"] * (domains[LIVER] == (True,))),
        ]
        return words(causes, "and")
    if stage == "IIIb":
        return "extrahepatic metastasis (including lymph nodes), whatever the intrahepatic tumour"
    if stage == "IIIa":
        return "macrovascular invasion (tumour thrombus) without extrahepatic metastasis"
    several = f"2-{cut.multiple_nodules} tumours with the largest"
    rules = {
        "Ia": f"a single tumour <= {cut.single_cm:g} cm",
        "Ib": f"a single tumour > {cut.single_cm:g} cm"
        if domains[COUNT] == (1,)
        else f"{several} <= {cut.multiple_cm:g} cm",
        "IIa": f"{several} > {cut.multiple_cm:g} cm",
        "IIb": f"more than {cut.multiple_nodules} tumours, whatever their size",
    }
    return (
        f"{rules[stage]}, with ECOG {record.ecog}, Child-Pugh A/B liver function and no macrovascular "
        "invasion or extrahepatic metastasis"
    )
