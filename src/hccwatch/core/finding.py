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
from types import MappingProxyType
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
        "policy",
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
        value = self.value
        return {
            "name": self.name,
            "value": _own(value) if type(value) is list or type(value) is dict else value,
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
        value = self.value
        return {
            "field": self.field,
            "value": _own(value) if type(value) is list or type(value) is dict else value,
            "reason": self.reason,
        }


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
    # hccwatch's own choices among the numbers used (knowledge entries with status "policy").
    policy: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not RESERVED_KEYS.isdisjoint(self.values):
            clash = RESERVED_KEYS & set(self.values)
            raise KnowledgeError(f"{self.rule}: value keys {sorted(clash)} are reserved")

    def __getitem__(self, key: str) -> JsonValue:
        return self.values[key]

    def get(self, key: str, default: JsonValue = None) -> JsonValue:
        return self.values.get(key, default)

    def detached(self) -> Finding:
        """The same finding with its own values, lists and tables included (for handing out a
        memoised finding: a caller changing one record's answer must not change the next's)."""
        # A field-by-field copy without re-running the constructor's checks (they held for self),
        # and it carries every field, including any added later.
        copy = object.__new__(Finding)
        fields = copy.__dict__
        fields.update(self.__dict__)
        fields["values"] = {
            key: _own(value) if type(value) is list or type(value) is dict else value
            for key, value in self.values.items()
        }
        return copy

    def to_dict(self) -> dict[str, JsonValue]:
        # One literal: the value keys cannot clash with the reserved ones (checked on creation).
        # The inputs are written as InputUsed.to_dict writes them, inline: a finding has a few
        # each, and an assessment some sixty. Empty parts (most of them) skip the comprehension.
        inputs = self.inputs
        assumptions = self.assumptions
        return {
            "rule": self.rule,
            **self.values,
            "determined": self.determined,
            "explanation": self.explanation,
            "inputs": [
                {
                    "name": i.name,
                    # A list or table input is copied: findings share recorded inputs (the staging
                    # rules one tumour reading, the transplant criteria one set of facts), and each
                    # caller's dict must be its own to change.
                    "value": _own(v) if type(v := i.value) in _CONTAINERS else v,
                    "unit": i.unit,
                    "date": None if (d := i.date) is None else d.isoformat(),
                }
                for i in inputs
            ]
            if inputs
            else [],
            "missing": [*self.missing],
            "citations": [*self.citations],
            "unverified": [*self.unverified],
            "policy": [*self.policy],
            "notes": [*self.notes],
            "assumptions": [a.to_dict() for a in assumptions] if assumptions else [],
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
    policy: tuple[str, ...] = ()

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
            "policy": list(self.policy),
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
    policy: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, JsonValue]:
        return {
            "test": self.test,
            "urgency": self.urgency,
            "reason": self.reason,
            "suspicion": self.suspicion,
            "instead_of": self.instead_of,
            "citations": list(self.citations),
            "unverified": list(self.unverified),
            "policy": list(self.policy),
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
    policy: tuple[str, ...] = ()

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
            "policy": list(self.policy),
        }


def _own(value: JsonValue) -> JsonValue:
    """A JSON value whose lists and tables are new ones (the scalars in it are immutable)."""
    if type(value) is list:
        return [_own(v) if type(v) in _CONTAINERS else v for v in value]
    if type(value) is dict:
        return {k: _own(v) if type(v) in _CONTAINERS else v for k, v in value.items()}
    return value


# The types ``_own`` copies: exactly these (one membership test instead of two identity tests).
_CONTAINERS: frozenset[type] = frozenset({list, dict})


def _shown(value: JsonValue) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "unknown" if value is None else str(value)


def merge_citations(*groups: Iterable[str]) -> tuple[str, ...]:
    """Citation ids in first-seen order, without repeats."""
    return tuple(dict.fromkeys(chain.from_iterable(groups)))


_new = object.__new__
_NOTHING_ASSUMED: Mapping[str, AssumedInput] = MappingProxyType({})


@dataclass(slots=True, init=False)
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
    _policy: dict[str, None] = field(default_factory=dict)
    _inputs: dict[str, InputUsed] = field(default_factory=dict)
    _missing: dict[str, None] = field(default_factory=dict)
    _notes: dict[str, None] = field(default_factory=dict)

    def __init__(
        self, rule: str, knowledge: Knowledge, assumed: Mapping[str, AssumedInput] = _NOTHING_ASSUMED
    ) -> None:
        # Written out: the generated one calls a factory per dict, and rules open some
        # twenty-five traces per assessment. Only the three public fields are arguments.
        self.rule = rule
        self.knowledge = knowledge
        self.assumed = assumed
        self._citations = {}
        self._unverified = {}
        self._policy = {}
        self._inputs = {}
        self._missing = {}
        self._notes = {}

    def value(self, key: str) -> JsonValue:
        """A knowledge entry's value; its citations are recorded, and it is flagged if unverified."""
        try:
            value, _, citations, flag = self.knowledge.reads[key]
        except KeyError:
            raise KnowledgeError(f"knowledge entry {key!r} does not exist") from None
        # ``update`` keeps first-seen order, as one ``setdefault`` per citation would.
        self._citations.update(citations)
        if flag is not None:
            (self._policy if flag == "policy" else self._unverified).setdefault(key, None)
        return value

    def num(self, key: str) -> float:
        try:
            _, number, citations, flag = self.knowledge.reads[key]
        except KeyError:
            raise KnowledgeError(f"knowledge entry {key!r} does not exist") from None
        if number is None:
            return self.knowledge.number(key)  # raises the knowledge base's own error
        self._citations.update(citations)
        if flag is not None:
            (self._policy if flag == "policy" else self._unverified).setdefault(key, None)
        return number

    def table(self, key: str) -> Mapping[str, JsonValue]:
        # The read of ``value`` inline: rules read about fifty tables and lists per assessment.
        try:
            value, _, citations, flag = self.knowledge.reads[key]
        except KeyError:
            raise KnowledgeError(f"knowledge entry {key!r} does not exist") from None
        if not isinstance(value, dict):
            raise KnowledgeError(f"knowledge entry {key!r} is not a table")
        self._citations.update(citations)
        if flag is not None:
            (self._policy if flag == "policy" else self._unverified).setdefault(key, None)
        return value

    def items(self, key: str) -> list[JsonValue]:
        try:
            value, _, citations, flag = self.knowledge.reads[key]
        except KeyError:
            raise KnowledgeError(f"knowledge entry {key!r} does not exist") from None
        if not isinstance(value, list):
            raise KnowledgeError(f"knowledge entry {key!r} is not a list")
        self._citations.update(citations)
        if flag is not None:
            (self._policy if flag == "policy" else self._unverified).setdefault(key, None)
        return value

    def cite(self, *citation_ids: str) -> None:
        """Cite a source for reasoning that is not a number (a definition, a rule of thumb)."""
        known = self.knowledge.citations
        for cid in citation_ids:
            if cid not in known:
                self.knowledge.citation(cid)  # raises the knowledge base's own error
            self._citations.setdefault(cid, None)

    def used(self, name: str, value: JsonValue, unit: str | None = None, when: date | None = None) -> None:
        # Filled without the frozen constructor (one guarded ``object.__setattr__`` per field, about
        # half the cost): rules record some fifty inputs per assessment.
        fact = _new(InputUsed)
        fact.__dict__.update(name=name, value=value, unit=unit, date=when)
        self._inputs[name] = fact

    def use(self, fact: InputUsed) -> None:
        """Record an input built once and shared (a context's latest lab, asked by many rules)."""
        self._inputs[fact.name] = fact

    def extend(self, other: Trace) -> None:
        """Record everything ``other`` recorded (inputs, gaps, sources, notes), in its order.

        For facts several rules share: recorded once in one trace, copied into each rule's.
        """
        self._citations.update(other._citations)
        self._unverified.update(other._unverified)
        self._policy.update(other._policy)
        self._inputs.update(other._inputs)
        self._missing.update(other._missing)
        self._notes.update(other._notes)

    def fork(self, rule: str) -> Trace:
        """A trace for ``rule`` holding everything this one recorded, in its order: what a new
        trace (same knowledge, same assumptions) then :meth:`extend` with this one holds.

        For facts several rules share: recorded once, each rule's trace starts from a copy.
        """
        t = _new(Trace)
        t.rule = rule
        t.knowledge = self.knowledge
        t.assumed = self.assumed
        t._citations = self._citations.copy()
        t._unverified = self._unverified.copy()
        t._policy = self._policy.copy()
        t._inputs = self._inputs.copy()
        t._missing = self._missing.copy()
        t._notes = self._notes.copy()
        return t

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
    def policy(self) -> tuple[str, ...]:
        """The project's own choices (knowledge entries with status "policy") this trace read."""
        return tuple(self._policy)

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
        assumed = self.assumed
        # The key views' intersection (in C) first: most traces used none of the assumed inputs.
        if assumed and not assumed.keys().isdisjoint(self._inputs):
            # Every finding that used an assumed input shows the assumption (and, as a note, in reports).
            assumptions = tuple([assumed[name] for name in self._inputs if name in assumed])
            for a in assumptions:
                self.note(f"Assumed {a.field} = {_shown(a.value)}: {a.reason}.")
        values = dict(values)
        if not RESERVED_KEYS.isdisjoint(values):
            Finding(self.rule, values, False, explanation)  # raises the constructor's own error
        # Filled without the frozen constructor (one guarded ``object.__setattr__`` per field):
        # rules close about fifteen traces per assessment. The one check it makes is made above.
        finding = object.__new__(Finding)
        finding.__dict__.update(
            rule=self.rule,
            values=values,
            determined=(not self._missing) if determined is None else determined,
            explanation=explanation,
            inputs=tuple(self._inputs.values()),
            missing=tuple(self._missing),
            citations=tuple(self._citations),
            unverified=tuple(self._unverified),
            notes=tuple(self._notes),
            assumptions=assumptions,
            policy=tuple(self._policy),
        )
        return finding

    def cannot_determine(self, keys: Iterable[str], explanation: str | None = None) -> Finding:
        """A finding whose every value is null, naming what was missing."""
        gaps = ", ".join(self._missing) or "required data"
        return self.finish(
            {k: None for k in keys},
            explanation or f"Cannot determine: missing {gaps}.",
            determined=False,
        )
