"""Every web route and the permission it needs (None: open to anyone). The authorization test
is generated from the app's route list: a route missing here fails it, so add a line with yours.

``SAMPLE`` fills path parameters with values that exist in the demo registry.
"""

from __future__ import annotations

from hccwatch.registry import Action

ROUTES: dict[tuple[str, str], Action | None] = {
    ("GET", "/login"): None,
    ("POST", "/login"): None,
    ("POST", "/logout"): None,
    ("GET", "/"): Action.VIEW,
    ("POST", "/worklist/outreach/{patient_id}"): Action.OUTREACH,
    ("GET", "/admin/users"): Action.MANAGE_USERS,
    ("POST", "/admin/users"): Action.MANAGE_USERS,
    ("POST", "/admin/users/{username}/disable"): Action.MANAGE_USERS,
    ("POST", "/admin/users/{username}/password"): Action.MANAGE_USERS,
    ("GET", "/patients/report.css"): None,  # the report's stylesheet: no patient data
    ("GET", "/patients/{patient_id:int}"): Action.VIEW,
    ("GET", "/patients/{patient_id:int}/print"): Action.VIEW,
    ("GET", "/patients/{patient_id:int}/letter"): Action.VIEW,
    ("GET", "/patients/new"): Action.EDIT_RECORD,
    ("POST", "/patients/new"): Action.EDIT_RECORD,
    ("GET", "/patients/{patient_id:int}/add/{kind}"): Action.EDIT_RECORD,
    ("POST", "/patients/{patient_id:int}/add/{kind}"): Action.EDIT_RECORD,
    ("GET", "/patients/{patient_id:int}/edit/{kind}"): Action.EDIT_RECORD,
    ("POST", "/patients/{patient_id:int}/edit/{kind}"): Action.EDIT_RECORD,
    ("GET", "/patients/{patient_id:int}/edit/{kind}/{index:int}"): Action.EDIT_RECORD,
    ("POST", "/patients/{patient_id:int}/edit/{kind}/{index:int}"): Action.EDIT_RECORD,
    ("GET", "/patients/{patient_id:int}/edit/contact"): Action.EDIT_RECORD,
    ("POST", "/patients/{patient_id:int}/edit/contact"): Action.EDIT_RECORD,
    ("GET", "/patients/{patient_id:int}/delete/{kind}/{index:int}"): Action.EDIT_RECORD,
    ("POST", "/patients/{patient_id:int}/delete/{kind}/{index:int}"): Action.EDIT_RECORD,
    ("GET", "/quick"): Action.VIEW,
    ("POST", "/quick"): Action.VIEW,
    ("GET", "/quick/report.css"): Action.VIEW,
    ("GET", "/import"): Action.IMPORT,
    ("POST", "/import"): Action.IMPORT,
    # The symptom check's staff side (its patient pages, keyed by the link, are tested in
    # test_symptom_check_pages.py).
    ("GET", "/patients/{patient_id}/symptom-links"): Action.OUTREACH,
    ("POST", "/patients/{patient_id}/symptom-links"): Action.OUTREACH,
    ("POST", "/patients/{patient_id}/symptom-links/{link_id}/revoke"): Action.OUTREACH,
    ("POST", "/symptom-reports/{report_id}/acknowledge"): Action.OUTREACH,
    ("GET", "/fhir/QuestionnaireResponse/{report_id}"): Action.VIEW,
}

# Path parameter -> a value that exists (a demo patient id is filled in by the test).
SAMPLE: dict[str, str] = {
    "username": "readonly",
    "kind": "afp",
    "index": "0",
    "link_id": "1",
    "report_id": "1",
}
