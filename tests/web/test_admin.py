"""The users page: add (with field messages that keep what was typed), disable, set a password."""

from __future__ import annotations

import pytest
from web_support import OPERATOR, Web, csrf_of

from hccwatch.registry import ROLES


def _add(web: Web, token: str, **fields: str) -> tuple[int, str]:
    data = {"username": "", "display_name": "", "role": "", "password": "", "password_again": ""}
    r = web.client.post("/admin/users", data={**data, **fields, "csrf_token": token}, follow_redirects=True)
    return r.status_code, r.text


def test_add_a_user_who_can_then_log_in(web: Web) -> None:
    token = web.login("admin")
    status, html = _add(
        web, token, username="nurse2", display_name="Nurse Two", role="navigator",
        password="long-enough-pw", password_again="long-enough-pw",
    )  # fmt: skip
    assert status == 200
    assert "User nurse2 added." in html
    assert "Nurse Two" in html
    assert any(u.username == "nurse2" and u.role == "navigator" for u in web.registry.list_users(OPERATOR))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"username": "x1", "role": "navigator", "password": "long-enough-pw",
          "password_again": "other-pw-123"}, "The two passwords differ."),
        ({"username": "x2", "role": "navigator", "password": "short", "password_again": "short"},
         "at least 10 characters"),
        ({"username": "x3", "role": "", "password": "long-enough-pw", "password_again": "long-enough-pw"},
         "Choose a role."),
        ({"username": "admin", "role": "admin", "password": "long-enough-pw",
          "password_again": "long-enough-pw"}, "already exists"),
        ({"username": "", "role": "admin", "password": "long-enough-pw", "password_again": "long-enough-pw"},
         "Enter a username."),
    ],
)  # fmt: skip
def test_bad_input_is_explained_and_keeps_what_was_typed(
    web: Web, fields: dict[str, str], message: str
) -> None:
    token = web.login("admin")
    before = len(web.registry.list_users(OPERATOR))
    status, html = _add(web, token, display_name="Kept Name", **fields)
    assert status == 400
    assert message in html
    assert 'value="Kept Name"' in html
    assert "long-enough-pw" not in html  # a password is never sent back
    assert len(web.registry.list_users(OPERATOR)) == before


def test_disable_and_set_password(web: Web) -> None:
    token = web.login("admin")
    html = web.client.get("/admin/users").text
    assert "Disable admin" not in html  # no button to lock oneself out
    r = web.client.post("/admin/users/readonly/disable", data={"csrf_token": token})
    assert "User readonly disabled" in r.text
    assert not next(u for u in web.registry.list_users(OPERATOR) if u.username == "readonly").active
    r = web.client.post(
        "/admin/users/clinician/password",
        data={"csrf_token": token, "password": "brand-new-pw-1", "password_again": "brand-new-pw-1"},
    )
    assert "Password of clinician set" in r.text
    assert web.registry.authenticate("clinician", "brand-new-pw-1").username == "clinician"
    r = web.client.post(
        "/admin/users/clinician/password", data={"csrf_token": token, "password": "a", "password_again": "b"}
    )
    assert r.status_code == 400
    assert "The two passwords differ." in r.text
    r = web.client.post("/admin/users/nobody/disable", data={"csrf_token": token})
    assert r.status_code == 404


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_only_admins_reach_the_page(web: Web, role: str) -> None:
    web.login(role)
    assert web.client.get("/admin/users").status_code == 403
    page = web.client.get("/")
    assert 'href="/admin/users"' not in page.text
    r = web.client.post("/admin/users/readonly/disable", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 403
