"""PLACEHOLDER: replaced by the options work."""

from __future__ import annotations

from collections.abc import Mapping

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding, TreatmentOption


def treatment_options(
    ctx: Context,
    *,
    scores: Mapping[str, Finding],
    staging: Mapping[str, Finding],
    transplant: Mapping[str, Finding],
    metastasis: Finding,
) -> tuple[TreatmentOption, ...]:
    return ()
