"""Mount the web app on the FastAPI app: routers, static files, error pages, headers, state."""

from __future__ import annotations

import datetime as dt
import inspect
import logging
from collections.abc import Callable
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from hccwatch.app.server.logs import log_event
from hccwatch.app.server.settings import Settings
from hccwatch.registry import ConflictError, NotFoundError, PermissionDeniedError, Registry
from hccwatch.registry.sessions import SessionLimits
from hccwatch.web import symptom_check
from hccwatch.web.deps import BadInput, Forbidden, LoginRequired, login_url
from hccwatch.web.ratelimit import FailureLimiter
from hccwatch.web.render import render
from hccwatch.web.routes import ROUTERS
from hccwatch.web.security import WebHeaders, is_web_path

__all__ = ["mount"]

_HEADINGS = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    409: "Changed meanwhile",
}


def error_page(request: Request, status: int, message: str) -> Response:
    heading = _HEADINGS.get(status, "Something went wrong")
    return render(request, "error.html", {"heading": heading, "message": message}, status)


def mount(app: FastAPI, registry: Registry, settings: Settings, today: Callable[[], dt.date]) -> None:
    """Serve the web app from ``app`` on ``registry``."""
    app.state.registry = registry
    app.state.today = today
    app.state.web_session_limits = SessionLimits(
        idle=dt.timedelta(seconds=settings.session_idle_s),
        absolute=dt.timedelta(seconds=settings.session_absolute_s),
    )
    app.state.login_limiter = FailureLimiter(settings.login_max_failures, settings.login_window_s)
    for router in ROUTERS:
        app.include_router(router, include_in_schema=False)
    symptom_check.install(app)
    app.mount(
        "/static", StaticFiles(directory=str(resources.files("hccwatch.web") / "static")), name="static"
    )

    @app.exception_handler(LoginRequired)
    async def to_login(_request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(login_url(exc.next_url), status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return error_page(request, 403, exc.message)

    @app.exception_handler(BadInput)
    async def bad_input(request: Request, exc: BadInput) -> Response:
        return error_page(request, 400, exc.message)

    @app.exception_handler(PermissionDeniedError)
    async def denied(request: Request, exc: PermissionDeniedError) -> Response:
        return error_page(request, 403, str(exc))

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> Response:
        return error_page(request, 404, str(exc))

    @app.exception_handler(ConflictError)
    async def conflict(request: Request, exc: ConflictError) -> Response:
        return error_page(request, 409, f"{exc} Reload the page to see the current state, then try again.")

    api_http_error = app.exception_handlers[StarletteHTTPException]

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not is_web_path(request.url.path):
            answer = api_http_error(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
        if exc.status_code == 404:
            return error_page(request, 404, "There is no page at this address.")
        if exc.status_code == 405:
            return error_page(request, 405, "This page cannot be used that way.")
        return error_page(request, exc.status_code, str(exc.detail))

    api_internal_error = app.exception_handlers[Exception]

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> Response:
        if not is_web_path(request.url.path):
            answer = api_internal_error(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
        # The class only: an exception's message may quote a record.
        log_event("internal_error", logging.ERROR, error=type(exc).__name__)
        message = (
            "Something went wrong inside hccwatch (a bug, not something you did). Each save is all or "
            "nothing, so nothing was half saved: go back, reload and check before trying again."
        )
        try:
            return error_page(request, 500, message)
        except Exception:
            # Even the page could not be made (the database may be down): plain text, no trace.
            return PlainTextResponse(message, status_code=500)

    app.add_middleware(WebHeaders)
