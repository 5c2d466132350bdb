"""AFP kinetics: the latest AFP against thresholds, its nadir after treatment, and its trend.

When AFP results are on record (canonical ng/mL; IU/mL is converted at the record boundary),
Then:

- latest: the most recent result on or before the evaluation date (any age, with its date);
- above_threshold / thresholds_exceeded: the latest result, if it is within the lab window
  (``labs.window_days.afp``), compared with each ``afp.threshold_ng_ml.*`` (>=); the recall
  threshold is 20 ng/mL (AASLD-2023). A stale or absent result gives None and an empty list;
- series: the results after the last curative or locoregional treatment
  (``afp.nadir_treatment_types``), or all results when there was none;
- nadir: the lowest value of the series (the latest of equal lows);
- trend window: the last ``afp.trend_min_values`` (3) results of the series, so an accelerating
  rise is not diluted by an older plateau (5.1, 6.0, 14.8, 31, 78 ng/mL over 16 months fit
  4 ng/mL/month as a whole but 11 over the last three); fewer in the series gives no trend
  (named as missing);
- slope: least-squares ng/mL per month over the window; trend is "rising" above
  ``afp.rising_slope_ng_ml_per_month`` (7.5, GIARD-2018, derived in transplant candidates:
  unverified elsewhere), "falling" below ``afp.falling_slope_ng_ml_per_month``, else "stable";
- values_used: the results in the trend window, or in the series when there is no trend;
- ratio_to_nadir: latest / nadir; doubling_time_months: ln 2 / the least-squares slope of
  ln(AFP) over the window, reported only for a rising trend.

"Rising AFP" has no guideline definition, and a persistently rising AFP alone did not add
diagnostic value (TURSHUDZHYAN-2022): a rising trend is a prompt for imaging, not a diagnosis.

Citations: AASLD-2023, GIARD-2018, TURSHUDZHYAN-2022, NHC-2024, PAVEL-2018, MEHTA-2017,
HCCWATCH-POLICY.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding, Trace
from hccwatch.core.knowledge import JsonValue
from hccwatch.record.model import Lab, Treatment

__all__ = ["afp_kinetics", "least_squares_slope"]

_LN2 = math.log1p(1)  # ln 2: the doubling factor


def least_squares_slope(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Ordinary least-squares slope of ys on xs; None when xs do not vary."""
    mean_x = sum(xs) / len(xs)
    mean_y = sum(ys) / len(ys)
    spread = sum((x - mean_x) * (x - mean_x) for x in xs)
    if spread == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def _point(lab: Lab | None) -> JsonValue:
    return None if lab is None else {"value": lab.canonical.value, "date": lab.date.isoformat()}


def _last_treatment(ctx: Context, t: Trace) -> Treatment | None:
    types = [str(x) for x in t.items("afp.nadir_treatment_types")]
    treatments = ctx.treatments(*types)
    return treatments[-1] if treatments else None


def _thresholds(t: Trace, current: Lab | None) -> tuple[bool | None, list[JsonValue]]:
    if current is None:
        return None, []
    value = current.canonical.value
    exceeded: list[JsonValue] = [
        str(tid) for tid in t.items("afp.threshold_ids") if value >= t.num(f"afp.threshold_ng_ml.{tid}")
    ]
    return value >= t.num("afp.threshold_ng_ml.afp_20"), exceeded


def _months(labs: Sequence[Lab], days_per_month: float) -> list[float]:
    first: date = labs[0].date
    return [(lab.date - first).days / days_per_month for lab in labs]


def _trend(t: Trace, slope: float) -> str:
    if slope > t.num("afp.rising_slope_ng_ml_per_month"):
        return "rising"
    if slope < t.num("afp.falling_slope_ng_ml_per_month"):
        return "falling"
    return "stable"


def _doubling_time(months: Sequence[float], labs: Sequence[Lab]) -> float | None:
    if any(lab.canonical.value <= 0 for lab in labs):
        return None
    log_slope = least_squares_slope(months, [math.log(lab.canonical.value) for lab in labs])
    return None if log_slope is None or log_slope <= 0 else _LN2 / log_slope


def afp_kinetics(ctx: Context) -> Finding:
    """AFP level, nadir and trend on ``ctx.as_of`` (see the module docstring for the definitions)."""
    t = ctx.trace("afp.kinetics")
    labs = ctx.lab_series(t, "afp")
    current = ctx.latest_lab(t, "afp")
    above, exceeded = _thresholds(t, current)
    values: dict[str, JsonValue] = {
        "latest": _point(labs[-1] if labs else None),
        "nadir": None,
        "trend": None,
        "slope_ng_ml_per_month": None,
        "ratio_to_nadir": None,
        "doubling_time_months": None,
        "above_threshold": above,
        "thresholds_exceeded": exceeded,
        "values_used": 0,
    }
    if not labs:
        return t.finish(values, "No AFP result is on record.")
    treatment = _last_treatment(ctx, t)
    series = [lab for lab in labs if treatment is None or lab.date > treatment.date]
    since = "on record" if treatment is None else f"after the {treatment.type} on {treatment.date}"
    if treatment is None:
        t.note("No curative or locoregional treatment is on record: the nadir is the lowest AFP on record.")
    minimum = int(t.num("afp.trend_min_values"))
    parts = [_latest_text(t, labs[-1], above, exceeded)]
    if not series:
        t.need(f"labs.afp ({since})")
        parts.append(f"No AFP {since}, so there is no nadir or trend.")
        return t.finish(values, " ".join(parts))
    nadir = min(series, key=lambda lab: (lab.canonical.value, -lab.date.toordinal()))
    latest = series[-1]
    ratio = latest.canonical.value / nadir.canonical.value if nadir.canonical.value > 0 else None
    values.update(nadir=_point(nadir), ratio_to_nadir=ratio, values_used=len(series))
    parts.append(_nadir_text(nadir, since, ratio))
    if len(series) < minimum:
        t.need(f"labs.afp (at least {minimum} results {since}; {len(series)} available)")
        parts.append(f"A trend needs at least {minimum} results {since}; {len(series)} available.")
        return t.finish(values, " ".join(parts))
    window = series[-minimum:]
    for lab in window:
        t.used(f"labs.afp@{lab.date.isoformat()}", lab.canonical.value, lab.canonical.unit, lab.date)
    months = _months(window, t.num("surveillance.days_per_month"))
    slope = least_squares_slope(months, [lab.canonical.value for lab in window])
    if slope is None:
        t.need(f"labs.afp (results on different dates {since})")
        return t.finish(values, " ".join(parts))
    trend = _trend(t, slope)
    t.cite("TURSHUDZHYAN-2022")
    doubling = _doubling_time(months, window) if trend == "rising" else None
    values.update(
        trend=trend, slope_ng_ml_per_month=slope, doubling_time_months=doubling, values_used=len(window)
    )
    parts.append(_trend_text(t, trend, slope, window, doubling))
    return t.finish(values, " ".join(parts))


def _latest_text(t: Trace, latest: Lab, above: bool | None, exceeded: list[JsonValue]) -> str:
    text = f"Latest AFP {latest.canonical.value:g} ng/mL on {latest.date}"
    if above is None:
        return text + " (not current: too old to compare with thresholds)."
    if exceeded:
        levels = ", ".join(f"{t.num(f'afp.threshold_ng_ml.{tid}'):g}" for tid in exceeded)
        return text + f", at or above {levels} ng/mL."
    recall = t.num("afp.threshold_ng_ml.afp_20")
    return text + f", below the {recall:g} ng/mL recall threshold."


def _nadir_text(nadir: Lab, since: str, ratio: float | None) -> str:
    text = f"Nadir {nadir.canonical.value:g} ng/mL on {nadir.date} ({since})"
    return text + (f"; latest is {ratio:.1f} times the nadir." if ratio is not None else ".")


def _trend_text(t: Trace, trend: str, slope: float, window: Sequence[Lab], doubling: float | None) -> str:
    cutoff = t.num("afp.rising_slope_ng_ml_per_month")
    # The dates let a reader see how old the trend is (it is not limited to the lab window).
    text = (
        f"Trend {trend}: {slope:+.1f} ng/mL per month by least squares over {len(window)} results "
        f"from {window[0].date} to {window[-1].date} "
        f"(rising above {cutoff:g} ng/mL/month, a cut-off from liver-transplant candidates)"
    )
    if doubling is not None:
        text += f"; doubling time {doubling:.1f} months"
    return text + ". 'Rising AFP' has no guideline definition: a prompt for imaging, not a diagnosis."
