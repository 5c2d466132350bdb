"""Runs every rule for one record, in dependency order, and assembles the Assessment."""

from __future__ import annotations

from datetime import date
from operator import attrgetter

from hccwatch.core.assessment import Assessment, PatientSummary
from hccwatch.core.context import Context
from hccwatch.core.finding import Finding
from hccwatch.core.knowledge import JsonValue, Knowledge
from hccwatch.core.memo import MAX_FINDINGS, Memo
from hccwatch.core.rules.follow_up.afp_kinetics import afp_kinetics
from hccwatch.core.rules.follow_up.surveillance import surveillance
from hccwatch.core.rules.metastasis.pathway import metastasis_pathway
from hccwatch.core.rules.recurrence.classification import recurrence
from hccwatch.core.rules.recurrence.treatment_options import treatment_options
from hccwatch.core.rules.scores.albi import albi
from hccwatch.core.rules.scores.child_pugh import child_pugh
from hccwatch.core.rules.scores.meld import meld, meld_3, meld_na
from hccwatch.core.rules.staging.ajcc import ajcc
from hccwatch.core.rules.staging.bclc import bclc
from hccwatch.core.rules.staging.cnlc import cnlc
from hccwatch.core.rules.summary.patient_summary import patient_summary
from hccwatch.core.rules.transplant import transplant_criteria
from hccwatch.errors import DeceasedError, UsageError
from hccwatch.record.model import PatientRecord

__all__ = ["evaluate"]


def evaluate(
    record: PatientRecord,
    *,
    as_of: date,
    knowledge: Knowledge,
    as_of_source: str = "given",
    lang: str = "en",
    profile: str | None = None,
) -> Assessment:
    """Assess ``record`` on ``as_of``. Pure: the same inputs always give the same Assessment.

    Raises:
        DeceasedError: the record says the patient died on or before ``as_of`` (or died, no
            date given): there is no follow-up to assess, and saying one is due would be wrong.
        UsageError: no patient texts in ``lang``.
    """
    _check_alive(record, as_of)
    if lang not in knowledge.texts:
        raise UsageError(
            f"no patient texts for language {lang!r}; available: {', '.join(knowledge.languages)}"
        )
    ctx = Context(record=record, as_of=as_of, knowledge=knowledge)
    cp = child_pugh(ctx)
    scores = {
        "child_pugh": cp,
        "meld": meld(ctx),
        "meld_na": meld_na(ctx),
        "meld_3": meld_3(ctx),
        "albi": albi(ctx),
    }
    staging = _staging(ctx, cp)
    transplant = transplant_criteria(ctx)
    afp = afp_kinetics(ctx)
    follow_up = surveillance(ctx, profile=profile)
    pathway = metastasis_pathway(ctx, afp=afp)
    rec = recurrence(ctx)
    options = treatment_options(
        ctx, scores=scores, staging=staging, transplant=transplant, metastasis=pathway.metastasis
    )
    patient: dict[str, JsonValue] = {
        "id": record.id,
        "sex": record.sex,
        "age": record.age_on(as_of),
        "ecog": record.ecog,
    }
    draft = Assessment(
        record_id=record.id,
        as_of=as_of,
        as_of_source=as_of_source,
        knowledge=knowledge,
        disclaimer=knowledge.text(lang, "disclaimer"),
        patient=patient,
        scores=scores,
        staging=staging,
        transplant=transplant,
        surveillance=follow_up,
        afp=afp,
        alerts=pathway.alerts,
        metastasis=pathway.metastasis,
        workup=pathway.workup,
        recurrence=rec,
        treatment_options=options,
        patient_summary=PatientSummary(lang=lang, headline="", items=(), disclaimer=""),
    )
    summary = patient_summary(ctx, draft, lang=lang)
    # The draft with its summary, copied field by field without re-running the frozen constructor
    # (seventeen guarded assignments), as ``dataclasses.replace`` would give it.
    final = object.__new__(Assessment)
    final.__dict__.update(draft.__dict__, patient_summary=summary)
    return final


def _check_alive(record: PatientRecord, as_of: date) -> None:
    """Refuse a record that says the patient had died by ``as_of``; a death dated after
    ``as_of`` means the patient was alive that day, assessed as usual."""
    if not record.has_died:
        return
    died = record.deceased_on
    if died is None:
        said = "the record says the patient has died (no date given)"
    elif died <= as_of:
        said = f"the record says the patient died on {died.isoformat()}"
    else:
        return
    raise DeceasedError(
        f"{said}: hccwatch assesses the follow-up of living patients, so nothing is assessed or due",
        deceased_on=died,
    )


# What the staging rules read besides the date and the Child-Pugh finding (a new read in
# core/rules/staging belongs here too; tests/core/test_engine.py has a pair per field). The same few
# combinations recur across a population (a labs-only record leaves them all unknown), so the
# staging findings are kept per combination.
STAGING_FIELDS = (
    "ecog",
    "ecog_cancer_related",
    "macrovascular_invasion",
    "microvascular_invasion",
    "adjacent_organ_invasion",
    "visceral_peritoneum_perforation",
    "extrahepatic_metastasis",
    "lymph_node_metastasis",
    "infiltrative",
    "tumors",
    "tumors_assessed_on",
    "metastatic_sites",
)
_STAGING: Memo[tuple[Knowledge, dict[str, Finding]]] = Memo(MAX_FINDINGS)
# The fields as one tuple, read in C (a tuple whatever their number: there are more than one).
_staging_fields = attrgetter(*STAGING_FIELDS)


def _staging(ctx: Context, cp: Finding) -> dict[str, Finding]:
    def compute() -> tuple[Knowledge, dict[str, Finding]]:
        return ctx.knowledge, {"bclc": bclc(ctx, cp), "cnlc": cnlc(ctx, cp), "ajcc": ajcc(ctx)}

    # Child-Pugh as the staging rules read it: class, points (their type too: True == 1) and gaps.
    grade = (cp.get("class"), cp.get("points"), type(cp.get("points")), cp.missing)
    fields = _staging_fields(ctx.record)
    # The knowledge base is told apart by identity, checked on a hit (an id can be reused).
    # The record's stated assumptions join the key: a finding shows the assumptions it used.
    key = (id(ctx.knowledge), ctx.as_of, grade, fields, ctx.record.assumptions)
    knowledge, found = _STAGING.get(key, compute)
    if knowledge is not ctx.knowledge:
        knowledge, found = compute()
    return {key: f.detached() for key, f in found.items()}
