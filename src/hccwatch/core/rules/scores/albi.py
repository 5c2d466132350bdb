"""ALBI score and grade (Johnson 2015).

When bilirubin and albumin are known (latest within the lab window), then
ALBI = 0.66 log10(bilirubin, µmol/L) - 0.085 albumin (g/L), reported to 4 decimals, and

| ALBI            | grade |
|-----------------|-------|
| <= -2.60        | 1     |
| -2.60 < x <= -1.39 | 2  |
| > -1.39         | 3     |

ALBI is the one liver score defined in SI units: the rules see mg/dL and g/dL, so the values
are converted back with the factors the record used (knowledge ``units.bilirubin``,
``units.albumin``). The coefficient is -0.085 as published, not the -0.0852 some calculators
use (it flips grades near -2.60). The grade is read from the reported score so the two always
agree. Sources: JOHNSON-2015.
"""

from __future__ import annotations

from math import log10

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding, Trace
from hccwatch.core.rules.scores.liver_common import half_up, latest_value, number_pair, number_table
from hccwatch.errors import KnowledgeError

__all__ = ["albi", "albi_grade", "albi_score", "si_factor"]

_KEYS = ("score", "grade")


def si_factor(t: Trace, units_key: str, si_unit: str) -> float:
    """The factor that turns the canonical value of ``units_key`` into ``si_unit``."""
    convert = t.table(units_key)["convert"]
    rule = convert.get(si_unit) if isinstance(convert, dict) else None
    match rule:
        case ["divide", int() | float() as factor]:
            return float(factor)
        case ["multiply", int() | float() as factor]:
            return 1 / float(factor)
    raise KnowledgeError(f"{units_key} has no conversion to {si_unit}")


def albi_score(t: Trace, bilirubin_mg_dl: float, albumin_g_dl: float) -> float:
    """Unrounded ALBI from canonical bilirubin (mg/dL) and albumin (g/dL)."""
    c = number_table(t, "albi.coefficients")
    bilirubin = bilirubin_mg_dl * si_factor(t, "units.bilirubin", "µmol/L")
    albumin = albumin_g_dl * si_factor(t, "units.albumin", "g/L")
    return c["log10_bilirubin_umol_l"] * log10(bilirubin) + c["albumin_g_l"] * albumin


def albi_grade(t: Trace, score: float) -> int:
    """Grade 1 at or below the first cut-off, one more for each cut-off the score exceeds."""
    return 1 + sum(score > cutoff for cutoff in number_pair(t, "albi.grade_cutoffs"))


def albi(ctx: Context) -> Finding:
    t = ctx.trace("scores.albi")
    bilirubin = latest_value(ctx, t, "bilirubin")
    albumin = latest_value(ctx, t, "albumin")
    if bilirubin is not None and bilirubin <= 0:
        # log10(0) is undefined; a zero is a data-entry problem, not a very good liver.
        t.need("labs.bilirubin (a value above 0)")
        return t.cannot_determine(_KEYS, "Cannot determine ALBI: a bilirubin of 0 has no logarithm.")
    if bilirubin is None or albumin is None:
        return t.cannot_determine(_KEYS, f"Cannot determine ALBI: {', '.join(t.missing)} unknown.")
    decimals = int(t.num("albi.score_decimals"))
    score = float(half_up(albi_score(t, bilirubin, albumin), decimals))
    grade = albi_grade(t, score)
    bili_si = bilirubin * si_factor(t, "units.bilirubin", "µmol/L")
    alb_si = albumin * si_factor(t, "units.albumin", "g/L")
    low, high = number_pair(t, "albi.grade_cutoffs")
    text = (
        f"ALBI {score:.{decimals}f}, grade {grade} (cut-offs {low:g} and {high:g}): bilirubin "
        f"{bili_si:.1f} µmol/L and albumin {alb_si:.1f} g/L."
    )
    return t.finish({"score": score, "grade": grade}, text, determined=True)
