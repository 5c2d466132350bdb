"""The whole answer for one patient on one date, and its JSON form (the contract)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from itertools import chain
from operator import attrgetter

from hccwatch.core.finding import Alert, Finding, TreatmentOption, WorkupItem
from hccwatch.core.knowledge import JsonValue, Knowledge
from hccwatch.version import __version__

__all__ = ["Assessment", "PatientSummary", "SummaryItem"]


@dataclass(frozen=True)
class SummaryItem:
    urgency: str
    text: str
    about: str

    def to_dict(self) -> dict[str, JsonValue]:
        return {"urgency": self.urgency, "about": self.about, "text": self.text}


@dataclass(frozen=True)
class PatientSummary:
    """Plain-language summary for the patient, urgent items first."""

    lang: str
    headline: str
    items: tuple[SummaryItem, ...]
    disclaimer: str

    @property
    def text(self) -> str:
        lines = [self.headline, *(f"- {item.text}" for item in self.items), self.disclaimer]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, JsonValue]:
        return {
            "lang": self.lang,
            "headline": self.headline,
            "items": [i.to_dict() for i in self.items],
            "disclaimer": self.disclaimer,
            "text": self.text,
        }


@dataclass(frozen=True)
class Assessment:
    """Every finding hccwatch makes for one record on ``as_of``."""

    record_id: str
    as_of: date
    as_of_source: str
    knowledge: Knowledge
    disclaimer: str
    patient: Mapping[str, JsonValue]
    scores: Mapping[str, Finding]
    staging: Mapping[str, Finding]
    transplant: Mapping[str, Finding]
    surveillance: Finding
    afp: Finding
    alerts: tuple[Alert, ...]
    metastasis: Finding
    workup: tuple[WorkupItem, ...]
    recurrence: Finding
    treatment_options: tuple[TreatmentOption, ...]
    patient_summary: PatientSummary

    def findings(self) -> list[Finding]:
        return [
            *self.scores.values(),
            *self.staging.values(),
            *self.transplant.values(),
            self.surveillance,
            self.afp,
            self.metastasis,
            self.recurrence,
        ]

    def _sourced(self) -> list[Finding | Alert | WorkupItem | TreatmentOption]:
        """Every part that names sources, in the order the provenance lists follow."""
        return [
            *self.scores.values(),
            *self.staging.values(),
            *self.transplant.values(),
            self.surveillance,
            self.afp,
            self.metastasis,
            self.recurrence,
            *self.alerts,
            *self.workup,
            *self.treatment_options,
        ]

    def cited(self) -> tuple[str, ...]:
        """Every citation id the assessment relies on, in first-seen order."""
        return _merged(self._sourced(), "citations")

    def unverified(self) -> tuple[str, ...]:
        return _merged(self._sourced(), "unverified")

    def policy(self) -> tuple[str, ...]:
        """The project's own choices (knowledge entries with status "policy") the findings used."""
        return _merged(self._sourced(), "policy")

    def parts(self) -> dict[str, JsonValue]:
        """The JSON form of each finding, keyed as in the contract (no bibliography)."""
        return {
            "patient": dict(self.patient),
            "scores": {k: v.to_dict() for k, v in self.scores.items()},
            "staging": {k: v.to_dict() for k, v in self.staging.items()},
            "transplant": {k: v.to_dict() for k, v in self.transplant.items()},
            "surveillance": self.surveillance.to_dict(),
            "afp": self.afp.to_dict(),
            "alerts": [a.to_dict() for a in self.alerts],
            "metastasis": self.metastasis.to_dict(),
            "workup": [w.to_dict() for w in self.workup],
            "recurrence": self.recurrence.to_dict(),
            "treatment_options": [o.to_dict() for o in self.treatment_options],
            "patient_summary": self.patient_summary.to_dict(),
        }

    def to_dict(self) -> dict[str, JsonValue]:
        knowledge = self.knowledge
        shared = knowledge.citation_json
        # The three provenance lists from one list of the parts (as cited() etc. give them).
        sourced = self._sourced()
        cited = _merged(sourced, "citations")
        bibliography: dict[str, JsonValue]
        if all(map(shared.__contains__, cited)):
            # Each shared form copied, without a Python-level loop (some sixty per assessment).
            bibliography = dict(zip(cited, map(dict, map(shared.__getitem__, cited)), strict=True))
        else:
            # The knowledge base's named error for the id it does not hold.
            bibliography = {cid: knowledge.citation(cid).to_dict() for cid in cited}
        return {
            "hccwatch_version": __version__,
            "knowledge_version": self.knowledge.version,
            "disclaimer": self.disclaimer,
            "record_id": self.record_id,
            "as_of": self.as_of.isoformat(),
            "as_of_source": self.as_of_source,
            **self.parts(),
            "unverified_knowledge": list(_merged(sourced, "unverified")),
            "policy_knowledge": list(_merged(sourced, "policy")),
            "bibliography": bibliography,
        }


def _merged(parts: list[Finding | Alert | WorkupItem | TreatmentOption], name: str) -> tuple[str, ...]:
    """The ids the parts list under ``name`` (citations, unverified, policy), first seen first."""
    # ``map`` over an attribute getter: the parts' tuples are chained without a Python-level loop
    # (some forty parts, three lists per assessment).
    return tuple(dict.fromkeys(chain.from_iterable(map(attrgetter(name), parts))))
