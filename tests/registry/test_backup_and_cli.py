"""The registry command line (import, export, backup, restore, demo, users) and the backup format,
on SQLite and PostgreSQL; a backup of one backend restores into the other."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from registry_support import ADMIN, AS_OF, PgCluster

from hccwatch.app.cli import main
from hccwatch.registry import Registry

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PASSWORD = "a long enough secret"


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_import_names_every_bad_input_and_keeps_the_rest(db_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "b", "labs": [{"test": "afp", "value": 5, "unit": "mg/L", "date": "2026-01-01"}]}')
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    absent = tmp_path / "absent.json"
    code, out, err = run(
        "registry", "import", str(EXAMPLES), str(bad), str(broken), str(absent),
        "--database", db_url, "--as-of", AS_OF.isoformat(),
    )  # fmt: skip
    assert code == 2
    assert "bad.json: labs[0]" in err and "broken.json" in err and "absent.json" in err
    examples = len(list(EXAMPLES.glob("*.json")))
    assert f"added {examples}, updated 0, unchanged 0, refused 3" in out
    code, out, _ = run("registry", "import", str(EXAMPLES), "--database", db_url)
    assert code == 0 and f"unchanged {examples}" in out


def test_export_then_import_elsewhere_gives_the_same_records(db_url: str, tmp_path: Path) -> None:
    run("registry", "import", str(EXAMPLES), "--database", db_url, "--as-of", AS_OF.isoformat())
    exported = tmp_path / "export.jsonl"
    code, _, err = run("registry", "export", "-o", str(exported), "--database", db_url)
    assert code == 0, err
    lines = exported.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(list(EXAMPLES.glob("*.json")))
    folder = tmp_path / "again"
    folder.mkdir()
    for line in lines:
        rec = json.loads(line)
        (folder / f"{rec['id']}.json").write_text(line, encoding="utf-8")
    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    code, out, _ = run("registry", "import", str(folder), "--database", other, "--as-of", AS_OF.isoformat())
    assert code == 0 and f"added {len(lines)}" in out


def _fill(url: str) -> None:
    assert run("registry", "demo", "--database", url)[0] == 0
    assert (
        run("users", "add", "nina", "--role", "navigator", "--database", url, stdin=PASSWORD + "\n")[0] == 0
    )


def _state(url: str) -> tuple[object, ...]:
    reg = Registry.open(url, today=lambda: AS_OF)
    try:
        worklist = [
            (r.record_id, r.top_urgency, r.days_overdue, r.last_outreach) for r in reg.worklist(ADMIN)
        ]
        audit = [(e.action, e.actor, e.before, e.after) for e in reg.audit_events(ADMIN, limit=100_000)]
        users = [(u.username, u.role, u.active) for u in reg.list_users(ADMIN)]
        return worklist, audit, users, [json.dumps(r, sort_keys=True) for r in reg.export_records(ADMIN)]
    finally:
        reg.close()


def test_backup_restores_into_the_other_backend(db_url: str, tmp_path: Path, pg_cluster: PgCluster) -> None:
    _fill(db_url)
    archive = tmp_path / "registry.backup"
    code, out, err = run("registry", "backup", str(archive), "--database", db_url)
    assert code == 0, err
    assert "patients 52" in out
    target = (
        pg_cluster.new_database()
        if db_url.startswith("sqlite")
        else f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    )
    code, out, err = run("registry", "restore", str(archive), "--database", target)
    assert code == 0, err
    before, after = _state(db_url), _state(target)
    assert before[0] == after[0] and before[2] == after[2] and before[3] == after[3]
    # The same audit trail (the backup's own row included), then the restore.
    assert before[1][0][0] == "registry.backup" and after[1][0][0] == "registry.restore"
    assert after[1][1:] == before[1]
    # The restored registry keeps working: new rows get fresh ids.
    reg = Registry.open(target, today=lambda: AS_OF)
    reg.add_user(ADMIN, "after-restore", "readonly", PASSWORD)
    reg.close()
    code, _, err = run("registry", "restore", str(archive), "--database", target)
    assert code != 0 and "empty registry" in err


def test_restore_refuses_what_is_not_a_backup(tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.write_bytes(b"not a backup")
    code, _, err = run("registry", "restore", str(junk), "--database", f"sqlite:///{tmp_path / 'r.sqlite3'}")
    assert code != 0 and "cannot be read as a backup" in err


def test_users_commands_read_the_password_from_stdin_never_an_argument(db_url: str) -> None:
    code, out, err = run(
        "users", "add", "cleo", "--role", "clinician", "--database", db_url, stdin=PASSWORD + "\n"
    )
    assert code == 0, err
    code, out, _ = run("users", "list", "--database", db_url)
    assert "cleo" in out and "clinician" in out and "active" in out
    code, _, err = run("users", "set-password", "cleo", "--database", db_url, stdin="short\n")
    assert code != 0 and "at least" in err
    assert run("users", "set-password", "cleo", "--database", db_url, stdin="a new long secret\n")[0] == 0
    assert run("users", "disable", "cleo", "--database", db_url)[0] == 0
    assert "disabled" in run("users", "list", "--database", db_url)[1]
    code, _, err = run("users", "add", "dan", "--role", "admin", "--password", PASSWORD, "--database", db_url)
    assert code == 2 and "No such option" in err
    code, _, err = run("users", "add", "eve", "--role", "admin", "--database", db_url, stdin="")
    assert code != 0 and "no password" in err


@pytest.mark.parametrize("env_name", ["HCCWATCH_DATA_DIR"])
def test_the_default_database_is_a_sqlite_file_in_the_data_dir(
    env_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HCCWATCH_DATABASE_URL", raising=False)
    monkeypatch.setenv(env_name, str(tmp_path / "data"))
    code, out, err = run("registry", "import", str(EXAMPLES / "article-woman-back-pain.json"))
    assert code == 0, err
    assert (tmp_path / "data" / "registry.sqlite3").is_file()


def test_import_reads_fhir_bundles_and_a_bulk_ndjson_of_many_patients(db_url: str, tmp_path: Path) -> None:
    bundles = sorted((EXAMPLES / "fhir").glob("*.bundle.json"))
    assert len(bundles) >= 2
    code, out, err = run(
        "registry", "import", *map(str, bundles), "--database", db_url, "--as-of", AS_OF.isoformat()
    )
    assert code == 0, err
    assert f"added {len(bundles)}" in out
    # A Bulk Data export: one resource a line, resources of several patients mixed in one file.
    resources = [e["resource"] for b in bundles for e in json.loads(b.read_text(encoding="utf-8"))["entry"]]
    resources.sort(key=lambda r: r["resourceType"])
    bulk = tmp_path / "export.ndjson"
    bulk.write_text("".join(json.dumps(r) + "\n" for r in resources), encoding="utf-8")
    other = f"sqlite:///{tmp_path / 'bulk.sqlite3'}"
    code, out, err = run("registry", "import", str(bulk), "--database", other, "--as-of", AS_OF.isoformat())
    assert code == 0, err
    assert f"added {len(bundles)}" in out
    broken = tmp_path / "broken.ndjson"
    broken.write_text('{"resourceType": "Patient", "id": "p"}\n{oops\n', encoding="utf-8")
    code, out, err = run("registry", "import", str(broken), "--database", other)
    assert code == 2 and "broken.ndjson line 2" in err
