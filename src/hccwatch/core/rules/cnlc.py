"""PLACEHOLDER: replaced by the staging work."""

from __future__ import annotations

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding


def cnlc(ctx: Context, child_pugh: Finding) -> Finding:
    return ctx.trace("staging.cnlc").cannot_determine(["stage"], "Not implemented yet.")
