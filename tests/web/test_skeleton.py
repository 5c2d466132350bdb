"""The skeleton: login, the worklist behind it, logout, CSRF, roles, headers, error pages."""

from __future__ import annotations

from web_support import Web, csrf_of, password


def test_anonymous_is_sent_to_login_and_back(web: Web) -> None:
    r = web.client.get("/?group=alerts", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/%3Fgroup%3Dalerts"
    page = web.client.get(r.headers["location"])
    assert page.status_code == 200
    assert "Log in" in page.text
    assert "decision support, not a diagnosis" in page.text
    r = web.client.post(
        "/login",
        data={"username": "navigator", "password": password("navigator"), "csrf_token": csrf_of(page.text),
              "next": "/?group=alerts"},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303
    assert r.headers["location"] == "/?group=alerts"


def test_login_worklist_logout(web: Web) -> None:
    web.login("clinician")
    page = web.client.get("/")
    assert page.status_code == 200
    assert "Worklist" in page.text
    assert page.text.count("decision support, not a diagnosis") == 1
    assert 'href="/admin/users"' not in page.text
    web.logout()
    assert web.client.get("/", follow_redirects=False).status_code == 303


def test_wrong_password_is_refused_plainly(web: Web) -> None:
    page = web.client.get("/login")
    r = web.client.post(
        "/login", data={"username": "admin", "password": "nope-nope-nope", "csrf_token": csrf_of(page.text)}
    )
    assert r.status_code == 401
    assert "Wrong username or password" in r.text


def test_a_form_without_its_token_is_refused(web: Web) -> None:
    web.client.get("/login")
    r = web.client.post(
        "/login", data={"username": "admin", "password": password("admin"), "csrf_token": "x"}
    )
    assert r.status_code == 403
    assert "Nothing was saved" in r.text


def test_admin_page_for_admins_only(web: Web) -> None:
    web.login("navigator")
    r = web.client.get("/admin/users")
    assert r.status_code == 403
    assert "may not manage users" in r.text
    web.logout()
    web.login("admin")
    r = web.client.get("/admin/users")
    assert r.status_code == 200
    assert "navigator" in r.text


def test_pages_carry_security_headers(web: Web) -> None:
    web.login("readonly")
    r = web.client.get("/")
    assert r.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store"
    css = web.client.get("/static/style.css")
    assert css.status_code == 200
    assert "no-store" not in css.headers.get("cache-control", "")


def test_unknown_page_is_an_html_404_and_the_api_keeps_json(web: Web) -> None:
    web.login("readonly")
    r = web.client.get("/no/such/page")
    assert r.status_code == 404
    assert "text/html" in r.headers["content-type"]
    assert web.client.get("/healthz").json()["status"] == "ok"
    assert web.client.get("/api/v1/nothing").headers["content-type"].startswith("application/problem+json")


def test_demo_fixture_lists_patients(web_demo: Web) -> None:
    web_demo.login("readonly")
    assert web_demo.client.get("/").status_code == 200


def test_csrf_field_works_imported_or_global() -> None:
    from hccwatch.web.render import _CSRF, environment

    token = _CSRF.set("tok-123")
    try:
        env = environment()
        imported = env.from_string('{% from "_macros.html" import csrf_field %}{{ csrf_field() }}').render()
        global_ = env.from_string("{{ csrf_field() }}").render()
    finally:
        _CSRF.reset(token)
    assert imported == global_ == '<input type="hidden" name="csrf_token" value="tok-123">'


def test_a_bug_shows_a_plain_page_not_a_traceback(web: Web) -> None:
    from fastapi.testclient import TestClient

    from hccwatch.web import worklist

    def broken(_request: object, _user: object) -> list[worklist.TopItem]:
        raise RuntimeError("secret record detail")

    web.login("readonly")
    worklist.add_top_provider(broken)
    try:
        client = TestClient(web.client.app, raise_server_exceptions=False, cookies=web.client.cookies)
        r = client.get("/")
    finally:
        worklist._TOP_PROVIDERS.remove(broken)
    assert r.status_code == 500
    assert "text/html" in r.headers["content-type"]
    assert "Something went wrong inside hccwatch" in r.text
    assert "secret record detail" not in r.text
    assert "Traceback" not in r.text
