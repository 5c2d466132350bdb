"""The assessment as a FHIR R4 Bundle: every resource validates against strict R4B models
(fhir.resources; R4 and R4B share RiskAssessment, DetectedIssue, ServiceRequest, Observation
and Bundle), ids are stable, and nothing undetermined is written as a value."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from hypothesis import HealthCheck, given, settings

from hccwatch import assess
from hccwatch.adapters.fhir import assessment_bundle, workup_service_request
from hccwatch.core.finding import WorkupItem
from hccwatch.record import parse_record
from strategies import records
from support import AS_OF, EXAMPLES

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json"))


def _validate(bundle: dict[str, Any]) -> None:
    Bundle.model_validate(bundle)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _woman_with_leg_numbness() -> dict[str, Any]:
    rec = json.loads((EXAMPLES / "article-woman-back-pain.json").read_text(encoding="utf-8"))
    rec["symptoms"].append({"code": "leg_numbness", "onset": "2026-11-22"})
    return rec


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_every_example_bundle_validates(path: Path) -> None:
    a = assess(json.loads(path.read_text(encoding="utf-8")), as_of=AS_OF)
    bundle = assessment_bundle(a)
    _validate(bundle)
    assert bundle["type"] == "collection"
    assert len(_resources(bundle, "RiskAssessment")) == 1
    assert len(_resources(bundle, "DetectedIssue")) == len(a.alerts)
    assert len(_resources(bundle, "ServiceRequest")) == len(a.workup)
    assert len(_resources(bundle, "Observation")) == len(a.scores) + len(a.staging)
    ids = [e["resource"]["id"] for e in bundle["entry"]]
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("path", EXAMPLE_FILES[:3], ids=lambda p: p.stem)
def test_reruns_are_byte_identical(path: Path) -> None:
    rec = json.loads(path.read_text(encoding="utf-8"))
    first = json.dumps(assessment_bundle(assess(rec, as_of=AS_OF)), sort_keys=True)
    assert json.dumps(assessment_bundle(assess(rec, as_of=AS_OF)), sort_keys=True) == first
    other_day = json.dumps(assessment_bundle(assess(rec, as_of=AS_OF + dt.timedelta(days=1))), sort_keys=True)
    assert json.loads(other_day)["id"] != json.loads(first)["id"]


def test_back_pain_patient_with_leg_numbness() -> None:
    a = assess(_woman_with_leg_numbness(), as_of=AS_OF)
    bundle = assessment_bundle(a)
    _validate(bundle)
    issues = {i["code"]["coding"][0]["code"]: i for i in _resources(bundle, "DetectedIssue")}
    mscc = issues["mscc_suspected"]
    assert mscc["severity"] == "high"
    assert mscc["reference"].startswith("https://www.nice.org.uk/guidance/cg75")
    assert any("leg_numbness" in c["text"] for c in mscc["evidence"][0]["code"])
    assert mscc["mitigation"]
    orders = {r["code"]["coding"][-1]["code"]: r for r in _resources(bundle, "ServiceRequest")}
    mri = orders["whole_spine_mri"]
    assert (mri["status"], mri["intent"], mri["priority"]) == ("draft", "proposal", "stat")
    assert f"urn:uuid:{mscc['id']}" in [s["reference"] for s in mri["supportingInfo"]]
    # Chest CT has a LOINC (RSNA Playbook) code; whole-spine MRI has none and stays text.
    assert orders["chest_ct"]["code"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "29252-4",
        "display": "CT Chest WO contrast",
    }
    assert all(c["system"] != "http://loinc.org" for c in mri["code"]["coding"])
    risk = _resources(bundle, "RiskAssessment")[0]
    assert risk["note"][0]["text"] == a.disclaimer
    assert risk["occurrenceDateTime"] == "2026-11-24"
    assert risk["prediction"][0]["outcome"]["coding"][0]["code"] == "bone"
    cited = " ".join(n["text"] for n in risk["note"])
    assert all(f"[{cid}]" in cited for cid in a.cited())
    assert {b["reference"] for b in risk["basis"]} == {
        e["fullUrl"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] in ("Observation", "DetectedIssue")
    }


def test_scores_are_values_only_when_determined() -> None:
    a = assess(json.loads((EXAMPLES / "si-units-missing-data.json").read_text(encoding="utf-8")), as_of=AS_OF)
    bundle = assessment_bundle(a)
    _validate(bundle)
    by_code = {o["code"]["coding"][0]["code"]: o for o in _resources(bundle, "Observation")}
    meld = by_code["meld_3"]
    assert not any(k.startswith("value") for k in meld)
    assert meld["dataAbsentReason"]["coding"][0]["code"] == "unknown"
    assert "liver.dialysis_twice_past_week" in meld["dataAbsentReason"]["text"]
    albi = by_code["albi"]
    assert albi["valueQuantity"]["value"] == a.scores["albi"]["score"]
    assert albi["component"][0]["valueInteger"] == a.scores["albi"]["grade"]


def test_child_pugh_points_and_class() -> None:
    a = assess(
        json.loads((EXAMPLES / "article-woman-back-pain.json").read_text(encoding="utf-8")), as_of=AS_OF
    )
    obs = {o["code"]["coding"][0]["code"]: o for o in _resources(assessment_bundle(a), "Observation")}
    assert obs["child_pugh"]["valueInteger"] == 5
    assert obs["child_pugh"]["component"][0]["valueString"] == "A"
    assert obs["meld_3"]["valueInteger"] == a.scores["meld_3"]["value"]


def test_stages_are_observations_too() -> None:
    a = assess(
        json.loads((EXAMPLES / "article-woman-back-pain.json").read_text(encoding="utf-8")), as_of=AS_OF
    )
    obs = {o["code"]["coding"][0]["code"]: o for o in _resources(assessment_bundle(a), "Observation")}
    assert obs["cnlc"]["valueCodeableConcept"] == {"text": "Ia"}
    assert obs["ajcc"]["valueCodeableConcept"] == {"text": "II"}
    assert [c["valueString"] for c in obs["ajcc"]["component"]] == ["T2", "N0", "M0"]
    # BCLC needs to know whether ECOG 1 is cancer-related: no stage, and the gap is named.
    assert "valueCodeableConcept" not in obs["bclc"]
    assert "ecog_cancer_related" in obs["bclc"]["dataAbsentReason"]["text"]


def test_service_request_on_its_own() -> None:
    item = WorkupItem(test="afp", urgency="soon", reason="AFP now.", citations=("TURSHUDZHYAN-2022",))
    request = workup_service_request(item, "Patient/123")
    get_fhir_model_class("ServiceRequest").model_validate(request)
    assert request["code"]["coding"][0]["code"] == "1834-1"
    assert request["subject"] == {"reference": "Patient/123"}
    assert "id" not in request


def test_a_record_id_that_is_no_fhir_id_is_referred_to_by_identifier() -> None:
    a = assess({"id": "patient 7 / ward B", "symptoms": [{"code": "leg_weakness"}]}, as_of=AS_OF)
    bundle = assessment_bundle(a)
    _validate(bundle)
    for kind, field in (
        ("RiskAssessment", "subject"),
        ("DetectedIssue", "patient"),
        ("ServiceRequest", "subject"),
    ):
        for resource in _resources(bundle, kind):
            assert resource[field]["identifier"]["value"] == "patient 7 / ward B"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records)
def test_any_record_gives_a_valid_bundle(data: dict[str, Any]) -> None:
    _validate(assessment_bundle(assess(parse_record(data), as_of=AS_OF)))


def test_an_unverified_code_is_flagged_on_the_request() -> None:
    item = WorkupItem(test="chest_ct", urgency="soon", reason="Lung.", citations=("KATYAL-2000",))
    note = workup_service_request(item, "Patient/1")["note"][0]["text"]
    assert "fhir_out.order_codes.chest_ct" in note


def test_stated_assumptions_travel_with_what_used_them() -> None:
    a = assess(_woman_with_leg_numbness(), as_of=AS_OF)
    assumption = {"field": "liver.dialysis_twice_past_week", "value": False, "reason": "no dialysis recorded"}
    object.__setattr__(a.scores["meld_3"], "assumptions", (assumption,))
    alert = next(x for x in a.alerts if x.id == "mscc_suspected")
    object.__setattr__(
        alert, "assumptions", ({"field": "symptoms.leg_numbness", "value": True, "reason": "r"},)
    )
    bundle = assessment_bundle(a)
    _validate(bundle)
    obs = {o["code"]["coding"][0]["code"]: o for o in _resources(bundle, "Observation")}
    notes = " ".join(n["text"] for n in obs["meld_3"]["note"])
    assert "liver.dialysis_twice_past_week = no: no dialysis recorded" in notes
    assert "Stated assumptions" not in " ".join(n["text"] for n in obs["albi"]["note"])
    issue = next(
        i for i in _resources(bundle, "DetectedIssue") if i["code"]["coding"][0]["code"] == "mscc_suspected"
    )
    assert "Stated assumption: symptoms.leg_numbness = yes: r" in [
        c["text"] for c in issue["evidence"][0]["code"]
    ]
