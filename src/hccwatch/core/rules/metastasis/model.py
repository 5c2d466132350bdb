"""The shared vocabulary of the metastasis pathway: suspicions, test requests and urgency.

A *suspicion* is one reason to act (a red-flag symptom, an imaging finding, an AFP rise). Each
suspicion becomes one :class:`~hccwatch.core.finding.Alert` (same id) and asks for tests; the
tests of all suspicions are merged into the workup (see ``workup.py``).

Urgency levels, most urgent first (definitions in ``metastasis.urgency.*``, NICE-CG75, NICE-NG127):
emergency = now, within hours; urgent = within 24 hours to a few days; soon = within about
2 weeks; routine = the next scheduled visit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, cast

from hccwatch.core.context import Context
from hccwatch.core.finding import URGENCY_ORDER, Alert, InputUsed, Urgency, merge_citations
from hccwatch.core.knowledge import JsonValue

__all__ = [
    "ALERT_TITLES",
    "Suspicion",
    "SuspicionKind",
    "WorkupRequest",
    "as_urgency",
    "at_most",
    "merge_suspicions",
    "most_urgent",
    "to_alert",
]

SuspicionKind = Literal["symptom", "imaging", "marker"]

# Clinician-facing titles; the patient wording lives in knowledge/text/<lang>/alerts.toml.
ALERT_TITLES: dict[str, str] = {
    "mscc_suspected": "Suspected metastatic spinal cord compression",
    "spinal_metastasis_suspected": "Spinal pain suggestive of spinal metastasis",
    "bone_metastasis_suspected": "Bone symptoms: possible bone metastasis",
    "brain_metastasis_suspected": "Neurological symptoms: possible brain metastasis",
    "haemoptysis": "Haemoptysis: possible lung metastasis",
    "gi_bleeding": "Gastrointestinal bleeding",
    "lung_symptoms": "Chest symptoms: possible lung metastasis",
    "peritoneal_symptoms": "Abdominal symptoms: possible peritoneal spread",
    "jaundice": "New jaundice",
    "weight_loss": "Unexplained weight loss",
    "afp_rise": "AFP rising or raised",
    "afp_not_normalised": "AFP not normalised after curative treatment",
    "imaging_new_lesion": "New or progressing lesion on imaging",
    "imaging_indeterminate": "Indeterminate finding on imaging",
}


def as_urgency(value: JsonValue) -> Urgency:
    """A knowledge value checked to be an urgency level."""
    if not isinstance(value, str) or value not in URGENCY_ORDER:
        raise ValueError(f"{value!r} is not an urgency level")
    return cast(Urgency, value)


def most_urgent(*levels: Urgency) -> Urgency:
    return min(levels, key=lambda u: URGENCY_ORDER[u])


def at_most(level: Urgency, ceiling: Urgency) -> Urgency:
    """``level``, but never more urgent than ``ceiling``."""
    return level if URGENCY_ORDER[level] >= URGENCY_ORDER[ceiling] else ceiling


@dataclass(frozen=True)
class WorkupRequest:
    """One test a suspicion asks for; ``because`` says which suspicion and why."""

    test: str
    urgency: Urgency
    because: str
    suspicion: str
    citations: tuple[str, ...] = ()
    unverified: tuple[str, ...] = ()
    policy: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suspicion:
    id: str
    kind: SuspicionKind
    urgency: Urgency
    sites: tuple[str, ...]
    reasons: tuple[str, ...]
    citations: tuple[str, ...]
    unverified: tuple[str, ...] = ()
    facts: tuple[InputUsed, ...] = ()
    tests: tuple[WorkupRequest, ...] = ()
    actions: tuple[str, ...] = ()
    policy: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return ALERT_TITLES[self.id]

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "id": self.id,
            "kind": self.kind,
            "urgency": self.urgency,
            "sites": list(self.sites),
            "reasons": list(self.reasons),
        }


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _merge_one(group: list[Suspicion]) -> Suspicion:
    first = group[0]
    if len(group) == 1:
        return first
    facts = {f.name: f for s in group for f in s.facts}
    return Suspicion(
        id=first.id,
        kind=first.kind,
        urgency=most_urgent(*(s.urgency for s in group)),
        sites=_unique(site for s in group for site in s.sites),
        reasons=_unique(r for s in group for r in s.reasons),
        citations=merge_citations(*(s.citations for s in group)),
        unverified=merge_citations(*(s.unverified for s in group)),
        policy=merge_citations(*(s.policy for s in group)),
        facts=tuple(facts.values()),
        tests=tuple(r for s in group for r in s.tests),
        actions=_unique(a for s in group for a in s.actions),
    )


def merge_suspicions(suspicions: Iterable[Suspicion]) -> list[Suspicion]:
    """One suspicion per id (most urgent level, all reasons), most urgent first."""
    groups: dict[str, list[Suspicion]] = {}
    for s in suspicions:
        groups.setdefault(s.id, []).append(s)
    merged = [_merge_one(g) for g in groups.values()]
    return sorted(merged, key=lambda s: (URGENCY_ORDER[s.urgency], s.id))


def to_alert(ctx: Context, s: Suspicion) -> Alert:
    """The alert for a suspicion; its detail ends with what its urgency means."""
    t = ctx.trace(f"alert.{s.id}")
    meaning = t.value(f"metastasis.urgency.{s.urgency}")
    detail = " ".join(s.reasons) + f" Urgency {s.urgency}: {meaning}."
    return Alert(
        id=s.id,
        urgency=s.urgency,
        title=s.title,
        detail=detail,
        citations=merge_citations(s.citations, t.citations),
        facts=s.facts,
        actions=s.actions,
        unverified=merge_citations(s.unverified, t.unverified),
        policy=merge_citations(s.policy, t.policy),
    )
