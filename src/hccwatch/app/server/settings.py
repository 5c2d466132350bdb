"""Server settings, read once from environment variables (documented in ``docs/server.md``).

Every setting has one variable; a bad value stops the server at start with a message naming the
variable, never at the first request. Secrets (API tokens) are kept only as SHA-256 digests.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hccwatch.registry.config import data_dir as registry_data_dir

__all__ = ["ENV_TABLE", "Settings", "SettingsError", "token_digest"]


class SettingsError(ValueError):
    """An environment variable holds a value the server cannot use."""


# name -> (default, meaning): the one table of settings, also rendered in docs/server.md.
ENV_TABLE: dict[str, tuple[str, str]] = {
    "HCCWATCH_API_TOKENS": ("(none)", "comma-separated bearer tokens accepted on /api/v1"),
    "HCCWATCH_API_TOKEN_SHA256": ("(none)", "comma-separated SHA-256 hex digests of accepted bearer tokens"),
    "HCCWATCH_CDS_ISSUERS": ("{}", 'JSON object {"iss": "JWKS URL or file"}: the EHRs allowed to call'),
    "HCCWATCH_PUBLIC_URL": (
        "(request URL)",
        "external base URL (behind a proxy): the JWT aud is built on it",
    ),
    "HCCWATCH_PATIENT_URL": ("(none)", "card link to the patient's page; {patient_id} is replaced"),
    "HCCWATCH_DATA_DIR": (
        "$XDG_DATA_HOME/hccwatch, else ~/.local/share/hccwatch",
        "folder of the feedback database (feedback.sqlite3), shared with the registry",
    ),
    "HCCWATCH_CORS_ORIGINS": ("(none)", "comma-separated origins allowed by CORS (* for any)"),
    "HCCWATCH_MAX_BODY_BYTES": ("10000000", "largest request body accepted (413 above)"),
    "HCCWATCH_REQUEST_TIMEOUT_S": ("10", "time limit of one REST assessment (503 above)"),
    "HCCWATCH_CDS_DEADLINE_S": ("3", 'internal deadline of a CDS Hooks call; {"cards": []} when reached'),
    "HCCWATCH_JWKS_REFRESH_S": ("60", "shortest interval between two JWKS fetches for an unknown kid"),
    "HCCWATCH_JWT_LEEWAY_S": ("30", "clock skew tolerated on exp, iat and nbf"),
    "HCCWATCH_FHIR_HTTP_LOOPBACK": ("0", "1: accept a plain-http fhirServer on loopback (same host)"),
    "HCCWATCH_LOG_LEVEL": ("INFO", "log level of the JSON log lines"),
    "HCCWATCH_COOKIE_SECURE": (
        "1 if HCCWATCH_PUBLIC_URL is https, else 0",
        "1: the web app's cookies are sent over https only (set it behind a TLS proxy)",
    ),
    "HCCWATCH_SESSION_IDLE_MINUTES": ("30", "a web login ends after this long without a request"),
    "HCCWATCH_SESSION_MAX_HOURS": ("12", "a web login ends this long after it began, whatever happens"),
    "HCCWATCH_LOGIN_MAX_FAILURES": ("5", "failed logins per username, and per client address, in the window"),
    "HCCWATCH_LOGIN_WINDOW_S": ("300", "the window of HCCWATCH_LOGIN_MAX_FAILURES (then a wait)"),
    "HCCWATCH_CLINIC_NAME": ("(none)", "the clinic named on reminder letters"),
    "HCCWATCH_CLINIC_PHONE": ("(none)", "the telephone number reminder letters ask patients to call"),
}


def token_digest(token: str) -> str:
    """The stored form of an API token (its SHA-256 in hex)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _list(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float) -> float:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if not value >= minimum or value == float("inf"):
        raise SettingsError(f"{name}={raw!r} must be a finite number of at least {minimum:g}")
    return value


def _issuers(raw: str | None) -> dict[str, str]:
    if raw is None or not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"HCCWATCH_CDS_ISSUERS is not JSON ({exc.msg})") from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and k and isinstance(v, str) and v for k, v in data.items()
    ):
        raise SettingsError('HCCWATCH_CDS_ISSUERS must be a JSON object {"iss": "JWKS URL or file path"}')
    return dict(data)


@dataclass(frozen=True)
class Settings:
    """Everything the server reads from its environment (and the ``serve`` flags)."""

    api_token_digests: frozenset[str] = frozenset()
    cds_issuers: Mapping[str, str] = field(default_factory=dict)
    public_url: str | None = None
    patient_url: str | None = None
    data_dir: Path = Path("hccwatch-data")
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = 10_000_000
    request_timeout_s: float = 10.0
    cds_deadline_s: float = 3.0
    jwks_refresh_s: float = 60.0
    jwt_leeway_s: float = 30.0
    log_level: str = "INFO"
    fhir_http_loopback: bool = False
    # --dev: unsigned CDS Hooks calls accepted (the server then refuses any non-loopback host).
    dev: bool = False
    # --demo: the demo registry (set by ``hccwatch serve --demo``; loopback only, like --dev).
    demo: bool = False
    # The web app: cookies, login sessions and the failed-login limit.
    cookie_secure: bool = False
    session_idle_s: float = 30 * 60.0
    session_absolute_s: float = 12 * 3600.0
    login_max_failures: int = 5
    login_window_s: float = 300.0
    # Reminder letters: who sends them and the number to call (None: the letter says so plainly).
    clinic_name: str | None = None
    clinic_phone: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, dev: bool = False) -> Settings:
        e = os.environ if env is None else env
        digests = {token_digest(t) for t in _list(e.get("HCCWATCH_API_TOKENS"))}
        for d in _list(e.get("HCCWATCH_API_TOKEN_SHA256")):
            if len(d) != len(token_digest("")) or any(c not in "0123456789abcdefABCDEF" for c in d):
                raise SettingsError(
                    "HCCWATCH_API_TOKEN_SHA256 holds a value that is not a SHA-256 hex digest"
                )
            digests.add(d.lower())
        public = (e.get("HCCWATCH_PUBLIC_URL") or "").strip().rstrip("/") or None
        if public is not None and not public.startswith(("https://", "http://")):
            raise SettingsError(f"HCCWATCH_PUBLIC_URL={public!r} must be an absolute http(s) URL")
        patient = (e.get("HCCWATCH_PATIENT_URL") or "").strip() or None
        if patient is not None and not patient.startswith(("https://", "http://")):
            raise SettingsError("HCCWATCH_PATIENT_URL must be an absolute http(s) URL (CDS Hooks links are)")
        loopback = (e.get("HCCWATCH_FHIR_HTTP_LOOPBACK") or "0").strip()
        if loopback not in {"0", "1"}:
            raise SettingsError(f"HCCWATCH_FHIR_HTTP_LOOPBACK={loopback!r} must be 0 or 1")
        secure = (e.get("HCCWATCH_COOKIE_SECURE") or "").strip()
        if secure not in {"", "0", "1"}:
            raise SettingsError(f"HCCWATCH_COOKIE_SECURE={secure!r} must be 0 or 1")
        level = (e.get("HCCWATCH_LOG_LEVEL") or "INFO").strip().upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise SettingsError(f"HCCWATCH_LOG_LEVEL={level!r} is not DEBUG, INFO, WARNING or ERROR")
        return cls(
            api_token_digests=frozenset(digests),
            cds_issuers=_issuers(e.get("HCCWATCH_CDS_ISSUERS")),
            public_url=public,
            patient_url=patient,
            data_dir=registry_data_dir(e),
            cors_origins=_list(e.get("HCCWATCH_CORS_ORIGINS")),
            max_body_bytes=int(_number(e, "HCCWATCH_MAX_BODY_BYTES", 10_000_000, minimum=1024)),
            request_timeout_s=_number(e, "HCCWATCH_REQUEST_TIMEOUT_S", 10.0, minimum=0.01),
            cds_deadline_s=_number(e, "HCCWATCH_CDS_DEADLINE_S", 3.0, minimum=0.01),
            jwks_refresh_s=_number(e, "HCCWATCH_JWKS_REFRESH_S", 60.0, minimum=0),
            jwt_leeway_s=_number(e, "HCCWATCH_JWT_LEEWAY_S", 30.0, minimum=0),
            log_level=level,
            fhir_http_loopback=loopback == "1",
            dev=dev,
            cookie_secure=secure == "1" or (secure == "" and (public or "").startswith("https://")),
            session_idle_s=_number(e, "HCCWATCH_SESSION_IDLE_MINUTES", 30, minimum=1) * 60,
            session_absolute_s=_number(e, "HCCWATCH_SESSION_MAX_HOURS", 12, minimum=0.1) * 3600,
            login_max_failures=int(_number(e, "HCCWATCH_LOGIN_MAX_FAILURES", 5, minimum=1)),
            login_window_s=_number(e, "HCCWATCH_LOGIN_WINDOW_S", 300, minimum=1),
            clinic_name=(e.get("HCCWATCH_CLINIC_NAME") or "").strip() or None,
            clinic_phone=(e.get("HCCWATCH_CLINIC_PHONE") or "").strip() or None,
        )
