"""Data entry through the routes: every kind added and edited, field messages that keep the values,
roles, CSRF, version conflicts, audit rows, and random posts that never give a 500."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web_support import OPERATOR, Web

from hccwatch.record.units import accepted_units
from hccwatch.registry import Actor
from hccwatch.web import forms

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "article-man-after-resection.json"
CLINICIAN = Actor("clinician", "clinician")

# One valid form per kind (list kinds are added; group kinds are edited).
VALID: dict[str, dict[str, Any]] = {
    "details": {
        "sex": "male",
        "birth_date": "1958-03-02",
        "liver.cirrhosis": "yes",
        "liver.etiology": ["hbv"],
    },
    "performance": {"ecog": "1", "ecog_cancer_related": "no"},
    "liver": {"liver.ascites": "mild", "liver.encephalopathy": "none", "liver.varices": "small"},
    "pathology": {"histologic_grade": "moderate", "microvascular_invasion": "yes", "dcp_mau_ml": "30"},
    "explant": {"explant.largest_viable_cm": "2.5", "explant.viable_count": "1"},
    "imaging": {
        "date": "2026-10-02",
        "modality": "ct",
        "region": "chest",
        "result": "new_lesion",
        "lesions[0].site": "lung",
        "lesions[0].size_cm": "0.9",
        "lesions[0].new": "yes",
        "lesions[1].size_cm": "",
    },
    "treatment": {"type": "tace", "date": "2026-09-01", "curative": "no"},
    "symptom": {"code": "cough", "onset": "2026-10-01", "progressive": "yes"},
    "tumor": {"size_cm": "2.1", "segment": "7", "viable": "yes"},
    "metastatic_site": {"site": "lung", "count": "2", "date": "2026-10-02"},
}
LAB_VALUES = {
    "afp": "25",
    "bilirubin": "1.1",
    "albumin": "3.9",
    "inr": "1.1",
    "creatinine": "0.9",
    "sodium": "139",
    "platelets": "160",
    "dcp": "40",
    "afp_l3": "8",
}


def _patient(web: Web) -> int:
    record = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return web.registry.add_patient(OPERATOR, record, name="Test Patient").id


def _post(web: Web, url: str, data: dict[str, Any], token: str, version: int | None = None) -> Any:
    body: dict[str, Any] = {**data, "csrf_token": token}
    if version is not None:
        body["version"] = str(version)
    return web.client.post(url, data=body, follow_redirects=False)


def _version(web: Web, pid: int) -> int:
    return web.registry.get_patient(OPERATOR, pid).version


def _audit_count(web: Web, pid: int, action: str) -> int:
    return sum(1 for e in web.registry.audit_events(OPERATOR, patient_id=pid) if e.action == action)


def test_a_new_patient_is_added_and_audited(web: Web) -> None:
    token = web.login("clinician")
    assert 'name="id"' in web.client.get("/patients/new").text
    form = {"id": "web-new-1", "sex": "female", "birth_date": "1960-05-01", "phone": "+41 44 000 00 00"}
    response = _post(web, "/patients/new", form, token)
    assert response.status_code == 303
    patient = web.registry.find_patient(OPERATOR, "web-new-1")
    assert response.headers["location"] == f"/patients/{patient.id}?done=added"
    assert patient.phone == "+41 44 000 00 00" and patient.record["sex"] == "female"
    assert patient.assessment is not None
    assert _audit_count(web, patient.id, "patient.add") == 1


def test_a_taken_record_id_is_a_field_message(web: Web) -> None:
    token = web.login("clinician")
    _patient(web)
    record_id = json.loads(EXAMPLE.read_text(encoding="utf-8"))["id"]
    response = _post(web, "/patients/new", {"id": record_id, "sex": "male"}, token)
    assert response.status_code == 422
    assert "already in the registry" in response.text
    assert f'value="{record_id}"' in response.text


@pytest.mark.parametrize("test", list(LAB_VALUES))
def test_each_lab_is_added_then_edited(web: Web, test: str) -> None:
    token = web.login("clinician")
    pid = _patient(web)
    page = web.client.get(f"/patients/{pid}/add/{test}")
    assert page.status_code == 200
    for unit in accepted_units(test):
        assert f'value="{html.escape(unit)}"' in page.text
    unit = accepted_units(test)[0]
    before = len(web.registry.get_patient(OPERATOR, pid).record["labs"])
    form = {"value": LAB_VALUES[test], "unit": unit, "date": "2026-10-01"}
    response = _post(web, f"/patients/{pid}/add/{test}", form, token, _version(web, pid))
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/patients/{pid}?done=saved&kind={test}"
    labs = web.registry.get_patient(OPERATOR, pid).record["labs"]
    assert len(labs) == before + 1 and labs[-1]["test"] == test
    index = len(labs) - 1
    edit = web.client.get(f"/patients/{pid}/edit/{test}/{index}")
    assert 'value="2026-10-01"' in edit.text
    form["date"] = "2026-10-02"
    response = _post(web, f"/patients/{pid}/edit/{test}/{index}", form, token, _version(web, pid))
    assert response.status_code == 303, response.text
    assert web.registry.get_patient(OPERATOR, pid).record["labs"][index]["date"] == "2026-10-02"
    assert _audit_count(web, pid, "patient.update_record") == 2


@pytest.mark.parametrize("kind", ["imaging", "treatment", "symptom", "tumor", "metastatic_site"])
def test_each_list_entry_is_added_then_edited(web: Web, kind: str) -> None:
    token = web.login("clinician")
    pid = _patient(web)
    k = forms.kind(kind)
    assert k is not None and k.collection is not None
    assert web.client.get(f"/patients/{pid}/add/{kind}").status_code == 200
    response = _post(web, f"/patients/{pid}/add/{kind}", VALID[kind], token, _version(web, pid))
    assert response.status_code == 303, response.text
    items = web.registry.get_patient(OPERATOR, pid).record[k.collection]
    index = len(items) - 1
    edit = web.client.get(f"/patients/{pid}/edit/{kind}/{index}")
    assert edit.status_code == 200
    values, _ = forms.entry_values(k, web.registry.get_patient(OPERATOR, pid).record, index)
    first = k.fields[0]
    changed = {**VALID[kind], first.name: VALID[kind][first.name]}
    if kind == "tumor":
        changed["size_cm"] = "2.4"
    response = _post(web, f"/patients/{pid}/edit/{kind}/{index}", changed, token, _version(web, pid))
    assert response.status_code == 303, response.text
    assert len(web.registry.get_patient(OPERATOR, pid).record[k.collection]) == index + 1
    assert values  # the edit form showed the stored entry


def test_an_imaging_study_keeps_its_lesions(web: Web) -> None:
    token = web.login("clinician")
    pid = _patient(web)
    _post(web, f"/patients/{pid}/add/imaging", VALID["imaging"], token, _version(web, pid))
    study = web.registry.get_patient(OPERATOR, pid).record["imaging"][-1]
    assert study["lesions"] == [{"site": "lung", "size_cm": 0.9, "new": True}]


@pytest.mark.parametrize("kind", ["details", "performance", "liver", "pathology", "explant"])
def test_each_group_of_fields_is_edited(web: Web, kind: str) -> None:
    token = web.login("clinician")
    pid = _patient(web)
    assert web.client.get(f"/patients/{pid}/edit/{kind}").status_code == 200
    response = _post(web, f"/patients/{pid}/edit/{kind}", VALID[kind], token, _version(web, pid))
    assert response.status_code == 303, response.text
    record = web.registry.get_patient(OPERATOR, pid).record
    if kind == "liver":
        assert record["liver"]["ascites"] == "mild"
    if kind == "performance":
        assert record["ecog"] == 1


def test_the_record_id_cannot_be_changed_by_an_edit(web: Web) -> None:
    token = web.login("clinician")
    pid = _patient(web)
    record_id = web.registry.get_patient(OPERATOR, pid).record_id
    form = {**VALID["details"], "id": "someone-else"}
    assert _post(web, f"/patients/{pid}/edit/details", form, token, _version(web, pid)).status_code == 303
    assert web.registry.get_patient(OPERATOR, pid).record_id == record_id


def test_contact_details_are_saved(web: Web) -> None:
    token = web.login("clinician")
    pid = _patient(web)
    assert web.client.get(f"/patients/{pid}/edit/contact").status_code == 200
    form = {"name": "Wang Li", "phone": "+86 10 0000 0000", "family_doctor": "Dr. Chen"}
    response = _post(web, f"/patients/{pid}/edit/contact", form, token, _version(web, pid))
    assert response.status_code == 303
    assert web.registry.get_patient(OPERATOR, pid).family_doctor == "Dr. Chen"
    assert _audit_count(web, pid, "patient.set_contact") == 1


def test_a_bad_unit_gives_a_field_message_and_keeps_the_values(web: Web) -> None:
    token = web.login("clinician")
    pid = _patient(web)
    version = _version(web, pid)
    form = {"value": "12.5", "unit": "mg/L", "date": "2026-10-01"}
    response = _post(web, f"/patients/{pid}/add/afp", form, token, version)
    assert response.status_code == 422
    assert "Nothing was saved" in response.text
    assert "is not accepted for afp" in response.text
    assert 'id="f-unit-error"' in response.text
    assert 'value="12.5"' in response.text and 'value="2026-10-01"' in response.text
    assert "mg/L (not one of the choices)" in response.text
    assert _version(web, pid) == version


def test_a_bad_date_gives_a_field_message_and_keeps_the_values(web: Web) -> None:
    token = web.login("clinician")
    pid = _patient(web)
    form = {"type": "ablation", "date": "2026-02-30", "agent": "none"}
    response = _post(web, f"/patients/{pid}/add/treatment", form, token, _version(web, pid))
    assert response.status_code == 422
    assert "is not a calendar date" in response.text and 'id="f-date-error"' in response.text
    assert 'value="2026-02-30"' in response.text and 'value="none"' in response.text


def test_an_entry_is_deleted_after_confirmation(web: Web) -> None:
    token = web.login("clinician")
    pid = _patient(web)
    before = len(web.registry.get_patient(OPERATOR, pid).record.get("treatments", []))
    confirm = web.client.get(f"/patients/{pid}/delete/treatment/0")
    assert confirm.status_code == 200 and "Delete" in confirm.text
    assert len(web.registry.get_patient(OPERATOR, pid).record.get("treatments", [])) == before
    response = _post(web, f"/patients/{pid}/delete/treatment/0", {}, token, _version(web, pid))
    assert response.status_code == 303
    assert len(web.registry.get_patient(OPERATOR, pid).record.get("treatments", [])) == before - 1
    assert _audit_count(web, pid, "patient.update_record") == 1


def test_a_concurrent_edit_is_shown_not_overwritten(web: Web) -> None:
    token = web.login("clinician")
    pid = _patient(web)
    opened = _version(web, pid)
    index = next(
        i
        for i, lab in enumerate(web.registry.get_patient(OPERATOR, pid).record["labs"])
        if lab["test"] == "afp"
    )
    # Someone else saves first.
    record = web.registry.get_patient(OPERATOR, pid).record
    record["labs"][index]["value"] = 99
    web.registry.update_record(CLINICIAN, pid, record, expected_version=opened)
    form = {"value": "7", "unit": "ng/mL", "date": record["labs"][index]["date"]}
    response = _post(web, f"/patients/{pid}/edit/afp/{index}", form, token, opened)
    assert response.status_code == 409
    assert "Changed by clinician" in response.text and "since you opened it" in response.text
    assert ">99<" in response.text and ">7<" in response.text  # both versions
    assert web.registry.get_patient(OPERATOR, pid).record["labs"][index]["value"] == 99
    # The page offers the current version; sending it again saves on purpose.
    response = _post(web, f"/patients/{pid}/edit/afp/{index}", form, token, _version(web, pid))
    assert response.status_code == 303


def test_a_concurrent_delete_is_shown_not_applied(web: Web) -> None:
    token = web.login("clinician")
    pid = _patient(web)
    opened = _version(web, pid)
    web.registry.set_contact(
        CLINICIAN, pid, expected_version=opened, name="X", phone=None, family_doctor=None
    )
    before = web.registry.get_patient(OPERATOR, pid).record.get("treatments", [])
    response = _post(web, f"/patients/{pid}/delete/treatment/0", {}, token, opened)
    assert response.status_code == 409 and "Changed by clinician" in response.text
    assert web.registry.get_patient(OPERATOR, pid).record.get("treatments", []) == before


WRITES = [
    ("/patients/new", {"id": "x-1"}),
    ("/patients/{pid}/add/afp", {"value": "5", "unit": "ng/mL", "date": "2026-10-01"}),
    ("/patients/{pid}/edit/afp/{afp}", {"value": "5", "unit": "ng/mL", "date": "2026-10-01"}),
    ("/patients/{pid}/edit/performance", {"ecog": "0"}),
    ("/patients/{pid}/edit/contact", {"name": "Y"}),
    ("/patients/{pid}/delete/treatment/0", {}),
]


@pytest.mark.parametrize("role", ["readonly", "navigator"])
def test_readers_and_navigators_may_not_write(web: Web, role: str) -> None:
    pid = _patient(web)
    afp = next(
        i
        for i, lab in enumerate(web.registry.get_patient(OPERATOR, pid).record["labs"])
        if lab["test"] == "afp"
    )
    token = web.login(role)
    version = _version(web, pid)
    for url, data in WRITES:
        target = url.format(pid=pid, afp=afp)
        assert web.client.get(target).status_code == 403, target
        assert _post(web, target, data, token, version).status_code == 403, target
    assert _version(web, pid) == version


def test_a_form_without_its_csrf_token_is_refused(web: Web) -> None:
    web.login("clinician")
    pid = _patient(web)
    version = _version(web, pid)
    for url, data in WRITES:
        target = url.format(pid=pid, afp=0)
        response = web.client.post(target, data={**data, "version": str(version)}, follow_redirects=False)
        assert response.status_code == 403, target
        response = _post(web, target, data, "not-the-token", version)
        assert response.status_code == 403, target
    assert _version(web, pid) == version


def test_an_unknown_kind_or_entry_is_not_found(web: Web) -> None:
    web.login("clinician")
    pid = _patient(web)
    assert web.client.get(f"/patients/{pid}/add/horoscope").status_code == 404
    assert web.client.get(f"/patients/{pid}/edit/afp/999").status_code == 404
    assert web.client.get("/patients/999999/add/afp").status_code == 404


def test_every_write_leaves_an_audit_row(web: Web) -> None:
    token = web.login("clinician")
    pid = _patient(web)
    rows = len([e for e in web.registry.audit_events(OPERATOR, patient_id=pid) if e.action != "patient.view"])
    _post(web, f"/patients/{pid}/add/symptom", VALID["symptom"], token, _version(web, pid))
    _post(web, f"/patients/{pid}/edit/performance", VALID["performance"], token, _version(web, pid))
    _post(web, f"/patients/{pid}/edit/contact", {"name": "Z"}, token, _version(web, pid))
    _post(web, f"/patients/{pid}/delete/symptom/0", {}, token, _version(web, pid))
    after = [e for e in web.registry.audit_events(OPERATOR, patient_id=pid) if e.action != "patient.view"]
    assert len(after) == rows + 4
    assert all(e.actor == "clinician" for e in after[:4])


def test_opening_a_form_is_a_logged_view(web: Web) -> None:
    web.login("clinician")
    pid = _patient(web)
    web.client.get(f"/patients/{pid}/add/afp")
    assert _audit_count(web, pid, "patient.view") == 1


_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["", "0", "-3", "1e999", "2026-01-01", "2026-13-40", "yes", "no", "ng/mL", "liver", "¹", "٣"]
    ),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(forms.KINDS), data=st.data())
def test_random_form_posts_never_give_a_500(web: Web, kind: str, data: st.DataObject) -> None:
    token = web.csrf.get("clinician") or web.login("clinician")
    try:
        pid = web.registry.find_patient(OPERATOR, "fuzz").id
    except Exception:
        pid = web.registry.add_patient(OPERATOR, {"id": "fuzz", "labs": [], "treatments": []}).id
    k = forms.kind(kind)
    assert k is not None
    names = [f.name for f in forms.entry_specs(k, 2)] + ["version", "lesions[7].count"]
    form = data.draw(st.dictionaries(st.sampled_from(names), _TEXT))
    url = f"/patients/{pid}/edit/{kind}" if not k.is_list else f"/patients/{pid}/add/{kind}"
    response = web.client.post(url, data={**form, "csrf_token": token}, follow_redirects=False)
    assert response.status_code in (303, 409, 422), response.text[:500]


def test_the_patient_page_links_the_forms_and_says_what_was_saved(web: Web) -> None:
    token = web.login("clinician")
    pid = _patient(web)
    form = {"value": "30", "unit": "ng/mL", "date": "2026-10-01"}
    response = _post(web, f"/patients/{pid}/add/afp", form, token, _version(web, pid))
    page = web.client.get(response.headers["location"])
    assert page.status_code == 200
    assert "AFP saved; the assessment was recomputed." in page.text
    labs = web.registry.get_patient(OPERATOR, pid).record["labs"]
    assert f'href="/patients/{pid}/edit/afp/{len(labs) - 1}"' in page.text
    assert f'href="/patients/{pid}/add/treatment"' in page.text


def test_readers_see_no_entry_links(web: Web) -> None:
    pid = _patient(web)
    web.login("readonly")
    page = web.client.get(f"/patients/{pid}?done=<script>")
    assert page.status_code == 200
    assert f"/patients/{pid}/add/" not in page.text and "<script>" not in page.text
