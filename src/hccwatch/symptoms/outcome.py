"""Which page the patient sees after sending the check, read from what ``assess`` said.

The page follows the most urgent alert whose facts include a symptom the patient just reported
(an alert about an older, clinician-recorded problem is the team's to act on, not this page's):
an emergency alert gives the emergency page, an urgent one the call-today page, anything else
the thank-you page. No urgency is decided here; it is read from the alert.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Literal

from hccwatch.core.assessment import Assessment
from hccwatch.core.finding import URGENCY_ORDER
from hccwatch.symptoms.questionnaire import LANGUAGES

__all__ = ["Outcome", "Page", "choose_outcome", "page_text", "tell_words"]

Page = Literal["emergency", "urgent", "routine"]
_PAGE_OF_URGENCY: dict[str, Page] = {"emergency": "emergency", "urgent": "urgent"}


@dataclass(frozen=True)
class Outcome:
    """The page, the alerts it came from, and their patient wording in the patient's language."""

    page: Page
    urgency: str | None
    alert_ids: tuple[str, ...]
    advice: tuple[str, ...]


def choose_outcome(assessment: Assessment, reported_codes: Iterable[str]) -> Outcome:
    """The page for the alerts ``assessment`` raised from ``reported_codes`` (record symptom codes)."""
    names = {f"symptoms.{code}" for code in reported_codes}
    related = [a for a in assessment.alerts if any(f.name in names for f in a.facts)]
    related.sort(key=lambda a: URGENCY_ORDER[a.urgency])
    if not related:
        return Outcome("routine", None, (), ())
    top = related[0].urgency
    wording = {i.about: i.text for i in assessment.patient_summary.items}
    advice = tuple(dict.fromkeys(w for a in related if (w := wording.get(f"alert.{a.id}")) is not None))
    return Outcome(_PAGE_OF_URGENCY.get(top, "routine"), top, tuple(a.id for a in related), advice)


@functools.cache
def _pages() -> dict[str, dict[str, object]]:
    raw = (resources.files("hccwatch.symptoms") / "pages.toml").read_text(encoding="utf-8")
    return tomllib.loads(raw)


def page_text(key: str, lang: str) -> str:
    """One text of the patient pages (``pages.toml``) in ``lang``."""
    texts = _pages()[lang if lang in LANGUAGES else "en"]
    return str(texts[key])


def tell_words(codes: Iterable[str], lang: str) -> str:
    """The reported symptoms named in the patient's words, for the emergency department."""
    tell = _pages()["tell"]
    words = tell[lang if lang in LANGUAGES else "en"]
    assert isinstance(words, dict)
    sep = "、" if lang == "zh" else ", "
    return sep.join(dict.fromkeys(str(words.get(c, c.replace("_", " "))) for c in codes))
