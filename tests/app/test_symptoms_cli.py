"""``hccwatch symptoms due|link|report`` on a SQLite registry."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

from click.testing import CliRunner

from hccwatch.app.cli import main
from hccwatch.registry import Actor, Registry
from hccwatch.registry.symptom_checks import SymptomChecks
from symptom_answers import response

AS_OF = dt.date(2026, 11, 24)
ADMIN = Actor("cli:test", "admin")


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def _registry(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    reg = Registry.open(url, today=lambda: AS_OF)
    record = {"id": "P-5", "treatments": [{"type": "resection", "date": "2025-06-01"}]}
    reg.add_patient(ADMIN, record, name="Bo", phone="+1 555 0123")
    reg.close()
    return url


def test_link_prints_a_working_link_once(tmp_path: Path) -> None:
    url = _registry(tmp_path)
    code, out, err = _run("symptoms", "link", "P-5", "--database", url, "--base-url", "https://hcc.example")
    assert code == 0, err
    assert out.startswith("https://hcc.example/s/") and "shown only now" in err
    reg = Registry.open(url, today=lambda: AS_OF)
    try:
        assert SymptomChecks(reg).resolve(out.strip().rsplit("/", 1)[1])[0] == "active"
    finally:
        reg.close()
    code, _, err = _run("symptoms", "link", "NOPE", "--database", url)
    assert code == 1 and "no patient with record id" in err and "Traceback" not in err


def test_due_lists_overdue_checks_for_an_sms_system(tmp_path: Path) -> None:
    url = _registry(tmp_path)
    _run("symptoms", "link", "P-5", "--database", url)
    code, out, _ = _run("symptoms", "due", "--database", url, "--as-of", "2030-01-01")
    assert code == 0
    (row,) = list(csv.DictReader(io.StringIO(out)))
    assert row["patient_ref"] == "P-5" and row["phone"] == "+1 555 0123" and row["link_status"] == "active"
    code, out, _ = _run("symptoms", "due", "--database", url, "--as-of", "2000-01-01", "--format", "json")
    assert code == 0 and json.loads(out) == []


def test_report_gives_completion_and_acknowledgement_times(tmp_path: Path) -> None:
    url = _registry(tmp_path)
    reg = Registry.open(url, today=lambda: AS_OF)
    try:
        checks = SymptomChecks(reg)
        pid = reg.find_patient(ADMIN, "P-5").id
        checks.submit(checks.create_link(ADMIN, pid).token, response())
    finally:
        reg.close()
    later = (dt.date.today() + dt.timedelta(days=14)).isoformat()
    code, out, _ = _run("symptoms", "report", "--database", url, "--as-of", later, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["patients"][0]["expected"] == 2 and data["clinic"]["completed"] == 1
    code, out, _ = _run("symptoms", "report", "--database", url, "--as-of", later)
    assert code == 0 and "Clinic:" in out and "Emergencies reported: 0" in out
