"""The registry's service layer on SQLite and PostgreSQL: writes, versions, assessments,
outreach, users, roles on every function, and an audit row for every write and every view."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from registry_support import ADMIN, AS_OF, NOON
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from hccwatch import InvalidRecordError
from hccwatch.registry import (
    LEAVE_REASONS,
    OUTCOMES,
    PERMISSIONS,
    ROLES,
    Action,
    Actor,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    Registry,
    RegistryError,
)
from hccwatch.registry.models import AuditEvent

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PASSWORD = "a long enough secret"


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def audit_count(reg: Registry) -> int:
    with reg.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def test_add_assess_and_read_back(registry: Registry) -> None:
    view = registry.add_patient(
        ADMIN, example("article-woman-back-pain"), name="A. Patient", phone="+1 555 0100"
    )
    assert view.version == 1
    assert view.assessment is not None and view.assessment_as_of == AS_OF
    assert view.assessment["alerts"][0]["id"] == "spinal_metastasis_suspected"
    again = registry.get_patient(ADMIN, view.id)
    assert again.record == view.record and again.name == "A. Patient"
    assert registry.find_patient(ADMIN, "article-woman-back-pain").id == view.id


def test_a_bad_record_is_named_and_nothing_is_stored(registry: Registry) -> None:
    bad = example("article-woman-back-pain") | {
        "labs": [{"test": "afp", "value": 5, "unit": "mg/L", "date": "2026-01-01"}]
    }
    with pytest.raises(InvalidRecordError) as info:
        registry.add_patient(ADMIN, bad)
    assert any("labs[0]" in p for p in info.value.problems)
    assert registry.count_patients(ADMIN) == 0
    assert audit_count(registry) == 0


def test_a_duplicate_record_id_is_refused(registry: Registry) -> None:
    registry.add_patient(ADMIN, example("article-woman-back-pain"))
    with pytest.raises(RegistryError, match="already in the registry"):
        registry.add_patient(ADMIN, example("article-woman-back-pain"))


def test_import_adds_updates_and_leaves_identical_records(registry: Registry) -> None:
    rec = example("rising-afp-after-ablation")
    assert registry.import_record(ADMIN, rec).status == "added"
    assert registry.import_record(ADMIN, rec).status == "unchanged"
    changed = rec | {"ecog": 3}
    result = registry.import_record(ADMIN, changed)
    assert result.status == "updated"
    view = registry.get_patient(ADMIN, result.patient_id)
    assert view.version == 2 and view.record["ecog"] == 3
    last = registry.audit_events(ADMIN, patient_id=view.id)[0]
    assert last.action == "patient.import" and last.before is not None and last.after is not None
    assert last.before["record"].get("ecog") != 3
    assert last.after["record"]["ecog"] == 3


def test_stale_version_is_a_conflict_and_nothing_is_overwritten(registry: Registry) -> None:
    view = registry.add_patient(ADMIN, example("rising-afp-after-ablation"))
    first = registry.update_record(ADMIN, view.id, view.record | {"ecog": 3}, expected_version=view.version)
    assert first.version == view.version + 1
    with pytest.raises(ConflictError) as info:
        registry.update_record(ADMIN, view.id, view.record | {"ecog": 2}, expected_version=view.version)
    assert info.value.current_version == first.version
    assert registry.get_patient(ADMIN, view.id).record["ecog"] == 3


def test_last_change_names_the_latest_writer_not_a_viewer(registry: Registry) -> None:
    pid = registry.add_patient(ADMIN, example("article-man-after-resection")).id
    registry.set_contact(
        Actor("nurse", "clinician"), pid, expected_version=1, name="N", phone=None, family_doctor=None
    )
    registry.record_view(ADMIN, pid)
    change = registry.last_change(Actor("reader", "readonly"), pid)
    assert change is not None and change.action == "patient.set_contact"
    assert change.actor == "nurse (command line)"


def test_concurrent_edits_race_and_exactly_one_wins(registry: Registry) -> None:
    """Two writers based on the same version at the same moment: one commits, one gets ConflictError."""
    view = registry.add_patient(ADMIN, example("rising-afp-after-ablation"))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def edit(ecog: int) -> None:
        barrier.wait()
        try:
            registry.update_record(
                ADMIN, view.id, view.record | {"ecog": ecog}, expected_version=view.version
            )
            outcomes.append(f"ok{ecog}")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=edit, args=(e,)) for e in (1, 2)]
    for t in threads:
        t.start()  # ecog 1 and 2 both differ from the stored 0
    for t in threads:
        t.join(60)
    assert sorted(o[:2] for o in outcomes) == ["co", "ok"], outcomes
    stored = registry.get_patient(ADMIN, view.id)
    assert stored.version == view.version + 1
    assert f"ok{stored.record['ecog']}" in outcomes


def test_assessment_follows_data_and_day(registry: Registry) -> None:
    rec = example("article-woman-back-pain")
    view = registry.add_patient(ADMIN, rec)
    assert registry.refresh_assessments(AS_OF) == 0  # nothing stale
    assert registry.refresh_assessments(AS_OF + dt.timedelta(days=1)) == 1
    assert registry.get_patient(ADMIN, view.id).assessment_as_of == AS_OF + dt.timedelta(days=1)
    without_symptoms = rec | {"symptoms": []}
    updated = registry.update_record(ADMIN, view.id, without_symptoms, expected_version=view.version)
    assert updated.assessment is not None
    assert "spinal_metastasis_suspected" not in [a["id"] for a in updated.assessment["alerts"]]
    # Stale rows from an older knowledge base are recomputed too.
    with registry.engine.begin() as conn:
        conn.execute(text("UPDATE assessments SET knowledge_version = 'old'"))
    assert registry.refresh_assessments(AS_OF) == 1


def test_worklist_order_groups_and_search(registry: Registry) -> None:
    for name in ("article-man-after-resection", "article-woman-back-pain", "bclc-c-lung-metastases",
                 "dialysis-decompensated", "si-units-missing-data"):  # fmt: skip
        registry.add_patient(ADMIN, example(name), name=name.replace("-", " ").title())
    rows = registry.worklist(ADMIN)
    ranks = [("emergency", "urgent", "soon", "routine", None).index(r.top_urgency) for r in rows]
    assert ranks == sorted(ranks)
    assert rows[0].top_urgency == "urgent"
    assert {r.record_id for r in registry.worklist(ADMIN, group="afp")} >= {"bclc-c-lung-metastases"}
    overdue = registry.worklist(ADMIN, group="overdue")
    assert overdue and all(r.overdue for r in overdue)
    assert [r.record_id for r in registry.worklist(ADMIN, search="WOMAN")] == ["article-woman-back-pain"]
    with pytest.raises(RegistryError, match="unknown worklist group"):
        registry.worklist(ADMIN, group="nonsense")  # type: ignore[arg-type]


def test_a_patient_who_died_is_not_assessed_nor_lost_and_the_worklist_says_why(registry: Registry) -> None:
    # The overdue patient of the order test, whose record says they died before the evaluation day.
    rec = example("article-man-after-resection")
    living = registry.add_patient(ADMIN, rec)
    assert living.assessment is not None
    died = registry.add_patient(ADMIN, rec | {"id": "died", "deceased_on": "2026-01-15"})
    assert died.assessment is None
    message = (
        "the record says the patient died on 2026-01-15: hccwatch assesses the follow-up of "
        "living patients, so nothing is assessed or due"
    )
    assert died.assessment_error == message
    (row,) = registry.worklist(ADMIN, group="not_assessed")
    assert (row.record_id, row.error, row.overdue, row.lost_to_follow_up) == ("died", message, None, False)
    for group in ("overdue", "lost", "due_soon", "alerts"):
        assert "died" not in [r.record_id for r in registry.worklist(ADMIN, group=group)], group
    counts = registry.worklist_counts(ADMIN)
    assert counts["not_assessed"] == 1


def test_outreach_outcomes_and_leaving_the_worklist(registry: Registry) -> None:
    view = registry.add_patient(ADMIN, example("article-man-after-resection"))
    for i, outcome in enumerate(OUTCOMES):
        if outcome in {"moved", "died", "discharged"}:
            continue
        registry.log_outreach(ADMIN, view.id, outcome, note=f"call {i}", at=NOON - dt.timedelta(days=20 - i))
    history = registry.outreach_history(ADMIN, view.id)
    assert [h.outcome for h in reversed(history)] == [
        o for o in OUTCOMES if o not in {"moved", "died", "discharged"}
    ]
    assert registry.worklist(ADMIN)[0].last_outreach == "test_done_elsewhere"
    registry.log_outreach(ADMIN, view.id, "moved", at=NOON)
    assert registry.worklist(ADMIN) == []
    off = registry.worklist(ADMIN, group="off_worklist")
    assert [(r.record_id, r.left_reason) for r in off] == [("article-man-after-resection", "moved")]
    back = registry.return_to_worklist(ADMIN, view.id, expected_version=off[0].version)
    assert back.on_worklist and back.left_reason is None
    for reason in LEAVE_REASONS:
        current = registry.get_patient(ADMIN, view.id)
        registry.leave_worklist(ADMIN, view.id, reason, expected_version=current.version)
        current = registry.get_patient(ADMIN, view.id)
        assert current.left_reason == reason
        registry.return_to_worklist(ADMIN, view.id, expected_version=current.version)
    with pytest.raises(RegistryError, match="unknown outreach outcome"):
        registry.log_outreach(ADMIN, view.id, "voicemail")
    with pytest.raises(RegistryError, match="unknown reason"):
        registry.leave_worklist(
            ADMIN, view.id, "bored", expected_version=registry.get_patient(ADMIN, view.id).version
        )
    with pytest.raises(NotFoundError):
        registry.log_outreach(ADMIN, 99999, "reached")


def test_users_passwords_and_login(registry: Registry) -> None:
    registry.add_user(ADMIN, "nina", "navigator", PASSWORD, display_name="Nina N.")
    with pytest.raises(RegistryError, match="already exists"):
        registry.add_user(ADMIN, "nina", "readonly", PASSWORD)
    with pytest.raises(RegistryError, match="at least"):
        registry.add_user(ADMIN, "short", "readonly", "short")
    with pytest.raises(RegistryError, match="unknown role"):
        registry.add_user(ADMIN, "x", "superuser", PASSWORD)
    nina = registry.authenticate("nina", PASSWORD)
    assert nina.role == "navigator" and nina.user_id is not None
    with registry.engine.connect() as conn:
        stored = conn.scalar(text("SELECT password_hash FROM users WHERE username = 'nina'"))
    assert str(stored).startswith("$argon2id$") and PASSWORD not in str(stored)
    for name, password in (("nina", "wrong password!"), ("nobody", PASSWORD)):
        with pytest.raises(AuthenticationError):
            registry.authenticate(name, password)
    registry.set_password(nina, "nina", "another long secret")  # one's own password
    registry.authenticate("nina", "another long secret")
    registry.disable_user(ADMIN, "nina")
    with pytest.raises(AuthenticationError):
        registry.authenticate("nina", "another long secret")
    assert [(u.username, u.active) for u in registry.list_users(ADMIN)] == [("nina", False)]
    actions = [e.action for e in registry.audit_events(ADMIN)]
    assert actions.count("user.login_failed") == 3 and "user.login" in actions
    assert all("password_hash" not in json.dumps(e.after or {}) for e in registry.audit_events(ADMIN))


def test_the_audit_log_is_append_only_in_the_database(registry: Registry) -> None:
    registry.add_patient(ADMIN, example("article-man-after-resection"))
    for statement in ("UPDATE audit_events SET actor = 'someone else'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), registry.engine.begin() as conn:
            conn.execute(text(statement))
    assert audit_count(registry) == 1


def _failed_restore(reg: Registry, actor: Actor) -> None:
    # Allowed, but into a registry that is not empty: refused whole, and nothing written.
    try:
        reg.restore(actor, EXAMPLES / "article-man-after-resection.json")
    except PermissionDeniedError:
        raise
    except RegistryError as exc:
        assert "cannot be read as a backup" in str(exc)
    else:
        pytest.fail("a file that is no backup was restored")


# Every service function with the action it needs; each write names the audit action it leaves.
Op = Callable[[Registry, Actor, int], object]
OPS: list[tuple[str, Action, str | None, Op]] = [
    ("get_patient", Action.VIEW, None, lambda r, a, p: r.get_patient(a, p)),
    ("find_patient", Action.VIEW, None, lambda r, a, p: r.find_patient(a, "article-man-after-resection")),
    ("count_patients", Action.VIEW, None, lambda r, a, p: r.count_patients(a)),
    ("last_change", Action.VIEW, None, lambda r, a, p: r.last_change(a, p)),
    ("worklist", Action.VIEW, None, lambda r, a, p: r.worklist(a)),
    ("worklist_counts", Action.VIEW, None, lambda r, a, p: r.worklist_counts(a)),
    ("outreach_history", Action.VIEW, None, lambda r, a, p: r.outreach_history(a, p)),
    ("record_view", Action.VIEW, "patient.view", lambda r, a, p: r.record_view(a, p)),
    (
        "add_patient",
        Action.EDIT_RECORD,
        "patient.add",
        lambda r, a, p: r.add_patient(a, example("article-man-after-resection") | {"id": f"new-{a.role}"}),
    ),
    (
        "update_record",
        Action.EDIT_RECORD,
        "patient.update_record",
        lambda r, a, p: r.update_record(
            a,
            p,
            r.get_patient(ADMIN, p).record | {"ecog": 4 - a.role.count("a")},
            expected_version=r.get_patient(ADMIN, p).version,
        ),
    ),
    (
        "set_contact",
        Action.EDIT_RECORD,
        "patient.set_contact",
        lambda r, a, p: r.set_contact(
            a, p, expected_version=r.get_patient(ADMIN, p).version, name="N", phone="1", family_doctor=None
        ),
    ),
    (
        "import_record",
        Action.IMPORT,
        "patient.import",
        lambda r, a, p: r.import_record(a, example("article-man-after-resection") | {"id": f"imp-{a.role}"}),
    ),
    ("log_outreach", Action.OUTREACH, "outreach.log", lambda r, a, p: r.log_outreach(a, p, "no_answer")),
    (
        "leave_worklist",
        Action.OUTREACH,
        "worklist.leave",
        lambda r, a, p: r.leave_worklist(
            a, p, "declined_follow_up", expected_version=r.get_patient(ADMIN, p).version
        ),
    ),
    (
        "return_to_worklist",
        Action.OUTREACH,
        "worklist.return",
        lambda r, a, p: r.return_to_worklist(a, p, expected_version=r.get_patient(ADMIN, p).version),
    ),
    (
        "refresh_assessments",
        Action.REFRESH,
        "assessments.refresh",
        lambda r, a, p: r.refresh_assessments(AS_OF + dt.timedelta(days=len(a.role)), actor=a),
    ),
    ("export_records", Action.EXPORT, "registry.export", lambda r, a, p: r.export_records(a)),
    ("backup", Action.BACKUP, "registry.backup", lambda r, a, p: r.backup(a, io.BytesIO())),
    ("restore", Action.BACKUP, None, lambda r, a, p: _failed_restore(r, a)),
    ("audit_events", Action.READ_AUDIT, None, lambda r, a, p: r.audit_events(a)),
    ("list_users", Action.MANAGE_USERS, None, lambda r, a, p: r.list_users(a)),
    (
        "add_user",
        Action.MANAGE_USERS,
        "user.add",
        lambda r, a, p: r.add_user(a, f"u-{a.role}", "readonly", PASSWORD),
    ),
    (
        "set_password",
        Action.MANAGE_USERS,
        "user.set_password",
        lambda r, a, p: r.set_password(a, "victim", PASSWORD + "!"),
    ),
    ("disable_user", Action.MANAGE_USERS, "user.disable", lambda r, a, p: r.disable_user(a, "victim")),
]


def test_every_service_function_is_listed() -> None:
    public = {n for n in vars(Registry) if not n.startswith("_") and callable(getattr(Registry, n))}
    assert public - {op[0] for op in OPS} == {"open", "close", "authenticate"}


def test_every_role_on_every_function_and_every_write_audited(registry: Registry) -> None:
    pid = registry.add_patient(ADMIN, example("article-man-after-resection")).id
    registry.add_user(ADMIN, "victim", "readonly", PASSWORD)
    actors = {}
    for role in ROLES:
        registry.add_user(ADMIN, f"as-{role}", role, PASSWORD)
        actors[role] = registry.authenticate(f"as-{role}", PASSWORD)
    for role, actor in actors.items():
        for name, action, audited, op in OPS:
            before = audit_count(registry)
            if action in PERMISSIONS[role]:
                op(registry, actor, pid)
                new = (
                    registry.audit_events(ADMIN, limit=audit_count(registry) - before)
                    if audit_count(registry) > before
                    else []
                )
                if audited is None:
                    assert new == [], f"{name} by {role} wrote audit rows {new}"
                else:
                    assert [e.action for e in new][-1:] == [audited] or audited in [e.action for e in new], (
                        name,
                        role,
                    )
                    assert all(e.actor == actor.label for e in new if e.action == audited)
            else:
                with pytest.raises(PermissionDeniedError):
                    op(registry, actor, pid)
                assert audit_count(registry) == before, f"a refused {name} by {role} left a trace"
