"""Escalation of unacknowledged patient-reported emergencies: a webhook and an email.

The notification names no patient: a registry reference (the patient's registry id, and the
page address when the public URL is known) and the urgency. Nothing is sent unless a channel is
configured; the report then records "no channel configured", which the worklist shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import smtplib
from collections.abc import AsyncIterator, Callable
from email.message import EmailMessage
from typing import Any

import httpx
from fastapi import FastAPI

from hccwatch.app.server.logs import log_event
from hccwatch.registry.symptom_checks import ReportView, SymptomChecks
from hccwatch.web.symptom_settings import SymptomSettings

__all__ = ["NO_CHANNEL", "Notifier", "install_escalation_loop"]

NO_CHANNEL = "no channel configured"
_TIMEOUT_S = 10.0
_LOOP_S = 60.0


class Notifier:
    """Sends one escalation through every configured channel; says which worked."""

    def __init__(self, settings: SymptomSettings, *, public_url: str | None, now: Callable[[], dt.datetime]):
        self.settings = settings
        self.public_url = public_url
        self.now = now

    def payload(self, report: ReportView) -> dict[str, Any]:
        waited = (self.now() - report.received_at).total_seconds() / 60
        page = f"{self.public_url}/patients/{report.patient_id}" if self.public_url else None
        return {
            "event": "hccwatch.symptom_check.unacknowledged_emergency",
            "urgency": report.top_urgency,
            "registry_patient_id": report.patient_id,
            "report_id": report.id,
            "received_at": report.received_at.isoformat(),
            "minutes_unacknowledged": round(waited),
            "page": page,
        }

    def __call__(self, report: ReportView) -> str:
        s = self.settings
        if s.webhook_url is None and s.smtp_host is None:
            return NO_CHANNEL
        body = self.payload(report)
        sent: list[str] = []
        failed: list[str] = []
        if s.webhook_url is not None:
            try:
                httpx.post(s.webhook_url, json=body, timeout=_TIMEOUT_S).raise_for_status()
                sent.append("webhook")
            except httpx.HTTPError as exc:
                failed.append(f"webhook failed ({type(exc).__name__})")
        if s.smtp_host is not None:
            try:
                self._email(body)
                sent.append("email")
            except (OSError, smtplib.SMTPException) as exc:
                failed.append(f"email failed ({type(exc).__name__})")
        if not sent:
            raise RuntimeError("; ".join(failed))
        return ", ".join(sent + failed)

    def _email(self, body: dict[str, Any]) -> None:
        s = self.settings
        assert s.smtp_host is not None and s.smtp_from is not None
        msg = EmailMessage()
        msg["Subject"] = (
            f"hccwatch: patient-reported emergency not acknowledged (registry patient "
            f"{body['registry_patient_id']})"
        )
        msg["From"] = s.smtp_from
        msg["To"] = ", ".join(s.smtp_to)
        lines = [
            "A patient reported symptoms that hccwatch rated an emergency, and nobody has",
            f"acknowledged it for {body['minutes_unacknowledged']} minutes.",
            "",
            f"Registry patient: {body['registry_patient_id']} (report {body['report_id']})",
            f"Received: {body['received_at']}",
        ]
        if body["page"]:
            lines.append(f"Open: {body['page']}")
        lines += ["", "Decision support, not a diagnosis."]
        msg.set_content("\n".join(lines))
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=_TIMEOUT_S) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            smtp.send_message(msg)


def install_escalation_loop(
    app: FastAPI, checks: Callable[[], SymptomChecks], settings: Callable[[], SymptomSettings],
    notifier: Callable[[], Notifier], now: Callable[[], dt.datetime],
) -> None:  # fmt: skip
    """Run :meth:`SymptomChecks.escalate_due` every minute while the server runs."""
    previous = app.router.lifespan_context

    async def loop() -> None:
        while True:
            await asyncio.sleep(_LOOP_S)
            try:
                await asyncio.to_thread(
                    checks().escalate_due,
                    now(),
                    after_minutes=settings().escalate_after_minutes,
                    notify=notifier(),
                )
            except Exception as exc:  # one failed round must not stop the next; it is logged
                log_event("symptom_escalation_failed", logging.ERROR, error=type(exc).__name__)

    @contextlib.asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        async with previous(a) as state:
            task = asyncio.create_task(loop())
            try:
                yield state
            finally:
                task.cancel()

    app.router.lifespan_context = lifespan
