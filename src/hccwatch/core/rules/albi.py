"""PLACEHOLDER: replaced by the scores work."""

from __future__ import annotations

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding


def albi(ctx: Context) -> Finding:
    return ctx.trace("scores.albi").cannot_determine(["score", "grade"], "Not implemented yet.")
