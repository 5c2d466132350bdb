"""What a rule returns, and the trace a rule writes it with.

Every rule result is a :class:`Finding`: its values (the contract keys), a clinician
explanation, the inputs it used (with dates), what was missing, the citations behind
every number it read, and which of those numbers are not yet verified against the
primary source. A rule obtains numbers only through :class:`Trace`, so a citation
cannot be forgotten.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from itertools import chain
from typing import Literal

from hccwatch.core.knowledge import JsonValue, Knowledge
from hccwatch.errors import KnowledgeError

__all__ = [
    "RESERVED_KEYS",
    "Alert",
    "AssumedInput",
    "Finding",
    "InputUsed",
    "Trace",
    "TreatmentOption",
    "Urgency",
    "WorkupItem",
    "merge_citations",
]

Urgency = Literal["emergency", "urgent", "soon", "routine"]
URGENCY_ORDER: dict[str, int] = {"emergency": 0, "urgent": 1, "soon": 2, "routine": 3}

RESERVED_KEYS = frozenset(
    {
        "rule",
        "determined",
        "explanation",
        "inputs",
        "missing",
        "citations",
        "unverified",
        "notes",
        "assumptions",
    }
)


@dataclass(frozen=True)
class InputUsed:
    """One fact a rule relied on, as it entered the rule (canonical unit), with its date."""

    name: str
    value: JsonValue
    unit: str | None = None
    date: date | None = None

    def to_dict(self) -> dict[str, JsonValue]:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "date": None if self.date is None else self.date.isoformat(),
        }


@dataclass(frozen=True)
class AssumedInput:
    """An input the record states was assumed (by an adapter, from the absence of data), and why."""

    field: str
    value: JsonValue
    reason: str

    def to_dict(self) -> dict[str, JsonValue]:
        return {"field": self.field, "value": self.value, "reason": self.reason}


@dataclass(frozen=True)
class Finding:
    """A rule's answer. ``determined`` is False when the answer is "cannot determine"."""

    rule: str
    values: Mapping[str, JsonValue]
    determined: bool
    explanation: str
    inputs: tuple[InputUsed, ...] = ()
    missing: tuple[str, ...] = ()
    citations: tuple[str, ...] = ()
    unverified: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    assumptions: tuple[AssumedInput, ...] = ()

    def __post_init__(self) -> None:
        if not RESERVED_KEYS.isdisjoint(self.values):
            clash = RESERVED_KEYS & set(self.values)
            raise KnowledgeError(f"{self.rule}: value keys {sorted(clash)} are reserved")

    def __getitem__(self, key: str) -> JsonValue:
        return self.values[key]

    def get(self, key: str, default: JsonValue = None) -> JsonValue:
        return self.values.get(key, default)

    def detached(self) -> Finding:
        """The same finding with its own values dict (for handing out a memoised finding)."""
        return Finding(
            self.rule,
            dict(self.values),
            self.determined,
            self.explanation,
            self.inputs,
            self.missing,
            self.citations,
            self.unverified,
            self.notes,
            self.assumptions,
        )

    def to_dict(self) -> dict[str, JsonValue]:
        # One literal: the value keys cannot clash with the reserved ones (checked on creation).
        return {
            "rule": self.rule,
            **self.values,
            "determined": self.determined,
            "explanation": self.explanation,
            "inputs": [i.to_dict() for i in self.inputs],
            "missing": list(self.missing),
            "citations": list(self.citations),
            "unverified": list(self.unverified),
            "notes": list(self.notes),
            "assumptions": [a.to_dict() for a in self.assumptions],
        }


@dataclass(frozen=True)
class Alert:
    """Something a clinician should act on, with how urgently."""

    id: str
    urgency: Urgency
    title: str
    detail: str
    citations: tuple[str, ...]
    facts: tuple[InputUsed, ...] = ()
    actions: tuple[str, ...] = ()
    unverified: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, JsonValue]:
        return {
            "id": self.id,
            "urgency": self.urgency,
            "title": self.title,
            "detail": self.detail,
            "actions": list(self.actions),
            "facts": [f.to_dict() for f in self.facts],
            "citations": list(self.citations),
            "unverified": list(self.unverified),
        }


@dataclass(frozen=True)
class WorkupItem:
    """A test to order for a suspicion, how urgently, and why."""

    test: str
    urgency: Urgency
    reason: str
    citations: tuple[str, ...]
    suspicion: str | None = None
    instead_of: str | None = None
    unverified: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, JsonValue]:
        return {
            "test": self.test,
            "urgency": self.urgency,
            "reason": self.reason,
            "suspicion": self.suspicion,
            "instead_of": self.instead_of,
            "citations": list(self.citations),
            "unverified": list(self.unverified),
        }


@dataclass(frozen=True)
class TreatmentOption:
    """An option to discuss at a tumour board (never an order)."""

    id: str
    title: str
    status: Literal["candidate", "not_candidate", "cannot_determine", "contraindicated"]
    reasons: tuple[str, ...]
    citations: tuple[str, ...]
    cautions: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    unverified: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, JsonValue]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "reasons": list(self.reasons),
            "cautions": list(self.cautions),
            "missing": list(self.missing),
            "citations": list(self.citations),
            "unverified": list(self.unverified),
        }


def _shown(value: JsonValue) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "unknown" if value is None else str(value)


def merge_citations(*groups: Iterable[str]) -> tuple[str, ...]:
    """Citation ids in first-seen order, without repeats."""
    return tuple(dict.fromkeys(chain.from_iterable(groups)))


@dataclass(slots=True)
class Trace:
    """The notebook a rule writes in while it decides.

    Read numbers with :meth:`num` / :meth:`value` (each read cites its source), record facts
    with :meth:`used`, gaps with :meth:`need`, then close with :meth:`finish`.
    """

    rule: str
    knowledge: Knowledge
    # Inputs the record marks as assumed, by name as passed to used() ("liver.dialysis_twice_past_week").
    assumed: Mapping[str, AssumedInput] = field(default_factory=dict)
    _citations: dict[str, None] = field(default_factory=dict)
    _unverified: dict[str, None] = field(default_factory=dict)
    _inputs: dict[str, InputUsed] = field(default_factory=dict)
    _missing: dict[str, None] = field(default_factory=dict)
    _notes: dict[str, None] = field(default_factory=dict)

    def value(self, key: str) -> JsonValue:
        """A knowledge entry's value; its citations are recorded, and it is flagged if unverified."""
        # Read on every rule run: the dict look-up first, the named error only on a miss.
        entry = self.knowledge.entries.get(key) or self.knowledge.entry(key)
        citations = self._citations
        for cid in entry.citations:
            citations.setdefault(cid, None)
        if not entry.verified:
            self._unverified.setdefault(key, None)
        return entry.value

    def num(self, key: str) -> float:
        value = self.value(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return self.knowledge.number(key)  # raises the knowledge base's own error
        return float(value)

    def table(self, key: str) -> Mapping[str, JsonValue]:
        value = self.value(key)
        if not isinstance(value, dict):
            raise KnowledgeError(f"knowledge entry {key!r} is not a table")
        return value

    def items(self, key: str) -> list[JsonValue]:
        value = self.value(key)
        if not isinstance(value, list):
            raise KnowledgeError(f"knowledge entry {key!r} is not a list")
        return value

    def cite(self, *citation_ids: str) -> None:
        """Cite a source for reasoning that is not a number (a definition, a rule of thumb)."""
        for cid in citation_ids:
            self.knowledge.citation(cid)
            self._citations.setdefault(cid, None)

    def used(self, name: str, value: JsonValue, unit: str | None = None, when: date | None = None) -> None:
        self._inputs[name] = InputUsed(name=name, value=value, unit=unit, date=when)

    def need(self, *names: str) -> None:
        """Record inputs that were needed but unknown."""
        for name in names:
            self._missing.setdefault(name, None)

    def note(self, text: str) -> None:
        self._notes.setdefault(text, None)

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(self._missing)

    @property
    def citations(self) -> tuple[str, ...]:
        return tuple(self._citations)

    @property
    def unverified(self) -> tuple[str, ...]:
        return tuple(self._unverified)

    @property
    def inputs(self) -> tuple[InputUsed, ...]:
        return tuple(self._inputs.values())

    def finish(
        self,
        values: Mapping[str, JsonValue],
        explanation: str,
        *,
        determined: bool | None = None,
    ) -> Finding:
        """Close the trace. ``determined`` defaults to "nothing was missing"."""
        assumptions: tuple[AssumedInput, ...] = ()
        if self.assumed:
            # Every finding that used an assumed input shows the assumption (and, as a note, in reports).
            assumptions = tuple(self.assumed[name] for name in self._inputs if name in self.assumed)
            for a in assumptions:
                self.note(f"Assumed {a.field} = {_shown(a.value)}: {a.reason}.")
        return Finding(
            rule=self.rule,
            values=dict(values),
            determined=(not self._missing) if determined is None else determined,
            explanation=explanation,
            inputs=self.inputs,
            missing=self.missing,
            citations=self.citations,
            unverified=self.unverified,
            notes=tuple(self._notes),
            assumptions=assumptions,
        )

    def cannot_determine(self, keys: Iterable[str], explanation: str | None = None) -> Finding:
        """A finding whose every value is null, naming what was missing."""
        gaps = ", ".join(self._missing) or "required data"
        return self.finish(
            {k: None for k in keys},
            explanation or f"Cannot determine: missing {gaps}.",
            determined=False,
        )
