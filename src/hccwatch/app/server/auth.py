"""Bearer tokens for REST clients: compared as SHA-256 digests in constant time."""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from hccwatch.app.server.settings import token_digest

__all__ = ["bearer", "token_accepted"]


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def token_accepted(token: str | None, digests: Iterable[str]) -> bool:
    if token is None:
        return False
    digest = token_digest(token)
    # Every digest is compared (no early exit), so timing tells nothing about which one is near.
    found = False
    for known in digests:
        found |= hmac.compare_digest(digest, known)
    return found
