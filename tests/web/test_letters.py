"""Reminder letters list the assessment's overdue tests, in English or Chinese, or say why not."""

from __future__ import annotations

import json

import pytest

from hccwatch import assess
from hccwatch.core.knowledge import default_knowledge
from hccwatch.report import cards
from hccwatch.web.letters import RECIPIENTS, Clinic, letter
from hccwatch.web.wording import LANGUAGES, wording
from support import AS_OF, EXAMPLES, record

CLINIC = Clinic("Liver Follow-up Clinic", "+1 555 0100")


def _overdue_example() -> dict[str, object]:
    data = json.loads((EXAMPLES / "article-man-after-resection.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("to", RECIPIENTS)
def test_every_overdue_test_is_listed(lang: str, to: str) -> None:
    a = assess(_overdue_example(), as_of=AS_OF, lang=lang)
    late = cards.overdue(a)
    assert late
    who = {"name": "Ann Lee", "record_id": "r-1", "family_doctor": "Dr Smith"}
    doc = letter(a, to=to, lang=lang, clinic=CLINIC, **who)  # type: ignore[arg-type]
    assert doc.printable and doc.notice is None
    assert len(doc.items) == len(late)
    for item, view in zip(doc.items, late, strict=True):
        assert wording(lang).tests[view.item] in item and str(view.due) in item
    assert doc.date == AS_OF.isoformat() and AS_OF.isoformat() in doc.date_line
    assert CLINIC.phone in doc.ask and doc.signature == CLINIC.name
    assert doc.disclaimer == a.patient_summary.disclaimer
    if lang == "zh":
        assert any("\u4e00" <= ch <= "\u9fff" for ch in doc.intro + doc.subject + doc.disclaimer)
    if to == "doctor":
        assert doc.regarding is not None and "r-1" in doc.regarding and "Dr Smith" in doc.greeting


def test_nothing_overdue_says_so_instead_of_an_empty_letter() -> None:
    data = json.loads((EXAMPLES / "article-woman-back-pain.json").read_text(encoding="utf-8"))
    a = assess(data, as_of=AS_OF)
    assert cards.overdue(a) == ()
    doc = letter(a, to="patient", lang="en", clinic=CLINIC, name=None, record_id="x")
    assert not doc.printable and doc.notice is not None and "No follow-up test is overdue" in doc.notice
    assert doc.greeting == "Dear patient,"


def test_unknown_schedule_names_what_is_missing() -> None:
    a = assess(record(), as_of=AS_OF)
    assert cards.overdue(a) is None
    doc = letter(a, to="doctor", lang="en", clinic=CLINIC, name=None, record_id="x")
    assert not doc.printable and doc.notice is not None and "cannot be determined" in doc.notice


def test_every_language_has_the_same_words() -> None:
    en = wording("en")
    for lang in LANGUAGES:
        w = wording(lang)
        for group in ("chart", "treatments", "timeline", "tests", "letter"):
            assert set(getattr(w, group)) == set(getattr(en, group)), (lang, group)


def test_every_scheduled_test_has_a_name_in_every_language() -> None:
    items = {
        str(band["item"])
        for key, entry in default_knowledge().entries.items()
        if key.startswith("surveillance.")
        for band in (entry.value if isinstance(entry.value, list) else [])
        if isinstance(band, dict) and "item" in band
    }
    assert items
    for lang in LANGUAGES:
        assert items <= set(wording(lang).tests), lang


def test_an_unconfigured_clinic_is_left_out_not_made_up() -> None:
    a = assess(_overdue_example(), as_of=AS_OF)
    doc = letter(a, to="doctor", lang="en", clinic=Clinic(None, None), name="Ann Lee", record_id="r-1")
    assert doc.printable and doc.signature == "" and "our clinic" in doc.intro
    assert "reach us" not in doc.ask and "None" not in doc.ask + doc.intro
