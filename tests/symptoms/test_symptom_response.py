"""Answers map to the record's symptoms; anything unreadable is refused, naming its linkId."""

from __future__ import annotations

import datetime as dt

import pytest

from hccwatch import parse_record
from hccwatch.symptoms import ResponseError, response_from_form, symptoms_from_response
from symptom_answers import AUTHORED, form_fields, response

TODAY = dt.date(2026, 11, 24)


def _map(**answers: str) -> tuple[dict[str, object], ...]:
    return symptoms_from_response(response(**answers), today=TODAY).symptoms


def test_all_no_adds_nothing() -> None:
    mapped = symptoms_from_response(response(), today=TODAY)
    assert mapped.symptoms == () and mapped.free_text is None and mapped.reported == ()


def test_leg_numbness_with_its_onset() -> None:
    assert _map(leg_numbness="yes", leg_numbness_since="2026-11-22") == (
        {"code": "leg_numbness", "onset": "2026-11-22"},
    )


def test_back_pain_details_become_the_rules_facts() -> None:
    got = _map(
        back_pain="yes", back_pain_where="thoracic", back_pain_night="yes", back_pain_straining="no",
        back_pain_worse="yes", back_pain_since="2026-11-01",
    )  # fmt: skip
    assert got == (
        {"code": "back_pain", "spinal_level": "thoracic", "progressive": True, "onset": "2026-11-01"},
        {"code": "night_pain", "onset": "2026-11-01"},
    )


def test_neck_is_neck_pain_and_not_sure_leaves_the_level_unknown() -> None:
    assert _map(back_pain="yes", back_pain_where="cervical") == ({"code": "neck_pain"},)
    assert _map(back_pain="yes", back_pain_where="unsure") == ({"code": "back_pain"},)


def test_an_unanswered_detail_stays_unknown() -> None:
    assert _map(headache="yes") == ({"code": "headache"},)
    assert _map(headache="yes", headache_sudden="no") == ({"code": "headache", "sudden": False},)


def test_the_mapped_symptoms_are_valid_record_entries() -> None:
    every = {k: "yes" for k in form_fields()} | {"back-pain-where": "lumbar", "other": "tired"}
    mapped = symptoms_from_response(response_from_form(every, authored=AUTHORED), today=TODAY)
    record = parse_record({"id": "p1", "symptoms": list(mapped.symptoms)})
    assert len(record.symptoms) == len(mapped.symptoms)
    assert mapped.free_text == "tired"


def test_details_of_a_no_are_dropped_from_the_form() -> None:
    qr = response(back_pain="no", back_pain_night="yes")
    assert "back-pain-night" not in {i["linkId"] for i in qr["item"]}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            lambda qr: qr["item"].append({"linkId": "mood", "answer": [{"valueBoolean": True}]}),
            "unknown linkId",
        ),
        (lambda qr: qr["item"][0].update(answer=[{"valueString": "yes"}]), "expected valueBoolean"),
        (lambda qr: qr["item"].pop(0), "not answered"),
        (lambda qr: qr.update(questionnaire="urn:other|1"), "questionnaire: expected"),
        (lambda qr: qr.update(status="in-progress"), "status: expected completed"),
        (
            lambda qr: qr["item"].append({"linkId": "back-pain-night", "answer": [{"valueBoolean": True}]}),
            "back-pain-night: answered, but back-pain was not answered yes",
        ),
    ],
)
def test_bad_responses_are_refused_naming_the_problem(change, problem) -> None:  # type: ignore[no-untyped-def]
    qr = response()
    change(qr)
    with pytest.raises(ResponseError) as caught:
        symptoms_from_response(qr, today=TODAY)
    assert any(problem in p for p in caught.value.problems), caught.value.problems


def test_an_onset_after_today_or_a_bad_date_is_refused() -> None:
    with pytest.raises(ResponseError, match="after today"):
        symptoms_from_response(response(cough="yes", cough_since="2026-12-01"), today=TODAY)
    with pytest.raises(ResponseError, match="not a calendar date"):
        symptoms_from_response(response(cough="yes", cough_since="2026-02-30"), today=TODAY)
    with pytest.raises(ResponseError, match="back-pain-where: expected valueCoding"):
        symptoms_from_response(response(back_pain="yes", back_pain_where="knee"), today=TODAY)


def test_a_form_value_that_is_not_yes_or_no_is_refused() -> None:
    with pytest.raises(ResponseError, match="leg-numbness: expected yes or no"):
        response_from_form(form_fields(leg_numbness="maybe"), authored=AUTHORED)
