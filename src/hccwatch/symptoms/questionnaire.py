"""The symptom check's questions (``questions.toml``) and their FHIR R4 Questionnaire.

One Questionnaire serves every language: its own text is English (``language: en``) and each
text carries the other languages in the standard translation extension, so a response always
points at one canonical URL and version whatever language the patient read.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from hccwatch.errors import KnowledgeError
from hccwatch.record.model import SymptomCode

__all__ = [
    "LANGUAGES",
    "Form",
    "Option",
    "Question",
    "form",
    "questionnaire_resource",
]

LANGUAGES: tuple[str, ...] = ("en", "zh")
TRANSLATION_URL = "http://hl7.org/fhir/StructureDefinition/translation"
SPINE_REGION_SYSTEM = "urn:hccwatch:codesystem:symptom-check-spine-region"
# The "not sure" answer to where back pain is: the record's spinal level stays unknown.
UNSURE = "unsure"
SINCE_SUFFIX = "-since"

QuestionKind = Literal["symptom", "detail", "level", "since", "free_text"]
_DETAILS = ("progressive", "sudden")


@dataclass(frozen=True)
class Option:
    code: str
    text: dict[str, str]


@dataclass(frozen=True)
class Question:
    """One question. ``parent`` is the question whose "yes" shows this one."""

    link_id: str
    kind: QuestionKind
    text: dict[str, str]
    symptom: str | None = None
    parent: str | None = None
    sets: str | None = None
    options: tuple[Option, ...] = ()

    @property
    def required(self) -> bool:
        # Every symptom question needs a yes or a no: an unanswered one is not taken as "no".
        return self.kind == "symptom"


@dataclass(frozen=True)
class Form:
    """The whole symptom check: identity, page texts and the questions in order."""

    id: str
    url: str
    version: str
    name: str
    publisher: str
    texts: dict[str, dict[str, str]]
    questions: tuple[Question, ...]

    @property
    def canonical(self) -> str:
        return f"{self.url}|{self.version}"

    def question(self, link_id: str) -> Question | None:
        return self._by_id.get(link_id)

    @functools.cached_property
    def _by_id(self) -> dict[str, Question]:
        return {q.link_id: q for q in self.questions}

    def text(self, key: str, lang: str) -> str:
        return self.texts[key][lang]


def _texts(raw: dict[str, Any], where: str) -> dict[str, str]:
    texts = {lang: raw.get(lang) for lang in LANGUAGES}
    if not all(isinstance(t, str) and t.strip() for t in texts.values()):
        raise KnowledgeError(f"symptom check {where}: needs a text in each of {', '.join(LANGUAGES)}")
    return {k: str(v) for k, v in texts.items()}


def _known_symptom(code: object, where: str) -> str:
    codes = SymptomCode.__args__  # type: ignore[attr-defined]
    if code not in codes:
        raise KnowledgeError(f"symptom check {where}: {code!r} is not a record symptom code")
    return str(code)


def _questions(items: list[dict[str, Any]]) -> tuple[Question, ...]:
    out: list[Question] = []
    seen: set[str] = set()
    for raw in items:
        link = str(raw["link_id"])
        if link in seen:
            raise KnowledgeError(f"symptom check: linkId {link!r} is used twice")
        seen.add(link)
        text = _texts(raw, link)
        parent = raw.get("detail_of")
        if parent is not None and parent not in seen:
            raise KnowledgeError(f"symptom check {link}: detail_of {parent!r} must come before it")
        if "symptom" in raw:
            code = _known_symptom(raw["symptom"], link)
            out.append(Question(link, "symptom", text, symptom=code))
            since = {lang: "" for lang in LANGUAGES}
            out.append(Question(link + SINCE_SUFFIX, "since", since, parent=link))
            seen.add(link + SINCE_SUFFIX)
        elif raw.get("free_text"):
            out.append(Question(link, "free_text", text))
        elif parent is not None and raw.get("level"):
            options = tuple(Option(str(o["code"]), _texts(o, link)) for o in raw["option"])
            out.append(Question(link, "level", text, parent=str(parent), options=options))
        elif parent is not None and "adds" in raw:
            code = _known_symptom(raw["adds"], link)
            out.append(Question(link, "detail", text, symptom=code, parent=str(parent)))
        elif parent is not None and raw.get("sets") in _DETAILS:
            out.append(Question(link, "detail", text, parent=str(parent), sets=str(raw["sets"])))
        else:
            raise KnowledgeError(f"symptom check {link}: not a symptom, a detail or free text")
    return tuple(out)


@functools.cache
def form() -> Form:
    """The packaged symptom check (read once)."""
    raw = tomllib.loads((resources.files("hccwatch.symptoms") / "questions.toml").read_text(encoding="utf-8"))
    head = raw["questionnaire"]
    texts = {key: _texts(head[key], key) for key in ("title", "intro", "since", "yes", "no")}
    since = texts["since"]
    questions = tuple(
        Question(q.link_id, q.kind, since, parent=q.parent) if q.kind == "since" else q
        for q in _questions(raw["item"])
    )
    return Form(
        id=str(head["id"]),
        url=str(head["url"]),
        version=str(head["version"]),
        name=str(head["name"]),
        publisher=str(head["publisher"]),
        texts=texts,
        questions=questions,
    )


def _translated(texts: dict[str, str]) -> dict[str, Any]:
    """The ``_text`` element holding every language but English."""
    return {
        "extension": [
            {
                "url": TRANSLATION_URL,
                "extension": [
                    {"url": "lang", "valueCode": lang},
                    {"url": "content", "valueString": texts[lang]},
                ],
            }
            for lang in LANGUAGES
            if lang != "en"
        ]
    }


_FHIR_TYPE = {
    "symptom": "boolean",
    "detail": "boolean",
    "level": "choice",
    "since": "date",
    "free_text": "text",
}


def _item(q: Question) -> dict[str, Any]:
    item: dict[str, Any] = {
        "linkId": q.link_id,
        "text": q.text["en"],
        "_text": _translated(q.text),
        "type": _FHIR_TYPE[q.kind],
        "required": q.required,
    }
    if q.parent is not None:
        item["enableWhen"] = [{"question": q.parent, "operator": "=", "answerBoolean": True}]
    if q.options:
        item["answerOption"] = [
            {
                "valueCoding": {
                    "system": SPINE_REGION_SYSTEM,
                    "code": o.code,
                    "display": o.text["en"],
                    "_display": _translated(o.text),
                }
            }
            for o in q.options
        ]
    return item


def questionnaire_resource() -> dict[str, Any]:
    """The FHIR R4 Questionnaire of the symptom check (JSON form)."""
    f = form()
    return {
        "resourceType": "Questionnaire",
        "id": f.id,
        "url": f.url,
        "version": f.version,
        "name": f.name,
        "title": f.text("title", "en"),
        "_title": _translated(f.texts["title"]),
        "status": "active",
        "publisher": f.publisher,
        "language": "en",
        "subjectType": ["Patient"],
        "description": f.text("intro", "en"),
        "item": [_item(q) for q in f.questions],
    }
