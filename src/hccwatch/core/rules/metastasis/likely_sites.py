"""Likely extrahepatic sites of spread for this patient, ranked, each with its reasons.

When the pathway runs, Then the six extrahepatic sites are listed with their population frequency
and ranked:

1. by the strongest patient-specific evidence for the site (``metastasis.reason_priority``):
   a recorded metastasis > an imaging finding > a matching symptom > a risk factor;
2. then by the population order lung > lymph nodes > bone > adrenal > peritoneum > brain
   (Katyal 2000, Uka 2007, Kow 2012, Lin 2017).

Patient-specific signals: a recorded metastatic site (``metastatic_sites``, ``lymph_node_metastasis``);
the sites of suspicions raised by imaging or symptoms; tumour rupture -> peritoneum (Kwak 2012);
tumour next to a hepatic vein or the IVC -> lung (haematogenous route, [K]).

**Frequency representation**: ``frequency`` is always a percentage range as text ("47-55%", or
"12%" when the series agree), and ``of`` names its denominator, because the series differ (lung,
nodes, bone and adrenal are per patient with extrahepatic spread; peritoneum and brain are per
patient with HCC). Percentages from different denominators must not be compared as numbers.

Citations: KATYAL-2000, UKA-2007, YOON-2021, KOW-2012, LIN-2017, KWAK-2012, MAHRINGER-KUNZ-2021.
"""

from __future__ import annotations

from collections.abc import Sequence

from hccwatch.core.context import Context
from hccwatch.core.finding import Trace
from hccwatch.core.knowledge import JsonValue
from hccwatch.core.rules.metastasis.model import Suspicion
from hccwatch.record.model import Tumor

__all__ = ["likely_sites"]

Evidence = dict[str, list[tuple[str, str]]]  # site -> [(kind, reason)]


def _percent(value: JsonValue) -> str:
    if not isinstance(value, list) or not value:
        return "not known"
    low, high = (float(v) for v in value if isinstance(v, int | float))
    return f"{low:g}%" if low == high else f"{low:g}-{high:g}%"


def _add(evidence: Evidence, site: str, kind: str, reason: str) -> None:
    if site in evidence:
        evidence[site].append((kind, reason))


def _known_sites(ctx: Context, t: Trace, evidence: Evidence) -> None:
    rec = ctx.record
    for m in rec.metastatic_sites:
        if m.date is not None and m.date > ctx.as_of:
            continue
        when = f" ({m.date.isoformat()})" if m.date else ""
        t.used(f"metastatic_sites.{m.site}", True, None, m.date)
        _add(evidence, m.site, "known_site", f"known {m.site.replace('_', ' ')} metastasis recorded{when}")
    if rec.lymph_node_metastasis:
        t.used("lymph_node_metastasis", True)
        _add(evidence, "lymph_node", "known_site", "lymph-node metastasis recorded")


def _from_suspicions(suspicions: Sequence[Suspicion], evidence: Evidence) -> None:
    for s in suspicions:
        if s.kind == "marker":
            continue
        for site in s.sites:
            _add(evidence, site, s.kind, f"{s.kind} suspicion: {s.title} ({s.urgency})")


def _any_tumour(t: Trace, tumors: Sequence[Tumor], attrs: Sequence[str]) -> bool:
    """True if any tumour has one of ``attrs`` set; gaps named when that cannot be excluded."""
    values = [getattr(tumour, a) for tumour in tumors for a in attrs]
    if any(v is True for v in values):
        return True
    if any(v is None for v in values):
        t.need(*(f"tumors.{a}" for a in attrs))
    return False


def _from_tumours(ctx: Context, t: Trace, evidence: Evidence) -> None:
    tumors = ctx.record.tumors
    if tumors is None:
        t.need("tumors")
        return
    if _any_tumour(t, tumors, ["ruptured"]):
        site = str(t.table("metastasis.site_signals.rupture")["site"])
        t.used("tumors.ruptured", True)
        _add(evidence, site, "risk_factor", "tumour rupture (risk factor for peritoneal metastasis)")
    if _any_tumour(t, tumors, ["near_hepatic_vein", "near_ivc"]):
        site = str(t.table("metastasis.site_signals.hepatic_vein_ivc")["site"])
        t.used("tumors.near_hepatic_vein_or_ivc", True)
        _add(evidence, site, "risk_factor", "tumour next to a hepatic vein or the IVC (route to the lungs)")


def likely_sites(ctx: Context, t: Trace, suspicions: Sequence[Suspicion]) -> list[JsonValue]:
    """The ranked sites as contract rows ``{site, frequency, of, reasons, citations}``."""
    order = [str(s) for s in t.items("metastasis.site_order")]
    priority = [str(p) for p in t.items("metastasis.reason_priority")]
    evidence: Evidence = {site: [] for site in order}
    _known_sites(ctx, t, evidence)
    _from_suspicions(suspicions, evidence)
    _from_tumours(ctx, t, evidence)
    ranked: list[tuple[int, int, dict[str, JsonValue]]] = []
    for index, site in enumerate(order):
        key = f"metastasis.sites.{site}"
        spec = t.table(key)
        found = evidence[site]
        tier = min((priority.index(kind) for kind, _ in found), default=len(priority))
        reasons: list[JsonValue] = [text for _, text in found] or [
            "no patient-specific signal; ranked by population frequency"
        ]
        row: dict[str, JsonValue] = {
            "site": site,
            "frequency": _percent(spec.get("frequency_pct")),
            "of": spec.get("of"),
            "reasons": reasons,
            "citations": list(ctx.knowledge.entry(key).citations),
        }
        ranked.append((tier, index, row))
    return [row for _, _, row in sorted(ranked, key=lambda r: (r[0], r[1]))]
