"""AJCC 8th edition TNM category and stage group for hepatocellular carcinoma.

| When | Then |
|---|---|
| macrovascular invasion, adjacent organ invasion or visceral peritoneum perforation (below) | T4 |
| a solitary tumour <= 2 cm, with or without vascular invasion | T1a |
| a solitary tumour > 2 cm without vascular invasion | T1b |
| a solitary tumour > 2 cm with (microscopic) vascular invasion, or multiple tumours none > 5 cm | T2 |
| multiple tumours, at least one > 5 cm | T3 |
| regional lymph-node metastasis (hilar, hepatoduodenal ligament, inferior phrenic, caval) | N1, else N0 |
| distant metastasis | M1, else M0 |

T4 means tumour in a major branch of the portal or hepatic vein, direct invasion of an organ
other than the gallbladder, or perforation of the visceral peritoneum.

Stage groups: IA = T1a N0 M0, IB = T1b N0 M0, II = T2 N0 M0, IIIA = T3 N0 M0, IIIB = T4 N0 M0.
Any T with N1 M0 is IVA. Any T and any N with M1 is IVB.

In T1b and T2, "vascular invasion" means microvascular invasion (``microvascular_invasion``).
Macrovascular invasion is T4. Each of T, N, M and the stage is answered as far as the data
allow. An unknown is ignored only when none of its values could change the answer: M1 is
IVB whatever T and N are. How nodes and distant metastasis are read from the record is
described in :func:`~hccwatch.core.rules.staging.staging_common.nodes_and_distant`.

Citations: AJCC-2017.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding, Trace
from hccwatch.core.knowledge import JsonValue
from hccwatch.core.rules.staging.staging_common import (
    Resolution,
    deciding,
    flag,
    in_order,
    nodes_and_distant,
    recorded_as,
    resolve_each,
    undecisive_gaps,
    words,
)
from hccwatch.core.rules.staging.tumour_burden import TumourBurden, tumour_burden

__all__ = ["ajcc"]

# Fact names, as they are named when missing.
COUNT, SIZE, MVI = "tumors", "tumors.size_cm", "microvascular_invasion"
T4_FACTS = {
    "macrovascular_invasion": "macrovascular invasion (a major branch of the portal or hepatic vein)",
    "adjacent_organ_invasion": "direct invasion of an adjacent organ other than the gallbladder",
    "visceral_peritoneum_perforation": "perforation of the visceral peritoneum",
}
NM = "nodes_and_distant_metastasis"
NM_FIELDS = ("lymph_node_metastasis", "extrahepatic_metastasis", "metastatic_sites")


@dataclass(frozen=True)
class _Rules:
    t1a_cm: float
    t2_multiple_cm: float
    groups: Mapping[str, JsonValue]

    def t(self, s: Mapping[str, Any]) -> str | None:
        # Invasion of a major vessel or an organ implies a tumour, even when none is listed.
        if any(s[name] for name in T4_FACTS):
            return "T4"
        n = s[COUNT]
        if n == 0:
            return None
        if n == 1:
            if s[SIZE] <= self.t1a_cm:
                return "T1a"
            return "T2" if s[MVI] else "T1b"
        return "T2" if s[SIZE] <= self.t2_multiple_cm else "T3"

    def key(self) -> tuple[object, ...]:
        """Everything the decisions depend on besides the facts (the memo key of their resolution)."""
        groups = tuple(sorted((name, repr(group)) for name, group in self.groups.items()))
        return ("staging.ajcc", self.t1a_cm, self.t2_multiple_cm, groups)

    @staticmethod
    def n(s: Mapping[str, Any]) -> str:
        return "N1" if s[NM][0] else "N0"

    @staticmethod
    def m(s: Mapping[str, Any]) -> str:
        return "M1" if s[NM][1] else "M0"

    def stage(self, s: Mapping[str, Any]) -> str | None:
        key = "M1" if s[NM][1] else "N1" if s[NM][0] else self.t(s)
        group = None if key is None else self.groups.get(key)
        return group if isinstance(group, str) else None


def _domains(ctx: Context, t: Trace, rules: _Rules, burden: TumourBurden) -> dict[str, Any]:
    record = ctx.record
    counts = burden.count_candidates([])
    sizes = burden.largest_candidates([rules.t1a_cm, rules.t2_multiple_cm])
    domains: dict[str, Any] = {COUNT: counts, SIZE: sizes}
    any_tumour = any(n > 0 for n in counts)
    for name in T4_FACTS:
        value = getattr(record, name)
        domains[name] = flag(t, name, value) if any_tumour else (value,)
    # Microvascular invasion separates T1b from T2 only for a solitary tumour > T1a size.
    solitary_large = 1 in counts and any(size > rules.t1a_cm for size in sizes)
    mvi = record.microvascular_invasion
    domains[MVI] = flag(t, MVI, mvi) if solitary_large else (mvi,)
    domains[NM] = nodes_and_distant(ctx, t)
    return domains


def ajcc(ctx: Context) -> Finding:
    """AJCC 8th edition T, N, M and stage group (see the module docstring)."""
    t = ctx.trace("staging.ajcc")
    t.cite("AJCC-2017")
    rules = _Rules(
        t1a_cm=t.num("ajcc.t1a_max_cm"),
        t2_multiple_cm=t.num("ajcc.t2_multiple_max_cm"),
        groups=t.table("ajcc.stage_groups"),
    )
    burden = tumour_burden(ctx, t)
    domains = _domains(ctx, t, rules, burden)
    parts: dict[str, Resolution[str | None]] = resolve_each(
        domains, {"t": rules.t, "n": rules.n, "m": rules.m, "stage": rules.stage}, key=rules.key()
    )
    values: dict[str, JsonValue] = {key: part.value for key, part in parts.items()}
    tnm = " ".join(_show(part, key, rules) for key, part in parts.items() if key != "stage")
    stage = parts["stage"]
    if stage.value is not None:
        head = f"AJCC 8th edition {tnm}, stage {stage.value}: {_reason(ctx, values, rules, burden)}."
    elif stage.certain:
        head = f"AJCC 8th edition {tnm}: no tumour is recorded, so there is no stage."
    else:
        head = (
            f"AJCC 8th edition {tnm}: cannot determine the stage; with the data recorded it could be "
            f"{words(_order(stage.outcomes, rules))}, depending on {_deciding(t, stage, domains)}."
        )
    text = f"{head} {recorded_as(burden)}{undecisive_gaps(t) if stage.value is not None else ''}"
    return t.finish(values, text, determined=stage.value is not None)


def _order(outcomes: Sequence[str | None], rules: _Rules) -> list[str]:
    scale = [*rules.groups, *(str(g) for g in rules.groups.values()), "N0", "M0"]
    return in_order(outcomes, sorted(scale), "no tumour")


def _show(part: Resolution[str | None], key: str, rules: _Rules) -> str:
    if part.certain:
        return part.value or f"{key.upper()} not applicable"
    return f"{key.upper()} unknown ({words(_order(part.outcomes, rules))})"


def _deciding(t: Trace, part: Resolution[str | None], domains: Mapping[str, Any]) -> str:
    # Nodes and distant metastasis are weighed together; name the record fields behind them.
    keys = [k for k in domains if k != NM] + list(NM_FIELDS)
    decisive = [d for name in part.decisive for d in (NM_FIELDS if name == NM else (name,))]
    return deciding(t, dataclasses.replace(part, decisive=tuple(decisive)), keys)


def _reason(ctx: Context, values: Mapping[str, JsonValue], rules: _Rules, burden: TumourBurden) -> str:
    if values["m"] == "M1":
        return "distant metastasis (M1) is stage IVB whatever T and N"
    if values["n"] == "N1":
        return "regional lymph-node metastasis (N1) without distant metastasis is stage IVA whatever T"
    return _t_reason(ctx, values["t"], rules, burden.n == 1)


def _t_reason(ctx: Context, t_cat: JsonValue, rules: _Rules, solitary: bool) -> str:
    record = ctx.record
    small, big = f"{rules.t1a_cm:g} cm", f"{rules.t2_multiple_cm:g} cm"
    reasons: dict[str, Callable[[], str]] = {
        "T4": lambda: words([text for name, text in T4_FACTS.items() if getattr(record, name)], "and"),
        "T1a": lambda: f"a solitary tumour <= {small}, with or without vascular invasion",
        "T1b": lambda: f"a solitary tumour > {small} without microvascular invasion",
        "T2": lambda: (
            f"a solitary tumour > {small} with microvascular invasion (macrovascular invasion would be T4)"
            if solitary
            else f"multiple tumours, none > {big}"
        ),
        "T3": lambda: f"multiple tumours, at least one > {big}",
    }
    return f"{t_cat}, {reasons[str(t_cat)]()}, with no nodal or distant metastasis"
