"""AFP kinetics: latest, nadir after treatment, thresholds, trend, ratio and doubling time."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from hypothesis import given, settings

from hccwatch import parse_record
from hccwatch.core.rules.follow_up.afp_kinetics import afp_kinetics, least_squares_slope
from strategies import records
from support import context, record

KEYS = {
    "latest",
    "nadir",
    "trend",
    "slope_ng_ml_per_month",
    "ratio_to_nadir",
    "doubling_time_months",
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
    assert "afp.rising_slope_ng_ml_per_month" in f.unverified  # derived in LT candidates (Giard 2018)


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


def test_no_doubling_time_unless_rising() -> None:
    f = _run(_series(("2026-03-16", 3.0), ("2026-06-15", 3.5), ("2026-09-14", 4.0)), RESECTION)
    assert f["trend"] == "stable" and f["doubling_time_months"] is None


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
    else:
        assert f["values_used"] >= 3
    if f["doubling_time_months"] is not None:
        assert f["trend"] == "rising" and f["doubling_time_months"] > 0
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
