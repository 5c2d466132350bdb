"""Escalation of an unacknowledged emergency through real loopback servers written here: an HTTP
server for the webhook and a small SMTP server (socketserver) for the email, on a fake clock."""

from __future__ import annotations

import datetime as dt
import json
import socketserver
import threading
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from web_support import AS_OF, OPERATOR

from hccwatch.app.server.settings import SettingsError
from hccwatch.registry import Actor, Registry
from hccwatch.registry.symptom_checks import SymptomChecks
from hccwatch.web.escalation import NO_CHANNEL, Notifier
from hccwatch.web.symptom_settings import SymptomSettings
from symptom_answers import response

NOON = dt.datetime(2026, 11, 24, 12, tzinfo=dt.UTC)
NAVIGATOR = Actor("nav", "navigator", 3)


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(json.loads(body))  # type: ignore[attr-defined]
        self.send_response(self.server.status)  # type: ignore[attr-defined]
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: EHLO, MAIL, RCPT, DATA, QUIT."""

    def handle(self) -> None:
        self.wfile.write(b"220 fake ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line.strip().split(b" ")[0].upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250 fake\r\n")
            elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                self.wfile.write(b"250 ok\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                lines = []
                while (part := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(part)
                self.server.mails.append(b"".join(lines))  # type: ignore[attr-defined]
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"502 no\r\n")


@pytest.fixture
def webhook() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    server.received = []  # type: ignore[attr-defined]
    server.status = 204  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def smtp() -> Iterator[socketserver.ThreadingTCPServer]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    server.daemon_threads = True
    server.mails = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


class Clock:
    def __init__(self) -> None:
        self.at = NOON

    def __call__(self) -> dt.datetime:
        return self.at


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def checks(tmp_path: Any, clock: Clock) -> Iterator[SymptomChecks]:
    reg = Registry.open(f"sqlite:///{tmp_path / 'r.sqlite3'}", today=lambda: AS_OF, now=clock)
    record = {"id": "P-9", "treatments": [{"type": "resection", "date": "2025-06-01"}]}
    pid = reg.add_patient(OPERATOR, record, name="Never In A Notification").id
    checks = SymptomChecks(reg)
    checks.submit(checks.create_link(NAVIGATOR, pid).token, response(leg_numbness="yes"))
    yield checks
    reg.close()


def _settings(
    webhook: ThreadingHTTPServer | None, smtp: socketserver.ThreadingTCPServer | None
) -> SymptomSettings:
    return SymptomSettings(
        escalate_after_minutes=15,
        webhook_url=f"http://127.0.0.1:{webhook.server_address[1]}/hook" if webhook else None,
        smtp_host="127.0.0.1" if smtp else None,
        smtp_port=int(smtp.server_address[1]) if smtp else 25,
        smtp_from="hccwatch@clinic.example",
        smtp_to=("oncall@clinic.example",),
    )


def test_webhook_and_email_after_the_configured_minutes(
    checks: SymptomChecks, clock: Clock, webhook: ThreadingHTTPServer, smtp: socketserver.ThreadingTCPServer
) -> None:
    settings = _settings(webhook, smtp)
    notify = Notifier(settings, public_url="https://hcc.clinic.example", now=clock)
    clock.at = NOON + dt.timedelta(minutes=14)
    assert checks.escalate_due(clock(), after_minutes=settings.escalate_after_minutes, notify=notify) == []
    assert webhook.received == [] and smtp.mails == []  # type: ignore[attr-defined]
    clock.at = NOON + dt.timedelta(minutes=15)
    (done,) = checks.escalate_due(clock(), after_minutes=settings.escalate_after_minutes, notify=notify)
    assert done.escalation == "webhook, email"
    (hook,) = webhook.received  # type: ignore[attr-defined]
    assert hook["urgency"] == "emergency" and hook["minutes_unacknowledged"] == 15
    assert hook["page"] == f"https://hcc.clinic.example/patients/{done.patient_id}"
    (mail,) = smtp.mails  # type: ignore[attr-defined]
    msg = message_from_bytes(mail)
    assert "not acknowledged" in msg["Subject"] and msg["To"] == "oncall@clinic.example"
    for sent in (json.dumps(hook), mail.decode()):
        assert "Never In A Notification" not in sent and "P-9" not in sent


def test_nothing_configured_is_recorded_not_sent(checks: SymptomChecks, clock: Clock) -> None:
    clock.at = NOON + dt.timedelta(hours=1)
    notify = Notifier(SymptomSettings(), public_url=None, now=clock)
    (done,) = checks.escalate_due(clock(), after_minutes=30, notify=notify)
    assert done.escalation == NO_CHANNEL


def test_a_failing_webhook_is_retried_and_a_working_email_still_goes(
    checks: SymptomChecks, clock: Clock, webhook: ThreadingHTTPServer, smtp: socketserver.ThreadingTCPServer
) -> None:
    webhook.status = 500  # type: ignore[attr-defined]
    clock.at = NOON + dt.timedelta(minutes=30)
    only_hook = Notifier(_settings(webhook, None), public_url=None, now=clock)
    assert checks.escalate_due(clock(), after_minutes=15, notify=only_hook) == []
    both = Notifier(_settings(webhook, smtp), public_url=None, now=clock)
    (done,) = checks.escalate_due(clock(), after_minutes=15, notify=both)
    assert done.escalation == "email, webhook failed (HTTPStatusError)"


def test_settings_refuse_half_an_smtp_configuration() -> None:
    with pytest.raises(SettingsError, match="HCCWATCH_SMTP_FROM"):
        SymptomSettings.from_env({"HCCWATCH_SMTP_HOST": "mail.example"})
    with pytest.raises(SettingsError, match="WEBHOOK_URL"):
        SymptomSettings.from_env({"HCCWATCH_ESCALATION_WEBHOOK_URL": "ftp://x"})
    s = SymptomSettings.from_env({"HCCWATCH_ESCALATE_AFTER_MINUTES": "5", "HCCWATCH_SMTP_STARTTLS": "1"})
    assert s.escalate_after_minutes == 5 and s.smtp_starttls
