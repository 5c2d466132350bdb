"""The patient symptom check: its FHIR Questionnaire, the mapping of answers into the record's
symptoms, and the choice of the page the patient sees from what ``assess`` said.

Pure (no I/O but its packaged wording files, no clock): the registry stores the answers and the
web app shows the pages (docs/symptom-check.md).
"""

from hccwatch.symptoms.outcome import Outcome, Page, choose_outcome, page_text, tell_words
from hccwatch.symptoms.questionnaire import LANGUAGES, Form, Option, Question, form, questionnaire_resource
from hccwatch.symptoms.response import (
    MappedAnswers,
    ResponseError,
    response_from_form,
    symptoms_from_response,
)

__all__ = [
    "LANGUAGES",
    "Form",
    "MappedAnswers",
    "Option",
    "Outcome",
    "Page",
    "Question",
    "ResponseError",
    "choose_outcome",
    "form",
    "page_text",
    "questionnaire_resource",
    "response_from_form",
    "symptoms_from_response",
    "tell_words",
]
