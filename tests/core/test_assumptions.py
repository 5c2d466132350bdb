"""Stated assumptions: a finding that used an assumed input shows it; others do not change."""

from __future__ import annotations

import datetime as dt

import pytest

from hccwatch import InvalidRecordError, assess
from support import labs, record

AS_OF = dt.date(2026, 11, 24)
REASON = "no dialysis procedure recorded in the past week; the EHR is taken as complete"


def _record(**extra: object) -> dict[str, object]:
    return {
        "id": "t",
        "sex": "male",
        "labs": labs("2026-11-10", bilirubin=1.2, inr=1.1, creatinine=1.0, sodium=138, albumin=4.0),
        "liver": {"dialysis_twice_past_week": False, "cvvhd_24h_past_week": False},
        **extra,
    }


def test_a_finding_that_used_an_assumed_input_shows_the_assumption() -> None:
    assumed = {"field": "liver.dialysis_twice_past_week", "value": False, "reason": REASON}
    out = assess(_record(assumptions=[assumed]), as_of=AS_OF).to_dict()
    meld = out["scores"]["meld"]
    assert meld["determined"] is True
    assert meld["assumptions"] == [assumed]
    assert any(REASON in note for note in meld["notes"])
    # A finding that did not read the field shows no assumption.
    assert out["scores"]["albi"]["assumptions"] == []


def test_without_assumptions_every_finding_has_an_empty_list_and_the_same_answer() -> None:
    plain = assess(_record(), as_of=AS_OF).to_dict()
    assumed = assess(
        _record(assumptions=[{"field": "liver.dialysis_twice_past_week", "value": False, "reason": REASON}]),
        as_of=AS_OF,
    ).to_dict()
    assert plain["scores"]["meld"]["assumptions"] == []
    assert plain["scores"]["meld"]["value"] == assumed["scores"]["meld"]["value"]


@pytest.mark.parametrize(
    ("assumption", "problem"),
    [
        ({"field": "liver.dialysis", "value": False, "reason": "r"}, "is not a record field"),
        ({"field": "liver.dialysis_twice_past_week", "value": True, "reason": "r"}, "the record says"),
        ({"field": "liver.dialysis_twice_past_week", "value": 0, "reason": "r"}, "the record says"),
        ({"field": "liver.dialysis_twice_past_week", "value": False, "reason": ""}, "reason"),
    ],
)
def test_an_assumption_must_name_a_field_and_agree_with_it(
    assumption: dict[str, object], problem: str
) -> None:
    with pytest.raises(InvalidRecordError, match=problem):
        record(liver={"dialysis_twice_past_week": False}, assumptions=[assumption])
