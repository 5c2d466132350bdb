"""QuestionnaireResponse in, the record's symptom entries out; and a web form in, a response out.

The mapper only adds what the patient said yes to: a "no" never resolves a symptom a clinician
recorded, and an unanswered detail stays unknown (``None``), so the rules name it as missing
instead of reading it as "no". Nothing here decides how urgent anything is.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hccwatch.errors import HccwatchError
from hccwatch.symptoms.questionnaire import SINCE_SUFFIX, SPINE_REGION_SYSTEM, UNSURE, Form, Question, form

__all__ = ["MappedAnswers", "ResponseError", "response_from_form", "symptoms_from_response"]

# A free-text answer longer than this is refused rather than cut (it is read by a person).
MAX_FREE_TEXT_CHARS = 2000
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class ResponseError(HccwatchError):
    """A response that cannot be read as given; ``problems`` names each linkId and what is wrong."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("the symptom check answers cannot be read: " + "; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class MappedAnswers:
    """What a response says, in the record's words."""

    symptoms: tuple[dict[str, Any], ...]
    free_text: str | None
    # linkIds of the symptom questions answered "yes", in questionnaire order.
    reported: tuple[str, ...] = field(default=())

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(str(s["code"]) for s in self.symptoms)


def _answers(qr: Mapping[str, Any], f: Form, problems: list[str]) -> dict[str, Any]:
    """linkId -> the one answer value, type-checked against its question."""
    out: dict[str, Any] = {}
    items = qr.get("item", [])
    if not isinstance(items, list):
        problems.append("item: expected a list of answered questions")
        return out
    for i, item in enumerate(items):
        link = item.get("linkId") if isinstance(item, Mapping) else None
        q = f.question(link) if isinstance(link, str) else None
        if q is None:
            problems.append(f"item[{i}]: unknown linkId {link!r}")
            continue
        if link in out:
            problems.append(f"{link}: answered twice")
            continue
        answers = item.get("answer", [])
        if not isinstance(answers, list) or len(answers) > 1:
            problems.append(f"{link}: expected at most one answer")
            continue
        if not answers:
            continue
        value = _value(q, answers[0], problems)
        if value is not None:
            out[q.link_id] = value
    return out


def _value(q: Question, answer: Any, problems: list[str]) -> Any:
    if not isinstance(answer, Mapping):
        problems.append(f"{q.link_id}: an answer must be an object")
        return None
    if q.kind in ("symptom", "detail"):
        v = answer.get("valueBoolean")
        if not isinstance(v, bool):
            problems.append(f"{q.link_id}: expected valueBoolean (yes or no)")
            return None
        return v
    if q.kind == "level":
        coding = answer.get("valueCoding")
        codes = {o.code for o in q.options}
        if (
            not isinstance(coding, Mapping)
            or coding.get("system", SPINE_REGION_SYSTEM) != SPINE_REGION_SYSTEM
            or coding.get("code") not in codes
        ):
            problems.append(f"{q.link_id}: expected valueCoding with one of {', '.join(sorted(codes))}")
            return None
        return coding["code"]
    if q.kind == "since":
        raw = answer.get("valueDate")
        if not isinstance(raw, str) or not _ISO_DATE.fullmatch(raw):
            problems.append(f"{q.link_id}: expected valueDate as YYYY-MM-DD")
            return None
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            problems.append(f"{q.link_id}: {raw!r} is not a calendar date")
            return None
    text = answer.get("valueString")
    if not isinstance(text, str):
        problems.append(f"{q.link_id}: expected valueString")
        return None
    if len(text) > MAX_FREE_TEXT_CHARS:
        problems.append(f"{q.link_id}: at most {MAX_FREE_TEXT_CHARS} characters")
        return None
    return text.strip() or None


def _check_enabled(answers: Mapping[str, Any], f: Form, problems: list[str]) -> None:
    for q in f.questions:
        if q.required and q.link_id not in answers:
            problems.append(f"{q.link_id}: not answered (yes or no is needed)")
        if q.parent is not None and q.link_id in answers and answers.get(q.parent) is not True:
            problems.append(f"{q.link_id}: answered, but {q.parent} was not answered yes")


def symptoms_from_response(qr: Mapping[str, Any], *, today: dt.date) -> MappedAnswers:
    """Read a QuestionnaireResponse to this symptom check into the record's symptom entries.

    ``today`` is the day the answers are given: an onset after it is refused.

    Raises:
        ResponseError: not a completed response to this Questionnaire, an unknown linkId, an
            answer of the wrong type, or an answer to a question that did not apply.
    """
    f = form()
    problems: list[str] = []
    if qr.get("resourceType") != "QuestionnaireResponse":
        raise ResponseError(["resourceType: expected QuestionnaireResponse"])
    if qr.get("questionnaire") not in (f.canonical, f.url):
        problems.append(f"questionnaire: expected {f.canonical}, got {qr.get('questionnaire')!r}")
    if qr.get("status") != "completed":
        problems.append("status: expected completed")
    answers = _answers(qr, f, problems)
    _check_enabled(answers, f, problems)
    for q in f.questions:
        when = answers.get(q.link_id)
        if q.kind == "since" and isinstance(when, dt.date) and when > today:
            problems.append(f"{q.link_id}: {when.isoformat()} is after today ({today.isoformat()})")
    if problems:
        raise ResponseError(problems)
    return _map(answers, f)


def _map(answers: Mapping[str, Any], f: Form) -> MappedAnswers:
    symptoms: list[dict[str, Any]] = []
    reported: list[str] = []
    for q in f.questions:
        if q.kind != "symptom" or answers.get(q.link_id) is not True:
            continue
        reported.append(q.link_id)
        onset = answers.get(q.link_id + SINCE_SUFFIX)
        entry: dict[str, Any] = {"code": q.symptom}
        extra: list[dict[str, Any]] = []
        for d in f.questions:
            if d.parent != q.link_id or d.link_id not in answers:
                continue
            value = answers[d.link_id]
            if d.kind == "level":
                if value == "cervical":
                    # Pain in the neck is the record's neck pain, not back pain at a level.
                    entry["code"] = "neck_pain"
                elif value != UNSURE:
                    entry["spinal_level"] = value
            elif d.sets is not None:
                entry[d.sets] = value
            elif d.symptom is not None and value is True:
                extra.append({"code": d.symptom})
        for e in (entry, *extra):
            if onset is not None:
                e["onset"] = onset.isoformat()
            symptoms.append(e)
    free = answers.get("other")
    return MappedAnswers(tuple(symptoms), free if isinstance(free, str) else None, tuple(reported))


def response_from_form(
    fields: Mapping[str, str], *, authored: dt.datetime, subject: str | None = None
) -> dict[str, Any]:
    """A QuestionnaireResponse from the web form's fields (named by linkId; "yes"/"no" for
    booleans, an option code, a YYYY-MM-DD date, free text). Answers to questions that did not
    apply are dropped, as the form hid them; everything else is checked by the mapper.

    Raises:
        ResponseError: a field holds a value its question cannot take.
    """
    f = form()
    problems: list[str] = []
    items: list[dict[str, Any]] = []
    yes: set[str] = set()
    for q in f.questions:
        raw = (fields.get(q.link_id) or "").strip()
        if not raw or (q.parent is not None and q.parent not in yes):
            continue
        answer: dict[str, Any]
        if q.kind in ("symptom", "detail"):
            if raw not in ("yes", "no"):
                problems.append(f"{q.link_id}: expected yes or no")
                continue
            if raw == "yes":
                yes.add(q.link_id)
            answer = {"valueBoolean": raw == "yes"}
        elif q.kind == "level":
            answer = {"valueCoding": {"system": SPINE_REGION_SYSTEM, "code": raw}}
        elif q.kind == "since":
            answer = {"valueDate": raw}
        else:
            answer = {"valueString": raw}
        items.append({"linkId": q.link_id, "answer": [answer]})
    if problems:
        raise ResponseError(problems)
    qr: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f.canonical,
        "status": "completed",
        "authored": authored.isoformat(),
        "item": items,
    }
    if subject is not None:
        qr["subject"] = {"reference": subject}
    return qr
