"""How a transplant criterion turns incomplete facts into within / beyond / cannot determine.

Every criterion here is monotone: more nodules, a larger nodule, a higher AFP or DCP, a
higher grade or an exclusion can only move a patient from "within" to "beyond". So a
criterion is tested twice, on the most favourable and on the least favourable case the facts
allow (unknown sizes and markers at 0 and at +infinity, possibly viable tumours left out and
counted, unknown grade as low and as high):

- beyond in the favourable case (or an exclusion present) -> beyond, whatever is unknown;
- within in the unfavourable case with no exclusion -> within;
- otherwise -> cannot determine, naming the gaps.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding, Trace
from hccwatch.core.knowledge import JsonValue
from hccwatch.core.memo import Memo
from hccwatch.core.rules.transplant._facts import Burden, Exclusions, Extent, read_burden, read_exclusions
from hccwatch.errors import KnowledgeError

__all__ = [
    "Arm",
    "Case",
    "Facts",
    "Marker",
    "arms_text",
    "band",
    "cases",
    "conclude",
    "decide",
    "fits",
    "latest_afp",
    "open_trace",
    "read_arms",
    "read_facts",
    "span",
    "verdict_word",
]


@dataclass(frozen=True)
class Facts:
    """What all criteria share, read once."""

    burden: Burden
    exclusions: Exclusions
    # The facts as recorded in a trace for one context, once for all criteria (not part of the
    # facts' identity: ``repr`` of the facts keys the memos; not an init field, so ``replace``
    # starts a new one).
    _recorded: list[tuple[Context, Trace]] = field(
        default_factory=list, init=False, repr=False, compare=False
    )

    def recorded(self, ctx: Context) -> Trace:
        """A trace holding the shared facts, their gaps and the exclusions' source."""
        kept = self._recorded
        # Kept for one context: a criterion's trace is a copy of it (its knowledge and assumptions).
        if kept and kept[0][0] is ctx:
            return kept[0][1]
        t = ctx.trace("transplant")
        self.burden.record(t)
        self.exclusions.record(t)
        t.cite("AASLD-2023")
        kept[:] = [(ctx, t)]
        return t


def read_facts(ctx: Context) -> Facts:
    return Facts(burden=read_burden(ctx), exclusions=read_exclusions(ctx))


def open_trace(ctx: Context, facts: Facts, key: str) -> Trace:
    """A criterion's trace with the shared facts, their gaps and the exclusions' source recorded."""
    # Copied from one recording: twelve criteria open a trace per assessment.
    return facts.recorded(ctx).fork(f"transplant.{key}")


def span(low: float, high: float) -> str:
    """A quantity the facts fix (``"7"``), bound from below (``"at least 7"``) or bracket."""
    if low == high:
        return f"{low:g}"
    if math.isinf(high):
        return f"at least {low:g}"
    return f"{low:g} to {high:g}"


@dataclass(frozen=True)
class Case:
    """One complete set of inputs a criterion can be tested on."""

    extent: Extent
    afp_ng_ml: float = 0.0
    dcp_mau_ml: float = 0.0
    low_grade: bool = True


# Where a burden keeps its cases on the burden alone (as ``once`` keeps a value: in the instance's
# ``__dict__``, which a frozen dataclass leaves writable).
_PLAIN = "_plain_cases"


def _bounds(value: float | None) -> tuple[float, float]:
    return (0.0, math.inf) if value is None else (value, value)


def cases(
    burden: Burden,
    *,
    afp: float | None = None,
    dcp: float | None = None,
    low_grade: bool | None = None,
) -> tuple[Case, Case]:
    """The most and the least favourable case the facts allow."""
    if afp is None and dcp is None and low_grade is None:
        # On the burden alone (most criteria): built once per burden, cases being immutable.
        kept: tuple[Case, Case] | None = burden.__dict__.get(_PLAIN)
        if kept is None:
            kept = burden.__dict__[_PLAIN] = (
                Case(burden.extent(worst=False), 0.0, 0.0, True),
                Case(burden.extent(worst=True), math.inf, math.inf, False),
            )
        return kept
    afp_lo, afp_hi = _bounds(afp)
    dcp_lo, dcp_hi = _bounds(dcp)
    best = Case(burden.extent(worst=False), afp_lo, dcp_lo, True if low_grade is None else low_grade)
    worst = Case(burden.extent(worst=True), afp_hi, dcp_hi, False if low_grade is None else low_grade)
    return best, worst


def decide(test: Callable[[Case], bool], best: Case, worst: Case, excluded: bool | None) -> bool | None:
    """Within (True), beyond (False) or cannot determine (None); see the module docstring."""
    if excluded is True or not test(best):
        return False
    if excluded is False and test(worst):
        return True
    return None


@dataclass(frozen=True)
class Arm:
    """One way to be within a size criterion: at most so many nodules, each and in total so large."""

    max_nodules: float
    max_largest_cm: float
    max_total_cm: float | None = None


def _number(table: Mapping[str, JsonValue], key: str, where: str) -> float:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise KnowledgeError(f"{where}: {key!r} must be a number")
    return float(value)


def _as_tables(items: list[JsonValue], key: str) -> list[Mapping[str, JsonValue]]:
    out: list[Mapping[str, JsonValue]] = []
    for item in items:
        if not isinstance(item, dict):
            raise KnowledgeError(f"{key}: every item must be a table")
        out.append(item)
    return out


ParsedT = TypeVar("ParsedT")
_PARSED: Memo[tuple[object, Any]] = Memo()


def _parsed(
    raw: list[JsonValue], what: tuple[str, str], parse: Callable[[list[JsonValue]], ParsedT]
) -> ParsedT:
    """``parse(raw)`` for a knowledge list, parsed once per knowledge base (the entry's list is
    immutable by convention; it is told apart by identity, checked on a hit)."""
    held, value = _PARSED.get((what, id(raw)), lambda: (raw, parse(raw)))
    return value if held is raw else parse(raw)


def read_arms(t: Trace, key: str) -> list[Arm]:
    return _parsed(t.items(key), ("arms", key), lambda items: _arms(items, key))


def _arms(items: list[JsonValue], key: str) -> list[Arm]:
    return [
        Arm(
            max_nodules=_number(a, "max_nodules", key),
            max_largest_cm=_number(a, "max_largest_cm", key),
            max_total_cm=_number(a, "max_total_cm", key) if "max_total_cm" in a else None,
        )
        for a in _as_tables(items, key)
    ]


def fits(arms: Sequence[Arm], e: Extent) -> bool:
    return any(
        e.nodules <= a.max_nodules
        and e.largest_cm <= a.max_largest_cm
        and (a.max_total_cm is None or e.total_cm <= a.max_total_cm)
        for a in arms
    )


_ARMS_TEXT: Memo[tuple[object, str]] = Memo()


def arms_text(arms: Sequence[Arm]) -> str:
    """E.g. "1 nodule ≤ 5 cm, or up to 3 nodules each ≤ 3 cm"."""
    # Worded once per parsed arms list (``read_arms`` hands out the same list per knowledge
    # base, immutable by convention), told apart by identity, checked on a hit: criteria word
    # their arms some ten times per assessment.
    held, text = _ARMS_TEXT.get(id(arms), lambda: (arms, _arms_text(arms)))
    return text if held is arms else _arms_text(arms)


def _arms_text(arms: Sequence[Arm]) -> str:
    def one(a: Arm) -> str:
        total = "" if a.max_total_cm is None else f" with total ≤ {a.max_total_cm:g} cm"
        if a.max_nodules == 1:
            return f"1 nodule ≤ {a.max_largest_cm:g} cm"
        return f"up to {a.max_nodules:g} nodules each ≤ {a.max_largest_cm:g} cm{total}"

    return ", or ".join(one(a) for a in arms)


@dataclass(frozen=True)
class Band:
    """One row of a band table and the bounds it covers, for naming it."""

    row: Mapping[str, JsonValue]
    lower: float | None
    lower_inclusive: bool
    upper: float | None
    upper_inclusive: bool

    def number(self, key: str, field: str) -> float:
        return _number(self.row, field, key)

    def label(self, name: str, unit: str) -> str:
        """E.g. "200 ≤ AFP ≤ 400 ng/mL" or "AFP > 1000 ng/mL"."""
        low = "" if self.lower is None else f"{self.lower:g} {'≤' if self.lower_inclusive else '<'} "
        if self.upper is not None:
            return f"{low}{name} {'≤' if self.upper_inclusive else '<'} {self.upper:g} {unit}"
        if self.lower is None:
            return f"any {name}"
        return f"{name} {'≥' if self.lower_inclusive else '>'} {self.lower:g} {unit}"


def band(t: Trace, key: str, value: float) -> Band:
    """The band of table ``key`` holding ``value``.

    Rows are in ascending order; a row holds values up to its ``upto`` (inclusive unless
    ``inclusive = false``); the last row has no ``upto`` and holds everything above.
    """
    # Each row's Band is built once per knowledge base (it depends on the rows, not on the value).
    for found in _parsed(t.items(key), ("bands", key), lambda items: _bands(items, key)):
        upto = found.upper
        if upto is None or value < upto or (found.upper_inclusive and value == upto):
            return found
    raise KnowledgeError(f"{key}: no band holds {value}; the last band must be open-ended")


def _bands(items: list[JsonValue], key: str) -> list[Band]:
    """Each row as a Band, up to the open-ended one (the last row read)."""
    out: list[Band] = []
    lower: float | None = None
    lower_inclusive = False
    for row in _as_tables(items, key):
        if "upto" not in row:
            out.append(Band(row, lower, lower_inclusive, None, False))
            break
        upto, inclusive = _number(row, "upto", key), row.get("inclusive", True) is True
        out.append(Band(row, lower, lower_inclusive, upto, inclusive))
        lower, lower_inclusive = upto, not inclusive
    return out


@dataclass(frozen=True)
class Marker:
    """A serum marker a criterion reads: its value (None = unknown) and how to name it."""

    name: str
    value: float | None
    unit: str

    @property
    def key(self) -> str:
        """The value key with its unit, e.g. ``afp_ng_ml``."""
        return f"{self.name}_{self.unit}".lower().replace("/", "_")

    def describe(self) -> str:
        return f"{self.name} unknown" if self.value is None else f"{self.name} {self.value:g} {self.unit}"


def latest_afp(ctx: Context, t: Trace) -> Marker:
    lab = ctx.latest_lab(t, "afp")
    return Marker("AFP", None if lab is None else lab.canonical.value, "ng/mL")


def verdict_word(within: bool | None, yes: str = "Within", no: str = "Beyond") -> str:
    return "Cannot determine" if within is None else (yes if within else no)


def conclude(
    t: Trace,
    facts: Facts,
    within: bool | None,
    name: str,
    *,
    detail: str,
    values: Mapping[str, JsonValue] | None = None,
    key: str = "within",
    yes: str = "Within",
    no: str = "Beyond",
) -> Finding:
    """Close a criterion's trace with a clinician-readable explanation.

    ``detail`` states the facts and the comparison with their numbers; the verdict, the
    exclusions and the gaps are added here so every criterion words them the same way.
    """
    excl = facts.exclusions
    missing = t.missing  # a tuple built per read: read once
    only_exclusions_unknown = within is None and set(missing) <= set(excl.unknown)
    if excl.present:
        reason = f"{', '.join(excl.present)} (an absolute exclusion for transplant). {detail}"
    elif within is True:
        reason = f"{detail}; no macrovascular invasion or extrahepatic spread"
    elif only_exclusions_unknown:
        # Every other input is known, so the tumour part of the criterion is met.
        reason = f"the tumour criteria are met ({detail}), but not known: {', '.join(excl.unknown)}"
    else:
        reason = detail
    text = f"{verdict_word(within, yes, no)} {name}: {reason}."
    if missing and not only_exclusions_unknown:
        if within is None:
            text += f" Missing: {', '.join(missing)}."
        else:
            text += f" Not known ({', '.join(missing)}), but this cannot change the answer."
    return t.finish({key: within, **(values or {})}, text, determined=within is not None)
