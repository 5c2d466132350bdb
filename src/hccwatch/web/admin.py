"""User administration (/admin/users): list, add, disable, set a password. MANAGE_USERS only.

Disabling an account or setting its password ends that person's open web sessions.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from hccwatch.registry import ROLES, Action, NotFoundError, RegistryError
from hccwatch.registry.passwords import MIN_PASSWORD_CHARS
from hccwatch.registry.sessions import end_user_sessions
from hccwatch.web.deps import WebUser, csrf_form, registry, require
from hccwatch.web.render import render

__all__ = ["router"]

router = APIRouter()
_MANAGE = require(Action.MANAGE_USERS)
_DONE = {
    "added": "User {name} added.",
    "disabled": "User {name} disabled; their open sessions have ended.",
    "password": "Password of {name} set; their other open sessions have ended.",
}


def _page(
    request: Request,
    user: WebUser,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    messages: list[tuple[str, str]] | None = None,
    status: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "users": registry(request).list_users(user.actor),
        "roles": ROLES,
        "errors": errors or {},
        "form": form or {},
        "messages": messages or [],
        "min_chars": MIN_PASSWORD_CHARS,
    }
    return render(request, "admin/users.html", context, status)


@router.get("/admin/users")
def users_page(request: Request, user: Annotated[WebUser, Depends(_MANAGE)]) -> Response:
    done, name = request.query_params.get("done"), request.query_params.get("name", "")
    messages = [("ok", _DONE[done].format(name=name[:64]))] if done in _DONE else []
    return _page(request, user, messages=messages)


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


def _done(what: str, name: str) -> Response:
    return RedirectResponse("/admin/users?" + urlencode({"done": what, "name": name}), status_code=303)


@router.post("/admin/users")
def add_user(
    request: Request,
    user: Annotated[WebUser, Depends(_MANAGE)],
    form: Annotated[FormData, Depends(csrf_form)],
) -> Response:
    kept = {k: _text(form, k).strip() for k in ("username", "display_name", "role")}
    password, again = _text(form, "password"), _text(form, "password_again")
    errors: dict[str, str] = {}
    if not kept["username"]:
        errors["username"] = "Enter a username."
    if kept["role"] not in ROLES:
        errors["role"] = "Choose a role."
    if password != again:
        errors["password_again"] = "The two passwords differ."
    if not errors:
        try:
            registry(request).add_user(
                user.actor,
                kept["username"],
                kept["role"],
                password,
                display_name=kept["display_name"] or None,
            )
        except RegistryError as exc:
            field = "password" if "password" in str(exc) else "username"
            errors[field] = str(exc)[:1].upper() + str(exc)[1:] + "."
    if errors:
        return _page(request, user, errors=errors, form=kept, status=400)
    return _done("added", kept["username"])


def _user_id(request: Request, user: WebUser, username: str) -> int:
    for u in registry(request).list_users(user.actor):
        if u.username == username:
            return u.id
    raise NotFoundError(f"no user {username!r}")


@router.post("/admin/users/{username}/disable")
def disable_user(
    request: Request,
    username: str,
    user: Annotated[WebUser, Depends(_MANAGE)],
    _form: Annotated[FormData, Depends(csrf_form)],
) -> Response:
    reg = registry(request)
    try:
        reg.disable_user(user.actor, username)
    except NotFoundError:
        raise
    except RegistryError as exc:
        return _page(request, user, messages=[("error", f"{exc}. Nothing was changed.")], status=400)
    end_user_sessions(reg, _user_id(request, user, username))
    return _done("disabled", username)


@router.post("/admin/users/{username}/password")
def set_password(
    request: Request,
    username: str,
    user: Annotated[WebUser, Depends(_MANAGE)],
    form: Annotated[FormData, Depends(csrf_form)],
) -> Response:
    password, again = _text(form, "password"), _text(form, "password_again")
    reg = registry(request)
    target = _user_id(request, user, username)
    error = "The two passwords differ." if password != again else None
    if error is None:
        try:
            reg.set_password(user.actor, username, password)
        except RegistryError as exc:
            error = str(exc)[:1].upper() + str(exc)[1:] + "."
    if error is not None:
        return _page(request, user, errors={f"password-{username}": error}, status=400)
    if target != user.actor.user_id:
        end_user_sessions(reg, target)
    return _done("password", username)
