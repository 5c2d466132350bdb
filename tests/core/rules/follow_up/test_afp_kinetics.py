"""AFP kinetics: latest, nadir after treatment, thresholds, trend, ratio and doubling time."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hccwatch import default_knowledge, parse_record
from hccwatch.core.rules.follow_up.afp_kinetics import afp_kinetics, least_squares_slope
from strategies import records
from support import context, record

KEYS = {
    "latest",
    "nadir",
    "trend",
    "rise_criteria",
    "rise_thresholds",
    "slope_ng_ml_per_month",
    "ratio_to_nadir",
    "doubling_time_months",
    "normalisation",
    "normalisation_expected_by",
    "above_threshold",
    "thresholds_exceeded",
    "values_used",
}
AS_OF = dt.date(2026, 11, 24)


def _series(*points: tuple[str, float], unit: str = "ng/mL") -> list[dict[str, Any]]:
    return [{"test": "afp", "value": v, "unit": unit, "date": d} for d, v in points]


def _run(
    labs: list[dict[str, Any]], treatments: list[dict[str, Any]] | None = None, as_of: dt.date = AS_OF
) -> Any:
    return afp_kinetics(context(record(labs=labs, treatments=treatments or []), as_of))


RESECTION = [{"type": "resection", "date": "2025-09-16"}]


@pytest.mark.parametrize(
    ("points", "trend"),
    [
        # The 'rising AFP after ablation' example: last three 14.8, 31, 78 over 6 months.
        ((("2026-01-13", 6.0), ("2026-05-12", 14.8), ("2026-08-18", 31.0), ("2026-11-05", 78.0)), "rising"),
        ((("2026-03-16", 3.8), ("2026-06-15", 3.5), ("2026-09-14", 3.9), ("2026-11-10", 3.6)), "stable"),
        ((("2025-10-01", 900.0), ("2026-01-01", 300.0), ("2026-04-01", 60.0)), "falling"),
    ],
)
def test_trend(points: tuple[tuple[str, float], ...], trend: str) -> None:
    f = _run(_series(*points), RESECTION)
    assert set(f.values) == KEYS
    assert f["trend"] == trend
    assert f["values_used"] == 3
    assert "TURSHUDZHYAN-2022" in f.citations
    # Verified against Giard 2018 (issue 11); it was derived in LT candidates, which the note says.
    assert "GIARD-2018" in f.citations and "afp.rising_slope_ng_ml_per_month" not in f.unverified


def test_slope_is_least_squares_in_ng_ml_per_month() -> None:
    # 10 -> 40 -> 70 ng/mL at 0, 3 and 6 months (91 and 183 days): 10 ng/mL per 30.4 days, nearly.
    f = _run(_series(("2026-01-01", 10), ("2026-04-02", 40), ("2026-07-03", 70)), RESECTION)
    months = [0, 91 / 30.4375, 183 / 30.4375]
    assert f["slope_ng_ml_per_month"] == pytest.approx(least_squares_slope(months, [10, 40, 70]))
    assert f["slope_ng_ml_per_month"] == pytest.approx(9.95, abs=0.05)
    assert f["trend"] == "rising"


def test_least_squares_slope_helper() -> None:
    assert least_squares_slope([0, 1, 2], [1, 3, 5]) == pytest.approx(2)
    assert least_squares_slope([1, 1, 1], [1, 2, 3]) is None


def test_doubling_time_for_an_exponential_rise() -> None:
    # Doubling every 3 months exactly (91 days): 25 -> 50 -> 100 -> 200.
    f = _run(
        _series(("2026-02-01", 25), ("2026-05-03", 50), ("2026-08-02", 100), ("2026-11-01", 200)), RESECTION
    )
    assert f["trend"] == "rising"
    assert f["doubling_time_months"] == pytest.approx(91 / 30.4375)
    assert f["ratio_to_nadir"] == pytest.approx(8.0)


def test_doubling_time_is_shown_whenever_afp_grows_even_when_stable() -> None:
    # 3.0 -> 3.5 -> 4.0 ng/mL inside the normal range: stable, yet its doubling time is computable.
    f = _run(_series(("2026-03-16", 3.0), ("2026-06-15", 3.5), ("2026-09-14", 4.0)), RESECTION)
    assert f["trend"] == "stable" and f["rise_criteria"] == []
    assert f["doubling_time_months"] == pytest.approx(14.4, abs=0.1)  # 6 months x ln 2 / ln(4/3)
    assert "doubling time 14.4 months" in f.explanation


def test_no_doubling_time_when_afp_falls() -> None:
    f = _run(_series(("2025-10-01", 900.0), ("2026-01-01", 300.0), ("2026-04-01", 60.0)), RESECTION)
    assert f["trend"] == "falling" and f["doubling_time_months"] is None


@pytest.mark.parametrize("count", [0, 1, 2])
def test_fewer_than_three_values_give_no_trend_and_say_so(count: int) -> None:
    points = (("2026-03-16", 5.0), ("2026-06-15", 8.0))[:count]
    f = _run(_series(*points), RESECTION)
    assert f["trend"] is None and f["slope_ng_ml_per_month"] is None
    assert f["values_used"] == count
    assert not f.determined
    assert any(m.startswith("labs.afp") for m in f.missing)


def test_nadir_is_after_the_last_curative_or_locoregional_treatment() -> None:
    labs = _series(
        ("2025-08-20", 86), ("2025-12-15", 4.1), ("2026-03-16", 3.8), ("2026-06-15", 3.5), ("2026-11-10", 7.0)
    )
    f = _run(labs, RESECTION)
    assert f["nadir"] == {"value": 3.5, "date": "2026-06-15"}
    assert f["latest"] == {"value": 7.0, "date": "2026-11-10"}
    assert f["ratio_to_nadir"] == pytest.approx(2.0)


def test_values_before_the_treatment_are_not_the_series() -> None:
    # Pre-resection 86 ng/mL must not count as the start of a 'falling' trend.
    f = _run(_series(("2025-08-20", 86), ("2025-12-15", 4.1), ("2026-03-16", 3.8)), RESECTION)
    assert f["values_used"] == 2 and f["trend"] is None


def test_without_treatment_the_nadir_is_the_lowest_on_record() -> None:
    f = _run(_series(("2026-03-16", 9.0), ("2026-06-15", 4.0), ("2026-09-14", 6.0)))
    assert f["nadir"] == {"value": 4.0, "date": "2026-06-15"}
    assert any("lowest AFP on record" in n for n in f.notes)


@pytest.mark.parametrize(
    ("value", "above", "exceeded"),
    [
        (19.9, False, []),
        (20.0, True, ["afp_20"]),  # recall at >= 20 ng/mL (AASLD 2023)
        (250.0, True, ["afp_20", "afp_200"]),
        (400.0, True, ["afp_20", "afp_200", "afp_400"]),
        (1500.0, True, ["afp_20", "afp_200", "afp_400", "afp_1000"]),
    ],
)
def test_thresholds(value: float, above: bool, exceeded: list[str]) -> None:
    f = _run(_series(("2026-11-01", value)))
    assert f["above_threshold"] is above
    assert f["thresholds_exceeded"] == exceeded


def test_iu_per_ml_is_converted_to_ng_ml() -> None:
    # V13 (clinical-scores §6): 100 IU/mL = 121 ng/mL.
    f = _run(_series(("2026-11-01", 100), unit="IU/mL"))
    assert f["latest"]["value"] == pytest.approx(121.0)
    assert f["thresholds_exceeded"] == ["afp_20"]


def test_a_stale_latest_value_is_shown_but_not_compared() -> None:
    f = _run(_series(("2025-01-01", 500)))
    assert f["latest"] == {"value": 500.0, "date": "2025-01-01"}
    assert f["above_threshold"] is None and f["thresholds_exceeded"] == []
    assert any("older than" in m for m in f.missing)


def test_future_dated_results_are_ignored() -> None:
    labs = _series(("2026-05-01", 5.0), ("2026-08-01", 5.2), ("2026-11-01", 5.1), ("2026-12-20", 900.0))
    f = _run(labs, RESECTION)
    assert f["latest"]["date"] == "2026-11-01"
    assert f["trend"] == "stable"


def test_no_afp_at_all() -> None:
    f = _run([])
    assert f["latest"] is None and f["trend"] is None and f["values_used"] == 0
    assert "labs.afp" in f.missing and not f.determined


@settings(max_examples=80, deadline=None)
@given(data=records)
def test_never_crashes_and_is_consistent(data: dict[str, Any]) -> None:
    rec = parse_record(data)
    f = afp_kinetics(context(rec))
    assert set(f.values) == KEYS
    assert f.to_dict() == afp_kinetics(context(rec)).to_dict()
    if f["trend"] is None:
        assert f["slope_ng_ml_per_month"] is None and f["doubling_time_months"] is None
        assert f["rise_criteria"] == []
    else:
        assert f["values_used"] >= 3
        assert (f["trend"] == "rising") == bool(f["rise_criteria"])
    if f["doubling_time_months"] is not None:
        assert f["doubling_time_months"] > 0
    if f["ratio_to_nadir"] is not None:
        assert f["ratio_to_nadir"] >= 1 or math.isclose(f["ratio_to_nadir"], 1)


def test_the_trend_names_the_dates_it_covers() -> None:
    # A trend from old results stays reported (a rise never followed up matters), with its dates shown.
    f = _run(
        _series(("2019-03-01", 5), ("2019-06-01", 30), ("2019-09-01", 80)),
        [{"type": "resection", "date": "2019-01-01"}],
    )
    assert f["trend"] == "rising" and f["above_threshold"] is None
    assert "over 3 results from 2019-03-01 to 2019-09-01" in f.explanation


# --- a rise seen as relative change (issue 6 §1) ---------------------------------------------------


def test_issue_series_6_15_48_in_eight_months_is_rising() -> None:
    # The issue's example: "stable" by the 7.5 ng/mL/month slope alone (+5.2), yet 8 times the nadir,
    # doubling about every 2.7 months and crossing the upper limit of normal.
    f = _run(_series(("2026-03-20", 6), ("2026-07-20", 15), ("2026-11-20", 48)), RESECTION)
    assert f["slope_ng_ml_per_month"] == pytest.approx(5.2, abs=0.1)
    assert f["trend"] == "rising"
    assert f["rise_criteria"] == ["nadir_multiple", "doubling_time", "uln_crossed"]
    assert f["rise_thresholds"] == {
        "slope_ng_ml_per_month": 7.5,
        "nadir_multiple": 2.0,
        "doubling_time_months": 6.0,
        "upper_limit_normal_ng_ml": 10.0,
        "sustained_results": 2,
    }
    assert f["ratio_to_nadir"] == pytest.approx(8.0)
    assert f["doubling_time_months"] == pytest.approx(2.7, abs=0.1)
    assert "rising by: the last 2 results at least 2 times the nadir" in f.explanation
    # These thresholds are project choices (issue 11: status "policy", each saying why), not unchecked.
    chosen = {"afp.rise.nadir_multiple", "afp.rise.doubling_time_months", "afp.upper_limit_normal_ng_ml"}
    assert {default_knowledge().entries[key].status for key in chosen} == {"policy"}
    assert not chosen & set(f.unverified)
    assert {"KIM-2016", "SHEU-1985"} <= set(f.citations)


def test_the_accelerating_rise_after_ablation_fires_every_criterion() -> None:
    # Real-like series after ablation (5.1, 6.0, 14.8, 31, 78 ng/mL over 16 months).
    labs = _series(
        ("2025-07-10", 5.1),
        ("2026-01-13", 6.0),
        ("2026-05-12", 14.8),
        ("2026-08-18", 31.0),
        ("2026-11-05", 78),
    )
    f = _run(labs, [{"type": "ablation", "date": "2025-06-01"}])
    assert f["trend"] == "rising"
    assert f["rise_criteria"] == ["slope", "nadir_multiple", "doubling_time", "uln_crossed"]
    assert f["nadir"] == {"value": 5.1, "date": "2025-07-10"}


def test_noise_inside_the_normal_range_is_stable() -> None:
    # 1 -> 2.5 -> 3 ng/mL: 3 times the nadir and doubling fast, but AFP moving inside the normal
    # range means nothing (the upper limit of normal is the floor of the relative criteria).
    f = _run(_series(("2026-03-16", 1.0), ("2026-06-15", 2.5), ("2026-09-14", 3.0)), RESECTION)
    assert f["trend"] == "stable" and f["rise_criteria"] == []
    assert f["ratio_to_nadir"] == pytest.approx(3.0)
    assert f["doubling_time_months"] is not None and f["doubling_time_months"] < 6
    assert "no rise criterion holds" in f.explanation


def test_crossing_the_upper_limit_of_normal_alone_is_a_rise() -> None:
    f = _run(_series(("2026-03-16", 8.0), ("2026-06-15", 11.0), ("2026-09-14", 12.0)), RESECTION)
    assert f["trend"] == "rising" and f["rise_criteria"] == ["uln_crossed"]


def test_one_high_value_is_not_a_sustained_rise() -> None:
    f = _run(_series(("2026-03-16", 4.0), ("2026-06-15", 30.0), ("2026-09-14", 5.0)), RESECTION)
    assert f["trend"] == "stable" and f["rise_criteria"] == []


def test_a_slow_doubling_above_normal_is_not_a_rise_by_doubling_time() -> None:
    # 40 -> 47 -> 55 ng/mL over 8 months: doubling in about 17 months, slope under 2 ng/mL/month.
    f = _run(_series(("2026-03-20", 40), ("2026-07-20", 47), ("2026-11-20", 55)), RESECTION)
    assert f["trend"] == "stable" and f["rise_criteria"] == []
    assert f["doubling_time_months"] == pytest.approx(17.4, abs=0.5)


# --- normalisation after curative treatment (Shirabe 1997, Allard 2014) -----------------------------

NOT_NORMALISED = _series(("2025-06-01", 1200), ("2025-07-10", 300), ("2025-08-20", 80), ("2025-10-15", 45))
RESECTED = [{"type": "resection", "date": "2025-06-10"}]


def test_falling_but_not_normalised_after_resection() -> None:
    # 1200 ng/mL before resection; still 45 at 4 months: should be < 20 by 90 days (the half-life
    # needs only 7 x log2(1200/20) = 41 days).
    f = _run(NOT_NORMALISED, RESECTED, as_of=dt.date(2025, 11, 1))
    assert f["trend"] == "falling"
    assert f["normalisation"] == "not_normalised"
    assert f["normalisation_expected_by"] == "2025-09-08"
    assert "has NOT normalised" in f.explanation and "residual or hidden disease" in f.explanation
    assert {"SHIRABE-1997", "ALLARD-2014"} <= set(f.citations)
    assert any(i.name == "afp.starting_value" and i.value == 1200 for i in f.inputs)


def test_too_early_to_say_is_pending() -> None:
    f = _run(NOT_NORMALISED[:3], RESECTED, as_of=dt.date(2025, 8, 25))
    assert f["normalisation"] == "pending" and f["normalisation_expected_by"] == "2025-09-08"


def test_a_very_high_starting_afp_is_given_the_time_its_half_life_needs() -> None:
    # 2,000,000 ng/mL: 7 days x log2(100,000) = 116.3 days > 90, so not judged before day 117.
    labs = _series(("2025-06-01", 2_000_000), ("2025-08-01", 900), ("2025-09-20", 150))
    f = _run(labs, RESECTED, as_of=dt.date(2025, 9, 25))
    assert f["normalisation"] == "pending"
    assert f["normalisation_expected_by"] == "2025-10-05"


def test_no_result_since_it_should_be_normal_is_unknown_and_named() -> None:
    f = _run(NOT_NORMALISED[:3], RESECTED, as_of=dt.date(2025, 11, 1))
    assert f["normalisation"] is None
    assert any("on or after 2025-09-08" in m for m in f.missing)


def test_normalised_after_resection() -> None:
    labs = _series(("2025-08-20", 86), ("2025-12-15", 4.1), ("2026-03-16", 3.8))
    f = _run(labs, RESECTION)
    assert f["normalisation"] == "normalised"


@pytest.mark.parametrize(
    ("treatments", "why"),
    [
        ([{"type": "tace", "date": "2025-06-10"}], "TACE is not curative"),
        ([{"type": "resection", "date": "2025-06-10", "curative": False}], "recorded as not curative"),
        ([], "no treatment"),
    ],
)
def test_normalisation_is_not_applicable_without_a_curative_treatment(
    treatments: list[dict[str, Any]], why: str
) -> None:
    f = _run(NOT_NORMALISED, treatments, as_of=dt.date(2025, 11, 1))
    assert f["normalisation"] == "not_applicable", why


def test_normal_before_treatment_is_not_applicable() -> None:
    labs = _series(("2025-06-01", 8), ("2025-09-10", 25), ("2025-10-10", 30))
    f = _run(labs, RESECTED, as_of=dt.date(2025, 11, 1))
    assert f["normalisation"] == "not_applicable"


# --- never inf or NaN ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "points",
    [
        (("2026-03-16", 0.0), ("2026-06-15", 0.0), ("2026-09-14", 50.0)),  # nadir 0 (below detection)
        (("2026-09-14", 5.0), ("2026-09-14", 9.0), ("2026-09-14", 400.0)),  # identical dates
        (("2026-03-16", 0.5), ("2026-03-17", 5_000_000.0), ("2026-03-18", 5_000_000.0)),  # huge jump
        (("2026-03-16", 5_000_000.0), ("2026-06-15", 0.0), ("2026-09-14", 0.0)),
    ],
)
def test_degenerate_series_give_finite_numbers_or_none(points: tuple[tuple[str, float], ...]) -> None:
    f = _run(_series(*points), RESECTION)
    json.dumps(f.to_dict(), allow_nan=False)
    assert "inf" not in f.explanation and "nan" not in f.explanation.lower()


afp_points = st.lists(
    st.tuples(
        st.dates(dt.date(2025, 9, 17), dt.date(2026, 11, 24)),
        st.sampled_from([0.0, 0.5, 1e-3, 5_000_000.0]) | st.floats(0, 5_000_000, allow_nan=False),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(points=afp_points)
def test_never_inf_or_nan(points: list[tuple[dt.date, float]]) -> None:
    f = _run(_series(*((d.isoformat(), v) for d, v in points)), RESECTION)
    json.dumps(f.to_dict(), allow_nan=False)
    for key in ("slope_ng_ml_per_month", "ratio_to_nadir", "doubling_time_months"):
        assert f[key] is None or math.isfinite(f[key])
    assert not re.search(r"\b(inf|nan)\b", f.explanation, re.IGNORECASE)
