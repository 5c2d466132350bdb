"""PLACEHOLDER: replaced by the transplant-criteria work."""

from __future__ import annotations

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding

NAMES = (
    "milan",
    "ucsf",
    "up_to_seven",
    "metroticket_2",
    "afp_model",
    "hangzhou",
    "fudan",
    "kyoto",
    "five_five_500",
    "asan",
)


def transplant_criteria(ctx: Context) -> dict[str, Finding]:
    out = {
        n: ctx.trace(f"transplant.{n}").cannot_determine(["within"], "Not implemented yet.") for n in NAMES
    }
    out["unos_downstaging"] = ctx.trace("transplant.unos_downstaging").cannot_determine(
        ["eligible"], "Not implemented yet."
    )
    return out
