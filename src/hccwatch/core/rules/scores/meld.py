"""MELD (OPTN), MELD-Na (OPTN, January 2016) and MELD 3.0 (Kim 2021; OPTN since July 2023).

MELD. When bilirubin, INR and creatinine are known, and whether the patient had dialysis at
least twice or 24 h of CVVHD in the past week, then: labs below 1.0 count as 1.0; creatinine
above 4.0 mg/dL, or such dialysis, counts as 4.0;
MELD(i) = 0.957 ln(creatinine) + 0.378 ln(bilirubin) + 1.120 ln(INR) + 0.643, rounded half up
to the tenth and multiplied by 10; maximum 40. [OPTN-POLICY-9, KAMATH-2001]

MELD-Na. When MELD(i) (the rounded integer above) is > 11 and sodium is known, then
MELD(i) + 1.32 (137 - Na) - 0.033 MELD(i) (137 - Na), sodium bounded to 125-137, rounded half
up, maximum 40; when MELD(i) <= 11 the score is MELD(i) and sodium is not needed. This is the
OPTN 2016 formula, not the published Kim 2008 NEJM form. [OPTN-POLICY-9]

MELD 3.0. When bilirubin, sodium, INR, creatinine, albumin, dialysis and sex are known, then
1.33 (female) + 4.56 ln(bili) + 0.82 (137 - Na) - 0.24 (137 - Na) ln(bili) + 9.09 ln(INR)
+ 11.14 ln(Cr) + 1.85 (3.5 - alb) - 1.83 (3.5 - alb) ln(Cr) + 6, with bilirubin, INR and
creatinine at least 1.0, creatinine at most 3.0 (3.0 on dialysis), sodium 125-137 and albumin
1.5-3.5 g/dL; rounded half up; capped at 40 (cap unverified for MELD 3.0). Candidates aged
12-17 get the 1.33 term whatever their sex, so sex is then not needed (the bounds and the
12-17 rule unverified). [KIM-2021, OPTN-MELD-CALC]

| dialysis flags | creatinine            | result                                   |
|----------------|-----------------------|------------------------------------------|
| either yes     | any or unknown        | creatinine = cap                         |
| both no        | known                 | computed                                 |
| any unknown    | at or above the cap   | computed (flags cannot change it), gap listed |
| any unknown    | below the cap/unknown | cannot determine                         |

All three are defined for candidates aged 12 and over (PELD below 12): a known age under 12
gives no score. [UNOS-2023-MELD]
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from math import log
from typing import Literal

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding, Trace
from hccwatch.core.knowledge import JsonValue
from hccwatch.core.rules.scores.liver_common import clamp, half_up, latest_value, number_pair, number_table

__all__ = [
    "Bounded",
    "bound_labs",
    "meld",
    "meld_3",
    "meld_3_value",
    "meld_i",
    "meld_na",
    "meld_na_value",
    "score",
]

_MELD_KEYS = ("value", "unrounded", "bounded", "creatinine_capped")
_MELD_NA_KEYS = (*_MELD_KEYS, "meld_i", "sodium_term_applied")
_MELD_3_KEYS = (*_MELD_KEYS, "sex_term")
_DIALYSIS_FLAGS = ("dialysis_twice_past_week", "cvvhd_24h_past_week")
Version = Literal["meld", "meld_3"]  # which bounds and cap apply: MELD/MELD-Na, or MELD 3.0


@dataclass(frozen=True)
class Bounded:
    """Labs as they enter a MELD formula: floored, creatinine capped (canonical units)."""

    bilirubin: float
    inr: float
    creatinine: float
    creatinine_capped: bool

    def to_json(self) -> dict[str, JsonValue]:
        return {"bilirubin_mg_dl": self.bilirubin, "inr": self.inr, "creatinine_mg_dl": self.creatinine}


def bound_labs(
    t: Trace, bilirubin: float, inr: float, creatinine: float, *, dialysis: bool, version: Version
) -> Bounded:
    """Apply the lab floor and the creatinine cap of ``version`` ("meld" or "meld_3")."""
    floor = t.num("meld.lab_floor") if version == "meld" else t.num("meld_3.lab_floor")
    cap = _cap(t, version)
    capped = dialysis or creatinine > cap
    return Bounded(
        bilirubin=max(bilirubin, floor),
        inr=max(inr, floor),
        creatinine=cap if capped else max(creatinine, floor),
        creatinine_capped=capped,
    )


def _cap(t: Trace, version: Version) -> float:
    if version == "meld":
        return t.num("meld.creatinine_cap_mg_dl")
    return t.num("meld_3.creatinine_cap_mg_dl")


def _meld_i_of(t: Trace, b: Bounded) -> float:
    c = number_table(t, "meld.coefficients")
    raw = c["creatinine"] * log(b.creatinine) + c["bilirubin"] * log(b.bilirubin) + c["inr"] * log(b.inr)
    # Decimal keeps "rounded to the tenth, then x10" exact: 2.45 must become 25, not 24.
    return float(Decimal(repr(raw + c["constant"])) * Decimal(repr(t.num("meld.scale"))))


def meld_i(t: Trace, bilirubin: float, inr: float, creatinine: float, *, dialysis: bool = False) -> float:
    """Unrounded MELD(i) on the x10 scale (bilirubin and creatinine in mg/dL): 24.798 for V1."""
    return _meld_i_of(t, bound_labs(t, bilirubin, inr, creatinine, dialysis=dialysis, version="meld"))


def score(t: Trace, unrounded: float, *, version: Version) -> int:
    """Round half up to an integer and apply the maximum of ``version`` ("meld" or "meld_3")."""
    cap = t.num("meld.max_score") if version == "meld" else t.num("meld_3.max_score")
    return min(int(half_up(unrounded)), int(cap))


def meld_na_value(t: Trace, meld_i_score: int, sodium: float) -> float:
    """Unrounded OPTN 2016 MELD-Na from the rounded MELD(i) and sodium (mmol/L)."""
    if meld_i_score <= t.num("meld_na.threshold_meld_i"):
        return float(meld_i_score)
    c = number_table(t, "meld_na.coefficients")
    bounded = clamp(sodium, number_pair(t, "meld_na.sodium_bounds_mmol_l"))
    deficit = Decimal(repr(t.num("meld_na.sodium_reference_mmol_l"))) - Decimal(repr(bounded))
    m = Decimal(meld_i_score)
    na_term = Decimal(repr(c["sodium"])) * deficit + Decimal(repr(c["sodium_x_meld"])) * m * deficit
    return float(m + na_term)


def _meld_3_inputs(t: Trace, sodium: float, albumin: float) -> tuple[float, float]:
    return (
        clamp(sodium, number_pair(t, "meld_3.sodium_bounds_mmol_l")),
        clamp(albumin, number_pair(t, "meld_3.albumin_bounds_g_dl")),
    )


def meld_3_value(
    t: Trace,
    *,
    bilirubin: float,
    sodium: float,
    inr: float,
    creatinine: float,
    albumin: float,
    sex_term: bool,
    dialysis: bool = False,
) -> float:
    """Unrounded MELD 3.0 (canonical units); ``sex_term`` = female or aged 12-17."""
    b = bound_labs(t, bilirubin, inr, creatinine, dialysis=dialysis, version="meld_3")
    na, alb = _meld_3_inputs(t, sodium, albumin)
    c = number_table(t, "meld_3.coefficients")
    d_na = t.num("meld_3.sodium_reference_mmol_l") - na
    d_alb = t.num("meld_3.albumin_reference_g_dl") - alb
    ln_bili, ln_cr = log(b.bilirubin), log(b.creatinine)
    return (
        (c["female"] if sex_term else 0)
        + c["bilirubin"] * ln_bili
        + c["sodium"] * d_na
        + c["sodium_x_bilirubin"] * d_na * ln_bili
        + c["inr"] * log(b.inr)
        + c["creatinine"] * ln_cr
        + c["albumin"] * d_alb
        + c["albumin_x_creatinine"] * d_alb * ln_cr
        + c["constant"]
    )


# --- gathering the inputs ----------------------------------------------------------------------


def _too_young(ctx: Context, t: Trace) -> bool:
    age = ctx.record.age_on(ctx.as_of)
    minimum = t.num("meld.min_age_years")
    if age is None:
        # HCC follow-up is adult care: compute, but say that the age was assumed, not known.
        t.need("age")
        t.note(
            f"Age unknown: scored as for a candidate aged {minimum:g} or over "
            f"(PELD applies below {minimum:g})."
        )
        return False
    if age >= minimum:
        return False
    t.used("age", age, "years")
    return True


def _renal(ctx: Context, t: Trace, version: Version) -> tuple[float, bool] | None:
    """(creatinine, dialysis) for the formula, or None when a gap could change the score."""
    creatinine = latest_value(ctx, t, "creatinine")
    cap = _cap(t, version)
    flags = {f"liver.{name}": getattr(ctx.record.liver, name) for name in _DIALYSIS_FLAGS}
    for name, flag in flags.items():
        if flag is not None:
            t.used(name, flag)
    if any(flag is True for flag in flags.values()):
        return cap, True
    unknown = [name for name, flag in flags.items() if flag is None]
    t.need(*unknown)
    if creatinine is None or (unknown and creatinine < cap):
        return None
    if unknown:
        t.note(
            f"Dialysis in the past week is unknown, but creatinine {creatinine:g} mg/dL already reaches "
            f"the cap of {cap:g} mg/dL, so dialysis cannot change the score."
        )
    return creatinine, False


@dataclass(frozen=True)
class _Labs:
    bounded: Bounded
    dialysis: bool


def _labs(ctx: Context, t: Trace, version: Version) -> _Labs | None:
    bilirubin = latest_value(ctx, t, "bilirubin")
    inr = latest_value(ctx, t, "inr")
    renal = _renal(ctx, t, version)
    if bilirubin is None or inr is None or renal is None:
        return None
    creatinine, dialysis = renal
    return _Labs(bound_labs(t, bilirubin, inr, creatinine, dialysis=dialysis, version=version), dialysis)


def _cannot(t: Trace, keys: tuple[str, ...], name: str, too_young: bool) -> Finding:
    if too_young:
        return t.cannot_determine(
            keys,
            f"{name} is defined for candidates aged {t.num('meld.min_age_years'):g} and over; "
            "PELD applies below that age.",
        )
    return t.cannot_determine(keys, f"Cannot determine {name}: {', '.join(t.missing)} unknown.")


def _lab_text(labs: _Labs, floor: float) -> str:
    b = labs.bounded
    if labs.dialysis:
        renal = f"creatinine set to {b.creatinine:g} mg/dL for dialysis in the past week"
    elif b.creatinine_capped:
        renal = f"creatinine capped at {b.creatinine:g} mg/dL"
    else:
        renal = f"creatinine {b.creatinine:g} mg/dL"
    return (
        f"bilirubin {b.bilirubin:g} mg/dL, INR {b.inr:g}, {renal} (values below {floor:g} count as {floor:g})"
    )


# --- the rules -----------------------------------------------------------------------------------


def meld(ctx: Context) -> Finding:
    t = ctx.trace("scores.meld")
    too_young = _too_young(ctx, t)
    labs = None if too_young else _labs(ctx, t, "meld")
    if labs is None:
        return _cannot(t, _MELD_KEYS, "MELD", too_young)
    unrounded = _meld_i_of(t, labs.bounded)
    value = score(t, unrounded, version="meld")
    values: dict[str, JsonValue] = {
        "value": value,
        "unrounded": unrounded,
        "bounded": labs.bounded.to_json(),
        "creatinine_capped": labs.bounded.creatinine_capped,
    }
    scale = t.num("meld.scale")
    text = (
        f"MELD {value} (OPTN): from {_lab_text(labs, t.num('meld.lab_floor'))}, MELD(i) is "
        f"{unrounded / scale:.4f}, rounded half up at the tenth and multiplied by {scale:g}"
        f"{'' if value == int(half_up(unrounded)) else ', then capped at the maximum'}."
    )
    return t.finish(values, text, determined=True)


def meld_na(ctx: Context) -> Finding:
    t = ctx.trace("scores.meld_na")
    too_young = _too_young(ctx, t)
    labs = None if too_young else _labs(ctx, t, "meld")
    sodium = None if too_young else latest_value(ctx, t, "sodium")
    if labs is None:
        return _cannot(t, _MELD_NA_KEYS, "MELD-Na", too_young)
    m = score(t, _meld_i_of(t, labs.bounded), version="meld")
    threshold = t.num("meld_na.threshold_meld_i")
    applied = m > threshold
    if applied and sodium is None:
        return t.cannot_determine(
            _MELD_NA_KEYS,
            f"Cannot determine MELD-Na: MELD(i) is {m} (> {threshold:g}), so the sodium term applies, "
            "and sodium is unknown.",
        )
    unrounded = meld_na_value(t, m, sodium) if applied and sodium is not None else float(m)
    value = score(t, unrounded, version="meld")
    bounded = labs.bounded.to_json()
    if applied and sodium is not None:
        low, high = number_pair(t, "meld_na.sodium_bounds_mmol_l")
        bounded["sodium_mmol_l"] = na = clamp(sodium, (low, high))
        how = (
            f"MELD(i) {m} > {threshold:g}, so the sodium term applies with sodium {na:g} mmol/L "
            f"(bounded to {low:g}-{high:g}): {unrounded:.3f}, rounded half up"
        )
    else:
        how = f"MELD(i) {m} is not above {threshold:g}, so sodium does not enter the score"
    values: dict[str, JsonValue] = {
        "value": value,
        "unrounded": unrounded,
        "bounded": bounded,
        "creatinine_capped": labs.bounded.creatinine_capped,
        "meld_i": m,
        "sodium_term_applied": applied,
    }
    text = f"MELD-Na {value} (OPTN 2016): from {_lab_text(labs, t.num('meld.lab_floor'))}, {how}."
    return t.finish(values, text, determined=True)


def _sex_term(ctx: Context, t: Trace) -> bool | None:
    """Whether the 1.33 term applies, or None when sex (or, for a male, age) is needed."""
    age = ctx.record.age_on(ctx.as_of)
    if age is not None:
        t.used("age", age, "years")
        youngest, oldest = number_pair(t, "meld_3.adolescent_age_years")
        if youngest <= age <= oldest:
            t.note(f"Aged {age}: the female term of MELD 3.0 applies whatever the sex.")
            return True
    sex = ctx.record.sex
    if sex is None:
        t.need("sex")
        return None
    t.used("sex", sex)
    if sex == "female":
        return True
    if age is None:
        t.need("age")
        return None
    return False


def meld_3(ctx: Context) -> Finding:
    t = ctx.trace("scores.meld_3")
    too_young = _too_young(ctx, t)
    if too_young:
        return _cannot(t, _MELD_3_KEYS, "MELD 3.0", too_young)
    labs = _labs(ctx, t, "meld_3")
    sodium = latest_value(ctx, t, "sodium")
    albumin = latest_value(ctx, t, "albumin")
    sex_term = _sex_term(ctx, t)
    if labs is None or sodium is None or albumin is None or sex_term is None:
        return _cannot(t, _MELD_3_KEYS, "MELD 3.0", too_young)
    b = labs.bounded
    unrounded = meld_3_value(
        t,
        bilirubin=b.bilirubin,
        sodium=sodium,
        inr=b.inr,
        creatinine=b.creatinine,
        albumin=albumin,
        sex_term=sex_term,
        dialysis=labs.dialysis,
    )
    value = score(t, unrounded, version="meld_3")
    na, alb = _meld_3_inputs(t, sodium, albumin)
    bounded = {**b.to_json(), "sodium_mmol_l": na, "albumin_g_dl": alb}
    values: dict[str, JsonValue] = {
        "value": value,
        "unrounded": unrounded,
        "bounded": bounded,
        "creatinine_capped": b.creatinine_capped,
        "sex_term": sex_term,
    }
    text = (
        f"MELD 3.0 {value}: from {_lab_text(labs, t.num('meld_3.lab_floor'))}, sodium {na:g} mmol/L "
        f"and albumin {alb:g} g/dL (after bounding), {'with' if sex_term else 'without'} the female term: "
        f"{unrounded:.3f}, rounded half up"
        f"{'' if value == int(half_up(unrounded)) else ' and capped at the maximum'}."
    )
    return t.finish(values, text, determined=True)
