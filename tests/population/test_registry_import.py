"""``hccwatch registry import RESULT_DIR``: a batch result's cohort goes into the registry through
``Registry.import_record`` (assessed again with the same ``assess``), and a rerun changes nothing.
SQLite always; PostgreSQL through the registry tests' throwaway cluster when it can be started."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from hccwatch.app.cli import main
from hccwatch.population.run import run_batch
from hccwatch.registry import Actor, Registry

ADMIN = Actor("cli:test", "admin")


@pytest.fixture(scope="module")
def result(export_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("batch-import") / "result"
    run_batch(export_dir, out)  # the real FHIR adapter
    return out


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    from registry.registry_support import PG_SKIP, PgUnavailableError, throwaway_cluster

    try:
        with throwaway_cluster() as cluster:
            yield cluster.new_database()
    except PgUnavailableError as exc:
        pytest.skip(PG_SKIP.format(exc))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    url: str = request.getfixturevalue("pg_url")
    return url


def _import(*args: str) -> tuple[int, str, str]:
    done = CliRunner().invoke(main, ["registry", "import", *args])
    return done.exit_code, done.stdout, done.stderr


def _assessed(result: Path) -> list[str]:
    with (result / "worklist.csv").open() as fh:
        return [r["patient_id"] for r in csv.DictReader(fh) if r["status"] == "assessed"]


def test_a_batch_result_loads_its_cohort_once(result: Path, db_url: str) -> None:
    assessed = _assessed(result)
    assert assessed
    code, out, err = _import(str(result), "--database", db_url)
    assert code == 0, err
    assert out.startswith(f"added {len(assessed)}, updated 0, unchanged 0, refused 0 (batch result result:")
    assert "as of 2026-11-24" in out
    # Idempotent: the same records again change nothing.
    code, out, err = _import(str(result), "--database", db_url)
    assert code == 0, err
    assert out.startswith(f"added 0, updated 0, unchanged {len(assessed)}, refused 0")
    registry = Registry.open(db_url)
    try:
        stored = sorted(r["id"] for r in registry.export_records(ADMIN))
    finally:
        registry.close()
    assert stored == sorted(assessed)


def test_the_registry_assesses_as_the_batch_did(result: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    assert _import(str(result), "--database", url)[0] == 0
    batch = {
        a["record_id"]: a for a in map(json.loads, (result / "assessments.jsonl").read_text().splitlines())
    }
    registry = Registry.open(url)
    try:
        for pid, expected in batch.items():
            stored = registry.find_patient(ADMIN, pid)
            assert stored.assessment_as_of == dt.date(2026, 11, 24)
            assert stored.assessment is not None
            assert [a["id"] for a in stored.assessment["alerts"]] == [a["id"] for a in expected["alerts"]]
            assert stored.assessment["surveillance"] == expected["surveillance"], pid
    finally:
        registry.close()


def test_refusals_are_named_and_the_rest_still_load(result: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for p in result.iterdir():
        (broken / p.name).write_bytes(p.read_bytes())
    lines = (broken / "records.jsonl").read_text().splitlines()
    lines[0] = "{not json"
    (broken / "records.jsonl").write_text("\n".join(lines) + "\n")
    code, out, err = _import(str(broken), "--database", f"sqlite:///{tmp_path / 'r.sqlite3'}")
    assert code == 2
    assert "records.jsonl line 1: not JSON; skipped" in err
    assert out.startswith(f"added {len(lines) - 1}, updated 0, unchanged 0, refused 1")


def test_an_older_result_without_records_is_refused_plainly(result: Path, tmp_path: Path) -> None:
    old = tmp_path / "old"
    old.mkdir()
    for name in ("summary.json", "worklist.csv"):
        (old / name).write_bytes((result / name).read_bytes())
    code, _, err = _import(str(old), "--database", f"sqlite:///{tmp_path / 'r.sqlite3'}")
    assert code == 1
    assert "without records.jsonl" in err and "Traceback" not in err
