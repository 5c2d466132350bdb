"""What the staging rules (BCLC, CNLC, AJCC) share: the facts they read and how unknowns are weighed.

When a staging input is unknown, then each possible value of that input is tried. A stage
is given only when every combination gives the same stage (:func:`resolve`, which tries only
the unknowns a rule actually reads, and remembers the fact patterns it has resolved). Otherwise the
stage is null, and the unknowns that changed it are named. So lung metastases make a patient
BCLC C whatever the unknown size of the liver tumour, while a single nodule of unknown size
cannot be told apart as BCLC 0 or A.

How the record is read (a positive finding always wins over a negative one):

- Extrahepatic spread (BCLC C, CNLC IIIb) is ``extrahepatic_metastasis`` or
  ``lymph_node_metastasis`` or any recorded metastatic site. Nodes outside the liver are
  extrahepatic. ``extrahepatic_metastasis = false`` therefore means "nothing outside the
  liver".
- AJCC keeps nodes (N) and distant metastasis (M) apart; see :func:`nodes_and_distant`.
- Metastatic sites dated after the evaluation date are ignored.

Citations: BCLC-2022, CNLC-2019, AJCC-2017 (cited by the rules that use these facts).
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding, Trace
from hccwatch.core.knowledge import JsonValue
from hccwatch.core.memo import MAX_ENTRIES, Memo
from hccwatch.core.rules.staging.tumour_burden import TumourBurden
from hccwatch.errors import KnowledgeError
from hccwatch.record.model import MetastaticSite

__all__ = [
    "BOTH",
    "Resolution",
    "burden_text",
    "child_pugh_grade",
    "deciding",
    "extrahepatic_spread",
    "flag",
    "grade_matches",
    "in_order",
    "metastatic_sites",
    "nodes_and_distant",
    "options",
    "recorded_as",
    "resolve",
    "undecisive_gaps",
    "words",
]

OutcomeT = TypeVar("OutcomeT")
BOTH = (False, True)


@dataclass(frozen=True)
class Resolution(Generic[OutcomeT]):
    """The outcomes possible under the unknowns, and which unknowns make a difference."""

    outcomes: tuple[OutcomeT, ...]
    decisive: tuple[str, ...]

    @property
    def certain(self) -> bool:
        return len(self.outcomes) == 1

    @property
    def value(self) -> OutcomeT | None:
        return self.outcomes[0] if self.certain else None


def resolve(
    domains: Mapping[str, Sequence[Any]],
    decide: Callable[[Mapping[str, Any]], OutcomeT],
    key: Hashable = None,
) -> Resolution[OutcomeT]:
    """What ``decide`` gives over every combination of the possible values of each fact.

    A fact with one possible value is known. A fact is decisive when changing it alone
    changes the outcome in some combination. The outcomes are listed in the order they first
    appear when the combinations are taken in order (the first fact varying slowest, each
    fact's values in their order). ``key``, when given, names ``decide`` and everything it
    depends on besides the facts (its thresholds): the resolution is then memoised.

    ``decide`` must be pure and read facts as ``s[name]`` (not ``s.get``): that read is how the
    resolver learns which unknowns the rule depends on.
    """
    return resolve_each(domains, {"": decide}, key=key)[""]


def resolve_each(
    domains: Mapping[str, Sequence[Any]],
    deciders: Mapping[str, Callable[[Mapping[str, Any]], OutcomeT]],
    key: Hashable = None,
) -> dict[str, Resolution[OutcomeT]]:
    """:func:`resolve` for several decisions over the same facts (memoised together under ``key``)."""
    if key is None:
        return _resolve_each(domains, deciders)
    pattern = (key, tuple(domains), tuple(tuple(values) for values in domains.values()))
    return dict(_MEMO.get(pattern, lambda: _resolve_each(domains, deciders)))


_MEMO: Memo[dict[str, Resolution[Any]]] = Memo()


def _resolve_each(
    domains: Mapping[str, Sequence[Any]], deciders: Mapping[str, Callable[[Mapping[str, Any]], OutcomeT]]
) -> dict[str, Resolution[OutcomeT]]:
    names = list(domains)
    if any(not values for values in domains.values()):
        # A fact with no possible value: there is no combination at all.
        return {name: Resolution(outcomes=(), decisive=()) for name in deciders}
    known = {name: values[0] for name, values in domains.items() if len(values) == 1}
    return {name: _resolve_one(names, domains, known, decide) for name, decide in deciders.items()}


class _Unassigned(Exception):
    """``decide`` read a fact that is unknown on this branch: branch on its values.

    The fact's name is its only argument, ``args[0]`` (no ``__init__`` of its own: branching
    raises some ten per assessment).
    """


class _Facts(dict[str, Any]):
    """The facts as ``decide`` sees them on one branch: known or branched on; reading any other
    fact raises :class:`_Unassigned` (a dict, so that reading a present fact costs nothing)."""

    __slots__ = ()

    def __missing__(self, name: str) -> Any:
        raise _Unassigned(name)


def _resolve_one(
    names: Sequence[str],
    domains: Mapping[str, Sequence[Any]],
    known: dict[str, Any],
    decide: Callable[[Mapping[str, Any]], OutcomeT],
) -> Resolution[OutcomeT]:
    """Branch only on the unknown facts ``decide`` actually reads.

    ``decide`` is pure, so its outcome depends only on the facts it read: one run with the facts
    read so far fixed answers for every combination that agrees on them (a leaf). The leaves
    partition the combinations, which gives the outcomes in enumeration order (each leaf's
    first combination sets every unread fact to its first value) and the decisive facts (two
    leaves that differ in one fact only, with different outcomes). A rule that reads four of
    nine unknowns is run a few dozen times instead of a few thousand.
    """
    leaves: list[tuple[dict[str, int], OutcomeT]] = []
    pending: list[tuple[dict[str, int], dict[str, Any]]] = [({}, known)]
    while pending:
        assigned, facts = pending.pop()
        try:
            outcome = decide(_Facts(facts))
        except _Unassigned as unknown:
            name: str = unknown.args[0]
            values = domains[name]
            pending.extend(
                ({**assigned, name: i}, {**facts, name: values[i]}) for i in reversed(range(len(values)))
            )
            continue
        leaves.append((assigned, outcome))
    if len(leaves) == 1:  # ``decide`` read no unknown: one outcome, nothing decisive
        return Resolution(outcomes=(leaves[0][1],), decisive=())
    zeros = [0] * len(names)
    leaves.sort(key=lambda leaf: tuple(map(leaf[0].get, names, zeros)))
    outcomes = tuple(dict.fromkeys(outcome for _, outcome in leaves))
    if len(outcomes) == 1:
        return Resolution(outcomes=outcomes, decisive=())
    decisive = tuple(name for name in names if len(domains[name]) > 1 and _changes_outcome(leaves, name))
    return Resolution(outcomes=outcomes, decisive=decisive)


def _changes_outcome(leaves: Sequence[tuple[Mapping[str, int], Any]], name: str) -> bool:
    """Do two leaves with different outcomes differ in fact ``name`` and agree on every other fact
    both fixed? Then the combinations they share but for ``name`` differ in ``name`` alone."""
    split = [(assigned, outcome) for assigned, outcome in leaves if name in assigned]
    for i, (a, outcome_a) in enumerate(split):
        for b, outcome_b in split[i + 1 :]:
            if (
                a[name] != b[name]
                and outcome_a != outcome_b
                and all(b.get(fact, index) == index for fact, index in a.items() if fact != name)
            ):
                return True
    return False


def deciding(t: Trace, result: Resolution[Any], keys: Sequence[str]) -> str:
    """The missing record fields behind the decisive facts, in words.

    A missing entry belongs to the longest fact name it starts with, once list indices are
    dropped: ``tumors[2].size_cm`` belongs to ``tumors.size_cm`` rather than ``tumors``.
    """
    return _deciding(t.missing, result.decisive, tuple(keys))


@functools.lru_cache(maxsize=MAX_ENTRIES)
def _deciding(missing: tuple[str, ...], decisive: tuple[str, ...], keys: tuple[str, ...]) -> str:
    # Pure in its arguments, which recur across a population: memoised.
    owner: dict[str, list[str]] = defaultdict(list)
    # Each key's prefixes worded once, not once per gap.
    prefixed = [(k, (f"{k} ", f"{k}.")) for k in keys]
    for gap in missing:
        bare = _INDEX.sub("", gap)
        matches = [k for k, prefixes in prefixed if bare == k or bare.startswith(prefixes)]
        if matches:
            owner[max(matches, key=len)].append(gap)
    names = [gap for key in decisive for gap in owner.get(key, [])]
    return words(list(dict.fromkeys(names or missing)), "and")


_INDEX = re.compile(r"\[\d+\]")


def flag(t: Trace, name: str, value: bool | None) -> tuple[bool, ...]:
    """A yes/no fact: its value if known (recorded as used), else both (recorded as missing)."""
    if value is None:
        t.need(name)
        return BOTH
    t.used(name, value)
    return (value,)


def metastatic_sites(ctx: Context) -> list[MetastaticSite]:
    """Recorded metastatic sites, except those dated after the evaluation date."""
    return [s for s in ctx.record.metastatic_sites if s.date is None or s.date <= ctx.as_of]


def _sites_used(ctx: Context, t: Trace) -> list[MetastaticSite]:
    sites = metastatic_sites(ctx)
    if sites:
        latest = max((s.date for s in sites if s.date), default=None)
        t.used("metastatic_sites", [s.site for s in sites], None, latest)
    return sites


def extrahepatic_spread(ctx: Context, t: Trace) -> tuple[bool, ...]:
    """Extrahepatic spread, including lymph-node metastasis (BCLC C, CNLC IIIb)."""
    record = ctx.record
    sites = _sites_used(ctx, t)
    for name in ("extrahepatic_metastasis", "lymph_node_metastasis"):
        if getattr(record, name) is not None:
            t.used(name, getattr(record, name))
    if record.extrahepatic_metastasis or record.lymph_node_metastasis or sites:
        return (True,)
    if record.extrahepatic_metastasis is False:
        return (False,)
    t.need("extrahepatic_metastasis")
    return BOTH


def nodes_and_distant(ctx: Context, t: Trace) -> tuple[tuple[bool, bool], ...]:
    """Possible (regional node metastasis, distant metastasis) pairs for AJCC N and M.

    - ``lymph_node_metastasis`` is the regional-node fact. A recorded lymph-node site is read
      as the same nodal disease, because the record cannot say whether a node is regional.
    - A recorded non-nodal site is distant (M1). ``extrahepatic_metastasis = false`` means no
      nodal and no distant disease.
    - ``extrahepatic_metastasis = true`` with no nodal disease is distant. With nodal disease
      and no non-nodal site recorded, whether there is also distant disease is unknown.
    """
    record = ctx.record
    sites = _sites_used(ctx, t)
    for name in ("extrahepatic_metastasis", "lymph_node_metastasis"):
        if getattr(record, name) is not None:
            t.used(name, getattr(record, name))
    nodal_site = any(s.site == "lymph_node" for s in sites)
    distant_site = any(s.site != "lymph_node" for s in sites)
    if record.lymph_node_metastasis or nodal_site:
        nodal: tuple[bool, ...] = (True,)
    elif record.lymph_node_metastasis is False or record.extrahepatic_metastasis is False:
        nodal = (False,)
    else:
        t.need("lymph_node_metastasis")
        nodal = BOTH
    if distant_site:
        distant: tuple[bool, ...] = (True,)
    elif record.extrahepatic_metastasis is False:
        distant = (False,)
    elif record.extrahepatic_metastasis and nodal == (False,):
        distant = (True,)
    else:
        t.need("extrahepatic_metastasis" if record.extrahepatic_metastasis is None else "metastatic_sites")
        distant = BOTH
    pairs = [(n, d) for n in nodal for d in distant]
    # Extrahepatic disease that is recorded as present must be somewhere.
    if record.extrahepatic_metastasis:
        pairs = [p for p in pairs if any(p)]
    return tuple(pairs)


def child_pugh_grade(t: Trace, finding: Finding) -> tuple[str | None, int | None]:
    """Child-Pugh class and points from the score's finding; unknown parts are named as missing."""
    cls = finding.get("class")
    points = finding.get("points")
    cls = cls if isinstance(cls, str) else None
    points = points if isinstance(points, int) and not isinstance(points, bool) else None
    if cls is None:
        t.need("scores.child_pugh", *finding.missing)
    else:
        t.cite("PUGH-1973")
        t.used("scores.child_pugh", f"{cls}{points}" if points is not None else cls)
    return cls, points


def grade_matches(tokens: Sequence[JsonValue], cls: str, points: int | None) -> bool | None:
    """Whether a Child-Pugh class and points are in a list of classes ("A") and grades ("B7").

    None when the class matches only some grades of the list and the points are unknown.
    """
    if cls in tokens or (points is not None and f"{cls}{points}" in tokens):
        return True
    if points is None and any(isinstance(x, str) and x.startswith(cls) for x in tokens):
        return None
    return False


def options(t: Trace, key: str) -> list[JsonValue]:
    """A knowledge list of treatment options, each ``{id, label}``."""
    items = t.items(key)
    for item in items:
        if not (isinstance(item, dict) and all(isinstance(item.get(k), str) for k in ("id", "label"))):
            raise KnowledgeError(f"knowledge entry {key!r}: every option needs an id and a label")
    return items


def _cm(value: float) -> str:
    return f"{value:g} cm"


def burden_text(burden: TumourBurden) -> str:
    """The tumour burden in words: '1 nodule of 6 cm', '3 nodules (largest 2.5 cm)'."""
    if not burden.recorded:
        return "tumours not recorded"
    n = burden.n
    if n == 0:
        return "no tumour recorded"
    if n is None:
        return "tumour count uncertain"
    nodules = "1 nodule" if n == 1 else f"{n} nodules"
    if burden.largest_cm is None:
        if not burden.sizes_cm:
            return f"{nodules}, size not recorded"
        return f"{nodules}, {burden.unknown_sizes} without a size (largest known {_cm(burden.sizes_cm[0])})"
    if n == 1:
        return f"{nodules} of {_cm(burden.largest_cm)}"
    return f"{nodules} (largest {_cm(burden.largest_cm)})"


def recorded_as(burden: TumourBurden) -> str:
    """The closing sentence every staging explanation carries."""
    if not burden.recorded:
        return "The tumours are not recorded (or were assessed after the evaluation date)."
    when = burden.assessed_on.isoformat() if burden.assessed_on else "an unrecorded date"
    return f"Staging applies to the tumours as recorded ({burden_text(burden)}, assessed on {when})."


def in_order(outcomes: Sequence[str | None], order: Sequence[str], none: str) -> list[str]:
    """Possible outcomes in the scale's order, with None shown as ``none``."""
    known = [o for o in order if o in outcomes]
    return known + [none] * (None in outcomes) + [o for o in outcomes if o is not None and o not in order]


def undecisive_gaps(t: Trace) -> str:
    """The sentence naming the gaps of a stage given despite them ('' when nothing is missing)."""
    return f" Unknown but not decisive: {words(list(t.missing), 'and')}." if t.missing else ""


def words(items: Sequence[str], last: str = "or") -> str:
    """'a', 'a or b', 'a, b or c'."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"
