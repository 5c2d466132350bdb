"""A process killed (SIGKILL, no clean-up) in the middle of an import loses nothing it committed
and leaves no half patient: every stored patient has its assessment and its audit row."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from registry_support import ADMIN, AS_OF
from sqlalchemy import create_engine, func, select, text

from hccwatch.registry import Registry
from hccwatch.registry.demo import demo_patients
from hccwatch.registry.models import AssessmentRow, AuditEvent, Patient

TOTAL = 520
KILL_AFTER = 25


def _write_records(folder: Path) -> None:
    folder.mkdir()
    base = demo_patients(AS_OF)
    for i in range(TOTAL):
        rec = dict(base[i % len(base)].record, id=f"kill-{i:04d}")
        (folder / f"{i:04d}.json").write_text(json.dumps(rec), encoding="utf-8")


def _import(folder: Path, url: str, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "hccwatch.app.cli", "registry", "import", str(folder),
               "--database", url, "--as-of", AS_OF.isoformat()]  # fmt: skip
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)


def _counts(url: str) -> tuple[int, int, int, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            patients = conn.scalar(select(func.count()).select_from(Patient)) or 0
            assessed = (
                conn.scalar(
                    select(func.count())
                    .select_from(Patient)
                    .join(AssessmentRow, AssessmentRow.patient_id == Patient.id)
                    .where(AssessmentRow.patient_version == Patient.version)
                )
                or 0
            )
            audited = (
                conn.scalar(
                    select(func.count(func.distinct(AuditEvent.patient_id))).where(
                        AuditEvent.action == "patient.import"
                    )
                )
                or 0
            )
            orphans = (
                conn.scalar(
                    select(func.count())
                    .select_from(AssessmentRow)
                    .where(AssessmentRow.patient_id.not_in(select(Patient.id)))
                )
                or 0
            )
        return patients, assessed, audited, orphans
    finally:
        engine.dispose()


def test_kill_9_mid_import_loses_nothing_committed(db_url: str, tmp_path: Path) -> None:
    Registry.open(db_url).close()  # migrated before, so the child only imports
    folder = tmp_path / "records"
    _write_records(folder)
    log = tmp_path / "import.log"
    child = _import(folder, db_url, log)
    deadline = time.monotonic() + 300
    try:
        while _counts(db_url)[0] < KILL_AFTER:
            assert child.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the import made no progress"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(60)
    assert child.returncode == -signal.SIGKILL
    patients, assessed, audited, orphans = _counts(db_url)
    assert KILL_AFTER <= patients < TOTAL, "the kill did not land mid-import"
    assert (assessed, audited, orphans) == (patients, patients, 0), "a half patient was left behind"
    if db_url.startswith("sqlite"):
        engine = create_engine(db_url)
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        engine.dispose()
    # The same import run again finishes the job: what was committed is left as it is.
    again = _import(folder, db_url, log)
    again.wait(600)
    assert again.returncode == 0, log.read_text()
    assert f"unchanged {patients}" in log.read_text()
    assert _counts(db_url) == (TOTAL, TOTAL, TOTAL, 0)
    reg = Registry.open(db_url)
    assert reg.count_patients(ADMIN) == TOTAL
    reg.close()
