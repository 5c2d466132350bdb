"""RETREAT: the post-transplant recurrence score that tailors surveillance after a liver transplant.

When a person has had a liver transplant for HCC,
Then RETREAT = points for AFP at transplant + points for microvascular invasion on the explant
+ points for (largest viable tumour in cm + number of viable tumours) on the explant, and the
score selects the suggested surveillance schedule (MEHTA-2017; UNOS validation MEHTA-2018):

| component                              | points                                        |
|----------------------------------------|-----------------------------------------------|
| AFP at transplant, ng/mL               | 0-20: 0, 21-99: 1, 100-999: 2, >= 1000: 3      |
| microvascular invasion                 | 2                                             |
| largest viable cm + viable count       | 0: 0, 1-4.9: 1, 5-9.9: 2, >= 10: 3             |

| score | suggested surveillance                                        |
|-------|---------------------------------------------------------------|
| 0     | none                                                          |
| 1-3   | every 6 months for 2 years                                    |
| 4     | every 6 months for 5 years                                    |
| >= 5  | every 3-4 months for 2 years, then every 6 months to year 5   |

Underneath every score the schedules keep the AFP and chest/abdominal CT/MRI that guidelines give
all recipients (every 6-12 months, AASLD 2023 via BMJ Best Practice [S]; held at 12 months, open-ended,
in ``surveillance.schedule.retreat_*``): "none" above means nothing beyond that floor.

AFP at transplant is the latest AFP on or before the transplant date, if it is no older than the
lab window (``labs.window_days.afp``) on that date. When inputs are missing the score is a range
(missing parts at 0 and at their maximum); if both ends select the same schedule, that schedule
stands and the gap is still listed; otherwise no schedule is chosen and the caller falls back.

Values: ``score`` (None unless every part is known), ``score_range`` [low, high], ``points`` per
part (None where unknown), ``afp_at_transplant`` {value, date} or None, ``transplant_date``, and
``schedule`` (the selected schedule name, or None).
"""

from __future__ import annotations

from dataclasses import dataclass

from hccwatch.core.context import Context
from hccwatch.core.finding import Trace
from hccwatch.core.knowledge import JsonValue
from hccwatch.errors import KnowledgeError
from hccwatch.record.model import Lab, Treatment

__all__ = ["Retreat", "retreat"]


@dataclass(frozen=True)
class Retreat:
    """The score (or its range), its parts, and the schedule it selects (None if undecided)."""

    values: dict[str, JsonValue]
    schedule: str | None


def _band(bands: list[JsonValue], value: float, key: str) -> JsonValue:
    """``key`` of the last band that ``value`` reaches (bands sorted by their lower edge).

    A band starts at ``min`` (inclusive) or ``above`` (exclusive): the published integer bands
    (0-20, 21-99) leave 20.5 undefined, and "above 20" is their continuous reading.
    """
    chosen: JsonValue = None
    for band in bands:
        if not isinstance(band, dict):
            raise KnowledgeError(f"RETREAT band {band!r} is not a table")
        low, above = band.get("min"), band.get("above")
        if isinstance(low, int | float) and not isinstance(low, bool):
            reached = value >= float(low)
        elif isinstance(above, int | float) and not isinstance(above, bool):
            reached = value > float(above)
        else:
            raise KnowledgeError(f"RETREAT band {band!r} needs a numeric 'min' or 'above'")
        if reached:
            chosen = band[key]
    return chosen


def _points(bands: list[JsonValue], value: float) -> int:
    return int(float(_band(bands, value, "points")))  # type: ignore[arg-type]


def _max_points(bands: list[JsonValue]) -> int:
    return max(int(float(b["points"])) for b in bands if isinstance(b, dict))  # type: ignore[arg-type]


def _afp_at_transplant(ctx: Context, t: Trace, transplant: Treatment) -> Lab | None:
    window = t.num("labs.window_days.afp")
    before = [lab for lab in ctx.labs("afp") if lab.date <= transplant.date]
    if not before:
        t.need("labs.afp (at transplant)")
        return None
    lab = before[-1]
    conflict = ctx.lab_conflict("afp", lab.date)
    if conflict is not None:
        # The AFP at transplant is that day's value: an older one would be a different score.
        t.need(f"{conflict} (at transplant)")
        return None
    if (transplant.date - lab.date).days > window:
        t.need(f"labs.afp (at transplant: latest, {lab.date.isoformat()}, is older than {window:g} days)")
        return None
    t.used("retreat.afp_at_transplant", lab.canonical.value, lab.canonical.unit, lab.date)
    return lab


def _explant_points(ctx: Context, t: Trace) -> tuple[int | None, int | None]:
    """Points for microvascular invasion and for viable tumour burden (None where unknown)."""
    explant = ctx.record.explant
    mvi = None if explant is None else explant.microvascular_invasion
    largest = None if explant is None else explant.largest_viable_cm
    count = None if explant is None else explant.viable_count
    for name, value in (
        ("explant.microvascular_invasion", mvi),
        ("explant.largest_viable_cm", largest),
        ("explant.viable_count", count),
    ):
        if value is None:
            t.need(name)
        else:
            t.used(name, value)
    mvi_points = None if mvi is None else (int(t.num("retreat.mvi_points")) if mvi else 0)
    tumour_points = (
        None
        if largest is None or count is None
        else _points(t.items("retreat.tumour_bands"), largest + count)
    )
    return mvi_points, tumour_points


def retreat(ctx: Context, t: Trace, transplant: Treatment) -> Retreat:
    """RETREAT for ``transplant``; gaps are recorded on ``t``."""
    lab = _afp_at_transplant(ctx, t, transplant)
    afp_bands = t.items("retreat.afp_bands_ng_ml")
    tumour_bands = t.items("retreat.tumour_bands")
    mvi_points, tumour_points = _explant_points(ctx, t)
    parts: dict[str, int | None] = {
        "afp": None if lab is None else _points(afp_bands, lab.canonical.value),
        "microvascular_invasion": mvi_points,
        "viable_tumour": tumour_points,
    }
    ceilings = {
        "afp": _max_points(afp_bands),
        "microvascular_invasion": int(t.num("retreat.mvi_points")),
        "viable_tumour": _max_points(tumour_bands),
    }
    low = sum(p or 0 for p in parts.values())
    high = sum(ceilings[k] if p is None else p for k, p in parts.items())
    by_score = t.items("retreat.schedule_by_score")
    low_schedule, high_schedule = (str(_band(by_score, s, "schedule")) for s in (low, high))
    complete = all(p is not None for p in parts.values())
    schedule = low_schedule if low_schedule == high_schedule else None
    points: dict[str, JsonValue] = {k: v for k, v in parts.items()}
    values: dict[str, JsonValue] = {
        "score": low if complete else None,
        "score_range": [low, high],
        "points": points,
        "afp_at_transplant": None
        if lab is None
        else {"value": lab.canonical.value, "date": lab.date.isoformat()},
        "transplant_date": transplant.date.isoformat(),
        "schedule": schedule,
    }
    return Retreat(values=values, schedule=schedule)
