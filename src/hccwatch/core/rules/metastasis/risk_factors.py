"""Risk factors for extrahepatic and intrahepatic spread present in this patient, each with its source.

When the pathway runs, Then every factor below is reported as present (true), absent (false) or
unknown (null, with the gap in ``missing``), with the kind of spread it predicts:

| factor                 | present when                              | spread       | source          |
|------------------------|-------------------------------------------|--------------|-----------------|
| tumour_size            | a tumour > 5 cm                           | both         | Hao, Yokoo, Li  |
| tumour_burden          | sum of tumour sizes > 7 cm                | extrahepatic | Yoon 2021       |
| tumour_number          | 2 or more tumours                         | intrahepatic | Hao 2017        |
| macrovascular_invasion | recorded                                  | both         | Yoon, Yokoo, Hao|
| microvascular_invasion | recorded (or on the explant)              | both         | Li 2012, Hao    |
| capsule                | incomplete (an absent one is not counted) | both         | Li 2012, Zhu    |
| margin                 | irregular (non-smooth)                    | both         | Hong 2021       |
| afp                    | baseline AFP > 400 ng/mL                  | extrahepatic | Yokoo 2017      |
| hepatic_vein_ivc       | tumour next to a hepatic vein or the IVC  | extrahepatic | Mähringer-Kunz  |
| portal_vein            | tumour next to the portal vein            | intrahepatic | Hao 2017 [K]    |
| rupture                | tumour ruptured                           | extrahepatic | Kwak 2012       |
| resection_margin       | R1 or R2 resection                        | both         | Kow, Yoon       |
| satellites             | satellite nodules                         | intrahepatic | Colecchia [K]   |

Thresholds live in ``metastasis.risk.*``. The capsule nuance (Zhu 2019): an incomplete capsule
predicts MVI, an absent one did not. Baseline AFP is the last value on or before the first
treatment (the first value on record if no treatment is recorded).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from hccwatch.core.context import Context
from hccwatch.core.finding import Trace
from hccwatch.core.knowledge import JsonValue
from hccwatch.errors import KnowledgeError
from hccwatch.record.model import Tumor

__all__ = ["risk_factors"]

Answer = tuple[bool | None, str]
Spec = Mapping[str, JsonValue]


def _number(spec: Spec, key: str) -> float:
    value = spec.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise KnowledgeError(f"risk factor field {key!r} is not a number")
    return float(value)


def _tumours(ctx: Context, t: Trace) -> Sequence[Tumor] | None:
    if not ctx.record.tumors:
        t.need("tumors")
        return None
    return ctx.record.tumors


def _word(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _attribute(
    t: Trace, tumors: Sequence[Tumor], attr: str, risky: Sequence[JsonValue], label: str
) -> Answer:
    values = [getattr(x, attr) for x in tumors]
    hits = [v for v in values if v in risky]
    if hits:
        return True, f"{label}: {_word(hits[0])}"
    if all(v is not None for v in values):
        return False, f"{label}: {', '.join(_word(v) for v in values)}"
    t.need(f"tumors.{attr}")
    return None, f"{label} not recorded for every tumour"


def _size(ctx: Context, t: Trace, spec: Spec) -> Answer:
    tumors = _tumours(ctx, t)
    if tumors is None:
        return None, "tumours not recorded"
    above = _number(spec, "above_cm")
    known = [x.size_cm for x in tumors if x.size_cm is not None]
    if known and max(known) > above:
        return True, f"largest tumour {max(known):g} cm, above {above:g} cm"
    if known and len(known) == len(tumors):
        return False, f"largest tumour {max(known):g} cm, not above {above:g} cm"
    t.need("tumors.size_cm")
    return None, "tumour size not recorded for every tumour"


def _burden(ctx: Context, t: Trace, spec: Spec) -> Answer:
    tumors = _tumours(ctx, t)
    if tumors is None:
        return None, "tumours not recorded"
    above = _number(spec, "sum_above_cm")
    total = sum(x.size_cm for x in tumors if x.size_cm is not None)
    if total > above:
        return True, f"sum of tumour sizes {total:g} cm, above {above:g} cm"
    if all(x.size_cm is not None for x in tumors):
        return False, f"sum of tumour sizes {total:g} cm, not above {above:g} cm"
    t.need("tumors.size_cm")
    return None, f"sizes known sum to {total:g} cm but not every size is recorded"


def _number_of_tumours(ctx: Context, t: Trace, spec: Spec) -> Answer:
    tumors = _tumours(ctx, t)
    if tumors is None:
        return None, "tumours not recorded"
    at_least = _number(spec, "at_least")
    present = len(tumors) >= at_least
    return present, f"{len(tumors)} tumour(s); {at_least:g} or more is the risk factor"


def _record_flag(t: Trace, name: str, value: bool | None, label: str) -> Answer:
    if value is None:
        t.need(name)
        return None, f"{label} not recorded"
    t.used(name, value)
    return value, f"{label} {'present' if value else 'absent'}"


def _macro(ctx: Context, t: Trace, spec: Spec) -> Answer:
    value = ctx.record.macrovascular_invasion
    return _record_flag(t, "macrovascular_invasion", value, "macrovascular invasion")


def _micro(ctx: Context, t: Trace, spec: Spec) -> Answer:
    value = ctx.record.microvascular_invasion
    if value is None and ctx.record.explant is not None:
        value = ctx.record.explant.microvascular_invasion
    return _record_flag(t, "microvascular_invasion", value, "microvascular invasion")


def _tumour_factor(attr: str, label: str) -> Callable[[Context, Trace, Spec], Answer]:
    def factor(ctx: Context, t: Trace, spec: Spec) -> Answer:
        tumors = _tumours(ctx, t)
        if tumors is None:
            return None, "tumours not recorded"
        risky = spec.get("risk_values")
        return _attribute(t, tumors, attr, risky if isinstance(risky, list) else [True], label)

    return factor


def _capsule(ctx: Context, t: Trace, spec: Spec) -> Answer:
    present, reason = _tumour_factor("capsule", "capsule")(ctx, t, spec)
    tumors = ctx.record.tumors or ()
    if not present and any(x.capsule == "absent" for x in tumors):
        reason += f" (not counted: {spec['absent_note']})"
    return present, reason


def _afp(ctx: Context, t: Trace, spec: Spec) -> Answer:
    above = _number(spec, "above_ng_ml")
    labs = ctx.lab_series(t, "afp")
    treatments = ctx.treatments()
    if treatments:
        labs = [lab for lab in labs if lab.date <= treatments[0].date]
    if not labs:
        t.need("labs.afp (baseline, before the first treatment)")
        return None, "no baseline AFP on record"
    base = labs[-1] if treatments else labs[0]
    value = base.canonical.value
    t.used("labs.afp (baseline)", value, "ng/mL", base.date)
    present = value > above
    relation = "above" if present else "not above"
    return present, f"baseline AFP {value:g} ng/mL on {base.date.isoformat()}, {relation} {above:g} ng/mL"


def _resection_margin(ctx: Context, t: Trace, spec: Spec) -> Answer:
    resections = ctx.treatments("resection")
    if not resections:
        return False, "no resection recorded"
    margins = [r.margin for r in resections]
    risky = spec.get("risk_values")
    hits = [m for m in margins if isinstance(risky, list) and m in risky]
    if hits:
        return True, f"resection margin {hits[-1]}"
    if all(m is not None for m in margins):
        return False, f"resection margin {', '.join(str(m) for m in margins)}"
    t.need("treatments.resection.margin")
    return None, "resection margin not recorded"


def _hepatic_vein_or_ivc(ctx: Context, t: Trace, spec: Spec) -> Answer:
    vein = _tumour_factor("near_hepatic_vein", "next to a hepatic vein")(ctx, t, spec)
    ivc = _tumour_factor("near_ivc", "next to the IVC")(ctx, t, spec)
    if vein[0] or ivc[0]:
        return True, "; ".join(r for p, r in (vein, ivc) if p)
    if vein[0] is False and ivc[0] is False:
        return False, f"{vein[1]}; {ivc[1]}"
    return None, f"{vein[1]}; {ivc[1]}"


FACTORS: dict[str, Callable[[Context, Trace, Spec], Answer]] = {
    "tumour_size": _size,
    "tumour_burden": _burden,
    "tumour_number": _number_of_tumours,
    "macrovascular_invasion": _macro,
    "microvascular_invasion": _micro,
    "capsule": _capsule,
    "margin": _tumour_factor("margin", "tumour margin"),
    "afp": _afp,
    "hepatic_vein_ivc": _hepatic_vein_or_ivc,
    "portal_vein": _tumour_factor("near_portal_vein", "next to the portal vein"),
    "rupture": _tumour_factor("ruptured", "ruptured"),
    "resection_margin": _resection_margin,
    "satellites": _tumour_factor("satellite_nodules", "satellite nodules"),
}


def risk_factors(ctx: Context, t: Trace) -> list[JsonValue]:
    """Contract rows ``{id, present, spread, reason, citations}``; unknown is ``present: null``."""
    rows: list[JsonValue] = []
    for factor_id, evaluate in FACTORS.items():
        key = f"metastasis.risk.{factor_id}"
        spec = t.table(key)
        present, reason = evaluate(ctx, t, spec)
        rows.append(
            {
                "id": factor_id,
                "present": present,
                "spread": spec["spread"],
                "reason": reason,
                "citations": list(ctx.knowledge.entry(key).citations),
            }
        )
    return rows
