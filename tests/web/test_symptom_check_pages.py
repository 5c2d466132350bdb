"""The symptom check's web pages: the patient's form and result, neutral refusals (404/410),
CSRF bound to the link, rate limits, the navigator's links page, acknowledgement from the
worklist, and the FHIR endpoints."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from fhir.resources.R4B.questionnaire import Questionnaire
from web_support import OPERATOR, Web, csrf_of

from hccwatch.web import symptom_check
from hccwatch.web.symptom_settings import SymptomSettings
from symptom_answers import form_fields

RECORD = {"id": "P-77", "treatments": [{"type": "resection", "date": "2025-06-01"}]}
_LINK = re.compile(r'<code class="new-link">[^<]*/s/([A-Za-z0-9_-]+)</code>')
_FORM_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def _patient(web: Web, record_id: str = "P-77", name: str = "Ann Example") -> int:
    return web.registry.add_patient(OPERATOR, {**RECORD, "id": record_id}, name=name).id


def _new_link(web: Web, pid: int) -> str:
    token = web.login("navigator")
    page = web.client.post(f"/patients/{pid}/symptom-links", data={"csrf_token": token})
    assert page.status_code == 200, page.text
    found = _LINK.search(page.text)
    assert found, "the new link is shown"
    return found.group(1)


def _patient_client(web: Web) -> TestClient:
    return TestClient(web.client.app, base_url="http://testserver")


def _send(client: TestClient, token: str, lang: str = "en", **answers: str):  # type: ignore[no-untyped-def]
    page = client.get(f"/s/{token}?lang={lang}")
    assert page.status_code == 200, page.text
    csrf = _FORM_CSRF.search(page.text)
    assert csrf
    data = {**form_fields(**answers), "csrf_token": csrf.group(1)}
    return client.post(f"/s/{token}?lang={lang}", data=data)


def test_leg_numbness_gives_the_emergency_page_and_tops_the_worklist(web: Web) -> None:
    _patient(web, "P-quiet", "Quiet Patient")
    pid = _patient(web)
    token = _new_link(web, pid)
    result = _send(_patient_client(web), token, leg_numbness="yes")
    assert result.status_code == 200
    assert "Go to an emergency department now" in result.text
    assert "numb or tingling legs" in result.text
    assert result.text.count("decision support, not a diagnosis") == 1
    page = web.client.get("/")
    top = page.text.index("Patient-reported emergency")
    assert top < page.text.index("<h1>Worklist") and "Ann Example" in page.text
    ack = re.search(r'action="(/symptom-reports/\d+/acknowledge)"', page.text)
    assert ack and "Acknowledge" in page.text
    r = web.client.post(ack.group(1), data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    assert "Patient-reported emergency" not in web.client.get("/").text
    (report,) = symptom_check_state(web).checks.submissions(OPERATOR, pid)
    assert report.acknowledged_by == "navigator"


def symptom_check_state(web: Web) -> symptom_check.SymptomWeb:
    state: symptom_check.SymptomWeb = web.client.app.state.symptoms  # type: ignore[attr-defined]
    return state


def test_the_form_and_the_result_in_chinese(web: Web) -> None:
    token = _new_link(web, _patient(web))
    client = _patient_client(web)
    form = client.get(f"/s/{token}?lang=zh")
    assert "您的腿是否发麻" in form.text and 'lang="zh-Hans"' in form.text
    assert "Ann Example" not in form.text
    result = _send(client, token, "zh", leg_weakness="yes")
    assert "请立即去急诊" in result.text and "腿无力" in result.text


def test_urgent_answers_give_the_clinic_number(web: Web) -> None:
    symptom_check.configure(web.client.app, SymptomSettings(clinic_phone="+1 555 0199"))  # type: ignore[arg-type]
    token = _new_link(web, _patient(web))
    result = _send(_patient_client(web), token, jaundice="yes")
    assert "Call your care team today" in result.text and "+1 555 0199" in result.text


def test_no_red_flag_gives_thanks_and_the_next_check(web: Web) -> None:
    token = _new_link(web, _patient(web))
    result = _send(_patient_client(web), token)
    assert "Thank you" in result.text and "2026-12-01" in result.text


def test_refused_links_show_one_neutral_page(web: Web) -> None:
    pid = _patient(web)
    revoked = _new_link(web, pid)
    page = web.client.get(f"/patients/{pid}/symptom-links")
    revoke = re.search(r'action="(/patients/\d+/symptom-links/\d+/revoke)"', page.text)
    assert revoke
    web.client.post(revoke.group(1), data={"csrf_token": csrf_of(page.text)})
    client = _patient_client(web)
    unknown = client.get("/s/" + "x" * 43)
    gone = client.get(f"/s/{revoked}")
    assert (unknown.status_code, gone.status_code) == (404, 410)
    body = lambda r: r.text[r.text.index("<main") :]  # noqa: E731
    assert body(unknown) == body(gone)
    assert "Ann Example" not in gone.text and "P-77" not in gone.text
    assert client.post(f"/s/{revoked}", data={"csrf_token": "x"}).status_code == 410


def test_the_link_page_shows_a_token_only_once(web: Web) -> None:
    pid = _patient(web)
    token = _new_link(web, pid)
    assert token not in web.client.get(f"/patients/{pid}/symptom-links").text


def test_csrf_is_bound_to_the_link(web: Web) -> None:
    a, b = _new_link(web, _patient(web, "P-A", "A")), _new_link(web, _patient(web, "P-B", "B"))
    client = _patient_client(web)
    csrf_a = _FORM_CSRF.search(client.get(f"/s/{a}").text)
    assert csrf_a
    fields = form_fields(leg_numbness="yes")
    assert client.post(f"/s/{b}", data={**fields, "csrf_token": csrf_a.group(1)}).status_code == 403
    assert client.post(f"/s/{a}", data=fields).status_code == 403
    assert symptom_check_state(web).checks.open_reports(OPERATOR) == []


def test_bad_answers_keep_what_was_typed(web: Web) -> None:
    token = _new_link(web, _patient(web))
    client = _patient_client(web)
    csrf = _FORM_CSRF.search(client.get(f"/s/{token}").text)
    assert csrf
    fields = {**form_fields(cough="yes", other="my ankle is sore"), "cough-since": "2030-01-01"}
    del fields["jaundice"]
    r = client.post(f"/s/{token}", data={**fields, "csrf_token": csrf.group(1)})
    assert r.status_code == 400
    assert "not answered" in r.text and "after today" in r.text and "my ankle is sore" in r.text


def test_rate_limits_per_link_and_per_address(web: Web) -> None:
    symptom_check.configure(
        web.client.app,  # type: ignore[arg-type]
        SymptomSettings(posts_per_hour=2, hits_per_10_minutes=8),
    )
    token = _new_link(web, _patient(web))
    client = _patient_client(web)
    assert _send(client, token).status_code == 200
    assert _send(client, token).status_code == 200
    limited = _send(client, token)
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    for _ in range(3):
        client.get("/s/" + "y" * 43)
    assert client.get("/s/" + "z" * 43).status_code == 429


def test_fhir_questionnaire_is_public_and_responses_are_for_staff(web: Web) -> None:
    client = _patient_client(web)
    q = client.get("/fhir/Questionnaire/hcc-symptom-check")
    assert q.status_code == 200 and q.headers["content-type"].startswith("application/fhir+json")
    Questionnaire.model_validate(q.json())
    assert client.get("/fhir/Questionnaire/other").status_code == 404
    token = _new_link(web, _patient(web))
    _send(client, token, cough="yes")
    (report,) = symptom_check_state(web).checks.open_reports(OPERATOR) or [None]  # cough: no flag
    assert report is None
    rid = symptom_check_state(web).checks.submissions(OPERATOR, 1)[0].id
    assert client.get(f"/fhir/QuestionnaireResponse/{rid}", follow_redirects=False).status_code == 303
    got = web.client.get(f"/fhir/QuestionnaireResponse/{rid}")
    assert got.status_code == 200 and got.json()["resourceType"] == "QuestionnaireResponse"


def test_readonly_cannot_make_links(web: Web) -> None:
    pid = _patient(web)
    web.login("readonly")
    assert web.client.get(f"/patients/{pid}/symptom-links").status_code == 403


def test_an_expired_link_is_gone_like_a_revoked_one(web: Web) -> None:
    from sqlalchemy import text

    token = _new_link(web, _patient(web))
    with web.registry.engine.begin() as conn:
        conn.execute(text("UPDATE symptom_links SET expires_at = '2020-01-01 00:00:00.000000'"))
    answer = _patient_client(web).get(f"/s/{token}")
    assert answer.status_code == 410 and "This link cannot be used" in answer.text


def test_the_server_starts_and_stops_with_the_escalation_loop(web: Web) -> None:
    with TestClient(web.client.app) as client:
        assert client.get("/healthz").status_code == 200


def test_the_patient_page_links_to_the_symptom_check_for_navigators(web: Web) -> None:
    pid = _patient(web)
    web.login("navigator")
    assert f'href="/patients/{pid}/symptom-links"' in web.client.get(f"/patients/{pid}").text
    web.logout()
    web.login("readonly")
    assert "/symptom-links" not in web.client.get(f"/patients/{pid}").text
