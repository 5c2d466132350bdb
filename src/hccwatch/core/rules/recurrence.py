"""PLACEHOLDER: replaced by the recurrence work."""

from __future__ import annotations

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding


def recurrence(ctx: Context) -> Finding:
    return ctx.trace("recurrence.type").cannot_determine(["timing", "favours"], "Not implemented yet.")
