"""The symptom check's Questionnaire is valid FHIR R4 and says every question in both languages."""

from __future__ import annotations

from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from hccwatch.record.model import SymptomCode
from hccwatch.symptoms import LANGUAGES, form, questionnaire_resource
from hccwatch.symptoms.questionnaire import TRANSLATION_URL
from symptom_answers import response


def test_the_questionnaire_is_valid_fhir_r4() -> None:
    q = Questionnaire.model_validate(questionnaire_resource())
    assert q.url == form().url and q.version == form().version
    assert q.status == "active"


def test_a_response_is_valid_fhir_r4_and_points_at_the_questionnaire() -> None:
    qr = QuestionnaireResponse.model_validate(response(leg_numbness="yes"))
    assert qr.questionnaire == form().canonical
    assert qr.status == "completed"


def test_every_question_has_english_and_a_chinese_translation() -> None:
    for item in questionnaire_resource()["item"]:
        assert item["text"].strip(), item["linkId"]
        ext = item["_text"]["extension"][0]
        assert ext["url"] == TRANSLATION_URL
        parts = {e["url"]: e.get("valueCode") or e.get("valueString") for e in ext["extension"]}
        assert parts["lang"] == "zh" and parts["content"].strip(), item["linkId"]
    assert LANGUAGES == ("en", "zh")


def test_it_covers_the_site_symptoms_of_the_issue_with_the_rules_own_codes() -> None:
    codes = {q.symptom for q in form().questions if q.symptom}
    wanted = {
        "back_pain", "bone_pain", "night_pain", "pain_worse_on_straining", "leg_weakness",
        "leg_numbness", "bladder_bowel_dysfunction", "cough", "haemoptysis", "dyspnoea", "headache",
        "confusion", "abdominal_distension", "abdominal_pain", "jaundice", "weight_loss",
    }  # fmt: skip
    assert wanted <= codes
    assert codes <= set(SymptomCode.__args__)  # type: ignore[attr-defined]
    assert any(q.kind == "free_text" for q in form().questions)


def test_details_appear_only_after_a_yes() -> None:
    items = {i["linkId"]: i for i in questionnaire_resource()["item"]}
    assert items["back-pain-night"]["enableWhen"] == [
        {"question": "back-pain", "operator": "=", "answerBoolean": True}
    ]
    assert items["leg-numbness-since"]["type"] == "date"
    assert items["leg-numbness"]["required"] is True
    assert items["other"]["required"] is False
