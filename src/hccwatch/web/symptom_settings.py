"""Settings of the patient symptom check, read once from environment variables.

Operational choices, not clinical numbers (the weekly interval is in the knowledge base):
how long a link lives, the clinic's phone number, when an unacknowledged emergency is
escalated and where to, and the rate limits of the patient pages. Nothing is sent anywhere
unless a webhook URL or an SMTP host is set. A bad value stops the server at start.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from hccwatch.app.server.settings import SettingsError

__all__ = ["SYMPTOM_ENV_TABLE", "SymptomSettings"]

# name -> (default, meaning): rendered in docs/symptom-check.md.
SYMPTOM_ENV_TABLE: dict[str, tuple[str, str]] = {
    "HCCWATCH_CLINIC_PHONE": ("(none)", "the number patients are told to call today after an urgent answer"),
    "HCCWATCH_SYMPTOM_LINK_DAYS": ("90", "days a new symptom-check link stays valid"),
    "HCCWATCH_ESCALATE_AFTER_MINUTES": ("30", "an emergency report not acknowledged this long is escalated"),
    "HCCWATCH_ESCALATION_WEBHOOK_URL": ("(none)", "POST JSON here on escalation (no patient name in it)"),
    "HCCWATCH_SMTP_HOST": ("(none)", "mail server for escalation emails"),
    "HCCWATCH_SMTP_PORT": ("25", "its port"),
    "HCCWATCH_SMTP_FROM": ("(none)", "sender address of escalation emails"),
    "HCCWATCH_SMTP_TO": ("(none)", "comma-separated recipients of escalation emails"),
    "HCCWATCH_SMTP_STARTTLS": ("0", "1: upgrade the SMTP connection with STARTTLS"),
    "HCCWATCH_SYMPTOM_POSTS_PER_HOUR": ("6", "answers accepted per link per hour"),
    "HCCWATCH_SYMPTOM_HITS_PER_10_MINUTES": (
        "60",
        "patient-page requests accepted per address per 10 minutes",
    ),
}


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise SettingsError(f"{name}={raw!r} must be at least {minimum}")
    return value


@dataclass(frozen=True)
class SymptomSettings:
    clinic_phone: str | None = None
    link_days: int = 90
    escalate_after_minutes: int = 30
    webhook_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str | None = None
    smtp_to: tuple[str, ...] = ()
    smtp_starttls: bool = False
    posts_per_hour: int = 6
    hits_per_10_minutes: int = 60

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SymptomSettings:
        e = os.environ if env is None else env
        webhook = (e.get("HCCWATCH_ESCALATION_WEBHOOK_URL") or "").strip() or None
        if webhook is not None and not webhook.startswith(("https://", "http://")):
            raise SettingsError("HCCWATCH_ESCALATION_WEBHOOK_URL must be an absolute http(s) URL")
        host = (e.get("HCCWATCH_SMTP_HOST") or "").strip() or None
        sender = (e.get("HCCWATCH_SMTP_FROM") or "").strip() or None
        to = tuple(a.strip() for a in (e.get("HCCWATCH_SMTP_TO") or "").split(",") if a.strip())
        if host is not None and (sender is None or not to):
            raise SettingsError("HCCWATCH_SMTP_HOST needs HCCWATCH_SMTP_FROM and HCCWATCH_SMTP_TO")
        starttls = (e.get("HCCWATCH_SMTP_STARTTLS") or "0").strip()
        if starttls not in {"0", "1"}:
            raise SettingsError(f"HCCWATCH_SMTP_STARTTLS={starttls!r} must be 0 or 1")
        return cls(
            clinic_phone=(e.get("HCCWATCH_CLINIC_PHONE") or "").strip() or None,
            link_days=_int(e, "HCCWATCH_SYMPTOM_LINK_DAYS", 90, 1),
            escalate_after_minutes=_int(e, "HCCWATCH_ESCALATE_AFTER_MINUTES", 30, 1),
            webhook_url=webhook,
            smtp_host=host,
            smtp_port=_int(e, "HCCWATCH_SMTP_PORT", 25, 1),
            smtp_from=sender,
            smtp_to=to,
            smtp_starttls=starttls == "1",
            posts_per_hour=_int(e, "HCCWATCH_SYMPTOM_POSTS_PER_HOUR", 6, 1),
            hits_per_10_minutes=_int(e, "HCCWATCH_SYMPTOM_HITS_PER_10_MINUTES", 60, 1),
        )
