"""The metastasis pathway: suspicion triggers, red flags, likely sites, risk factors and workup.

When a person followed after HCC treatment is assessed on ``as_of``, Then:

1. **Suspicions** are raised by red-flag symptoms (``red_flags.py``: MSCC, spinal pain, bone,
   brain, haemoptysis, GI bleeding, chest, abdominal, jaundice, weight loss), by the latest imaging
   of each region (new lesion, progression, indeterminate) and by an AFP that is rising or raised
   while imaging does not explain it (``suspicion.py``). Each suspicion is one alert with an
   urgency: emergency (now, within hours), urgent (within 24 hours to a few days), soon (within
   about 2 weeks), routine (next visit) - NICE-CG75, NICE-NG127.
2. **Workup** (``workup.py``): the tests every suspicion needs, one item per test at the most
   urgent level asked, preferring current evidence to the older list (``instead_of``).
3. **Likely sites** (``likely_sites.py``): the six extrahepatic sites ranked by this patient's
   evidence, then by population frequency (Katyal 2000, Uka 2007).
4. **Risk factors** (``risk_factors.py``): each factor for extrahepatic and intrahepatic spread,
   present, absent or unknown, with its source.

No suspicion means no alert: routine follow-up carries on. Alerts are sorted most urgent first.
The finding (rule ``metastasis.sites``) always answers, because the population ranking is
always known; gaps that could change a suspicion or a factor are listed in ``missing``.
"""

from __future__ import annotations

from dataclasses import dataclass

from hccwatch.core.context import Context
from hccwatch.core.finding import Alert, Finding, Trace, WorkupItem
from hccwatch.core.knowledge import JsonValue
from hccwatch.core.rules.metastasis.likely_sites import likely_sites
from hccwatch.core.rules.metastasis.model import Suspicion, merge_suspicions, to_alert
from hccwatch.core.rules.metastasis.red_flags import red_flag_suspicions
from hccwatch.core.rules.metastasis.risk_factors import risk_factors
from hccwatch.core.rules.metastasis.suspicion import afp_suspicions, imaging_suspicions
from hccwatch.core.rules.metastasis.workup import build_workup

__all__ = ["MetastasisPathway", "metastasis_pathway"]


@dataclass(frozen=True)
class MetastasisPathway:
    alerts: tuple[Alert, ...]
    metastasis: Finding
    workup: tuple[WorkupItem, ...]


def _explanation(suspicions: list[Suspicion], sites: list[JsonValue], risks: list[JsonValue]) -> str:
    ranked = ", ".join(str(row["site"]).replace("_", " ") for row in sites if isinstance(row, dict))
    # The factor's reason, not its id: "capsule" alone would read as a (protective) complete capsule.
    present = [str(r["reason"]) for r in risks if isinstance(r, dict) and r.get("present") is True]
    factors = (
        f"Risk factors present: {'; '.join(present)}." if present else "No risk factor recorded as present."
    )
    if not suspicions:
        return (
            "No red-flag symptom, new imaging finding or unexplained AFP rise: no suspicion of recurrence "
            f"or metastasis; routine follow-up. Extrahepatic sites by likelihood: {ranked}. {factors}"
        )
    found = "; ".join(f"{s.title} ({s.urgency})" for s in suspicions)
    return f"Suspicions: {found}. Extrahepatic sites by likelihood for this patient: {ranked}. {factors}"


def _cite_alerts(t: Trace, alerts: tuple[Alert, ...]) -> None:
    """The finding cites what its alerts cite, so its provenance is complete on its own."""
    for alert in alerts:
        t.cite(*alert.citations)
        for key in (*alert.unverified, *alert.policy):
            t.value(key)


def metastasis_pathway(ctx: Context, afp: Finding) -> MetastasisPathway:
    t = ctx.trace("metastasis.sites")
    suspicions = merge_suspicions(
        [*red_flag_suspicions(ctx, t), *imaging_suspicions(ctx, t, afp), *afp_suspicions(ctx, t, afp)]
    )
    alerts = tuple(to_alert(ctx, s) for s in suspicions)
    workup = build_workup(ctx, [request for s in suspicions for request in s.tests])
    sites = likely_sites(ctx, t, suspicions)
    risks = risk_factors(ctx, t)
    _cite_alerts(t, alerts)
    values: dict[str, JsonValue] = {
        "likely_sites": sites,
        "risk_factors": risks,
        "suspicions": [s.to_json() for s in suspicions],
    }
    finding = t.finish(values, _explanation(suspicions, sites, risks), determined=True)
    return MetastasisPathway(alerts=alerts, metastasis=finding, workup=workup)
