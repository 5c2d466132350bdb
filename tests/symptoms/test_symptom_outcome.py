"""The patient's page follows the alert assess raised from what they just reported."""

from __future__ import annotations

import datetime as dt

import pytest

from hccwatch import assess
from hccwatch.symptoms import choose_outcome, page_text, symptoms_from_response, tell_words
from symptom_answers import response

TODAY = dt.date(2026, 11, 24)
BASE = {"id": "p1", "treatments": [{"type": "resection", "date": "2025-06-01"}]}


def _outcome(lang: str = "en", record: dict[str, object] = BASE, **answers: str):  # type: ignore[no-untyped-def]
    mapped = symptoms_from_response(response(**answers), today=TODAY)
    merged = {**record, "symptoms": [*record.get("symptoms", []), *mapped.symptoms]}  # type: ignore[list-item]
    return choose_outcome(assess(merged, as_of=TODAY, lang=lang), mapped.codes)


@pytest.mark.parametrize(
    ("answers", "page"),
    [
        ({"leg_numbness": "yes"}, "emergency"),
        ({"urine_stool": "yes", "back_pain": "yes", "back_pain_where": "lumbar"}, "emergency"),
        ({"jaundice": "yes"}, "urgent"),
        ({"back_pain": "yes", "back_pain_where": "unsure"}, "urgent"),
        ({"cough": "yes"}, "routine"),
        ({}, "routine"),
    ],
)
def test_the_page_follows_the_alert_urgency(answers: dict[str, str], page: str) -> None:
    assert _outcome(**answers).page == page


def test_the_advice_is_the_alerts_patient_wording_in_the_patients_language() -> None:
    en = _outcome(leg_numbness="yes")
    assert en.alert_ids == ("mscc_suspected",)
    assert "emergency" in en.advice[0]
    zh = _outcome("zh", leg_numbness="yes")
    assert zh.page == "emergency" and any("\u4e00" <= c <= "\u9fff" for c in zh.advice[0])


def test_an_older_recorded_emergency_does_not_choose_the_page() -> None:
    record = {**BASE, "symptoms": [{"code": "leg_weakness", "onset": "2026-11-01"}]}
    assert _outcome(record=record, cough="yes").page == "routine"


def test_page_texts_and_the_words_for_the_emergency_department() -> None:
    assert page_text("emergency_title", "en") == "Go to an emergency department now"
    assert tell_words(["leg_numbness", "back_pain"], "en") == "numb or tingling legs, back pain"
    assert tell_words(["leg_numbness"], "zh") == "腿发麻或刺痛"
