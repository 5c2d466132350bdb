"""Transplant criteria that add tumour biology (AFP, DCP, grade) to the tumour burden.

When the criterion below holds and there is no macrovascular invasion or extrahepatic
spread, Then the patient is within it; otherwise beyond. AFP is the latest AFP within the
lab window (ng/mL); DCP must be in mAU/mL (a DCP in ng/mL is assay-specific and is not
converted).

| Criterion (key)      | Within if                                                      | Source          |
|----------------------|----------------------------------------------------------------|-----------------|
| Metroticket 2.0      | largest + number ≤ 7 if AFP < 200; ≤ 5 if 200–400;             | MAZZAFERRO-2018 |
| (metroticket_2)      | ≤ 4 if 400–1000; never if AFP > 1000                           | FATOUROU-2018   |
| French AFP model     | points ≤ 2 (largest ≤3 / 3–6 / >6 cm: 0/1/4; nodules 1–3 / ≥4: | DUVOUX-2012     |
| (afp_model)          | 0/2; AFP ≤100 / 100–1000 / >1000: 0/2/3)                       |                 |
| Hangzhou             | total diameter ≤ 8 cm; or > 8 cm with grade I–II and           | PAVEL-2018      |
|                      | AFP ≤ 400 ng/mL                                                |                 |
| Kyoto                | ≤ 10 nodules each ≤ 5 cm and DCP ≤ 400 mAU/mL                  | PAVEL-2018      |
| 5-5-500              | ≤ 5 nodules each ≤ 5 cm and AFP ≤ 500 ng/mL (secondary)        | JHBPS-2020-5-5-500 |
| (five_five_500)      |                                                                |                 |

The Metroticket 2.0 source gives its bands as "< 200", "200–400", "400–1000": whether
exactly 400 and 1000 fall in the lower or the upper band is not stated, so the band table
(``transplant.metroticket_2.bands``) carries an explicit ``inclusive`` flag per edge; the
default puts 400 and 1000 in the lower band.
"""

from __future__ import annotations

from collections.abc import Callable

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding, Trace
from hccwatch.core.knowledge import JsonValue
from hccwatch.core.rules.transplant._decide import (
    Case,
    Facts,
    Marker,
    arms_text,
    band,
    cases,
    conclude,
    decide,
    fits,
    latest_afp,
    open_trace,
    read_arms,
    span,
)

__all__ = ["afp_model", "five_five_500", "hangzhou", "kyoto", "metroticket_2", "read_dcp"]

_METROTICKET = "transplant.metroticket_2.bands"


def metroticket_2(ctx: Context, facts: Facts) -> Finding:
    t = open_trace(ctx, facts, "metroticket_2")
    afp = latest_afp(ctx, t)

    def limit(c: Case) -> float | None:
        row = band(t, _METROTICKET, c.afp_ng_ml)
        return None if row.row.get("outside") is True else row.number(_METROTICKET, "max_sum")

    def test(c: Case) -> bool:
        cap = limit(c)
        return cap is not None and c.extent.largest_cm + c.extent.nodules <= cap

    best, worst = cases(facts.burden, afp=afp.value)
    within = decide(test, best, worst, facts.exclusions.state)
    low, high = (c.extent.largest_cm + c.extent.nodules for c in (best, worst))
    values: dict[str, JsonValue] = {
        **facts.burden.exact_values(),
        "sum": low if low == high else None,
        "afp_ng_ml": afp.value,
    }
    if afp.value is None:
        rule = f"the limit depends on the AFP band and is at most {limit(best):g}"
        values |= {"band": None, "limit": None}
    else:
        found = band(t, _METROTICKET, afp.value)
        cap = limit(best)
        values |= {"band": found.label("AFP", "ng/mL"), "limit": cap}
        rule = (
            f"{found.label('AFP', 'ng/mL')} is outside Metroticket 2.0 whatever the tumours"
            if cap is None
            else f"in the band {found.label('AFP', 'ng/mL')} the sum must be ≤ {cap:g}"
        )
    detail = (
        f"{facts.burden.describe()}; {afp.describe()}; largest diameter (cm) + number of nodules = "
        f"{span(low, high)}; {rule}"
    )
    return conclude(t, facts, within, "Metroticket 2.0", detail=detail, values=values)


def afp_model(ctx: Context, facts: Facts) -> Finding:
    t = open_trace(ctx, facts, "afp_model")
    afp = latest_afp(ctx, t)
    cut = t.num("transplant.afp_model.max_points")

    def parts(c: Case) -> tuple[float, float, float]:
        return (
            _points(t, "largest", c.extent.largest_cm),
            _points(t, "nodule", c.extent.nodules),
            _points(t, "afp", c.afp_ng_ml),
        )

    best, worst = cases(facts.burden, afp=afp.value)
    # Each case scored once (the bands are read in the same order as scoring on demand would).
    best_parts = parts(best)
    size_pts, n_pts, afp_pts = best_parts
    points, most = sum(best_parts), sum(parts(worst))
    within = decide(lambda c: (points if c is best else most) <= cut, best, worst, facts.exclusions.state)
    b = facts.burden.exact_values()
    terms = (
        f"largest diameter {_pts(size_pts, b['largest_cm'])} + nodules {_pts(n_pts, b['nodules'])} "
        f"+ AFP {_pts(afp_pts, afp.value)}"
    )
    detail = (
        f"{facts.burden.describe()}; {afp.describe()}; points: {terms} = {span(points, most)} "
        f"(≤ {cut:g} is low risk, above is high risk)"
    )
    values: dict[str, JsonValue] = {
        **b,
        "afp_ng_ml": afp.value,
        "points": int(points) if points == most else None,
    }
    return conclude(t, facts, within, "the French AFP model", detail=detail, values=values)


def _points(t: Trace, part: str, value: float) -> float:
    key = f"transplant.afp_model.{part}_points"
    return band(t, key, value).number(key, "points")


def _pts(points: float, known: object) -> str:
    return f"{points:g}" if known is not None else f"unknown (≥ {points:g})"


def hangzhou(ctx: Context, facts: Facts) -> Finding:
    t = open_trace(ctx, facts, "hangzhou")
    max_total = t.num("transplant.hangzhou.max_total_cm")
    burden = facts.burden
    low_ttd, high_ttd = burden.extent(worst=False).total_cm, burden.extent(worst=True).total_cm
    detail = (
        f"{burden.describe()}; total diameter {span(low_ttd, high_ttd)} cm (within if ≤ {max_total:g} cm)"
    )
    if high_ttd <= max_total:
        best, worst = cases(burden)
        within = decide(lambda c: c.extent.total_cm <= max_total, best, worst, facts.exclusions.state)
        return conclude(t, facts, within, "Hangzhou", detail=detail, values=burden.exact_values())
    # Beyond the size limit the criterion turns on biology, so grade and AFP are needed only here.
    max_afp = t.num("transplant.hangzhou.max_afp_ng_ml")
    low_grades = t.items("transplant.hangzhou.low_grades")
    afp = latest_afp(ctx, t)
    grade = ctx.record.histologic_grade
    if grade is None:
        t.need("histologic_grade")
    else:
        t.used("histologic_grade", grade)
    low_grade = None if grade is None else grade in low_grades

    def test(c: Case) -> bool:
        return c.extent.total_cm <= max_total or (c.low_grade and c.afp_ng_ml <= max_afp)

    best, worst = cases(burden, afp=afp.value, low_grade=low_grade)
    within = decide(test, best, worst, facts.exclusions.state)
    detail += (
        f"; above that it requires histological grade I–II ({'/'.join(str(g) for g in low_grades)}) and "
        f"AFP ≤ {max_afp:g} ng/mL: grade {grade or 'unknown'}, {afp.describe()}"
    )
    values: dict[str, JsonValue] = {**burden.exact_values(), "grade": grade, "afp_ng_ml": afp.value}
    return conclude(t, facts, within, "Hangzhou", detail=detail, values=values)


def read_dcp(ctx: Context, t: Trace) -> Marker:
    """The latest DCP in mAU/mL; a dated lab result takes precedence over the undated record field."""
    unit = "mAU/mL"
    if ctx.labs("dcp"):
        lab = ctx.latest_lab(t, "dcp")
        if lab is None:
            return Marker("DCP", None, unit)
        if lab.canonical.unit != unit:
            t.need(
                f"labs.dcp in {unit} (the latest, {lab.date.isoformat()}, is in {lab.canonical.unit}; "
                "DCP units are assay-specific and cannot be converted)"
            )
            return Marker("DCP", None, unit)
        return Marker("DCP", lab.canonical.value, unit)
    if ctx.record.dcp_mau_ml is not None:
        t.used("dcp_mau_ml", ctx.record.dcp_mau_ml, unit)
        return Marker("DCP", ctx.record.dcp_mau_ml, unit)
    t.need("labs.dcp (or dcp_mau_ml)")
    return Marker("DCP", None, unit)


def _arms_and_marker(
    t: Trace,
    facts: Facts,
    name: str,
    entries: tuple[str, str],
    marker: Marker,
    pick: Callable[[Case], float],
    extremes: tuple[Case, Case],
) -> Finding:
    """Burden within the arms (``entries[0]``) and a marker at or below its cap (``entries[1]``)."""
    arms = read_arms(t, entries[0])
    cap = t.num(entries[1])
    within = decide(lambda c: fits(arms, c.extent) and pick(c) <= cap, *extremes, facts.exclusions.state)
    detail = (
        f"{facts.burden.describe()}; {marker.describe()}; {name} requires {arms_text(arms)} "
        f"and {marker.name} ≤ {cap:g} {marker.unit}"
    )
    values: dict[str, JsonValue] = {**facts.burden.exact_values(), marker.key: marker.value}
    return conclude(t, facts, within, name, detail=detail, values=values)


def kyoto(ctx: Context, facts: Facts) -> Finding:
    t = open_trace(ctx, facts, "kyoto")
    entries = ("transplant.kyoto.arms", "transplant.kyoto.max_dcp_mau_ml")
    dcp = read_dcp(ctx, t)
    extremes = cases(facts.burden, dcp=dcp.value)
    return _arms_and_marker(t, facts, "Kyoto", entries, dcp, lambda c: c.dcp_mau_ml, extremes)


def five_five_500(ctx: Context, facts: Facts) -> Finding:
    t = open_trace(ctx, facts, "five_five_500")
    entries = ("transplant.five_five_500.arms", "transplant.five_five_500.max_afp_ng_ml")
    afp = latest_afp(ctx, t)
    extremes = cases(facts.burden, afp=afp.value)
    return _arms_and_marker(t, facts, "5-5-500", entries, afp, lambda c: c.afp_ng_ml, extremes)
