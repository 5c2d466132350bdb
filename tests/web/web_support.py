"""Shared by the web tests: a registry with one user per role, a TestClient on the app, login."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from fastapi.testclient import TestClient

from hccwatch.app.server import Settings, create_app
from hccwatch.registry import ROLES, Actor, Registry
from hccwatch.registry.demo import load_demo

AS_OF = dt.date(2026, 11, 24)
OPERATOR = Actor("cli:test", "admin")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def password(role: str) -> str:
    return f"pw-{role}-test-0001"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def make_template(path: Path, *, demo: bool) -> Path:
    """A registry file with the users ``admin``, ``clinician``, ``navigator``, ``readonly`` (and
    the demo patients): made once per test session, copied for each test (argon2 is slow on purpose)."""
    reg = Registry.open(sqlite_url(path), today=lambda: AS_OF)
    try:
        for role in ROLES:
            reg.add_user(OPERATOR, role, role, password(role), display_name=f"Test {role.title()}")
        if demo:
            load_demo(reg, OPERATOR, AS_OF)
    finally:
        reg.close()
    return path


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


@dataclass
class Web:
    """A web app on a fresh SQLite registry; ``client`` keeps cookies like a browser."""

    client: TestClient
    registry: Registry
    settings: Settings
    csrf: dict[str, str] = field(default_factory=dict)

    def login(self, role: str, *, user: str | None = None) -> str:
        """Log in as the user of ``role`` (or ``user``); returns the session's CSRF token."""
        name = user or role
        page = self.client.get("/login")
        response = self.client.post(
            "/login",
            data={
                "username": name,
                "password": password(role),
                "csrf_token": csrf_of(page.text),
                "next": "/",
            },
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        token = csrf_of(self.client.get("/").text)
        self.csrf[name] = token
        return token

    def logout(self) -> None:
        token = csrf_of(self.client.get("/").text)
        self.client.post("/logout", data={"csrf_token": token}, follow_redirects=False)


@dataclass
class WebFactory:
    template: Path
    tmp: Path
    opened: list[Registry] = field(default_factory=list)

    def __call__(
        self, settings: Settings | None = None, *, now: Callable[[], dt.datetime] | None = None
    ) -> Web:
        """A web app on a copy of the template; ``now`` is the registry's clock (session times)."""
        db = self.tmp / f"registry-{len(self.opened)}.sqlite3"
        shutil.copy(self.template, db)
        reg = (
            Registry.open(sqlite_url(db), today=lambda: AS_OF)
            if now is None
            else Registry.open(sqlite_url(db), today=lambda: AS_OF, now=now)
        )
        self.opened.append(reg)
        s = settings or Settings(data_dir=self.tmp / "data")
        app = create_app(s, today=lambda: AS_OF, registry=reg)
        return Web(TestClient(app, base_url="http://testserver"), reg, s)

    def close(self) -> None:
        for reg in self.opened:
            reg.close()


def web_factory(template: Path, tmp: Path) -> Iterator[WebFactory]:
    factory = WebFactory(template, tmp)
    try:
        yield factory
    finally:
        factory.close()
