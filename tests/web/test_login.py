"""Login sessions: a new id at login, HttpOnly/SameSite cookies, logout, expiry, disabled
accounts, the failed-login limit, and the audit trail of logins."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi.testclient import TestClient
from web_support import OPERATOR, Web, WebFactory, csrf_of, password

from hccwatch.app.server import Settings
from hccwatch.registry.sessions import end_user_sessions
from hccwatch.web.deps import SESSION_COOKIE
from hccwatch.web.ratelimit import FailureLimiter

NOON = dt.datetime(2026, 11, 24, 12, tzinfo=dt.UTC)


def _post_login(web: Web, username: str, pw: str) -> int:
    page = web.client.get("/login")
    r = web.client.post(
        "/login",
        data={"username": username, "password": pw, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    return r.status_code


def test_login_issues_a_new_session_id_and_a_planted_one_is_worthless(web: Web) -> None:
    web.client.cookies.set(SESSION_COOKIE, "planted-by-an-attacker", domain="testserver.local")
    assert web.client.get("/", follow_redirects=False).status_code == 303
    web.login("readonly")
    first = web.client.cookies.get(SESSION_COOKIE)
    assert first and first != "planted-by-an-attacker"
    web.logout()
    web.login("readonly")
    assert web.client.cookies.get(SESSION_COOKIE) not in (None, first)


def test_session_cookie_flags(web: Web, make_web: WebFactory) -> None:
    page = web.client.get("/login")
    r = web.client.post(
        "/login",
        data={"username": "admin", "password": password("admin"), "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    cookie = next(v for v in r.headers.get_list("set-cookie") if v.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    secure_web = make_web(Settings(data_dir=web.settings.data_dir, cookie_secure=True))
    # Secure cookies travel over https only: the client talks https, as a browser behind TLS would.
    secure = TestClient(secure_web.client.app, base_url="https://testserver")
    page = secure.get("/login")
    r = secure.post(
        "/login",
        data={"username": "admin", "password": password("admin"), "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    cookie = next(v for v in r.headers.get_list("set-cookie") if v.startswith(SESSION_COOKIE))
    assert "Secure" in cookie


def test_the_database_keeps_only_a_hash_of_the_session_id(web: Web) -> None:
    web.login("admin")
    token = web.client.cookies.get(SESSION_COOKIE)
    assert token
    with web.registry.engine.connect() as conn:
        stored = [row[0] for row in conn.exec_driver_sql("SELECT token_hash FROM web_sessions")]
    assert stored and token not in stored


def test_logout_deletes_the_session(web: Web) -> None:
    web.login("clinician")
    token = web.client.cookies.get(SESSION_COOKIE)
    web.logout()
    assert web.client.get("/", follow_redirects=False).status_code == 303
    web.client.cookies.set(SESSION_COOKIE, token or "", domain="testserver.local")
    assert web.client.get("/", follow_redirects=False).status_code == 303
    with web.registry.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM web_sessions").scalar() == 0


def test_idle_and_absolute_limits(make_web: WebFactory, tmp_path: Path) -> None:
    clock = {"now": NOON}
    settings = Settings(data_dir=tmp_path, session_idle_s=600, session_absolute_s=3600)
    web = make_web(settings, now=lambda: clock["now"])
    web.login("readonly")
    clock["now"] = NOON + dt.timedelta(minutes=9)
    assert web.client.get("/", follow_redirects=False).status_code == 200
    clock["now"] = NOON + dt.timedelta(minutes=18)  # last seen at 9 minutes: still within 10
    assert web.client.get("/", follow_redirects=False).status_code == 200
    clock["now"] = NOON + dt.timedelta(minutes=29)  # 11 idle minutes
    assert web.client.get("/", follow_redirects=False).status_code == 303
    web.login("readonly")
    started = clock["now"]
    for minutes in range(5, 65, 5):
        clock["now"] = started + dt.timedelta(minutes=minutes)
        status = web.client.get("/", follow_redirects=False).status_code
        assert status == (200 if minutes < 60 else 303), minutes


def test_a_disabled_user_loses_their_session(web: Web) -> None:
    admin = web.client
    web.login("admin")
    other = make_second_client(web)
    other.login("navigator")
    assert other.client.get("/", follow_redirects=False).status_code == 200
    r = admin.post(
        "/admin/users/navigator/disable", data={"csrf_token": web.csrf["admin"]}, follow_redirects=False
    )
    assert r.status_code == 303
    assert other.client.get("/", follow_redirects=False).status_code == 303
    assert _post_login(other, "navigator", password("navigator")) == 401


def make_second_client(web: Web) -> Web:
    return Web(TestClient(web.client.app, base_url="http://testserver"), web.registry, web.settings)


def test_even_without_the_admin_page_a_disabled_account_has_no_session(web: Web) -> None:
    web.login("navigator")
    web.registry.disable_user(OPERATOR, "navigator")
    assert web.client.get("/", follow_redirects=False).status_code == 303
    # The stale row was removed when it was found disabled.
    navigator = next(u for u in web.registry.list_users(OPERATOR) if u.username == "navigator")
    assert end_user_sessions(web.registry, navigator.id) == 0


def test_failed_logins_are_limited_per_username(make_web: WebFactory, tmp_path: Path) -> None:
    web = make_web(Settings(data_dir=tmp_path, login_max_failures=3))
    for _ in range(3):
        assert _post_login(web, "clinician", "wrong-password-1") == 401
    # Locked: even the right password waits, with a message saying so.
    page = web.client.get("/login")
    r = web.client.post(
        "/login",
        data={"username": "clinician", "password": password("clinician"), "csrf_token": csrf_of(page.text)},
    )
    assert r.status_code == 429
    assert "Too many failed logins" in r.text
    assert "Try again in 5 minutes" in r.text


def test_failed_logins_are_limited_per_address() -> None:
    t = {"now": 0.0}
    limiter = FailureLimiter(3, 300, clock=lambda: t["now"])
    for name in ("a", "b", "c"):
        assert limiter.wait_s(f"user:{name}", "addr:10.0.0.1") == 0
        limiter.failed(f"user:{name}", "addr:10.0.0.1")
    assert limiter.wait_s("user:d", "addr:10.0.0.1") == 300
    assert limiter.wait_s("user:d", "addr:10.0.0.2") == 0
    t["now"] = 299.0
    assert limiter.wait_s("user:d", "addr:10.0.0.1") == 1.0
    t["now"] = 300.0
    assert limiter.wait_s("user:d", "addr:10.0.0.1") == 0


def test_login_and_logout_are_audited(web: Web) -> None:
    _post_login(web, "admin", "wrong-password-1")
    web.login("admin")
    web.logout()
    actions = [e.action for e in web.registry.audit_events(OPERATOR, limit=10)]
    assert actions[:3] == ["user.logout", "user.login", "user.login_failed"]


def test_next_never_leaves_the_site(web: Web) -> None:
    page = web.client.get("/login?next=//evil.example/")
    assert 'name="next" value="/"' in page.text
    r = web.client.post(
        "/login",
        data={"username": "admin", "password": password("admin"), "csrf_token": csrf_of(page.text),
              "next": "https://evil.example/"},
        follow_redirects=False,
    )  # fmt: skip
    assert r.headers["location"] == "/"
