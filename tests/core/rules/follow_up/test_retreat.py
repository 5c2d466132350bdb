"""RETREAT (Mehta 2017): points, score, the schedule it selects, and what happens with gaps."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from hccwatch.core.knowledge import default_knowledge
from hccwatch.core.rules.follow_up.retreat import retreat
from hccwatch.core.rules.follow_up.surveillance import surveillance
from hccwatch.record.model import Treatment
from support import context, record

LT = "2025-01-01"
AS_OF = dt.date(2026, 11, 24)


def _afp(value: float, when: str = "2024-12-20", unit: str = "ng/mL") -> dict[str, Any]:
    return {"test": "afp", "value": value, "unit": unit, "date": when}


def _score(explant: dict[str, Any] | None, labs: list[dict[str, Any]]) -> Any:
    rec = record(treatments=[{"type": "transplant", "date": LT}], explant=explant, labs=labs)
    ctx = context(rec, AS_OF)
    t = ctx.trace("test")
    result = retreat(ctx, t, Treatment(type="transplant", date=dt.date.fromisoformat(LT)))
    return result, t


@pytest.mark.parametrize(
    ("explant", "afp", "score", "schedule"),
    [
        # V12, clinical-scores §6: AFP 150 (2) + MVI (2) + 3.0 cm + 2 nodules = 5.0 (2) = 6.
        (
            {"largest_viable_cm": 3.0, "viable_count": 2, "microvascular_invasion": True},
            150,
            6,
            "retreat_5_plus",
        ),
        ({"largest_viable_cm": 0, "viable_count": 0, "microvascular_invasion": False}, 5, 0, "retreat_0"),
        # AFP band edges as published (0-20, 21-99, 100-999, >= 1000).
        ({"largest_viable_cm": 0, "viable_count": 0, "microvascular_invasion": False}, 20, 0, "retreat_0"),
        ({"largest_viable_cm": 0, "viable_count": 0, "microvascular_invasion": False}, 21, 1, "retreat_1_3"),
        # Between the published integer bands: above 20 is 1 point, not 0.
        (
            {"largest_viable_cm": 0, "viable_count": 0, "microvascular_invasion": False},
            20.5,
            1,
            "retreat_1_3",
        ),
        (
            {"largest_viable_cm": 0, "viable_count": 0, "microvascular_invasion": False},
            1000,
            3,
            "retreat_1_3",
        ),
        # Tumour band edges: 1-4.9 = 1, 5-9.9 = 2, >= 10 = 3.
        ({"largest_viable_cm": 3.9, "viable_count": 1, "microvascular_invasion": False}, 5, 1, "retreat_1_3"),
        ({"largest_viable_cm": 4.0, "viable_count": 1, "microvascular_invasion": False}, 5, 2, "retreat_1_3"),
        (
            {"largest_viable_cm": 8.0, "viable_count": 2, "microvascular_invasion": True},
            5,
            5,
            "retreat_5_plus",
        ),
        ({"largest_viable_cm": 2.0, "viable_count": 2, "microvascular_invasion": True}, 5, 3, "retreat_1_3"),
        ({"largest_viable_cm": 3.0, "viable_count": 1, "microvascular_invasion": True}, 30, 4, "retreat_4"),
    ],
)
def test_score_and_schedule(explant: dict[str, Any], afp: float, score: int, schedule: str) -> None:
    result, t = _score(explant, [_afp(afp)])
    assert result.values["score"] == score
    assert result.schedule == schedule
    assert t.missing == ()
    assert {"MEHTA-2017", "MEHTA-2018"} <= set(t.citations)


def test_afp_in_iu_per_ml_is_converted_before_banding() -> None:
    # 90 IU/mL = 108.9 ng/mL (x 1.21): band 100-999 (2 points), not 21-99.
    result, _ = _score(
        {"largest_viable_cm": 0, "viable_count": 0, "microvascular_invasion": False}, [_afp(90, unit="IU/mL")]
    )
    assert result.values["points"]["afp"] == 2


def test_missing_inputs_give_a_range_and_no_schedule_when_it_matters() -> None:
    result, t = _score(None, [_afp(150)])
    assert result.values["score"] is None
    assert result.values["score_range"] == [2, 7]  # AFP 2 + MVI 0-2 + tumour 0-3
    assert result.schedule is None
    assert set(t.missing) == {
        "explant.microvascular_invasion",
        "explant.largest_viable_cm",
        "explant.viable_count",
    }


def test_a_gap_that_cannot_change_the_schedule_still_decides_it() -> None:
    # AFP unknown, but MVI (2) + 12 cm burden (3) = 5 already: the top band whatever the AFP.
    explant = {"largest_viable_cm": 10.0, "viable_count": 2, "microvascular_invasion": True}
    result, t = _score(explant, [])
    assert result.values["score"] is None
    assert result.values["score_range"] == [5, 8]
    assert result.schedule == "retreat_5_plus"
    assert "labs.afp (at transplant)" in t.missing


@pytest.mark.parametrize(
    ("labs", "points", "missing"),
    [
        ([_afp(150, "2024-12-20"), _afp(2000, "2025-02-01")], 2, None),  # after LT: not "at LT"
        ([_afp(150, "2024-06-01")], None, "older than 90 days"),  # stale on the LT date
    ],
)
def test_afp_at_transplant_is_the_latest_before_it_within_the_window(
    labs: list[dict[str, Any]], points: int | None, missing: str | None
) -> None:
    result, t = _score({"largest_viable_cm": 0, "viable_count": 0, "microvascular_invasion": False}, labs)
    assert result.values["points"]["afp"] == points
    assert (missing is None) == (not t.missing)
    if missing:
        assert missing in t.missing[0]


def test_surveillance_uses_retreat_v12_schedule() -> None:
    """V12 (clinical-scores §6): RETREAT 6 -> every 3-4 months for 2 years (held as 3), then 6."""
    rec = record(
        treatments=[{"type": "transplant", "date": LT}],
        explant={"largest_viable_cm": 3.0, "viable_count": 2, "microvascular_invasion": True},
        labs=[_afp(150), _afp(4, "2026-10-01")],
        imaging=[
            {"date": "2026-10-01", "modality": "ct", "region": "abdomen", "result": "normal"},
            {"date": "2026-10-01", "modality": "ct", "region": "chest", "result": "normal"},
        ],
    )
    f = surveillance(context(rec, dt.date(2026, 11, 1)))
    assert f["retreat"]["score"] == 6
    assert {(b["item"], b["interval_months"], b["from_month"], b["until_month"]) for b in f["schedule"]} == {
        (item, interval, start, end)
        for item in ("liver_multiphase_ct_or_mri", "chest_ct", "afp")
        for interval, start, end in ((3, 0, 24), (6, 24, 60), (12, 60, None))
    }  # then the 12-monthly floor every recipient keeps (AASLD 2023 via BMJ Best Practice [S])
    # 2026-10-01 is day 638 (month 21): 3-monthly, due 91 days later.
    assert {n["item"]: n["due"] for n in f["next_due"]} == {
        "liver_multiphase_ct_or_mri": "2026-12-31",
        "chest_ct": "2026-12-31",
        "afp": "2026-12-31",
    }
    assert f["overdue"] is False


def test_surveillance_falls_back_to_the_profile_when_retreat_cannot_decide() -> None:
    rec = record(treatments=[{"type": "transplant", "date": LT}], labs=[_afp(150)])
    f = surveillance(context(rec, AS_OF))
    assert f["retreat"]["schedule"] is None
    assert all(b["interval_months"] == 6 and b["until_month"] is None for b in f["schedule"])
    assert "explant.viable_count" in f.missing
    assert any("RETREAT cannot be scored" in n for n in f.notes)
    assert f.determined  # a schedule is given; the gap is listed


def test_retreat_zero_still_keeps_the_follow_up_every_recipient_gets() -> None:
    """RETREAT 0 (Mehta 2017: no extra surveillance) keeps AFP with chest and abdominal CT/MRI.

    Clinical-pathway §4: after liver transplant, AFP plus contrast CT/MRI of chest, abdomen and
    pelvis every 6-12 months for all recipients [S]; hccwatch holds it at 12 months.
    """
    rec = record(
        treatments=[{"type": "transplant", "date": LT}],
        explant={"largest_viable_cm": 0, "viable_count": 0, "microvascular_invasion": False},
        labs=[_afp(5), _afp(4, "2026-01-05")],
        imaging=[
            {"date": "2026-01-05", "modality": "ct", "region": "chest", "result": "normal"},
            {"date": "2026-01-05", "modality": "mri", "region": "liver", "result": "normal"},
        ],
    )
    f = surveillance(context(rec, AS_OF))
    assert f["retreat"]["score"] == 0 and f["retreat"]["schedule"] == "retreat_0"
    assert {(b["item"], b["interval_months"], b["until_month"]) for b in f["schedule"]} == {
        ("liver_multiphase_ct_or_mri", 12, None),
        ("chest_ct", 12, None),
        ("afp", 12, None),
    }
    # 2026-01-05 + round(12 x 30.4375) = 365 days.
    assert {n["item"]: (n["due"], n["overdue"]) for n in f["next_due"]} == {
        "liver_multiphase_ct_or_mri": ("2027-01-05", False),
        "chest_ct": ("2027-01-05", False),
        "afp": ("2027-01-05", False),
    }
    assert f["overdue"] is False
    assert "surveillance.schedule.retreat_0" in f.unverified
    assert "every transplant recipient" in f.explanation


def test_retreat_zero_with_nothing_since_the_transplant_is_overdue() -> None:
    rec = record(
        treatments=[{"type": "transplant", "date": LT}],
        explant={"largest_viable_cm": 0, "viable_count": 0, "microvascular_invasion": False},
        labs=[_afp(5)],
    )
    f = surveillance(context(rec, AS_OF))
    assert f["overdue"] is True
    assert {n["item"]: n["due"] for n in f["next_due"]} == {
        item: "2026-01-01" for item in ("liver_multiphase_ct_or_mri", "chest_ct", "afp")
    }


@pytest.mark.parametrize("score_schedule", ["retreat_0", "retreat_1_3", "retreat_4", "retreat_5_plus"])
def test_every_retreat_schedule_ends_on_the_same_open_ended_floor(score_schedule: str) -> None:
    """A lower score never means less follow-up in the long run than the floor every recipient keeps."""
    bands = default_knowledge().entry(f"surveillance.schedule.{score_schedule}").value
    assert isinstance(bands, list)
    open_ended = {(b["item"], b["interval_months"]) for b in bands if b.get("until_month") is None}
    assert open_ended == {("liver_multiphase_ct_or_mri", 12), ("chest_ct", 12), ("afp", 12)}


def test_disagreeing_afp_on_the_last_day_before_transplant_is_not_scored() -> None:
    """AFP 15 and 150 on one day score 0 or 2 points: no pick by list order, no older value instead."""
    clean = {"largest_viable_cm": 0, "viable_count": 0, "microvascular_invasion": False}
    for labs in (
        [_afp(10, "2024-11-01"), _afp(15), _afp(150)],
        [_afp(150), _afp(15), _afp(10, "2024-11-01")],
    ):
        result, t = _score(clean, labs)
        assert result.values["afp_at_transplant"] is None
        assert result.values["score"] is None and result.values["score_range"] == [0, 3]
        assert "labs.afp: 2 different results on 2024-12-20 (15, 150 ng/mL) (at transplant)" in t.missing
