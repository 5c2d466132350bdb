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
    "link_id": "1",
    "report_id": "1",
}
