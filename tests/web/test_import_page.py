"""Import from the browser: record JSON, FHIR Bundles and NDJSON through Registry.import_record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from web_support import OPERATOR, Web

ROOT = Path(__file__).resolve().parents[2]
BUNDLES = sorted((ROOT / "examples" / "fhir").glob("*.bundle.json"))
RECORD = ROOT / "examples" / "article-man-after-resection.json"


def _upload(web: Web, token: str, name: str, content: bytes) -> object:
    return web.client.post(
        "/import",
        data={"csrf_token": token, "as_of": "2026-11-24"},
        files={"file": (name, content, "application/json")},
    )


@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda p: p.name)
def test_each_example_bundle_is_imported(web: Web, bundle: Path) -> None:
    token = web.login("clinician")
    response = _upload(web, token, bundle.name, bundle.read_bytes())
    assert response.status_code == 200, response.text[:2000]
    assert "1 added, 0 updated, 0 unchanged, 0 failed" in response.text
    assert web.registry.count_patients(OPERATOR) == 1
    assert [e.action for e in web.registry.audit_events(OPERATOR)].count("patient.import") == 1
    again = _upload(web, token, bundle.name, bundle.read_bytes())
    assert "0 added, 0 updated, 1 unchanged, 0 failed" in again.text


def test_a_record_file_is_imported_then_updated(web: Web) -> None:
    token = web.login("admin")
    record = json.loads(RECORD.read_text(encoding="utf-8"))
    assert "1 added" in _upload(web, token, "r.json", json.dumps(record).encode()).text
    record["ecog"] = 2
    response = _upload(web, token, "r.json", json.dumps(record).encode())
    assert "0 added, 1 updated" in response.text
    assert web.registry.find_patient(OPERATOR, record["id"]).record["ecog"] == 2


def test_a_bulk_ndjson_export_is_imported(web: Web) -> None:
    token = web.login("clinician")
    good = json.loads(BUNDLES[0].read_text(encoding="utf-8"))
    resources = [entry["resource"] for entry in good["entry"]]
    lines = "\n".join(json.dumps(r) for r in resources).encode()
    response = _upload(web, token, "export.ndjson", lines)
    assert response.status_code == 200 and "1 added" in response.text


def test_a_bad_record_is_listed_as_failed_with_its_message(web: Web) -> None:
    token = web.login("clinician")
    bad = {"id": "bad-1", "labs": [{"test": "afp", "value": 3, "unit": "mg/L", "date": "2026-01-01"}]}
    response = _upload(web, token, "bad.json", json.dumps(bad).encode())
    assert response.status_code == 422
    assert "0 added, 0 updated, 0 unchanged, 1 failed" in response.text
    assert "bad.json: labs[0]: unit &#39;mg/L&#39; is not accepted for afp" in response.text
    assert web.registry.count_patients(OPERATOR) == 0


def test_a_file_that_is_not_json_is_named(web: Web) -> None:
    token = web.login("clinician")
    response = _upload(web, token, "notes.json", b"\xff\xfe not text")
    assert response.status_code == 422 and "notes.json: not UTF-8 text" in response.text


@pytest.mark.parametrize("role", ["readonly", "navigator"])
def test_only_importers_may_import(web: Web, role: str) -> None:
    token = web.login(role)
    assert web.client.get("/import").status_code == 403
    assert _upload(web, token, "r.json", RECORD.read_bytes()).status_code == 403
    assert web.registry.count_patients(OPERATOR) == 0


def test_csrf_is_checked(web: Web) -> None:
    web.login("clinician")
    response = web.client.post("/import", files={"file": ("r.json", RECORD.read_bytes(), "application/json")})
    assert response.status_code == 403 and web.registry.count_patients(OPERATOR) == 0
