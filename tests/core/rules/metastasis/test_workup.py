"""Workup: one item per test, highest urgency, merged reasons; current evidence over the older list."""

from __future__ import annotations

import pytest
from metastasis_helpers import EARLY_MAN, symptom, with_

from hccwatch.core.finding import Urgency
from hccwatch.core.knowledge import default_knowledge
from hccwatch.core.rules.metastasis.model import WorkupRequest
from hccwatch.core.rules.metastasis.workup import build_workup, requests_for_alert
from support import context, record

CTX = context(record(**EARLY_MAN))


def _req(test: str, urgency: Urgency, because: str, suspicion: str) -> WorkupRequest:
    return WorkupRequest(test=test, urgency=urgency, because=because, suspicion=suspicion, citations=("X-1",))


def test_duplicates_merge_to_the_most_urgent_with_all_reasons() -> None:
    items = build_workup(
        CTX,
        [
            _req("chest_ct", "soon", "Cough", "lung_symptoms"),
            _req("chest_ct", "urgent", "Haemoptysis", "haemoptysis"),
            _req("afp", "routine", "Restaging", "weight_loss"),
        ],
    )
    assert [(w.test, w.urgency) for w in items] == [("chest_ct", "urgent"), ("afp", "routine")]
    chest = items[0]
    assert chest.reason.startswith("Cough. Haemoptysis. Chest CT rather than chest X-ray")
    assert chest.suspicion == "lung_symptoms, haemoptysis"
    assert chest.citations[0] == "X-1" and "KATYAL-2000" in chest.citations


@pytest.mark.parametrize(
    ("test", "older"),
    [
        pytest.param("chest_ct", "chest_xray", id="K-chest-x-ray-misses-small-nodules"),
        pytest.param("liver_multiphase_ct_or_mri", "abdominal_ultrasound", id="Sugiyama2004"),
        pytest.param("bone_imaging", "bone_scan", id="Seo2011-98-vs-53"),
        pytest.param("whole_spine_mri", "bone_xray", id="NICE-NG234-no-plain-x-ray"),
        pytest.param("fdg_pet_ct", None, id="Sugiyama2004-pet"),
        pytest.param("brain_mri", None, id="Han2010-mri"),
    ],
)
def test_instead_of_names_the_older_test(test: str, older: str | None) -> None:
    (item,) = build_workup(CTX, [_req(test, "soon", "Because", "s")])
    assert item.instead_of == older
    if older is not None:
        assert default_knowledge().text("en", f"test.{older}")


@pytest.mark.parametrize(
    ("urgency", "expected"),
    [
        pytest.param("emergency", {("head_ct", "emergency"), ("brain_mri", "urgent")}, id="acute-CT-first"),
        pytest.param("urgent", {("brain_mri", "urgent")}, id="subacute-MRI"),
        pytest.param("soon", {("brain_mri", "soon")}, id="headache-MRI-soon"),
    ],
)
def test_brain_tests_follow_the_onset(urgency: Urgency, expected: set[tuple[str, str]]) -> None:
    t = CTX.trace("alert.brain_metastasis_suspected")
    got = requests_for_alert(t, "brain_metastasis_suspected", urgency, "Brain")
    assert {(r.test, r.urgency) for r in got} == expected


def test_every_test_in_knowledge_has_a_reason() -> None:
    k = default_knowledge()
    for key, entry in k.entries.items():
        if key.startswith("metastasis.workup.tests."):
            assert isinstance(entry.value, dict) and entry.value["why"]


def test_the_woman_with_back_pain_gets_spine_and_bone_imaging() -> None:
    ctx = context(record(**with_(EARLY_MAN, symptoms=[symptom("back_pain")])))
    t = ctx.trace("alert.spinal_metastasis_suspected")
    tests = requests_for_alert(t, "spinal_metastasis_suspected", "urgent", "Back pain")
    assert [r.test for r in tests] == ["whole_spine_mri", "bone_imaging"]
