"""PLACEHOLDER: replaced by the scores work."""

from __future__ import annotations

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding


def meld(ctx: Context) -> Finding:
    return ctx.trace("scores.meld").cannot_determine(["value"], "Not implemented yet.")


def meld_na(ctx: Context) -> Finding:
    return ctx.trace("scores.meld_na").cannot_determine(["value"], "Not implemented yet.")


def meld_3(ctx: Context) -> Finding:
    return ctx.trace("scores.meld_3").cannot_determine(["value"], "Not implemented yet.")
