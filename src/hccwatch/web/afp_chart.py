"""AFP over time as a server-rendered, accessible SVG (no script, no chart library).

The chart only draws: the values are the record's AFP results in the canonical unit (converted
by the record boundary, so IU/mL results appear in ng/mL), the dashed lines are the knowledge
base's AFP cut-offs (see :func:`chart_thresholds`), and the vertical lines are treatment dates.
The trend in the description is the assessment's own word, never recomputed here.

On a log scale a value of 0 (or below) has no place: such values are drawn as hollow
triangles on the bottom edge of the plot, labelled with their value, and the description
says how many there are. Output is deterministic (fixed number formatting, no ids from memory).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape as html_escape
from typing import Literal

from hccwatch.core.knowledge import JsonValue, Knowledge
from hccwatch.errors import KnowledgeError
from hccwatch.record.model import PatientRecord
from hccwatch.web.wording import wording

__all__ = [
    "AfpChart",
    "AfpPoint",
    "Scale",
    "Threshold",
    "TreatmentMarker",
    "afp_points",
    "chart_thresholds",
    "render_chart",
    "treatment_markers",
]

Scale = Literal["linear", "log"]

# Drawing geometry in SVG user units; the SVG scales to its container (viewBox).
WIDTH, HEIGHT = 720, 360
LEFT, RIGHT, TOP, BOTTOM = 64, 84, 72, 44
# Every point is labelled up to this many; above it only the first, last, highest and lowest
# are, so labels never pile up (the table beside the chart lists every value).
LABEL_ALL_UP_TO = 24
# A single date (or all on one day) gets this much room either side.
PAD_DAYS = 30
PAD_SHARE = 30  # otherwise a thirtieth of the span either side
MARKER_LABEL_ROWS = 3
LABEL_GAP = 12  # the least vertical distance between two cut-off labels
# A log axis spans at most this many decades below its top; anything lower sits on its floor.
MAX_DECADES = 7
_LINEAR_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)
_MAX_Y_TICKS = 6
_MONTH_STEPS = (1, 2, 3, 6, 12, 24, 60, 120, 240)
_MAX_X_TICKS = 8
# Labels switch to scientific notation outside this range of magnitudes.
_SCIENTIFIC_FROM, _SCIENTIFIC_BELOW = 1e6, 1e-3


@dataclass(frozen=True)
class AfpPoint:
    """One AFP result: ``value`` in the canonical unit; ``given`` as the laboratory reported it."""

    date: dt.date
    value: float
    given_value: float
    given_unit: str | None


@dataclass(frozen=True)
class Threshold:
    """A dashed line: a knowledge-base cut-off with its sources."""

    key: str
    label: str
    value: float
    citations: tuple[str, ...]
    status: str
    short: str = ""  # the label beside the line, in the chart's right margin (default: ``label``)


@dataclass(frozen=True)
class TreatmentMarker:
    date: dt.date
    label: str


@dataclass(frozen=True)
class AfpChart:
    svg: str
    scale: Scale
    summary: str
    unit: str
    points: tuple[AfpPoint, ...]
    shown_thresholds: tuple[Threshold, ...]
    off_chart_thresholds: tuple[Threshold, ...]
    markers: tuple[TreatmentMarker, ...]


# ---------------------------------------------------------------- inputs


def afp_points(record: PatientRecord) -> tuple[AfpPoint, ...]:
    """The record's AFP results, oldest first, each converted by the record's own boundary."""
    labs = sorted((lab for lab in record.labs if lab.test == "afp"), key=lambda lab: lab.date)
    return tuple(AfpPoint(lab.date, lab.canonical.value, lab.value, lab.unit) for lab in labs)


def treatment_markers(record: PatientRecord) -> tuple[TreatmentMarker, ...]:
    names = wording("en").treatments
    return tuple(
        TreatmentMarker(t.date, names.get(t.type, t.type))
        for t in sorted(record.treatments, key=lambda t: (t.date, t.type))
    )


def _number(raw: JsonValue) -> float | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        return None
    return float(raw)


def chart_thresholds(
    knowledge: Knowledge, afp_values: Mapping[str, JsonValue] | None = None
) -> tuple[Threshold, ...]:
    """The AFP cut-offs to draw: the upper limit of normal and every reported threshold.

    The upper limit is the one the assessment's rise criteria used (``rise_thresholds``) when
    the stored AFP finding names it, else the knowledge entry; the others are the entries
    ``afp.threshold_ids`` lists. A malformed entry is left out rather than guessed at.
    """
    words = wording("en").chart
    out: list[Threshold] = []
    uln_key = "afp.upper_limit_normal_ng_ml"
    try:
        uln = knowledge.entry(uln_key)
    except KnowledgeError:
        uln = None
    used = (afp_values or {}).get("rise_thresholds")
    used_uln = _number(used.get("upper_limit_normal_ng_ml")) if isinstance(used, dict) else None
    uln_value = used_uln if used_uln is not None else (_number(uln.value) if uln is not None else None)
    if uln is not None and uln_value is not None:
        label = words["uln"].format(value=_fmt(uln_value), unit=uln.unit or "")
        short = words["uln_short"].format(value=_fmt(uln_value))
        out.append(Threshold(uln_key, label, uln_value, uln.citations, uln.status, short))
    try:
        ids = knowledge.entry("afp.threshold_ids").value
    except KnowledgeError:
        ids = []
    for tid in ids if isinstance(ids, list) else []:
        key = f"afp.threshold_ng_ml.{tid}"
        try:
            entry = knowledge.entry(key)
        except KnowledgeError:
            continue
        value = _number(entry.value)
        if value is not None:
            label = words["threshold"].format(value=_fmt(value), unit=entry.unit or "")
            out.append(Threshold(key, label, value, entry.citations, entry.status, _fmt(value)))
    return tuple(sorted(out, key=lambda t: (t.value, t.key)))


# ---------------------------------------------------------------- scales


def _fmt(v: float) -> str:
    """A number as a short, deterministic label: 12, 12.5, 0.25, 1.2e+05."""
    if not math.isfinite(v):
        return "?"
    if v != 0 and (abs(v) >= _SCIENTIFIC_FROM or abs(v) < _SCIENTIFIC_BELOW):
        return f"{v:.2g}"
    if v == int(v):
        return str(int(v))
    text = f"{v:.2f}" if abs(v) >= 1 else f"{v:.3g}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _c(v: float) -> str:
    """An SVG coordinate with fixed precision (deterministic output)."""
    return f"{v:.1f}"


def _linear_ticks(top: float) -> tuple[float, list[float]]:
    """A round top and evenly spaced ticks from 0 (1-2-2.5-5 steps)."""
    raw = top / _MAX_Y_TICKS
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(s * magnitude for s in _LINEAR_STEPS if s * magnitude >= raw)
    count = max(math.ceil(top / step - 1e-9), 1)
    return step * count, [step * i for i in range(count + 1)]


@dataclass(frozen=True)
class _YAxis:
    scale: Scale
    low: float
    high: float
    ticks: tuple[float, ...]

    def __call__(self, value: float) -> float:
        height = HEIGHT - TOP - BOTTOM
        if self.scale == "log":
            if value <= 0:
                return float(HEIGHT - BOTTOM)
            share = (math.log10(value) - math.log10(self.low)) / (
                math.log10(self.high) - math.log10(self.low)
            )
        else:
            share = (value - self.low) / (self.high - self.low)
        share = min(max(share, 0.0), 1.0)
        return HEIGHT - BOTTOM - share * height

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high and (self.scale == "linear" or value > 0)


def _y_axis(values: Sequence[float], floor_line: float | None, scale: Scale) -> _YAxis:
    """The y range covers every value and the lowest cut-off (so "below it" is visible)."""
    finite = [v for v in values if math.isfinite(v)]
    top = max([*finite, floor_line or 0.0, 0.0])
    if scale == "log":
        positive = [v for v in [*finite, floor_line or 0.0] if v > 0]
        if not positive:
            positive = [1.0]
        low_exp = math.floor(math.log10(min(positive)))
        high_exp = max(math.ceil(math.log10(max(positive))), low_exp + 1)
        if 10.0**high_exp <= max(positive):
            high_exp += 1
        low_exp = max(low_exp, high_exp - MAX_DECADES)
        decades = tuple(10.0**e for e in range(low_exp, high_exp + 1))
        return _YAxis("log", 10.0**low_exp, 10.0**high_exp, decades)
    if top <= 0:
        top = 1.0
    high, ticks = _linear_ticks(top * 1.05)
    return _YAxis("linear", 0.0, high, tuple(ticks))


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class _XAxis:
    first: dt.date
    last: dt.date
    ticks: tuple[dt.date, ...]

    def __call__(self, day: dt.date) -> float:
        span = max((self.last - self.first).days, 1)
        return LEFT + (day - self.first).days / span * (WIDTH - LEFT - RIGHT)


def _x_axis(dates: Sequence[dt.date]) -> _XAxis:
    first, last = min(dates), max(dates)
    if (last - first).days < PAD_DAYS:
        first, last = first - dt.timedelta(days=PAD_DAYS), last + dt.timedelta(days=PAD_DAYS)
    else:  # room either side so the first and last points do not sit on the frame
        pad = dt.timedelta(days=max((last - first).days // PAD_SHARE, 1))
        first, last = first - pad, last + pad
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    step = next((s for s in _MONTH_STEPS if months / s <= _MAX_X_TICKS), _MONTH_STEPS[-1])
    start = dt.date(first.year, 1, 1) if step >= 12 else dt.date(first.year, first.month, 1)
    ticks: list[dt.date] = []
    day = start
    while day <= last:
        if day >= first:
            ticks.append(day)
        day = _add_months(day, step)
    return _XAxis(first, last, tuple(ticks))


# ---------------------------------------------------------------- drawing

# Characters XML 1.0 cannot hold at all (escaping does not help): dropped from any text shown.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def escape(text: str) -> str:
    return html_escape(_NOT_XML.sub("", text), quote=True)


def _text(x: float, y: float, text: str, cls: str, anchor: str = "middle") -> str:
    return f'<text x="{_c(x)}" y="{_c(y)}" class="{cls}" text-anchor="{anchor}">{escape(text)}</text>'


def _summary(
    points: Sequence[AfpPoint],
    unit: str,
    trend: str | None,
    below_zero: int,
    off_chart: Sequence[Threshold],
    scale: Scale,
) -> str:
    words = wording("en").chart
    if not points:
        return words["empty"]
    latest = points[-1]
    high = max(points, key=lambda p: (p.value, p.date))
    low = min(points, key=lambda p: (p.value, p.date))
    parts = [
        words["summary"].format(
            n=len(points),
            first=points[0].date.isoformat(),
            last=latest.date.isoformat(),
            latest=_fmt(latest.value),
            unit=unit,
            high=_fmt(high.value),
            high_date=high.date.isoformat(),
            low=_fmt(low.value),
            low_date=low.date.isoformat(),
        )
    ]
    parts.append(words["trend"].format(trend=trend) if trend else words["no_trend"])
    if scale == "log" and below_zero:
        parts.append(words["log_zero"].format(n=below_zero))
    if off_chart:
        parts.append(
            words["off_chart"].format(values=", ".join(f"{_fmt(t.value)} {unit}" for t in off_chart))
        )
    return " ".join(parts)


def render_chart(
    points: Sequence[AfpPoint],
    thresholds: Sequence[Threshold] = (),
    markers: Sequence[TreatmentMarker] = (),
    *,
    scale: Scale = "linear",
    unit: str = "ng/mL",
    trend: str | None = None,
    title: str | None = None,
) -> AfpChart:
    """The chart of ``points`` (any number, any order); never raises on finite values."""
    words = wording("en").chart
    pts = tuple(sorted((p for p in points if math.isfinite(p.value)), key=lambda p: (p.date, p.value)))
    cuts = tuple(sorted((t for t in thresholds if math.isfinite(t.value)), key=lambda t: (t.value, t.key)))
    heading = title or words["title"].format(unit=unit)
    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'class="afp-chart" aria-labelledby="afp-chart-title afp-chart-desc">'
    ]
    if not pts:
        summary = _summary(pts, unit, trend, 0, (), scale)
        body = _text(WIDTH / 2, HEIGHT / 2, words["empty"], "afp-empty")
        svg = "".join(
            [
                *head,
                f'<title id="afp-chart-title">{escape(heading)}</title>',
                f'<desc id="afp-chart-desc">{escape(summary)}</desc>',
                body,
                "</svg>",
            ]
        )
        return AfpChart(svg, scale, summary, unit, pts, (), cuts, tuple(markers))
    lowest_cut = cuts[0].value if cuts else None
    # The lowest reported cut-off above the upper limit of normal stays in view (it is the recall
    # line); the upper limit itself is the first cut-off, so take the second when there is one.
    floor_line = cuts[1].value if len(cuts) > 1 else lowest_cut
    y = _y_axis([p.value for p in pts], floor_line, scale)
    shown = tuple(t for t in cuts if y.contains(t.value))
    off = tuple(t for t in cuts if not y.contains(t.value))
    marks = tuple(sorted(markers, key=lambda m: (m.date, m.label)))
    x = _x_axis([p.date for p in pts] + [m.date for m in marks])
    # On a log scale, 0 and anything below the axis floor sit on the floor, drawn differently.
    floored = {i for i, p in enumerate(pts) if scale == "log" and p.value < y.low}
    summary = _summary(pts, unit, trend, len(floored), off, scale)
    out = [
        *head,
        f'<title id="afp-chart-title">{escape(heading)}</title>',
        f'<desc id="afp-chart-desc">{escape(summary)}</desc>',
    ]
    plot_left, plot_right = LEFT, WIDTH - RIGHT
    plot_top, plot_bottom = TOP, HEIGHT - BOTTOM
    # Axes and ticks.
    out.append('<g class="afp-axes" aria-hidden="true">')
    out.append(
        f'<line x1="{plot_left}" y1="{plot_bottom}" x2="{plot_right}" y2="{plot_bottom}" class="afp-axis"/>'
    )
    out.append(
        f'<line x1="{plot_left}" y1="{plot_top}" x2="{plot_left}" y2="{plot_bottom}" class="afp-axis"/>'
    )
    for tick in y.ticks:
        ty = y(tick)
        out.append(f'<line x1="{plot_left}" y1="{_c(ty)}" x2="{plot_right}" y2="{_c(ty)}" class="afp-grid"/>')
        out.append(_text(plot_left - 6, ty + 4, _fmt(tick), "afp-tick", "end"))
    for day in x.ticks:
        tx = x(day)
        out.append(
            f'<line x1="{_c(tx)}" y1="{plot_bottom}" x2="{_c(tx)}" y2="{plot_bottom + 5}" class="afp-axis"/>'
        )
        out.append(_text(tx, plot_bottom + 18, day.strftime("%Y-%m"), "afp-tick"))
    out.append(_text(8, 14, f"AFP ({unit}{', log' if scale == 'log' else ''})", "afp-unit", "start"))
    out.append("</g>")
    # Thresholds: dashed, labelled in the right margin; labels of close lines are pushed apart
    # (upwards, lowest line first) so they stay readable.
    out.append('<g class="afp-thresholds">')
    label_y = float(HEIGHT)
    for t in shown:  # lowest value first, so lowest on the chart first
        ty = y(t.value)
        label_y = min(ty + 4, label_y - LABEL_GAP)
        out.append(
            f'<line x1="{plot_left}" y1="{_c(ty)}" x2="{plot_right}" y2="{_c(ty)}" '
            f'class="afp-threshold" stroke-dasharray="6 4"><title>{escape(t.label)}</title></line>'
        )
        out.append(_text(plot_right + 4, label_y, t.short or t.label, "afp-threshold-label", "start"))
    out.append("</g>")
    # Treatments: vertical lines, labels staggered over rows above the plot.
    out.append('<g class="afp-treatments">')
    for i, m in enumerate(marks):
        tx = x(m.date)
        row = i % MARKER_LABEL_ROWS
        out.append(
            f'<line x1="{_c(tx)}" y1="{plot_top - 4 - 12 * row}" x2="{_c(tx)}" y2="{plot_bottom}" '
            f'class="afp-treatment" stroke-dasharray="2 3"/>'
        )
        out.append(
            _text(
                tx + 3,
                plot_top - 8 - 12 * row,
                f"{m.label} {m.date.isoformat()}",
                "afp-treatment-label",
                "start",
            )
        )
    out.append("</g>")
    # The line through the values (values at or below 0 on a log scale are not joined).
    joined = [p for i, p in enumerate(pts) if i not in floored]
    if len(joined) > 1:
        path = " ".join(f"{_c(x(p.date))},{_c(y(p.value))}" for p in joined)
        out.append(f'<polyline points="{path}" class="afp-line" fill="none"/>')
    labelled = set(range(len(pts))) if len(pts) <= LABEL_ALL_UP_TO else {0, len(pts) - 1}
    if len(pts) > LABEL_ALL_UP_TO:
        labelled |= {pts.index(max(pts, key=lambda p: p.value)), pts.index(min(pts, key=lambda p: p.value))}
    out.append('<g class="afp-points">')
    for i, p in enumerate(pts):
        px, py = x(p.date), y(p.value)
        tip = f"{p.date.isoformat()}: {_fmt(p.value)} {unit}"
        if i in floored:
            tip += f" ({words['log_zero_point']})"
            out.append(
                f'<path d="M{_c(px)},{_c(py - 7)} l5,8 h-10 z" class="afp-point afp-point-zero">'
                f"<title>{escape(tip)}</title></path>"
            )
        else:
            out.append(
                f'<circle cx="{_c(px)}" cy="{_c(py)}" r="3.5" class="afp-point">'
                f"<title>{escape(tip)}</title></circle>"
            )
        if i in labelled:
            out.append(_text(px, py - 9, _fmt(p.value), "afp-value"))
    out.append("</g></svg>")
    return AfpChart("".join(out), scale, summary, unit, pts, shown, off, marks)
