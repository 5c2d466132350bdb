"""Helpers for the renderer tests: the article patients, golden files, and an awkward assessment."""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

from hccwatch import Alert, Assessment, Finding, TreatmentOption, WorkupItem, assess
from hccwatch.core.assessment import PatientSummary, SummaryItem
from hccwatch.core.finding import InputUsed
from support import AS_OF, EXAMPLES

GOLDEN = Path(__file__).parent / "golden"
# The patients of the article hccwatch grew from; scripts/golden rewrites their reports.
GOLDEN_EXAMPLES = ("article-man-after-resection", "article-woman-back-pain")


def example(name: str, **kwargs: str) -> Assessment:
    data = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return assess(data, as_of=AS_OF, **kwargs)


def golden_mismatch(name: str, suffix: str, actual: str) -> str | None:
    """None when ``actual`` equals the golden file, else a message saying how to update it."""
    path = GOLDEN / f"{name}.{suffix}"
    expected = path.read_text(encoding="utf-8") if path.exists() else None
    if expected == actual:
        return None
    return f"{path.name} differs from the rendered report: run scripts/golden and review the diff"


def _odd_finding(rule: str) -> Finding:
    return Finding(
        rule=rule,
        values={
            "within": None,
            "nested": {"a": [1, 2.5], "b": None},
            "sites": [{"site": "lung", "rank": 1}, {"site": "bone", "rank": None}],
            "empty": [],
            "tiny": 0.000123,
            "huge": 1e20,
        },
        determined=False,
        explanation="Odd <shapes> | pipes * stars [brackets] # hash.",
        inputs=(InputUsed("labs.afp", 12.5, "ng/mL", AS_OF), InputUsed("liver.ascites", None)),
        missing=("labs.dcp", "tumors"),
        citations=("AASLD-2023", "NOT-A-CITATION-1999"),
        unverified=("no.such.entry",),
        notes=("a note",),
    )


@functools.cache
def odd() -> Assessment:
    """A real assessment with synthetic parts in every shape a rule might produce."""
    base = assess({"id": "odd <b>id</b> | x"}, as_of=AS_OF)
    alerts = (
        Alert("a.routine", "routine", "Routine thing", "detail", ("EASL-2018",)),
        Alert(
            "a.emergency",
            "emergency",
            "Possible spinal cord compression",
            "Back pain with leg weakness.",
            ("AASLD-2023",),
            facts=(InputUsed("symptoms.back_pain", True, None, AS_OF),),
            actions=("Same-day MRI of the whole spine", "Dexamethasone per local protocol"),
        ),
        Alert("a.odd", "whenever", "Unknown urgency", "", ()),  # type: ignore[arg-type]
    )
    workup = (
        WorkupItem("MRI whole spine", "urgent", "Thoracic back pain after HCC.", ("AASLD-2023",), "bone"),
        WorkupItem("Chest CT", "soon", "Lung is the commonest site.", (), instead_of="chest X-ray"),
    )
    options = (
        TreatmentOption("sbrt", "SBRT", "candidate", ("Oligometastatic.",), ("EASL-2018",)),
        TreatmentOption(
            "resection", "Resection", "cannot_determine", (), (), cautions=("c1", "c2"), missing=("ecog",)
        ),
        TreatmentOption("x", "Odd", "weird", ("r",), ()),  # type: ignore[arg-type]
    )
    summary = PatientSummary(
        lang="en",
        headline="Please call your team today.",
        items=(
            SummaryItem("routine", "Keep your next scan.", "surveillance"),
            SummaryItem("urgent", "Back pain.", "bone"),
        ),
        disclaimer="A different patient-facing disclaimer.",
    )
    return dataclasses.replace(
        base,
        alerts=alerts,
        workup=workup,
        treatment_options=options,
        recurrence=_odd_finding("recurrence.type"),
        transplant={**base.transplant, "milan": _odd_finding("transplant.milan")},
        patient_summary=summary,
    )
