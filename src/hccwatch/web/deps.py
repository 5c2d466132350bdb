"""FastAPI dependencies of the web pages: who is logged in, what they may do, the registry, the
CSRF check of every form, and the app's clock."""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Request
from starlette.datastructures import FormData

from hccwatch.registry import Action, Actor, Registry, Role
from hccwatch.registry.roles import PERMISSIONS
from hccwatch.registry.sessions import find_session

__all__ = [
    "BadInput",
    "SESSION_COOKIE",
    "Forbidden",
    "LoginRequired",
    "WebUser",
    "csrf_form",
    "login_csrf",
    "login_url",
    "current_user",
    "registry",
    "require",
    "today",
]

SESSION_COOKIE = "hccwatch_session"
LOGIN_CSRF_COOKIE = "hccwatch_login_csrf"
_UNSET = object()


@dataclass(frozen=True)
class WebUser:
    """The person behind a request: their registry actor and this session's CSRF token."""

    actor: Actor
    username: str
    role: Role
    csrf_token: str
    display_name: str | None

    def may(self, action: Action) -> bool:
        return action in PERMISSIONS.get(self.role, frozenset())


class LoginRequired(Exception):
    """Not logged in: answered with a redirect to the login page (``next`` brings them back)."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class Forbidden(Exception):
    """Logged in, or not, but this may not be done: answered with a 403 page naming why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadInput(Exception):
    """A request the page cannot use (a form tampered with or out of date): a 400 page naming why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def registry(request: Request) -> Registry:
    """The app's one registry."""
    reg: Registry = request.app.state.registry
    return reg


def today(request: Request) -> dt.date:
    """The app's evaluation date (its clock function; tests inject a fixed one)."""
    clock: Callable[[], dt.date] = request.app.state.today
    return clock()


def current_user(request: Request) -> WebUser | None:
    """The logged-in user of this request, or None (looked up once per request)."""
    cached: WebUser | None | object = getattr(request.state, "web_user", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[return-value]
    session = find_session(
        registry(request), request.cookies.get(SESSION_COOKIE), request.app.state.web_session_limits
    )
    user = (
        None
        if session is None
        else WebUser(
            actor=session.actor,
            username=session.actor.username,
            role=session.actor.role,
            csrf_token=session.csrf_token,
            display_name=session.display_name,
        )
    )
    request.state.web_user = user
    return user


def _here(request: Request) -> str:
    path = request.url.path
    return path + ("?" + request.url.query if request.url.query else "")


def require(action: Action) -> Callable[[Request], Awaitable[WebUser]]:
    """A dependency: the logged-in user allowed to ``action`` (else a login redirect or a 403)."""

    async def dependency(request: Request) -> WebUser:
        user = current_user(request)
        if user is None:
            target = _here(request) if request.method == "GET" else "/"
            raise LoginRequired(target)
        if not user.may(action):
            raise Forbidden(
                f"Your role ({user.role}) may not {action.value.replace('_', ' ')}. "
                "Ask an administrator if you need it."
            )
        return user

    return dependency


def login_url(next_url: str) -> str:
    return "/login?next=" + quote(next_url, safe="/")


async def csrf_form(request: Request) -> FormData:
    """The submitted form, refused (403) unless its ``csrf_token`` matches this session's token
    (or, before login, the login form's cookie)."""
    form = await request.form()
    sent = form.get("csrf_token")
    user = current_user(request)
    expected = user.csrf_token if user is not None else login_csrf(request)
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
        raise Forbidden(
            "This form has expired or did not come from this site (its security token does not match). "
            "Nothing was saved: go back, reload the page and send it again."
        )
    return form


def login_csrf(request: Request) -> str:
    """Before login there is no session: the login form's token is a random cookie it repeats
    (set by the login page; ``request.state.login_csrf`` when that page is being made)."""
    made: str | None = getattr(request.state, "login_csrf", None)
    return made or request.cookies.get(LOGIN_CSRF_COOKIE, "")
