"""Quick assessment: pasted or uploaded record or FHIR assessed and shown, nothing saved."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web_support import OPERATOR, Web, WebFactory

from hccwatch.app.server import Settings

ROOT = Path(__file__).resolve().parents[2]
RECORD = ROOT / "examples" / "article-woman-back-pain.json"
BUNDLE = ROOT / "examples" / "fhir" / "woman-back-pain-leg-numbness.bundle.json"


def _state(web: Web) -> tuple[int, int]:
    return web.registry.count_patients(OPERATOR), len(web.registry.audit_events(OPERATOR))


def _quick(web: Web, token: str, **data: str) -> object:
    return web.client.post("/quick", data={"csrf_token": token, "lang": "en", **data})


def test_the_page_is_for_every_role(web: Web) -> None:
    web.login("readonly")
    page = web.client.get("/quick")
    assert page.status_code == 200 and 'name="record"' in page.text and "Nothing is saved" in page.text


def test_a_pasted_record_is_assessed_and_nothing_is_saved(web: Web) -> None:
    token = web.login("readonly")
    before = _state(web)
    response = web.client.post(
        "/quick",
        data={"csrf_token": token, "record": RECORD.read_text(encoding="utf-8"), "as_of": "2026-11-24"},
    )
    assert response.status_code == 200, response.text[:2000]
    record_id = json.loads(RECORD.read_text(encoding="utf-8"))["id"]
    assert f"hccwatch report: {record_id}" in response.text
    assert "Bottom line" in response.text and 'href="/quick/report.css"' in response.text
    assert response.text.count("decision support, not a diagnosis") == 1
    assert _state(web) == before and web.registry.count_patients(OPERATOR) == 0


def test_an_uploaded_fhir_bundle_shows_its_warnings_and_assumptions(web: Web) -> None:
    token = web.login("clinician")
    before = _state(web)
    with BUNDLE.open("rb") as stream:
        response = web.client.post(
            "/quick",
            data={"csrf_token": token, "as_of": "2026-11-24", "lang": "zh"},
            files={"file": (BUNDLE.name, stream, "application/fhir+json")},
        )
    assert response.status_code == 200, response.text[:2000]
    assert "Stated assumptions" in response.text
    assert "hccwatch report:" in response.text
    assert _state(web) == before


def test_bad_input_gives_the_clear_message_and_keeps_the_text(web: Web) -> None:
    token = web.login("readonly")
    response = web.client.post("/quick", data={"csrf_token": token, "record": '{"id": "x", "labs": [1'})
    assert response.status_code == 422
    assert "pasted text: invalid JSON at line 1" in response.text
    assert "{&#34;id&#34;: &#34;x&#34;, &#34;labs&#34;: [1" in response.text
    bad_unit = {"id": "u", "labs": [{"test": "afp", "value": 3, "unit": "mg/L", "date": "2026-01-01"}]}
    response = web.client.post("/quick", data={"csrf_token": token, "record": json.dumps(bad_unit)})
    assert response.status_code == 422
    assert "pasted text: labs[0]: unit &#39;mg/L&#39; is not accepted for afp" in response.text


@pytest.mark.parametrize("as_of", ["2026-02-30", "yesterday"])
def test_a_bad_date_is_named(web: Web, as_of: str) -> None:
    token = web.login("readonly")
    response = web.client.post(
        "/quick", data={"csrf_token": token, "record": RECORD.read_text(), "as_of": as_of}
    )
    assert response.status_code == 422 and "is not a date (YYYY-MM-DD)" in response.text


def test_an_empty_form_says_what_is_missing(web: Web) -> None:
    token = web.login("readonly")
    response = web.client.post("/quick", data={"csrf_token": token})
    assert response.status_code == 422 and "choose a file or paste a record" in response.text


def test_the_size_limit_is_the_api_s(make_web: WebFactory, tmp_path: Path) -> None:
    web = make_web(Settings(data_dir=tmp_path / "data", max_body_bytes=5_000))
    token = web.login("readonly")
    response = web.client.post(
        "/quick", data={"csrf_token": token}, files={"file": ("big.json", b" " * 20_000, "application/json")}
    )
    assert response.status_code == 413


def test_csrf_is_checked(web: Web) -> None:
    web.login("readonly")
    assert web.client.post("/quick", data={"record": RECORD.read_text()}).status_code == 403


def test_the_report_css_is_scoped_to_the_report(web: Web) -> None:
    web.login("readonly")
    css = web.client.get("/quick/report.css")
    assert css.status_code == 200 and css.text.startswith("@scope (.quick-report)")
    assert ":root" not in css.text


_RECORDS = st.one_of(
    st.text(max_size=200),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(["id", "labs", "liver", "resourceType", "entry", "x"]), inner, max_size=4
            )
        ),
        max_leaves=12,
    ).map(json.dumps),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    record=_RECORDS,
    as_of=st.sampled_from(["", "2026-11-24", "1800-01-01", "x"]),
    lang=st.sampled_from(["en", "zh", "fr"]),
)
def test_random_posts_never_give_a_500(web: Web, record: str, as_of: str, lang: str) -> None:
    token = web.csrf.get("readonly") or web.login("readonly")
    response = web.client.post(
        "/quick", data={"csrf_token": token, "record": record, "as_of": as_of, "lang": lang}
    )
    assert response.status_code in (200, 422), response.text[:500]
    assert web.registry.count_patients(OPERATOR) == 0
