"""From an EHR's FHIR Bundle to what goes back: read (fhir-in), assess, write the Bundle and the
CDS Hooks cards (fhir-out). The two example Bundles are the article's patients as an EHR holds them."""

from __future__ import annotations

import json
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from hccwatch import assess
from hccwatch.adapters.cds_hooks import cards
from hccwatch.adapters.fhir import FhirReading, assessment_bundle, read_fhir
from support import AS_OF, EXAMPLES

FHIR_EXAMPLES = EXAMPLES / "fhir"


def _read(name: str) -> FhirReading:
    return read_fhir(json.loads((FHIR_EXAMPLES / name).read_text(encoding="utf-8")), as_of=AS_OF)


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_back_pain_woman_with_leg_numbness_from_her_ehr_bundle() -> None:
    reading = _read("woman-back-pain-leg-numbness.bundle.json")
    a = assess(reading.record, as_of=AS_OF)
    payload = cards(a, assumptions=reading.assumptions)
    critical = [c for c in payload if c["indicator"] == "critical"]
    assert len(critical) == 1
    orders = [s["actions"][0]["resource"]["code"]["coding"][-1]["code"] for s in critical[0]["suggestions"]]
    assert orders == ["whole_spine_mri"]
    # The dialysis assumptions feed MELD, not the spinal alerts: no card shows them.
    assert all("dialysis" not in c["detail"] for c in payload)

    bundle = assessment_bundle(a, assumptions=reading.assumptions)
    Bundle.model_validate(bundle)
    meld = next(o for o in _resources(bundle, "Observation") if o["code"]["coding"][0]["code"] == "meld_3")
    notes = " ".join(n["text"] for n in meld["note"])
    assert "Stated assumptions" in notes
    assert all(f"{x.field} = no" in notes for x in reading.assumptions)
    risk = _resources(bundle, "RiskAssessment")[0]
    assert any("Stated assumptions of the record reader" in n["text"] for n in risk["note"])


def test_quiet_man_from_his_ehr_bundle_gets_no_card() -> None:
    reading = _read("man-quiet-follow-up.bundle.json")
    a = assess(reading.record, as_of=AS_OF)
    assert cards(a, assumptions=reading.assumptions) == []
    Bundle.model_validate(assessment_bundle(a, assumptions=reading.assumptions))


def test_findings_carry_their_assumptions_into_the_bundle_without_being_told() -> None:
    reading = _read("woman-back-pain-leg-numbness.bundle.json")
    bundle = assessment_bundle(assess(reading.record, as_of=AS_OF))
    meld = next(o for o in _resources(bundle, "Observation") if o["code"]["coding"][0]["code"] == "meld")
    notes = " ".join(n["text"] for n in meld["note"])
    assert all(f"{x.field} = no: {x.reason}" in notes for x in reading.assumptions)
    albi = next(o for o in _resources(bundle, "Observation") if o["code"]["coding"][0]["code"] == "albi")
    assert "Stated assumptions" not in " ".join(n["text"] for n in albi["note"])
