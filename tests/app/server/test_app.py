"""The REST API and the server's edges, through real HTTP on loopback."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_support import live_server, settings

from hccwatch.app.server import app as app_module
from hccwatch.app.server.settings import token_digest
from support import EXAMPLES

TOKEN = "s3cret-test-token"


def _record() -> dict[str, Any]:
    return json.loads((EXAMPLES / "article-woman-back-pain.json").read_text(encoding="utf-8"))


@pytest.fixture
def server(tmp_path: Path) -> Any:
    with live_server(settings(tmp_path, api_token_digests=frozenset({token_digest(TOKEN)}))) as url:
        yield url


def _auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_healthz_needs_no_token(server: str) -> None:
    r = httpx.get(f"{server}/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert r.headers["x-request-id"]


def test_assess_returns_the_assessment_json(server: str) -> None:
    r = httpx.post(f"{server}/api/v1/assess?as_of=2026-11-24", json=_record(), headers=_auth())
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["record_id"] == "article-woman-back-pain"
    assert body["as_of"] == "2026-11-24"
    assert body["as_of_source"] == "given"


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic czNjcmV0", f"Bearer {TOKEN}x", "Bearer"])
def test_assess_refuses_a_missing_or_wrong_token(server: str, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    r = httpx.post(f"{server}/api/v1/assess", json=_record(), headers=headers)
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"] == "Bearer"
    assert TOKEN not in r.text


def test_no_configured_token_refuses_every_api_call(tmp_path: Path) -> None:
    with live_server(settings(tmp_path)) as url:
        assert httpx.post(f"{url}/api/v1/assess", json=_record(), headers=_auth()).status_code == 401
        assert httpx.get(f"{url}/api/v1/feedback/summary").status_code == 401


def test_an_invalid_record_is_a_problem_naming_each_field(server: str) -> None:
    bad = _record()
    bad["labs"][0]["unit"] = "mg/L"
    bad["birth_date"] = "yesterday"
    r = httpx.post(f"{server}/api/v1/assess", json=bad, headers=_auth())
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["type"] == "urn:hccwatch:problem:invalid-record"
    assert problem["status"] == 422
    fields = {e["field"] for e in problem["errors"]}
    assert fields == {"labs[0]", "birth_date"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("as_of=2026-13-01", "as_of"),
        ("as_of=1800-01-01", "as_of"),
        ("lang=xx", "lang"),
        ("profile=zz", "profile"),
    ],
)
def test_a_wrong_parameter_is_a_problem_naming_it(server: str, query: str, field: str) -> None:
    r = httpx.post(f"{server}/api/v1/assess?{query}", json=_record(), headers=_auth())
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == [field]


@pytest.mark.parametrize("body", [b"", b"{", b'{"id": NaN}', b"\xff\xfe", b"1" * 40])
def test_a_body_that_is_not_json_is_refused_without_a_5xx(server: str, body: bytes) -> None:
    r = httpx.post(f"{server}/api/v1/assess", content=body, headers=_auth())
    assert r.status_code in {415, 422}
    assert r.headers["content-type"] == "application/problem+json"


def test_a_non_object_json_is_an_invalid_record(server: str) -> None:
    r = httpx.post(f"{server}/api/v1/assess", json=[1, 2], headers=_auth())
    assert r.status_code == 422
    assert r.json()["errors"][0]["detail"].startswith("a patient record must be a JSON object")


def test_a_body_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    s = settings(tmp_path, api_token_digests=frozenset({token_digest(TOKEN)}), max_body_bytes=2048)
    with live_server(s) as url:
        big = {"id": "x", "padding": "x" * 4096}
        r = httpx.post(f"{url}/api/v1/assess", json=big, headers=_auth())
        assert r.status_code == 413
        assert r.headers["content-type"] == "application/problem+json"

        # Without a Content-Length (chunked), the limit still holds while the body streams in.
        def chunks() -> Any:
            for _ in range(10):
                yield b" " * 1024

        r = httpx.post(f"{url}/api/v1/assess", content=chunks(), headers=_auth())
        assert r.status_code == 413


def test_an_assessment_over_the_time_limit_is_a_503(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = app_module.assess

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(1.0)
        return real(*args, **kwargs)

    monkeypatch.setattr(app_module, "assess", slow)
    s = settings(tmp_path, api_token_digests=frozenset({token_digest(TOKEN)}), request_timeout_s=0.2)
    with live_server(s) as url:
        start = time.monotonic()
        r = httpx.post(f"{url}/api/v1/assess", json=_record(), headers=_auth())
        assert time.monotonic() - start < 0.9
        assert r.status_code == 503
        assert r.json()["type"] == "urn:hccwatch:problem:timeout"


def test_unknown_paths_and_methods_are_problems(server: str) -> None:
    r = httpx.get(f"{server}/api/v1/nothing")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert httpx.get(f"{server}/api/v1/assess").status_code == 405


def test_openapi_documents_every_route_with_examples(server: str) -> None:
    spec = httpx.get(f"{server}/openapi.json").json()
    paths = spec["paths"]
    for path in [
        "/healthz",
        "/api/v1/assess",
        "/api/v1/feedback/summary",
        "/cds-services",
        "/cds-services/{service_id}",
    ]:
        assert path in paths
    body = paths["/api/v1/assess"]["post"]["requestBody"]["content"]["application/json"]
    assert set(body["examples"]) == {"record", "fhir"}
    assert "PatientRecord" in spec["components"]["schemas"]
    assert httpx.get(f"{server}/docs").status_code == 200


def test_the_example_record_in_openapi_is_a_valid_record(server: str) -> None:
    spec = httpx.get(f"{server}/openapi.json").json()
    example = spec["paths"]["/api/v1/assess"]["post"]["requestBody"]["content"]["application/json"][
        "examples"
    ]
    r = httpx.post(f"{server}/api/v1/assess", json=example["record"]["value"], headers=_auth())
    assert r.status_code == 200, r.text


def test_cors_is_off_unless_configured(tmp_path: Path) -> None:
    origin = {"Origin": "https://registry.example.org", "Access-Control-Request-Method": "POST"}
    with live_server(settings(tmp_path)) as url:
        assert (
            "access-control-allow-origin" not in httpx.options(f"{url}/api/v1/assess", headers=origin).headers
        )
    with live_server(settings(tmp_path, cors_origins=("https://registry.example.org",))) as url:
        r = httpx.options(f"{url}/api/v1/assess", headers=origin)
        assert r.headers["access-control-allow-origin"] == "https://registry.example.org"


def test_logs_hold_no_token_body_or_query(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    record = _record()
    httpx.post(f"{server}/api/v1/assess?as_of=2026-11-24", json=record, headers=_auth())
    httpx.post(f"{server}/api/v1/assess", json=record, headers=_auth("wrong-token"))
    err = capsys.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(line["event"] == "request" and line["path"] == "/api/v1/assess" for line in lines)
    for secret in [TOKEN, "wrong-token", "1962-05-04", "article-woman-back-pain", "2026-11-24&", "as_of"]:
        assert secret not in err


def test_accept_fhir_json_returns_the_fhir_bundle(server: str) -> None:
    headers = _auth() | {"Accept": "application/fhir+json"}
    r = httpx.post(f"{server}/api/v1/assess?as_of=2026-11-24", json=_record(), headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/fhir+json"
    bundle = r.json()
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "collection"
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"RiskAssessment", "ServiceRequest"} <= kinds


def test_a_path_we_do_not_serve_is_not_logged(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    httpx.get(f"{server}/patients/Jane-Doe-1962-05-04")
    err = capsys.readouterr().err
    assert "Jane" not in err
    assert "(unmatched)" in err
