"""Render a page: Jinja2 templates with the user, CSRF token, language and disclaimer filled in."""

from __future__ import annotations

import contextvars
import functools
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from hccwatch.core.knowledge import default_knowledge
from hccwatch.registry import Action
from hccwatch.web.deps import current_user, login_csrf

__all__ = ["environment", "render"]

LANGS = ("en", "zh")
# The token of the page being rendered: csrf_field() reads it wherever it is called (a macro
# imported without context included).
_CSRF: contextvars.ContextVar[str] = contextvars.ContextVar("csrf", default="")


def csrf_input() -> Markup:
    """The hidden CSRF input of every POST form."""
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(_CSRF.get())


@functools.cache
def environment() -> Environment:
    folder = resources.files("hccwatch.web") / "templates"
    env = Environment(
        loader=FileSystemLoader(str(folder)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["Action"] = Action
    env.globals["csrf_field"] = csrf_input
    env.globals["csrf_input"] = csrf_input
    return env


def _lang(request: Request) -> str:
    asked = request.query_params.get("lang")
    return asked if asked in LANGS else "en"


def render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """The page ``template`` with ``context``; ``user``, ``csrf_token``, ``lang`` and ``disclaimer``
    are given to every template."""
    user = current_user(request)
    lang = _lang(request)
    csrf = user.csrf_token if user is not None else login_csrf(request)
    base = {
        "request": request,
        "user": user,
        "csrf_token": csrf,
        "lang": lang,
        "disclaimer": default_knowledge().text(lang, "disclaimer"),
    }
    reset = _CSRF.set(csrf)
    try:
        html = environment().get_template(template).render({**base, **context})
    finally:
        _CSRF.reset(reset)
    return HTMLResponse(html, status_code=status)
