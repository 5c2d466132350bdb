"""Response headers of the web pages: a strict CSP (no inline script, no other origin), no
framing, no sniffing, and no caching of pages that show patients."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["NOT_WEB_PREFIXES", "WebHeaders", "is_web_path"]

# Paths that belong to the API and its documentation (they keep their own headers).
NOT_WEB_PREFIXES = ("/api/", "/cds-services", "/docs", "/openapi.json", "/healthz")

_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
_COMMON = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


def is_web_path(path: str) -> bool:
    return not path.startswith(NOT_WEB_PREFIXES)


class WebHeaders:
    """Pure ASGI middleware adding the headers to every web response (static files are cacheable;
    every page is ``no-store``, since pages show patients)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not is_web_path(path):
            await self.app(scope, receive, send)
            return
        static = path.startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    h for h in message.get("headers", []) if h[0].lower() != b"cache-control" or static
                ]
                headers += _COMMON
                headers.append((b"content-security-policy", _CSP.encode()))
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
