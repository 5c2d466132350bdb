"""Verification of the JWT an EHR sends with each CDS Hooks call (CDS Hooks 2.0 §Security).

The checks, in order, each failing closed (the caller answers a bare 401, no detail):

* the header names an asymmetric algorithm we accept (RS384, ES384: ``none`` and every HMAC are
  refused before any key is looked at, so a public key can never serve as an HMAC secret), a
  ``kid``, and ``typ`` "JWT" when present;
* ``iss`` is on the allow-list (``HCCWATCH_CDS_ISSUERS``); a ``jku`` header must be the very
  JWKS URL configured for that issuer (a token cannot point us at a key set of its choosing);
* the signature verifies with the issuer's key of that ``kid``, whose type must fit the algorithm;
  an unknown ``kid`` refetches the issuer's JWKS, at most once per ``jwks_refresh_s`` (key
  rotation is honoured, and a flood of bogus kids cannot turn us into a fetch amplifier);
* ``aud`` equals the URL being called, ``exp`` is in the future, ``iat`` and ``jti`` are present;
* ``jti`` was not seen before from that issuer (kept until the token expires).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
from jwt import PyJWK

from hccwatch.app.server.logs import log_event
from hccwatch.app.server.prefetch import tls_context

__all__ = ["ACCEPTED_ALGORITHMS", "JwtVerifier", "VerifiedCall"]

ACCEPTED_ALGORITHMS = ("RS384", "ES384")
_KEY_TYPE = {"RS384": "RSA", "ES384": "EC"}
_JWKS_FETCH_TIMEOUT_S = 5.0
_MAX_JWKS_BYTES = 1_000_000
# A token living longer than this is refused: the replay cache would have to remember it too long.
_MAX_TOKEN_LIFETIME_S = 3600
_PRUNE_EVERY_S = 30.0


@dataclass(frozen=True)
class VerifiedCall:
    """Who called: the issuer and the token id (never the token itself)."""

    iss: str
    jti: str


@dataclass
class _IssuerKeys:
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    fetched_at: float | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class JwtVerifier:
    def __init__(
        self,
        issuers: Mapping[str, str],
        *,
        refresh_s: float = 60.0,
        leeway_s: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._issuers = dict(issuers)
        self._refresh_s = refresh_s
        self._leeway_s = leeway_s
        self._clock = clock
        self._keys: dict[str, _IssuerKeys] = {iss: _IssuerKeys() for iss in self._issuers}
        self._seen: dict[tuple[str, str], float] = {}
        self._pruned_at = clock()
        self.fetches = 0  # for tests and the log: how often a JWKS was fetched

    async def verify(self, token: str | None, audience: str) -> VerifiedCall | None:
        """The verified caller, or None (the reason goes to the log as a code, never the token)."""
        if not token:
            return self._refuse("no_token")
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return self._refuse("malformed")
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ACCEPTED_ALGORITHMS:
            return self._refuse("algorithm")
        if not isinstance(kid, str) or not kid:
            return self._refuse("kid_missing")
        if "typ" in header and header["typ"] != "JWT":
            return self._refuse("typ")
        iss = claims.get("iss")
        if not isinstance(iss, str) or iss not in self._issuers:
            return self._refuse("issuer")
        jku = header.get("jku")
        if jku is not None and jku != self._issuers[iss]:
            return self._refuse("jku")
        jwk = await self._key(iss, kid)
        if jwk is None:
            return self._refuse("unknown_kid")
        if jwk.get("kty") != _KEY_TYPE[alg] or jwk.get("alg", alg) != alg:
            return self._refuse("key_type")
        try:
            key = PyJWK(jwk, algorithm=alg)
            verified = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=[audience, audience + "/"],
                issuer=iss,
                leeway=self._leeway_s,
                options={"require": ["iss", "aud", "exp", "iat", "jti"]},
            )
        except (jwt.PyJWTError, ValueError, TypeError):
            return self._refuse("signature_or_claims")
        return self._fresh(iss, verified)

    def _fresh(self, iss: str, claims: Mapping[str, Any]) -> VerifiedCall | None:
        jti, exp = claims.get("jti"), claims.get("exp")
        if not isinstance(jti, str) or not jti or not isinstance(exp, int | float):
            return self._refuse("jti")
        now = self._clock()
        if exp - now > _MAX_TOKEN_LIFETIME_S + self._leeway_s:
            return self._refuse("lifetime")
        if now - self._pruned_at > _PRUNE_EVERY_S:
            # Expired jtis can no longer be replayed (exp refuses them): forget them now and then.
            self._seen = {k: until for k, until in self._seen.items() if until >= now}
            self._pruned_at = now
        if (iss, jti) in self._seen:
            return self._refuse("replay")
        self._seen[(iss, jti)] = float(exp) + self._leeway_s
        return VerifiedCall(iss=iss, jti=jti)

    async def _key(self, iss: str, kid: str) -> dict[str, Any] | None:
        cache = self._keys[iss]
        if kid in cache.keys:
            return cache.keys[kid]
        async with cache.lock:
            if kid in cache.keys:
                return cache.keys[kid]
            now = self._clock()
            if cache.fetched_at is not None and now - cache.fetched_at < self._refresh_s:
                return None
            cache.fetched_at = now
            self.fetches += 1
            keys = await _load_jwks(self._issuers[iss])
            if keys is not None:
                cache.keys = keys
            return cache.keys.get(kid)

    @staticmethod
    def _refuse(reason: str) -> None:
        log_event("cds_jwt_refused", reason=reason)
        return None


async def _load_jwks(source: str) -> dict[str, dict[str, Any]] | None:
    """The key set at a URL or in a file, by kid; None when it cannot be read (keys kept)."""
    try:
        if source.startswith(("https://", "http://")):
            async with httpx.AsyncClient(
                timeout=_JWKS_FETCH_TIMEOUT_S, follow_redirects=False, verify=tls_context()
            ) as client:
                response = await client.get(source, headers={"Accept": "application/json"})
            if response.status_code != httpx.codes.OK or len(response.content) > _MAX_JWKS_BYTES:
                log_event("jwks_fetch_failed", status=response.status_code)
                return None
            data = json.loads(response.content)
        else:
            data = json.loads(Path(source).read_bytes()[:_MAX_JWKS_BYTES])
    except (httpx.HTTPError, OSError, ValueError):
        log_event("jwks_fetch_failed", status=None)
        return None
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(keys, list):
        log_event("jwks_fetch_failed", status=None)
        return None
    return {k["kid"]: k for k in keys if isinstance(k, dict) and isinstance(k.get("kid"), str)}
