"""PLACEHOLDER: replaced by the metastasis-pathway work."""

from __future__ import annotations

from dataclasses import dataclass

from hccwatch.core.context import Context
from hccwatch.core.finding import Alert, Finding, WorkupItem


@dataclass(frozen=True)
class MetastasisPathway:
    alerts: tuple[Alert, ...]
    metastasis: Finding
    workup: tuple[WorkupItem, ...]


def metastasis_pathway(ctx: Context, afp: Finding) -> MetastasisPathway:
    finding = ctx.trace("metastasis.sites").cannot_determine(
        ["likely_sites", "risk_factors"], "Not implemented yet."
    )
    return MetastasisPathway(alerts=(), metastasis=finding, workup=())
