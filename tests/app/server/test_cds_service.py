"""The CDS Hooks service's transport, through real HTTP on loopback: discovery, prefetch
(absent, null, OperationOutcome, paginated), the FHIR server fallback, the deadline, 412, JWT on the
endpoint and feedback.

The FHIR reading is replaced here by one mapping a Patient id to one of the example records,
so these tests hold whatever the FHIR mapping does; end-to-end tests with the real mapping are in
``test_cds_end_to_end.py``.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_support import FakeFhir, Signer, fake_fhir, live_server, rsa_signer, settings, write_jwks

from hccwatch.adapters.fhir import FhirReading
from hccwatch.app.server import fhir_bridge
from hccwatch.app.server.prefetch import PREFETCH
from hccwatch.errors import InvalidRecordError
from support import EXAMPLES

SERVICE = "/cds-services/hccwatch-patient-view"


@dataclass
class Seen:
    resources: list[list[Mapping[str, Any]]] = field(default_factory=list)


def _example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Seen:
    state = Seen()

    def read(resources: Iterable[Mapping[str, Any]], *, as_of: Any = None) -> FhirReading:
        given = list(resources)
        state.resources.append(given)
        patients = [r for r in given if r.get("resourceType") == "Patient"]
        if not patients:
            raise InvalidRecordError("no Patient")
        # A reading built from an example record, as the FHIR reader would return it.
        return FhirReading(_example(str(patients[0]["id"])))

    monkeypatch.setattr(fhir_bridge, "read_resources", read)
    return state


def _request(patient_id: str = "article-woman-back-pain", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": "patient-view",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {"userId": "Practitioner/example", "patientId": patient_id},
        "prefetch": {key: None for key in PREFETCH}
        | {"patient": {"resourceType": "Patient", "id": patient_id, "gender": "female"}},
    }
    return body | extra


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[str]:
    with live_server(settings(tmp_path, dev=True, cds_deadline_s=3.0)) as url:
        yield url


def test_discovery_lists_the_patient_view_service_with_prefetch_templates(dev: str) -> None:
    body = httpx.get(f"{dev}/cds-services").json()
    (service,) = body["services"]
    assert service["hook"] == "patient-view"
    assert service["id"] == "hccwatch-patient-view"
    assert service["description"]
    assert service["prefetch"]["patient"] == "Patient/{{context.patientId}}"
    for key in ["conditions", "labs", "reports", "imaging", "procedures", "medication-requests"]:
        assert "patient={{context.patientId}}" in service["prefetch"][key]
    assert "http://loinc.org|1834-1" in service["prefetch"]["labs"]  # AFP


def test_a_complete_prefetch_gives_cards_without_any_fhir_call(dev: str, seen: Seen) -> None:
    r = httpx.post(f"{dev}{SERVICE}", json=_request())
    assert r.status_code == 200, r.text
    cards = r.json()["cards"]
    assert cards
    assert all(len(c["summary"]) < 140 and c["indicator"] in {"info", "warning", "critical"} for c in cards)
    assert all(c["uuid"] for c in cards)


def test_a_quiet_patient_gets_an_empty_card_list(dev: str, seen: Seen) -> None:
    r = httpx.post(f"{dev}{SERVICE}", json=_request("article-man-after-resection"))
    assert r.status_code == 200
    assert r.json() == {"cards": []}


def test_no_prefetch_and_no_fhir_server_is_412(dev: str, seen: Seen) -> None:
    body = _request()
    del body["prefetch"]
    r = httpx.post(f"{dev}{SERVICE}", json=body)
    assert r.status_code == 412
    # An OperationOutcome for the patient is no patient either.
    body["prefetch"] = {"patient": {"resourceType": "OperationOutcome", "issue": []}}
    assert httpx.post(f"{dev}{SERVICE}", json=body).status_code == 412


def test_absent_keys_are_fetched_from_the_fhir_server_with_the_given_token(dev: str, seen: Seen) -> None:
    patient = {"resourceType": "Patient", "id": "article-woman-back-pain"}
    condition = {"resourceType": "Condition", "id": "c1"}
    with fake_fhir({"Patient/article-woman-back-pain": (200, patient)}) as fhir:
        fhir.routes["Condition?patient=article-woman-back-pain"] = (
            200,
            {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": condition}]},
        )
        body = _request(
            fhirServer=fhir.base, fhirAuthorization={"access_token": "ehr-token", "token_type": "Bearer"}
        )
        del body["prefetch"]
        r = httpx.post(f"{dev}{SERVICE}", json=body)
        assert r.status_code == 200, r.text
        assert r.json()["cards"]
        assert {p.split("?")[0] for p, _ in fhir.seen} == {
            "/fhir/" + q.split("?")[0].replace("{{context.patientId}}", "article-woman-back-pain")
            for q in PREFETCH.values()
        }
        assert {auth for _, auth in fhir.seen} == {"Bearer ehr-token"}
    ids = {r["id"] for r in seen.resources[-1]}
    assert ids == {"article-woman-back-pain", "c1"}


def test_null_keys_are_not_fetched_and_operation_outcomes_are(dev: str, seen: Seen) -> None:
    with fake_fhir() as fhir:
        body = _request(fhirServer=fhir.base)
        body["prefetch"]["conditions"] = {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error"}],
        }
        r = httpx.post(f"{dev}{SERVICE}", json=body)
        assert r.status_code == 200
        assert [p.split("?")[0] for p, _ in fhir.seen] == ["/fhir/Condition"]


def test_a_paginated_prefetch_is_followed_on_the_fhir_server(dev: str, seen: Seen) -> None:
    with fake_fhir() as fhir:
        page2 = {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": {"resourceType": "Procedure", "id": "pr2"}}],
            "link": [{"relation": "next", "url": f"{fhir.base}/Procedure?page=3"}],
        }
        page3 = {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": {"resourceType": "Procedure", "id": "pr3"}}],
        }
        fhir.routes["Procedure?page=2"] = (200, page2)
        fhir.routes["Procedure?page=3"] = (200, page3)
        body = _request(fhirServer=fhir.base)
        body["prefetch"]["procedures"] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": 3,
            "link": [{"relation": "next", "url": f"{fhir.base}/Procedure?page=2"}],
            "entry": [{"resource": {"resourceType": "Procedure", "id": "pr1"}}],
        }
        assert httpx.post(f"{dev}{SERVICE}", json=body).status_code == 200
    ids = {r["id"] for r in seen.resources[-1] if r["resourceType"] == "Procedure"}
    assert ids == {"pr1", "pr2", "pr3"}


def test_a_next_link_to_another_server_is_not_followed_with_the_token(dev: str, seen: Seen) -> None:
    with fake_fhir() as fhir, fake_fhir() as other:
        body = _request(fhirServer=fhir.base, fhirAuthorization={"access_token": "ehr-token"})
        body["prefetch"]["procedures"] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "link": [{"relation": "next", "url": f"{other.base}/Procedure?page=2"}],
            "entry": [{"resource": {"resourceType": "Procedure", "id": "pr1"}}],
        }
        assert httpx.post(f"{dev}{SERVICE}", json=body).status_code == 200
        assert other.seen == []


def test_a_slow_fhir_server_gives_no_cards_within_the_deadline(tmp_path: Path, seen: Seen) -> None:
    with live_server(settings(tmp_path, dev=True, cds_deadline_s=0.5)) as url, fake_fhir(delay_s=3) as fhir:
        body = _request(fhirServer=fhir.base)
        del body["prefetch"]["labs"]
        start = time.monotonic()
        r = httpx.post(f"{url}{SERVICE}", json=body, timeout=10)
        elapsed = time.monotonic() - start
        assert r.status_code == 200
        assert r.json() == {"cards": []}
        assert elapsed < 1.5


def test_a_failing_fhir_server_still_answers_with_what_was_prefetched(dev: str, seen: Seen) -> None:
    with fake_fhir() as fhir:
        fhir.routes["Observation"] = (500, {})
        body = _request(fhirServer=fhir.base)
        del body["prefetch"]["labs"]
        r = httpx.post(f"{dev}{SERVICE}", json=body)
        assert r.status_code == 200
        assert r.json()["cards"]


def test_a_plain_http_fhir_server_on_loopback_needs_the_setting(tmp_path: Path, seen: Seen) -> None:
    signer = rsa_signer()
    s = settings(
        tmp_path,
        fhir_http_loopback=False,
        cds_issuers={signer.iss: str(write_jwks(tmp_path / "k.json", signer))},
    )
    with live_server(s) as url, fake_fhir() as fhir:
        body = _request(fhirServer=fhir.base)
        del body["prefetch"]
        headers = {"Authorization": f"Bearer {signer.token(url + SERVICE)}"}
        assert httpx.post(f"{url}{SERVICE}", json=body, headers=headers).status_code == 412
        assert fhir.seen == []


def test_a_plain_http_fhir_server_is_not_used_outside_loopback_in_production(
    tmp_path: Path, seen: Seen
) -> None:
    signer = rsa_signer()
    s = settings(tmp_path, cds_issuers={signer.iss: str(write_jwks(tmp_path / "k.json", signer))})
    with live_server(s) as url:
        body = _request(fhirServer="http://fhir.example.org/r4")
        del body["prefetch"]
        r = httpx.post(
            f"{url}{SERVICE}", json=body, headers={"Authorization": f"Bearer {signer.token(url + SERVICE)}"}
        )
        assert r.status_code == 412


@pytest.mark.parametrize(
    "change",
    [
        {"hook": "order-sign"},
        {"hookInstance": None},
        {"context": {"userId": "Practitioner/x"}},
        {"context": "x"},
        {"prefetch": [1]},
    ],
)
def test_a_request_that_is_not_patient_view_is_a_400(dev: str, seen: Seen, change: dict[str, Any]) -> None:
    body = {k: v for k, v in (_request() | change).items() if v is not None}
    r = httpx.post(f"{dev}{SERVICE}", json=body)
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"


def test_an_unknown_service_is_404(dev: str) -> None:
    assert httpx.post(f"{dev}/cds-services/nothing", json=_request()).status_code == 404


def test_a_bug_in_the_reader_never_becomes_a_5xx_for_the_ehr(
    dev: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(resources: Iterable[Mapping[str, Any]], *, as_of: Any = None) -> Any:
        raise InvalidRecordError("no patient")

    monkeypatch.setattr(fhir_bridge, "read_resources", broken)
    r = httpx.post(f"{dev}{SERVICE}", json=_request())
    assert r.status_code == 200
    assert r.json() == {"cards": []}


# ----------------------------------------------------------------- JWT on the endpoint


@pytest.fixture
def signed(tmp_path: Path) -> Iterator[tuple[str, Signer]]:
    signer = rsa_signer()
    s = settings(tmp_path, cds_issuers={signer.iss: str(write_jwks(tmp_path / "k.json", signer))})
    with live_server(s) as url:
        yield url, signer


def test_a_signed_call_is_answered(signed: tuple[str, Signer], seen: Seen) -> None:
    url, signer = signed
    r = httpx.post(
        f"{url}{SERVICE}", json=_request(), headers={"Authorization": f"Bearer {signer.token(url + SERVICE)}"}
    )
    assert r.status_code == 200
    assert r.json()["cards"]


@pytest.mark.parametrize("case", ["none", "aud", "replay", "expired"])
def test_anything_but_a_valid_jwt_gets_a_bare_401(signed: tuple[str, Signer], seen: Seen, case: str) -> None:
    url, signer = signed
    headers = {}
    if case == "aud":
        headers["Authorization"] = f"Bearer {signer.token(url + '/cds-services/other')}"
    elif case == "expired":
        headers["Authorization"] = f"Bearer {signer.token(url + SERVICE, now=time.time() - 7200)}"
    elif case == "replay":
        token = signer.token(url + SERVICE)
        headers["Authorization"] = f"Bearer {token}"
        assert httpx.post(f"{url}{SERVICE}", json=_request(), headers=headers).status_code == 200
    r = httpx.post(f"{url}{SERVICE}", json=_request(), headers=headers)
    assert r.status_code == 401
    assert r.content == b""


def test_an_unsigned_call_is_refused_without_dev(signed: tuple[str, Signer], seen: Seen) -> None:
    url, _ = signed
    assert httpx.post(f"{url}{SERVICE}", json=_request()).status_code == 401
    assert httpx.post(f"{url}{SERVICE}/feedback", json={"feedback": []}).status_code == 401


def test_the_public_url_setting_is_the_audience_behind_a_proxy(tmp_path: Path, seen: Seen) -> None:
    signer = rsa_signer()
    public = "https://hccwatch.hospital.example.org"
    s = settings(
        tmp_path, public_url=public, cds_issuers={signer.iss: str(write_jwks(tmp_path / "k.json", signer))}
    )
    with live_server(s) as url:
        ok = signer.token(public + SERVICE)
        assert (
            httpx.post(
                f"{url}{SERVICE}", json=_request(), headers={"Authorization": f"Bearer {ok}"}
            ).status_code
            == 200
        )
        bad = signer.token(url + SERVICE)
        assert (
            httpx.post(
                f"{url}{SERVICE}", json=_request(), headers={"Authorization": f"Bearer {bad}"}
            ).status_code
            == 401
        )


# ----------------------------------------------------------------- feedback


def test_feedback_is_stored_once_and_summarised(dev: str, seen: Seen, tmp_path: Path) -> None:
    cards = httpx.post(f"{dev}{SERVICE}", json=_request()).json()["cards"]
    first, *_ = cards
    accepted = {
        "card": first["uuid"],
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": first["suggestions"][0]["uuid"]}],
        "outcomeTimestamp": "2026-11-24T10:00:00Z",
    }
    overridden = {
        "card": cards[-1]["uuid"],
        "outcome": "overridden",
        "overrideReason": {
            "reason": {
                "system": "http://example.org/override",
                "code": "already-ordered",
                "display": "Already ordered",
            },
            "userComment": "done last week",
        },
        "outcomeTimestamp": "2026-11-24T10:01:00Z",
    }
    for _ in range(2):  # the EHR may send the same feedback twice: stored once
        r = httpx.post(f"{dev}{SERVICE}/feedback", json={"feedback": [accepted, overridden]})
        assert r.status_code == 200
    summary = httpx.get(f"{dev}/api/v1/feedback/summary").json()
    assert summary["feedback_count"] == 2
    service = summary["services"]["hccwatch-patient-view"]
    assert service["acceptance_rate"] == 0.5
    assert service["override_reasons"] == [
        {
            "system": "http://example.org/override",
            "code": "already-ordered",
            "display": "Already ordered",
            "count": 1,
        }
    ]
    assert sum(service["issued"].values()) == len(cards)
    assert service["outcomes"][first["indicator"]]["accepted"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"feedback": "x"},
        {"feedback": [{"outcome": "accepted", "outcomeTimestamp": "2026-11-24T10:00:00Z"}]},
        {"feedback": [{"card": "c", "outcome": "maybe", "outcomeTimestamp": "2026-11-24T10:00:00Z"}]},
        {"feedback": [{"card": "c", "outcome": "accepted"}]},
        {
            "feedback": [
                {"card": "c", "outcome": "accepted", "outcomeTimestamp": "t", "acceptedSuggestions": "x"}
            ]
        },
    ],
)
def test_bad_feedback_is_a_400_naming_the_field(dev: str, body: dict[str, Any]) -> None:
    r = httpx.post(f"{dev}{SERVICE}/feedback", json=body)
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"].startswith("feedback")


def test_an_empty_summary_has_no_rate(dev: str) -> None:
    assert httpx.get(f"{dev}/api/v1/feedback/summary").json() == {"feedback_count": 0, "services": {}}


def test_dev_mode_refuses_a_request_that_names_no_loopback_client(tmp_path: Path) -> None:
    # --dev binds to loopback; the edge also checks each client address (defence in depth).
    import asyncio

    from hccwatch.app.server import create_app

    app = create_app(settings(tmp_path, dev=True))
    sent: list[dict[str, Any]] = []

    async def run() -> None:
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/healthz",
            "headers": [],
            "client": ("10.0.0.5", 1234),
        }

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b""}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(
            copy.deepcopy(scope) | {"query_string": b"", "raw_path": b"/healthz", "root_path": ""},
            receive,
            send,
        )

    asyncio.run(run())
    assert sent[0]["status"] == 403


def test_fake_fhir_is_loopback_only() -> None:
    with fake_fhir() as fhir:
        assert isinstance(fhir, FakeFhir)
        assert fhir.base.startswith("http://127.0.0.1:")
