"""PLACEHOLDER: replaced by the patient-summary work."""

from __future__ import annotations

from hccwatch.core.assessment import Assessment, PatientSummary
from hccwatch.core.context import Context


def patient_summary(ctx: Context, assessment: Assessment, *, lang: str) -> PatientSummary:
    k = ctx.knowledge
    return PatientSummary(lang=lang, headline="", items=(), disclaimer=k.text(lang, "disclaimer"))
