"""Symptom checks in the registry, on SQLite and PostgreSQL: links, submissions merged into the
record and assessed, acknowledgement, escalation timing on a fake clock, reminders, reports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_support import ADMIN, AS_OF, NOON
from sqlalchemy import select, text

from hccwatch.registry import Actor, NotFoundError, PermissionDeniedError, Registry
from hccwatch.registry.models import AuditEvent, SymptomLink
from hccwatch.registry.symptom_checks import ReportView, SymptomChecks, token_hash
from symptom_answers import response

NAVIGATOR = Actor("nav", "navigator", 7)
READONLY = Actor("reader", "readonly", 8)
RECORD = {"id": "P-1", "treatments": [{"type": "resection", "date": "2025-06-01"}]}


class Clock:
    def __init__(self) -> None:
        self.at = NOON

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def reg(db_url: str, clock: Clock) -> Iterator[Registry]:
    registry = Registry.open(db_url, today=lambda: clock.at.date(), now=clock)
    try:
        yield registry
    finally:
        registry.close()


@pytest.fixture
def checks(reg: Registry) -> SymptomChecks:
    return SymptomChecks(reg, link_days=30)


def _patient(reg: Registry, record_id: str = "P-1", name: str = "Ann Example") -> int:
    return reg.add_patient(ADMIN, {**RECORD, "id": record_id}, name=name, phone="+1 555 0100").id


def test_a_link_stores_only_its_hash_and_says_what_it_is(
    reg: Registry, checks: SymptomChecks, clock: Clock
) -> None:
    pid = _patient(reg)
    made = checks.create_link(NAVIGATOR, pid)
    assert len(made.token) >= 43 and made.link.state == "active"
    with reg.engine.connect() as conn:
        stored = conn.execute(select(SymptomLink.token_hash)).scalars().all()
        audit = " ".join(str(r) for r in conn.execute(select(AuditEvent.after_json)).scalars())
    assert stored == [token_hash(made.token)] and made.token not in audit
    state, target = checks.resolve(made.token)
    assert state == "active" and target is not None and target.patient_id == pid
    assert checks.resolve("not-a-token") == ("none", None)
    clock.advance(days=31)
    assert checks.resolve(made.token) == ("expired", None)


def test_revoked_links_refuse_answers(reg: Registry, checks: SymptomChecks) -> None:
    pid = _patient(reg)
    made = checks.create_link(NAVIGATOR, pid)
    assert checks.revoke_link(NAVIGATOR, made.link.id).state == "revoked"
    assert checks.resolve(made.token) == ("revoked", None)
    with pytest.raises(NotFoundError, match="this link cannot be used"):
        checks.submit(made.token, response(leg_numbness="yes"))


def test_roles_are_checked(reg: Registry, checks: SymptomChecks) -> None:
    pid = _patient(reg)
    with pytest.raises(PermissionDeniedError):
        checks.create_link(READONLY, pid)
    with pytest.raises(PermissionDeniedError):
        checks.acknowledge(READONLY, 1)


def test_leg_numbness_is_merged_assessed_and_flagged_at_the_top(reg: Registry, checks: SymptomChecks) -> None:
    quiet = _patient(reg, "P-0", "Quiet Patient")
    pid = _patient(reg)
    made = checks.create_link(NAVIGATOR, pid)
    result = checks.submit(made.token, response(leg_numbness="yes", leg_numbness_since="2026-11-23"))
    assert result.outcome is not None and result.outcome.page == "emergency"
    assert result.outcome.alert_ids == ("mscc_suspected",)
    view = reg.get_patient(ADMIN, pid)
    assert {"code": "leg_numbness", "onset": "2026-11-23"} in view.record["symptoms"]
    assert view.assessment is not None and view.assessment["alerts"][0]["urgency"] == "emergency"
    assert reg.worklist(ADMIN)[0].patient_id == pid
    assert reg.get_patient(ADMIN, quiet).record.get("symptoms") is None
    events = reg.audit_events(ADMIN, patient_id=pid, limit=10)
    assert {e.action for e in events if e.actor == "patient link"} == {
        "patient.update_record",
        "symptom_check.submit",
    }
    (report,) = checks.open_reports(NAVIGATOR)
    assert report.patient_id == pid and report.top_urgency == "emergency"
    acked = checks.acknowledge(NAVIGATOR, report.id)
    assert acked.acknowledged_by == "nav" and acked.acknowledged_at == NOON
    assert checks.open_reports(NAVIGATOR) == []


def test_answers_for_a_patient_whose_record_says_they_died_reach_the_team_with_the_reason(
    reg: Registry, checks: SymptomChecks
) -> None:
    # Answers through the link of a patient the record says has died: a record to check, not a
    # silent pass nor a crash. The person answering is told to call; the team sees why at the top.
    pid = reg.add_patient(ADMIN, {**RECORD, "deceased_on": "2026-01-15"}, name="Ann Example").id
    made = checks.create_link(NAVIGATOR, pid)
    result = checks.submit(made.token, response(jaundice="yes"))
    assert result.outcome is None
    assert result.error == (
        "the record says the patient died on 2026-01-15: hccwatch assesses the follow-up of living "
        "patients, so nothing is assessed or due"
    )
    (report,) = checks.open_reports(NAVIGATOR)
    assert report.patient_id == pid and report.top_urgency == "urgent"


def test_a_token_reaches_only_its_own_patient(reg: Registry, checks: SymptomChecks) -> None:
    a, b = _patient(reg, "P-A", "A"), _patient(reg, "P-B", "B")
    link_a = checks.create_link(NAVIGATOR, a)
    checks.create_link(NAVIGATOR, b)
    checks.submit(link_a.token, response(jaundice="yes"))
    assert checks.submissions(ADMIN, b) == []
    assert reg.get_patient(ADMIN, b).record.get("symptoms") is None
    assert [r.top_urgency for r in checks.submissions(ADMIN, a)] == ["urgent"]


def test_the_same_answer_twice_is_kept_once_in_the_record(reg: Registry, checks: SymptomChecks) -> None:
    pid = _patient(reg)
    made = checks.create_link(NAVIGATOR, pid)
    for _ in range(2):
        checks.submit(made.token, response(cough="yes", cough_since="2026-11-20"))
    assert reg.get_patient(ADMIN, pid).record["symptoms"] == [{"code": "cough", "onset": "2026-11-20"}]
    assert checks.links(ADMIN, pid)[0].used_count == 2


def test_escalation_waits_for_the_configured_time_on_a_fake_clock(
    reg: Registry, checks: SymptomChecks, clock: Clock
) -> None:
    pid = _patient(reg)
    made = checks.create_link(NAVIGATOR, pid)
    checks.submit(made.token, response(leg_weakness="yes"))
    sent: list[ReportView] = []

    def notify(report: ReportView) -> str:
        sent.append(report)
        return "webhook"

    clock.advance(minutes=29, seconds=59)
    assert checks.escalate_due(clock(), after_minutes=30, notify=notify) == []
    clock.advance(seconds=1)
    (done,) = checks.escalate_due(clock(), after_minutes=30, notify=notify)
    assert done.escalated_at == clock() and done.escalation == "webhook" and len(sent) == 1
    clock.advance(minutes=5)
    assert checks.escalate_due(clock(), after_minutes=30, notify=notify) == []
    assert checks.open_reports(NAVIGATOR)[0].escalation == "webhook"


def test_an_acknowledged_emergency_is_not_escalated_and_a_failure_is_retried(
    reg: Registry, checks: SymptomChecks, clock: Clock
) -> None:
    first, second = _patient(reg, "P-1"), _patient(reg, "P-2")
    for pid in (first, second):
        checks.submit(checks.create_link(NAVIGATOR, pid).token, response(urine_stool="yes"))
    reports = {r.patient_id: r.id for r in checks.open_reports(NAVIGATOR)}
    clock.advance(minutes=10)
    checks.acknowledge(NAVIGATOR, reports[first])

    def broken(report: ReportView) -> str:
        raise RuntimeError("webhook failed (ConnectError)")

    clock.advance(minutes=30)
    assert checks.escalate_due(clock(), after_minutes=30, notify=broken) == []
    (waiting,) = checks.open_reports(NAVIGATOR)
    assert waiting.escalated_at is None and waiting.escalation is not None
    assert "will retry" in waiting.escalation
    (done,) = checks.escalate_due(clock(), after_minutes=30, notify=lambda r: "no channel configured")
    assert done.patient_id == second and done.escalation == "no channel configured"


def test_reminders_and_completion(reg: Registry, checks: SymptomChecks, clock: Clock) -> None:
    pid = _patient(reg)
    made = checks.create_link(NAVIGATOR, pid)
    assert checks.due_checks(ADMIN, AS_OF + dt.timedelta(days=6)) == []
    (due,) = checks.due_checks(ADMIN, AS_OF + dt.timedelta(days=7))
    assert due.due == AS_OF + dt.timedelta(days=7) and due.link_state == "active" and due.phone
    clock.advance(days=3)
    checks.submit(made.token, response())
    assert checks.due_checks(ADMIN, AS_OF + dt.timedelta(days=9)) == []
    assert checks.due_checks(ADMIN, AS_OF + dt.timedelta(days=10))[0].due == AS_OF + dt.timedelta(days=10)
    report = checks.report(ADMIN, AS_OF + dt.timedelta(days=21))
    (p,) = report.patients
    assert (p.expected, p.completed, p.rate) == (3, 1, pytest.approx(1 / 3))
    assert report.clinic_rate == pytest.approx(1 / 3)
    checks.revoke_link(NAVIGATOR, made.link.id)
    assert checks.due_checks(ADMIN, AS_OF + dt.timedelta(days=30)) == []


def test_time_to_acknowledge_emergencies(reg: Registry, checks: SymptomChecks, clock: Clock) -> None:
    ids = []
    for n in range(3):
        pid = _patient(reg, f"P-{n}", f"N{n}")
        checks.submit(checks.create_link(NAVIGATOR, pid).token, response(leg_numbness="yes"))
    ids = [r.id for r in checks.open_reports(NAVIGATOR)]
    for minutes, rid in zip((10, 20), ids, strict=False):
        clock.at = NOON + dt.timedelta(minutes=minutes)
        checks.acknowledge(NAVIGATOR, rid)
    report = checks.report(ADMIN, AS_OF)
    assert (report.emergencies, report.acknowledged) == (3, 2)
    assert report.ack_minutes_median == pytest.approx(15) and report.ack_minutes_max == pytest.approx(20)


def test_an_unreadable_answer_changes_nothing(reg: Registry, checks: SymptomChecks) -> None:
    from hccwatch.symptoms import ResponseError

    pid = _patient(reg)
    made = checks.create_link(NAVIGATOR, pid)
    bad = response(leg_numbness="yes")
    bad["item"].append({"linkId": "mood", "answer": [{"valueBoolean": True}]})
    with pytest.raises(ResponseError):
        checks.submit(made.token, bad)
    with reg.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM symptom_submissions")).scalar() == 0
    assert reg.get_patient(ADMIN, pid).version == 1


def test_a_backup_keeps_links_and_reports(reg: Registry, checks: SymptomChecks, tmp_path: Path) -> None:
    pid = _patient(reg)
    made = checks.create_link(NAVIGATOR, pid)
    checks.submit(made.token, response(leg_numbness="yes"))
    archive = tmp_path / "r.backup"
    with archive.open("wb") as out:
        counts = reg.backup(ADMIN, out)
    assert counts["symptom_links"] == 1 and counts["symptom_submissions"] == 1
    copy = Registry.open(f"sqlite:///{tmp_path / 'copy.sqlite3'}", today=lambda: AS_OF)
    try:
        copy.restore(ADMIN, archive)
        again = SymptomChecks(copy)
        assert again.resolve(made.token)[0] == "active"
        assert [r.top_urgency for r in again.open_reports(ADMIN)] == ["emergency"]
    finally:
        copy.close()
