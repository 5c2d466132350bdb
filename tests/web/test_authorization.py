"""Authorization, generated from the app's own route list: every web route for every role (and
anonymous), CSRF on every POST route, and an audit row for every write of the routes here."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from route_table import ROUTES, SAMPLE
from web_support import OPERATOR, Web

from hccwatch.registry import PERMISSIONS, ROLES
from hccwatch.web.routes import ROUTERS

_WEB_ROUTES = sorted(
    {(method, route.path) for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)
     for method in route.methods}
)  # fmt: skip


def test_every_web_route_is_in_the_table() -> None:
    missing = [r for r in _WEB_ROUTES if r not in ROUTES]
    assert not missing, f"add these routes to tests/web/route_table.py: {missing}"
    stale = [r for r in ROUTES if r not in _WEB_ROUTES]
    assert not stale, f"routes in the table that the app no longer has: {stale}"


def _url(path: str, patient_id: int) -> str:
    values = {**SAMPLE, "patient_id": str(patient_id), "id": str(patient_id)}
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values[m.group(1)], path)


def _patient(web: Web) -> int:
    return web.registry.worklist(OPERATOR)[0].patient_id


@pytest.mark.parametrize(("method", "path"), _WEB_ROUTES)
def test_anonymous(web_demo: Web, method: str, path: str) -> None:
    url = _url(path, _patient(web_demo))
    page = web_demo.client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    data = {"csrf_token": token.group(1)} if method == "POST" else None
    r = web_demo.client.request(method, url, data=data, follow_redirects=False)
    if ROUTES[(method, path)] is None:
        assert r.status_code < 500
        return
    assert r.status_code == 303, (method, path, r.status_code)
    assert r.headers["location"].startswith("/login")


@pytest.mark.parametrize("role", ROLES)
def test_each_role_on_each_route(web_demo: Web, role: str) -> None:
    token = web_demo.login(role)
    pid = _patient(web_demo)
    for method, path in _WEB_ROUTES:
        if path in ("/logout", "/login"):
            continue  # logging out would end the session the loop uses; /login is anonymous
        needed = ROUTES[(method, path)]
        data = {"csrf_token": token} if method == "POST" else None
        r = web_demo.client.request(method, _url(path, pid), data=data, follow_redirects=False)
        allowed = needed is None or needed in PERMISSIONS[role]
        if allowed:
            assert r.status_code != 403 and r.status_code < 500, (role, method, path, r.status_code)
            assert not r.headers.get("location", "").startswith("/login"), (role, method, path)
        else:
            assert r.status_code == 403, (role, method, path, r.status_code)


@pytest.mark.parametrize(("method", "path"), [r for r in _WEB_ROUTES if r[0] == "POST"])
def test_every_post_route_refuses_a_missing_or_wrong_csrf_token(
    web_demo: Web, method: str, path: str
) -> None:
    web_demo.login("admin")
    url = _url(path, _patient(web_demo))
    before = len(web_demo.registry.audit_events(OPERATOR, limit=100000))
    for data in ({}, {"csrf_token": "forged"}):
        r = web_demo.client.post(url, data=data, follow_redirects=False)
        assert r.status_code == 403, (path, data, r.status_code)
        assert "security token" in r.text
    # Nothing was written (a refused request leaves no audit row, not even a login).
    assert len(web_demo.registry.audit_events(OPERATOR, limit=100000)) == before


# A valid submission of each write route here, and the audit action it must leave.
_WRITES: dict[tuple[str, str], tuple[dict[str, str], str]] = {
    ("POST", "/worklist/outreach/{patient_id}"): (
        {"outcome": "reached", "version": "{version}"},
        "outreach.log",
    ),
    ("POST", "/admin/users"): (
        {"username": "newbie", "role": "navigator", "password": "a-long-password-1",
         "password_again": "a-long-password-1"},
        "user.add",
    ),
    ("POST", "/admin/users/{username}/disable"): ({}, "user.disable"),
    ("POST", "/admin/users/{username}/password"): (
        {"password": "another-long-pw-2", "password_again": "another-long-pw-2"},
        "user.set_password",
    ),
    ("POST", "/logout"): ({}, "user.logout"),
    ("POST", "/patients/new"): ({"id": "audit-new-patient"}, "patient.add"),
    ("POST", "/patients/{patient_id:int}/add/{kind}"): (
        {"value": "5", "unit": "ng/mL", "date": "2026-10-01", "version": "{version}"},
        "patient.update_record",
    ),
    ("POST", "/patients/{patient_id:int}/edit/contact"): (
        {"name": "Audit Name", "version": "{version}"},
        "patient.set_contact",
    ),
}  # fmt: skip


@pytest.mark.parametrize(("method", "path"), sorted(_WRITES))
def test_every_write_route_leaves_an_audit_row(web_demo: Web, method: str, path: str) -> None:
    token = web_demo.login("admin")
    row = web_demo.registry.worklist(OPERATOR)[0]
    form, action = _WRITES[(method, path)]
    data = {k: v.replace("{version}", str(row.version)) for k, v in form.items()} | {"csrf_token": token}
    before = web_demo.registry.audit_events(OPERATOR, limit=1)[0].id
    r = web_demo.client.post(_url(path, row.patient_id), data=data, follow_redirects=False)
    assert r.status_code == 303, (path, r.status_code, r.text[:500])
    new = [e for e in web_demo.registry.audit_events(OPERATOR, limit=20) if e.id > before]
    assert action in [e.action for e in new]
    assert all(e.actor == "admin" for e in new if e.action == action)


def test_login_is_audited_as_a_write() -> None:
    # POST /login's audit rows are checked in test_login.py (success and failure).
    assert ("POST", "/login") in ROUTES
