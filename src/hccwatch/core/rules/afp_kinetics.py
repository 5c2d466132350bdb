"""PLACEHOLDER: replaced by the surveillance work."""

from __future__ import annotations

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding


def afp_kinetics(ctx: Context) -> Finding:
    return ctx.trace("afp.kinetics").cannot_determine(["latest", "trend"], "Not implemented yet.")
