"""AFP kinetics: the latest AFP against thresholds, its nadir after treatment, its trend, and
whether it normalised after a curative treatment.

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
  rise is not diluted by an older plateau; fewer in the series gives no trend (named as missing);
- trend: "rising" when ANY rise criterion holds (``rise_criteria`` names them, ``rise_thresholds``
  gives the numbers used), else "falling" below ``afp.falling_slope_ng_ml_per_month``, else
  "stable":

  ================  ==========================================================================
  criterion         holds when
  ================  ==========================================================================
  slope             least-squares slope over the window > ``afp.rising_slope_ng_ml_per_month``
                    (7.5, GIARD-2018, derived in transplant candidates: unverified elsewhere)
  nadir_multiple    the last ``afp.rise.sustained_results`` (2) results are each >=
                    ``afp.rise.nadir_multiple`` x nadir and > the upper limit of normal
  doubling_time     doubling time <= ``afp.rise.doubling_time_months`` and the latest result >
                    the upper limit of normal
  uln_crossed       the nadir is below ``afp.upper_limit_normal_ng_ml`` and the last
                    ``afp.rise.sustained_results`` results are above it
  ================  ==========================================================================

  The upper limit of normal is the floor of the relative criteria: AFP moving inside the normal
  range (1 -> 2.5 ng/mL) is noise, not a rise (6 -> 15 -> 48 ng/mL is a rise);
- slope_ng_ml_per_month: the least-squares slope over the window;
- doubling_time_months: ln 2 / the least-squares slope of ln(AFP) over the window, whenever
  that slope is positive (whatever the trend), else None;
- ratio_to_nadir: latest / nadir (None when the nadir is 0);
- normalisation, after the last treatment of ``afp.nadir_treatment_types`` when it is curative
  (``afp.curative_treatment_types``, unless recorded ``curative = false``):

  ================  ==========================================================================
  value             when
  ================  ==========================================================================
  not_applicable    no such treatment, the last one is not curative, or AFP was normal before
                    it (a later rise is for the rise criteria)
  normalised        a result after the treatment is below ``afp.normalisation.normal_below_ng_ml``
  pending           the starting AFP was raised, nothing normal yet, but the date by which it
                    should be normal has not come
  not_normalised    the starting AFP was raised and every result since is at or above normal,
                    the latest on or after the date by which it should be normal
  None (unknown)    no starting AFP, or no result since that date (named as missing)
  ================  ==========================================================================

  The starting AFP is the last result within ``afp.normalisation.pre_treatment_window_days``
  before the treatment, else the first one after it. It should be normal by the treatment date
  plus the larger of ``afp.normalisation.assess_after_days`` (90: SHIRABE-1997, ALLARD-2014)
  and ``afp.half_life_days`` x log2(starting AFP / normal): ``normalisation_expected_by``.

Every ratio, slope and doubling time is a finite number or None, never inf or NaN.

"Rising AFP" has no guideline definition, and a persistently rising AFP alone did not add
diagnostic value (TURSHUDZHYAN-2022): a rising trend is a prompt for imaging, not a diagnosis.

Citations: AASLD-2023, GIARD-2018, TURSHUDZHYAN-2022, NHC-2024, PAVEL-2018, MEHTA-2017,
KIM-2016, SHEU-1985, SHIRABE-1997, ALLARD-2014, HCCWATCH-POLICY.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding, Trace
from hccwatch.core.knowledge import JsonValue
from hccwatch.record.model import Lab, Treatment

__all__ = ["RISE_CRITERIA", "afp_kinetics", "least_squares_slope"]

_LN2 = math.log1p(1)  # ln 2: the doubling factor
RISE_CRITERIA = ("slope", "nadir_multiple", "doubling_time", "uln_crossed")


def _finite(value: float | None) -> float | None:
    """A number a report can print: inf and NaN (overflow, 0/0) become unknown."""
    return value if value is not None and math.isfinite(value) else None


def least_squares_slope(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Ordinary least-squares slope of ys on xs; None when xs do not vary or it is not finite."""
    mean_x = sum(xs) / len(xs)
    mean_y = sum(ys) / len(ys)
    spread = sum((x - mean_x) * (x - mean_x) for x in xs)
    if spread == 0 or not math.isfinite(spread):
        return None
    return _finite(sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread)


def _point(lab: Lab | None) -> JsonValue:
    return None if lab is None else {"value": lab.canonical.value, "date": lab.date.isoformat()}


def _value(lab: Lab) -> float:
    return lab.canonical.value


def _last_treatment(ctx: Context, t: Trace) -> Treatment | None:
    types = [str(x) for x in t.items("afp.nadir_treatment_types")]
    treatments = ctx.treatments(*types)
    return treatments[-1] if treatments else None


def _thresholds(t: Trace, current: Lab | None) -> tuple[bool | None, list[JsonValue]]:
    if current is None:
        return None, []
    value = _value(current)
    exceeded: list[JsonValue] = [
        str(tid) for tid in t.items("afp.threshold_ids") if value >= t.num(f"afp.threshold_ng_ml.{tid}")
    ]
    return value >= t.num("afp.threshold_ng_ml.afp_20"), exceeded


def _months(labs: Sequence[Lab], days_per_month: float) -> list[float]:
    first: date = labs[0].date
    return [(lab.date - first).days / days_per_month for lab in labs]


def _doubling_time(months: Sequence[float], labs: Sequence[Lab]) -> float | None:
    """ln 2 / the log-slope, when AFP grows; a zero result (below detection) has no logarithm."""
    if any(_value(lab) <= 0 for lab in labs):
        return None
    log_slope = least_squares_slope(months, [math.log(_value(lab)) for lab in labs])
    return None if log_slope is None or log_slope <= 0 else _finite(_LN2 / log_slope)


@dataclass(frozen=True)
class _Rise:
    """The rise criteria that hold, and the thresholds they were judged with."""

    criteria: tuple[str, ...]
    thresholds: dict[str, JsonValue]


def _rise(t: Trace, series: Sequence[Lab], nadir: Lab, slope: float, doubling: float | None) -> _Rise:
    uln = t.num("afp.upper_limit_normal_ng_ml")
    sustained = max(int(t.num("afp.rise.sustained_results")), 1)
    multiple = t.num("afp.rise.nadir_multiple")
    fastest = t.num("afp.rise.doubling_time_months")
    cutoff = t.num("afp.rising_slope_ng_ml_per_month")
    last = [_value(lab) for lab in series[-sustained:]]
    low = _value(nadir)
    # A result equal to the nadir is not a multiple of it, even when the nadir is 0.
    held = {
        "slope": slope > cutoff,
        "nadir_multiple": all(v >= multiple * low and v > low and v > uln for v in last),
        "doubling_time": doubling is not None and doubling <= fastest and _value(series[-1]) > uln,
        "uln_crossed": low < uln and all(v > uln for v in last),
    }
    thresholds: dict[str, JsonValue] = {
        "slope_ng_ml_per_month": cutoff,
        "nadir_multiple": multiple,
        "doubling_time_months": fastest,
        "upper_limit_normal_ng_ml": uln,
        "sustained_results": sustained,
    }
    return _Rise(tuple(c for c in RISE_CRITERIA if held[c]), thresholds)


def _trend(t: Trace, slope: float, rise: _Rise) -> str:
    if rise.criteria:
        return "rising"
    if slope < t.num("afp.falling_slope_ng_ml_per_month"):
        return "falling"
    return "stable"


# --- normalisation after curative treatment ---------------------------------------------------


def _curative(t: Trace, treatment: Treatment | None) -> bool:
    if treatment is None or treatment.curative is False:
        return False
    return treatment.type in {str(x) for x in t.items("afp.curative_treatment_types")}


@dataclass(frozen=True)
class _Normalisation:
    status: str | None
    expected_by: date | None
    text: str


def _starting_afp(t: Trace, labs: Sequence[Lab], treatment: Treatment, series: Sequence[Lab]) -> Lab | None:
    window = timedelta(days=t.num("afp.normalisation.pre_treatment_window_days"))
    before = [lab for lab in labs if treatment.date - window <= lab.date <= treatment.date]
    if before:
        return before[-1]
    return series[0] if series else None


def _expected_by(t: Trace, treatment: Treatment, start: float, normal: float) -> date:
    """When a curative treatment's AFP should be normal: the later of the fixed delay and the
    time the half-life needs to bring the starting AFP down to normal."""
    minimum = t.num("afp.normalisation.assess_after_days")
    half_lives = math.log2(start / normal) if start > normal else 0.0
    # A finite float has log2 below 1024, so this stays far inside the calendar.
    days = max(minimum, t.num("afp.half_life_days") * half_lives)
    return treatment.date + timedelta(days=math.ceil(days))


def _normalisation(
    ctx: Context, t: Trace, labs: Sequence[Lab], treatment: Treatment | None, series: Sequence[Lab]
) -> _Normalisation:
    if treatment is None or not _curative(t, treatment):
        what = "no treatment" if treatment is None else f"the {treatment.type} on {treatment.date}"
        return _Normalisation("not_applicable", None, f"Normalisation not assessed: {what} is not curative.")
    normal = t.num("afp.normalisation.normal_below_ng_ml")
    after = f"after the {treatment.type} on {treatment.date}"
    if any(_value(lab) < normal for lab in series):
        first = next(lab for lab in series if _value(lab) < normal)
        text = f"AFP normalised (< {normal:g} ng/mL) on {first.date} {after}."
        return _Normalisation("normalised", None, text)
    start = _starting_afp(t, labs, treatment, series)
    if start is None:
        t.need(f"labs.afp (before or {after}, to judge normalisation)")
        return _Normalisation(None, None, f"Normalisation unknown: no AFP around the {treatment.type}.")
    t.used("afp.starting_value", _value(start), start.canonical.unit, start.date)
    if _value(start) < normal:
        return _Normalisation(
            "not_applicable",
            None,
            f"AFP was normal ({_value(start):g} ng/mL on {start.date}) around the {treatment.type}: "
            "a later rise is judged by the rise criteria.",
        )
    due = _expected_by(t, treatment, _value(start), normal)
    t.cite("SHIRABE-1997", "ALLARD-2014")
    latest = series[-1] if series else None
    if latest is not None and latest.date >= due:
        return _Normalisation(
            "not_normalised",
            due,
            f"AFP has NOT normalised {after}: {_value(start):g} ng/mL on {start.date}, still "
            f"{_value(latest):g} ng/mL on {latest.date} (normal < {normal:g}; expected by {due} with a "
            f"half-life of {t.num('afp.half_life_days'):g} days), suggesting residual or hidden disease.",
        )
    if ctx.as_of < due:
        return _Normalisation(
            "pending", due, f"AFP was {_value(start):g} ng/mL; it should be normal by {due} {after}."
        )
    t.need(f"labs.afp (on or after {due}, when it should be normal {after})")
    return _Normalisation(
        None, due, f"Normalisation unknown: AFP should be normal by {due} {after}, and no result since."
    )


# --- the finding ------------------------------------------------------------------------------


def afp_kinetics(ctx: Context) -> Finding:
    """AFP level, nadir, trend and normalisation on ``ctx.as_of`` (definitions in the module docstring)."""
    t = ctx.trace("afp.kinetics")
    labs = ctx.lab_series(t, "afp")
    current = ctx.latest_lab(t, "afp")
    above, exceeded = _thresholds(t, current)
    values: dict[str, JsonValue] = {
        "latest": _point(labs[-1] if labs else None),
        "nadir": None,
        "trend": None,
        "rise_criteria": [],
        "rise_thresholds": None,
        "slope_ng_ml_per_month": None,
        "ratio_to_nadir": None,
        "doubling_time_months": None,
        "normalisation": None,
        "normalisation_expected_by": None,
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
    norm = _normalisation(ctx, t, labs, treatment, series)
    values.update(
        normalisation=norm.status,
        normalisation_expected_by=None if norm.expected_by is None else norm.expected_by.isoformat(),
    )
    minimum = int(t.num("afp.trend_min_values"))
    parts = [_latest_text(t, labs[-1], above, exceeded)]
    if not series:
        t.need(f"labs.afp ({since})")
        parts += [f"No AFP {since}, so there is no nadir or trend.", norm.text]
        return t.finish(values, " ".join(parts))
    nadir = min(series, key=lambda lab: (_value(lab), -lab.date.toordinal()))
    latest = series[-1]
    ratio = _finite(_value(latest) / _value(nadir)) if _value(nadir) > 0 else None
    values.update(nadir=_point(nadir), ratio_to_nadir=ratio, values_used=len(series))
    parts.append(_nadir_text(nadir, since, ratio))
    if len(series) < minimum:
        t.need(f"labs.afp (at least {minimum} results {since}; {len(series)} available)")
        parts += [f"A trend needs at least {minimum} results {since}; {len(series)} available.", norm.text]
        return t.finish(values, " ".join(parts))
    window = series[-minimum:]
    for lab in window:
        t.used(f"labs.afp@{lab.date.isoformat()}", _value(lab), lab.canonical.unit, lab.date)
    months = _months(window, t.num("surveillance.days_per_month"))
    slope = least_squares_slope(months, [_value(lab) for lab in window])
    if slope is None:
        t.need(f"labs.afp (results on different dates {since})")
        parts.append(norm.text)
        return t.finish(values, " ".join(parts))
    doubling = _doubling_time(months, window)
    rise = _rise(t, series, nadir, slope, doubling)
    trend = _trend(t, slope, rise)
    t.cite("TURSHUDZHYAN-2022")
    values.update(
        trend=trend,
        rise_criteria=list(rise.criteria),
        rise_thresholds=rise.thresholds,
        slope_ng_ml_per_month=slope,
        doubling_time_months=doubling,
        values_used=len(window),
    )
    parts += [_trend_text(t, trend, slope, window, doubling, rise), norm.text]
    return t.finish(values, " ".join(parts))


def _latest_text(t: Trace, latest: Lab, above: bool | None, exceeded: list[JsonValue]) -> str:
    text = f"Latest AFP {_value(latest):g} ng/mL on {latest.date}"
    if above is None:
        return text + " (not current: too old to compare with thresholds)."
    if exceeded:
        levels = ", ".join(f"{t.num(f'afp.threshold_ng_ml.{tid}'):g}" for tid in exceeded)
        return text + f", at or above {levels} ng/mL."
    recall = t.num("afp.threshold_ng_ml.afp_20")
    return text + f", below the {recall:g} ng/mL recall threshold."


def _nadir_text(nadir: Lab, since: str, ratio: float | None) -> str:
    text = f"Nadir {_value(nadir):g} ng/mL on {nadir.date} ({since})"
    return text + (f"; latest is {ratio:.1f} times the nadir." if ratio is not None else ".")


_CRITERION_TEXT = {
    "slope": "slope above {slope_ng_ml_per_month:g} ng/mL/month (a cut-off from liver-transplant candidates)",
    "nadir_multiple": (
        "the last {sustained_results} results at least {nadir_multiple:g} times the nadir "
        "and above the upper limit of normal ({upper_limit_normal_ng_ml:g} ng/mL)"
    ),
    "doubling_time": (
        "doubling within {doubling_time_months:g} months, above the upper limit of normal "
        "({upper_limit_normal_ng_ml:g} ng/mL)"
    ),
    "uln_crossed": (
        "from below to above the upper limit of normal ({upper_limit_normal_ng_ml:g} ng/mL) "
        "in the last {sustained_results} results"
    ),
}


def _trend_text(
    t: Trace, trend: str, slope: float, window: Sequence[Lab], doubling: float | None, rise: _Rise
) -> str:
    # The dates let a reader see how old the trend is (it is not limited to the lab window).
    text = (
        f"Trend {trend}: {slope:+.1f} ng/mL per month by least squares over {len(window)} results "
        f"from {window[0].date} to {window[-1].date}"
    )
    if rise.criteria:
        fired = "; ".join(_CRITERION_TEXT[c].format(**rise.thresholds) for c in rise.criteria)
        text += f"; rising by: {fired}"
    else:
        text += (
            f" (no rise criterion holds: slope above {t.num('afp.rising_slope_ng_ml_per_month'):g} "
            "ng/mL/month, a sustained multiple of the nadir, a fast doubling time or crossing the "
            "upper limit of normal)"
        )
    if doubling is not None:
        text += f"; doubling time {doubling:.1f} months"
    return text + ". 'Rising AFP' has no guideline definition: a prompt for imaging, not a diagnosis."
