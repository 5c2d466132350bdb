"""PLACEHOLDER: replaced by the staging work."""

from __future__ import annotations

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding


def ajcc(ctx: Context) -> Finding:
    return ctx.trace("staging.ajcc").cannot_determine(["stage"], "Not implemented yet.")
