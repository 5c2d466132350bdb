"""PLACEHOLDER: replaced by the surveillance work."""

from __future__ import annotations

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding


def surveillance(ctx: Context, profile: str | None = None) -> Finding:
    return ctx.trace("surveillance.schedule").cannot_determine(
        ["next_due", "overdue"], "Not implemented yet."
    )
