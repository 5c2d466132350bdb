"""PLACEHOLDER: replaced by the scores work."""

from __future__ import annotations

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding


def child_pugh(ctx: Context) -> Finding:
    return ctx.trace("scores.child_pugh").cannot_determine(["points", "class"], "Not implemented yet.")
