"""Login and logout: argon2id through the registry, a new session id at every login, failures
rate-limited per username and per client address."""

from __future__ import annotations

import math
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from hccwatch.registry import AuthenticationError
from hccwatch.registry.sessions import end_session, start_session
from hccwatch.web.deps import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    csrf_form,
    current_user,
    registry,
)
from hccwatch.web.ratelimit import FailureLimiter
from hccwatch.web.render import render

__all__ = ["router", "safe_next"]

router = APIRouter()


def safe_next(value: str | None) -> str:
    """Where to go after login: a path on this site only (never another host)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _cookie_secure(request: Request) -> bool:
    return bool(request.app.state.settings.cookie_secure) or request.url.scheme == "https"


def _login_page(
    request: Request, *, next_url: str, message: str = "", username: str = "", status: int = 200
) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    request.state.login_csrf = token
    response = render(
        request, "login.html", {"next_url": next_url, "message": message, "username": username}, status
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=_cookie_secure(request), path="/"
    )
    return response


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    if current_user(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, next_url=safe_next(next))


def _limiter(request: Request) -> FailureLimiter:
    limiter: FailureLimiter = request.app.state.login_limiter
    return limiter


@router.post("/login")
def login(request: Request, form: Annotated[FormData, Depends(csrf_form)]) -> Response:
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    next_url = safe_next(str(form.get("next") or "/"))
    client = request.client.host if request.client else "unknown"
    keys = (f"user:{username.lower()}", f"addr:{client}")
    limiter = _limiter(request)
    wait = limiter.wait_s(*keys)
    if wait > 0:
        minutes = max(1, math.ceil(wait / 60))
        return _login_page(
            request,
            next_url=next_url,
            username=username,
            status=429,
            message=(
                f"Too many failed logins for this account or from this computer. Try again in {minutes} "
                f"minute{'s' if minutes != 1 else ''}, or ask an administrator to set a new password."
            ),
        )
    reg = registry(request)
    try:
        actor = reg.authenticate(username, password)
    except AuthenticationError:
        limiter.failed(*keys)
        return _login_page(
            request,
            next_url=next_url,
            username=username,
            status=401,
            message="Wrong username or password, or the account is disabled.",
        )
    limiter.succeeded(keys[0])
    # A new session id at every login (an id planted before login is never promoted).
    token, _session = start_session(reg, actor)
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=_cookie_secure(request),
        path="/",
        max_age=int(request.app.state.web_session_limits.absolute.total_seconds()),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(request: Request, _form: Annotated[FormData, Depends(csrf_form)]) -> Response:
    user = current_user(request)
    token = request.cookies.get(SESSION_COOKIE)
    if user is not None and token:
        end_session(registry(request), token, user.actor)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
