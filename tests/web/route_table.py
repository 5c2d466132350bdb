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
}

# Path parameter -> a value that exists (a demo patient id is filled in by the test).
SAMPLE: dict[str, str] = {
    "username": "readonly",
}
