"""End to end through the real server on loopback, with the real FHIR reading and cards, JWT on:
EHR-shaped patient-view requests, every CDS Hooks spec example and Inferno CRD fixture that fits
a patient-view request, the discovery schema, and the REST API fed a FHIR Bundle.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import pytest
from server_support import Signer, ec_signer, fake_fhir, live_server, settings, write_jwks

from hccwatch.adapters.cds_hooks import check_card
from hccwatch.app.server.prefetch import PREFETCH
from hccwatch.app.server.settings import token_digest
from support import EXAMPLES, requires_shared, shared_file, shared_path

SERVICE = "/cds-services/hccwatch-patient-view"
TOKEN = "e2e-token"
# Which prefetch key carries each resource type (as an EHR filling our templates would).
KEY_OF = {
    "Patient": "patient",
    "Condition": "conditions",
    "Observation": "observations",
    "DiagnosticReport": "reports",
    "ImagingStudy": "imaging",
    "Procedure": "procedures",
    "MedicationRequest": "medication-requests",
    "MedicationAdministration": "medication-administrations",
    "MedicationStatement": "medication-statements",
}


def _bundle(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / "fhir" / name).read_text(encoding="utf-8"))
    return data


def _prefetch(bundle: dict[str, Any]) -> dict[str, Any]:
    """The Bundle's resources as the EHR would prefetch them: one searchset per key, null if none."""
    out: dict[str, Any] = {key: None for key in PREFETCH}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        key = KEY_OF.get(resource["resourceType"])
        if key == "patient":
            out[key] = resource
        elif key is not None:
            if out[key] is None:
                out[key] = {"resourceType": "Bundle", "type": "searchset", "entry": []}
            out[key]["entry"].append({"resource": resource})
    return out


def _request(bundle: dict[str, Any]) -> dict[str, Any]:
    patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    return {
        "hook": "patient-view",
        "hookInstance": "3b4b8c2e-0d3e-4e0b-9b0a-2d0e9b1f7c11",
        "context": {"userId": "Practitioner/example", "patientId": patient["id"]},
        "prefetch": _prefetch(bundle),
    }


@pytest.fixture(scope="module")
def ehr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Signer]]:
    tmp_path = tmp_path_factory.mktemp("ehr")
    signer = ec_signer()
    s = settings(
        tmp_path,
        cds_issuers={signer.iss: str(write_jwks(tmp_path / "jwks.json", signer))},
        patient_url="https://hccwatch.hospital.example.org/patients/{patient_id}",
        api_token_digests=frozenset({token_digest(TOKEN)}),
    )
    with live_server(s) as url:
        yield url, signer


def _check_response(body: dict[str, Any]) -> None:
    """The whole response against the cds-validator schema (1.0, draft 3) with 2.0's additions:
    ``critical`` for ``hard-stop``, card ``uuid``, ``selectionBehavior``, ``overrideReasons``,
    suggestion ``isRecommended``, link ``autolaunchable``; nothing else is allowed anywhere.
    Without the shared data only hccwatch's own card check runs."""
    for c in body["cards"]:
        check_card(c)
    path = shared_file("data", "cds-hooks", "cds-validator-schemas", "card-schema.json")
    if path is None:
        return
    schema = json.loads(path.read_text(encoding="utf-8"))
    card = schema["properties"]["cards"]["items"]["properties"]
    card["indicator"]["enum"] = ["info", "warning", "critical"]
    card["uuid"] = {"type": "string"}
    card["selectionBehavior"] = {"enum": ["at-most-one", "any"]}
    card["overrideReasons"] = {"type": "array", "items": {"type": "object"}}
    card["suggestions"]["items"]["properties"]["isRecommended"] = {"type": "boolean"}
    card["links"]["items"]["properties"]["autolaunchable"] = {"type": "boolean"}
    jsonschema.Draft3Validator(schema).validate(body)


def _call(ehr: tuple[str, Signer], body: dict[str, Any]) -> httpx.Response:
    url, signer = ehr
    return httpx.post(
        f"{url}{SERVICE}",
        json=body,
        headers={"Authorization": f"Bearer {signer.token(url + SERVICE)}"},
        timeout=10,
    )


def test_back_pain_after_resection_with_new_leg_numbness_gives_one_critical_card_for_whole_spine_mri(
    ehr: tuple[str, Signer],
) -> None:
    r = _call(ehr, _request(_bundle("woman-back-pain-leg-numbness.bundle.json")))
    assert r.status_code == 200, r.text
    cards = r.json()["cards"]
    critical = [c for c in cards if c["indicator"] == "critical"]
    assert len(critical) == 1
    (card,) = critical
    assert cards[0] is not None and cards[0]["indicator"] == "critical"  # most urgent first
    labels = [s["label"] for s in card["suggestions"]]
    assert any("whole spine mri" in label.lower() for label in labels)
    assert card["selectionBehavior"] in {"at-most-one", "any"}
    action = card["suggestions"][0]["actions"][0]
    assert action["type"] == "create"
    assert action["resource"]["resourceType"] == "ServiceRequest"
    assert action["resource"]["status"] == "draft" or action["resource"]["intent"] in {"proposal", "plan"}
    (link,) = card["links"]
    assert link["type"] == "absolute"
    assert link["autolaunchable"] is False
    assert link["url"].startswith("https://hccwatch.hospital.example.org/patients/")
    _check_response(r.json())
    for c in cards:
        assert len(c["summary"]) < 140
        assert c["source"]["label"]


def test_a_quiet_follow_up_patient_gets_no_card(ehr: tuple[str, Signer]) -> None:
    r = _call(ehr, _request(_bundle("man-quiet-follow-up.bundle.json")))
    assert r.status_code == 200
    assert r.json() == {"cards": []}


def test_without_procedures_the_dialysis_assumption_is_withdrawn(
    ehr: tuple[str, Signer], capsys: pytest.CaptureFixture[str]
) -> None:
    # The procedures key is absent and there is no FHIR server: "no dialysis recorded" would rest
    # on data never seen, so the field goes back to unknown (test_fhir_bridge.py checks how).
    body = _request(_bundle("woman-back-pain-leg-numbness.bundle.json"))
    del body["prefetch"]["procedures"]
    r = _call(ehr, body)
    assert r.status_code == 200
    assert [c["indicator"] for c in r.json()["cards"]][0] == "critical"
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    (withdrawn,) = [e for e in events if e["event"] == "cds_assumptions_withdrawn"]
    assert "liver.dialysis_twice_past_week" in withdrawn["fields"]


def test_the_same_patient_from_the_fhir_server_alone_gives_the_same_cards(ehr: tuple[str, Signer]) -> None:
    bundle = _bundle("woman-back-pain-leg-numbness.bundle.json")
    body = _request(bundle)
    expected = _call(ehr, body).json()
    pid = body["context"]["patientId"]
    prefetch = body.pop("prefetch")
    with fake_fhir() as fhir:
        fhir.routes[f"Patient/{pid}"] = (200, prefetch["patient"])
        for key, query in PREFETCH.items():
            if key != "patient":
                empty = {"resourceType": "Bundle", "type": "searchset", "entry": []}
                path = query.replace("{{context.patientId}}", pid)
                fhir.routes[path] = (200, prefetch[key] or empty)
        body["fhirServer"] = fhir.base
        body["fhirAuthorization"] = {"access_token": "opaque", "token_type": "Bearer", "expires_in": 300}
        got = _call(ehr, body)
    assert got.status_code == 200
    assert [c["summary"] for c in got.json()["cards"]] == [c["summary"] for c in expected["cards"]]


def test_rest_assess_reads_a_fhir_bundle(ehr: tuple[str, Signer]) -> None:
    url, _ = ehr
    headers = {"Authorization": f"Bearer {TOKEN}"}
    bundle = _bundle("woman-back-pain-leg-numbness.bundle.json")
    r = httpx.post(f"{url}/api/v1/assess?as_of=2026-11-24", json=bundle, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["x-hccwatch-mapping-warnings"].isdigit()
    assert any(a["urgency"] == "emergency" for a in r.json()["alerts"])
    fhir = httpx.post(
        f"{url}/api/v1/assess?as_of=2026-11-24",
        json=bundle,
        headers=headers | {"Accept": "application/fhir+json"},
    )
    assert fhir.json()["resourceType"] == "Bundle"


def _died(bundle: dict[str, Any], when: str) -> dict[str, Any]:
    """The Bundle with its Patient saying they died on ``when``."""
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "Patient":
            entry["resource"]["deceasedDateTime"] = when
    return bundle


def test_a_patient_who_died_gets_no_card_and_no_internal_error(
    ehr: tuple[str, Signer], capsys: pytest.CaptureFixture[str]
) -> None:
    # The critical-card patient above, whose record now says they died: nothing to follow up.
    r = _call(ehr, _request(_died(_bundle("woman-back-pain-leg-numbness.bundle.json"), "2020-03-01")))
    assert r.status_code == 200
    assert r.json() == {"cards": []}
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    kinds = {e["event"] for e in events}
    assert "cds_deceased" in kinds and "cds_internal_error" not in kinds


def test_rest_assess_of_a_patient_who_died_is_a_problem_saying_so(ehr: tuple[str, Signer]) -> None:
    url, _ = ehr
    headers = {"Authorization": f"Bearer {TOKEN}"}
    bundle = _died(_bundle("woman-back-pain-leg-numbness.bundle.json"), "2020-03-01T10:00:00+01:00")
    r = httpx.post(f"{url}/api/v1/assess?as_of=2026-11-24", json=bundle, headers=headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["type"] == "urn:hccwatch:problem:deceased"
    assert problem["detail"] == (
        "the record says the patient died on 2020-03-01: hccwatch assesses the follow-up of "
        "living patients, so nothing is assessed or due"
    )
    assert problem["errors"] == [{"field": "deceased_on", "detail": problem["detail"]}]
    # Alive on an earlier as_of: assessed as usual.
    earlier = httpx.post(f"{url}/api/v1/assess?as_of=2020-02-01", json=bundle, headers=headers)
    assert earlier.status_code == 200, earlier.text


# ----------------------------------------------------------------- conformance with shared fixtures


def _shared_requests() -> list[tuple[str, dict[str, Any]]]:
    """Every spec example and Inferno CRD request that names a patient (what a patient-view needs)."""
    found: list[tuple[str, dict[str, Any]]] = []
    for folder, pattern in [("spec-examples", "*.json"), ("inferno-crd-fixtures", "*_hook_request.json")]:
        base = shared_file("data", "cds-hooks", folder)
        if base is None:
            return [("shared-data-missing", {})]
        for path in sorted(base.glob(pattern)):
            data = json.loads(path.read_text(encoding="utf-8"))
            context = data.get("context") if isinstance(data, dict) else None
            if isinstance(context, dict) and isinstance(context.get("patientId"), str):
                found.append((f"{folder}/{path.name}", data))
    return found


SHARED_REQUESTS = _shared_requests()


def _as_patient_view(example: dict[str, Any], fhir_base: str | None) -> dict[str, Any]:
    context = example["context"]
    body: dict[str, Any] = {
        "hook": "patient-view",
        "hookInstance": example.get("hookInstance") or "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {
            "userId": context["userId"] if isinstance(context.get("userId"), str) else "Practitioner/example",
            "patientId": context["patientId"],
        }
        | ({"encounterId": context["encounterId"]} if isinstance(context.get("encounterId"), str) else {}),
    }
    if example.get("hook") == "patient-view" and isinstance(example.get("prefetch"), dict):
        body["prefetch"] = example["prefetch"]
    if isinstance(example.get("fhirAuthorization"), dict):
        body["fhirAuthorization"] = example["fhirAuthorization"]
    if fhir_base is not None:
        body["fhirServer"] = fhir_base  # never the example's own (remote) server
    return body


@requires_shared
@pytest.mark.parametrize(("name", "example"), SHARED_REQUESTS, ids=[n for n, _ in SHARED_REQUESTS])
def test_every_shared_request_that_fits_patient_view_is_answered(
    ehr: tuple[str, Signer], name: str, example: dict[str, Any]
) -> None:
    pid = example["context"]["patientId"]
    inferno_patient = json.loads(
        shared_path("data", "cds-hooks", "inferno-crd-fixtures", "crd_patient_example.json").read_text(
            encoding="utf-8"
        )
    )
    patient = inferno_patient | {"id": pid} if "inferno" in name else {"resourceType": "Patient", "id": pid}
    with fake_fhir({f"Patient/{pid}": (200, patient)}) as fhir:
        r = _call(ehr, _as_patient_view(example, fhir.base))
        assert r.status_code == 200, r.text
        assert any(path.startswith(f"/fhir/Patient/{pid}") for path, _ in fhir.seen) or "prefetch" in example
    body = r.json()
    assert set(body) == {"cards"}
    _check_response(body)
    # The same request with no FHIR server and none of our prefetch keys: 412, as the spec says.
    bare = _as_patient_view(example, None)
    if not any(k in PREFETCH for k in bare.get("prefetch") or {}):
        assert _call(ehr, bare).status_code == 412


@requires_shared
def test_discovery_matches_the_cds_validator_schema(ehr: tuple[str, Signer]) -> None:
    url, _ = ehr
    schema = json.loads(
        shared_path("data", "cds-hooks", "cds-validator-schemas", "discovery-response-schema.json").read_text(
            encoding="utf-8"
        )
    )
    jsonschema.Draft3Validator(schema).validate(httpx.get(f"{url}/cds-services").json())


@requires_shared
def test_the_spec_feedback_examples_are_accepted(ehr: tuple[str, Signer]) -> None:
    url, signer = ehr
    folder = shared_path("data", "cds-hooks", "spec-examples")
    examples = sorted(folder.glob("*__feedback__*.json"))
    assert examples
    for path in examples:
        body = json.loads(path.read_text(encoding="utf-8"))
        feedback_url = f"{url}{SERVICE}/feedback"
        r = httpx.post(
            feedback_url, json=body, headers={"Authorization": f"Bearer {signer.token(feedback_url)}"}
        )
        assert r.status_code == 200, (path.name, r.text)


def test_rest_record_shows_what_was_read_from_fhir(ehr: tuple[str, Signer]) -> None:
    url, _ = ehr
    headers = {"Authorization": f"Bearer {TOKEN}"}
    bundle = _bundle("woman-back-pain-leg-numbness.bundle.json")
    r = httpx.post(f"{url}/api/v1/record?as_of=2026-11-24", json=bundle, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"record", "warnings", "assumptions"}
    assert {a["field"] for a in body["assumptions"]} >= {"liver.dialysis_twice_past_week"}
    assert httpx.post(f"{url}/api/v1/record", json={"id": "x"}, headers=headers).status_code == 422
    assert httpx.post(f"{url}/api/v1/record", json=bundle).status_code == 401
