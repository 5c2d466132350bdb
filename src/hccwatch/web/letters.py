"""Reminder letters for overdue surveillance tests: one to the patient, one to the family doctor.

The tests are the assessment's overdue surveillance items (:func:`hccwatch.report.cards.overdue`),
the date is the assessment's ``as_of``, and the wording, in English or Chinese, is data in
``wording.toml``. When nothing is overdue, or whether anything is cannot be determined, the
letter carries a notice instead of items, and the page shows that rather than an empty letter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hccwatch.core.assessment import Assessment
from hccwatch.report import cards
from hccwatch.web.wording import wording

__all__ = ["RECIPIENTS", "Clinic", "Letter", "Recipient", "letter"]

Recipient = Literal["patient", "doctor"]
RECIPIENTS: tuple[Recipient, ...] = ("patient", "doctor")


@dataclass(frozen=True)
class Clinic:
    """The sender; a part not configured is left out of the letter, never made up."""

    name: str | None
    phone: str | None


@dataclass(frozen=True)
class Letter:
    """A printable letter; ``notice`` (with no ``items``) when there is nothing to remind of."""

    to: Recipient
    lang: str
    date: str
    date_line: str
    subject: str
    greeting: str
    regarding: str | None
    intro: str
    items: tuple[str, ...]
    ask: str
    closing: str
    signature: str
    disclaimer: str
    notice: str | None

    @property
    def printable(self) -> bool:
        return bool(self.items) and self.notice is None


def _item(view: cards.OverdueView, lang: str) -> str:
    w = wording(lang)
    name = w.tests.get(view.item, view.label)
    text = w.letter["item_due"].format(test=name, due=view.due or "?")
    last = w.letter["item_last"].format(last=view.last_done) if view.last_done else w.letter["item_never"]
    separator = "；" if lang == "zh" else "; "
    return f"{text}{separator}{last}"


def letter(
    assessment: Assessment,
    *,
    to: Recipient,
    lang: str,
    clinic: Clinic,
    name: str | None,
    record_id: str,
    family_doctor: str | None = None,
) -> Letter:
    """The letter to ``to`` about ``assessment``'s overdue tests (assessed in ``lang``)."""
    w = wording(lang).letter
    date = assessment.as_of.isoformat()
    late = cards.overdue(assessment)
    notice: str | None = None
    if late is None:
        gap = cards.short_missing(assessment.surveillance.missing) or w["no_assessment"]
        notice = w["cannot"].format(gap=gap)
    elif not late:
        notice = w["nothing"].format(date=date)
    items = tuple(_item(v, lang) for v in late or ())
    if to == "patient":
        greeting = w["patient_greeting"].format(name=name) if name else w["patient_greeting_unnamed"]
        regarding = None
        intro = w["patient_intro"].format(date=date)
        ask = w["patient_ask"].format(phone=clinic.phone) if clinic.phone else w["patient_ask_no_phone"]
    else:
        greeting = (
            w["doctor_greeting"].format(doctor=family_doctor)
            if family_doctor
            else w["doctor_greeting_unnamed"]
        )
        regarding = w["regarding"].format(name=name or w["unnamed"], record_id=record_id)
        intro = w["doctor_intro"].format(date=date, clinic=clinic.name or w["our_clinic"])
        ask = w["doctor_ask"].format(phone=clinic.phone) if clinic.phone else w["doctor_ask_no_phone"]
    return Letter(
        to=to,
        lang=lang,
        date=date,
        date_line=w["date_line"].format(date=date),
        subject=w[f"{to}_subject"],
        greeting=greeting,
        regarding=regarding,
        intro=intro,
        items=items,
        ask=ask,
        closing=w["closing"],
        signature=clinic.name or "",
        disclaimer=assessment.patient_summary.disclaimer or assessment.disclaimer,
        notice=notice,
    )
