"""The demo registry: deterministic, valid, and covering every alert level, phase, stage,
schedule state and outreach outcome the worklist has to show."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_support import ADMIN, AS_OF

from hccwatch import parse_record
from hccwatch.registry import OUTCOMES, Registry, RegistryError
from hccwatch.registry.demo import demo_patients, load_demo


def test_the_same_date_gives_the_same_patients() -> None:
    assert demo_patients(AS_OF) == demo_patients(AS_OF)
    assert demo_patients(AS_OF) != demo_patients(AS_OF + dt.timedelta(days=1))
    patients = demo_patients(AS_OF)
    assert 45 <= len(patients) <= 60
    assert len({p.record["id"] for p in patients}) == len(patients)
    for p in patients:
        parse_record(p.record)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    folder: Path = tmp_path_factory.mktemp("demo")
    reg = Registry.open(f"sqlite:///{folder / 'demo.sqlite3'}", today=lambda: AS_OF)
    load_demo(reg, ADMIN, AS_OF)
    yield reg
    reg.close()


def test_it_covers_every_state_the_worklist_shows(demo: Registry) -> None:
    rows = demo.worklist(ADMIN)
    assert all(r.error is None for r in rows)
    assert {"emergency", "urgent", "soon", None} <= {r.top_urgency for r in rows}
    assert {"A", "B", "C", "D"} <= {r.bclc_stage for r in rows}
    assert {"post_curative", "post_locoregional", "on_systemic", "post_transplant"} <= {r.phase for r in rows}
    assert any(r.afp_suspicious and r.afp_trend == "rising" for r in rows)
    overdue = [r.days_overdue for r in rows if r.overdue]
    assert any(d is not None and d < 90 for d in overdue)
    lost = demo.worklist(ADMIN, group="lost")
    assert lost and all(r.lost_to_follow_up and r.days_overdue and r.days_overdue > 365 for r in lost)
    assert not {r.record_id for r in lost} & {r.record_id for r in demo.worklist(ADMIN, group="overdue")}
    assert demo.worklist(ADMIN, group="due_soon"), "someone due within 30 days"
    assert any(r.overdue is False for r in rows)
    off = demo.worklist(ADMIN, group="off_worklist")
    assert {r.left_reason for r in off} == {"moved", "died", "discharged"}
    outcomes = {h.outcome for r in rows + off for h in demo.outreach_history(ADMIN, r.patient_id)}
    assert outcomes == set(OUTCOMES)
    profiles = {demo.get_patient(ADMIN, r.patient_id).record.get("surveillance_profile") for r in rows}
    assert {"aasld_2023", "easl", "china_2024"} <= profiles


def test_the_counts_agree_with_the_groups(demo: Registry) -> None:
    counts = demo.worklist_counts(ADMIN)
    assert counts["all"] == len(demo.worklist(ADMIN))
    for group in ("alerts", "afp", "overdue", "lost", "due_soon", "not_assessed", "off_worklist"):
        assert counts[group] == len(demo.worklist(ADMIN, group=group)), group  # type: ignore[arg-type]


def test_the_demo_only_fills_an_empty_registry(demo: Registry) -> None:
    with pytest.raises(RegistryError, match="empty registry"):
        load_demo(demo, ADMIN, AS_OF)
