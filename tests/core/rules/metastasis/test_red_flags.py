"""Red-flag triage: each symptom -> alert and urgency (NICE CG75 key priorities, Han 2010, Baveno VII)."""

from __future__ import annotations

from typing import Any

import pytest
from metastasis_helpers import EARLY_MAN, symptom, with_

from hccwatch.core.rules.metastasis.red_flags import red_flag_suspicions
from support import context, record

MSCC, SPINE = "mscc_suspected", "spinal_metastasis_suspected"
BRAIN, BONE = "brain_metastasis_suspected", "bone_metastasis_suspected"


def _triage(*symptoms: dict[str, Any]) -> tuple[dict[str, str], tuple[str, ...]]:
    ctx = context(record(**with_(EARLY_MAN, symptoms=list(symptoms))))
    t = ctx.trace("metastasis.sites")
    found = red_flag_suspicions(ctx, t)
    return {s.id: s.urgency for s in found}, t.missing


@pytest.mark.parametrize(
    ("sym", "expected"),
    [
        # NICE CG75: neurological symptoms -> contact immediately, an oncological emergency
        pytest.param(symptom("leg_weakness"), {MSCC: "emergency"}, id="CG75-limb-weakness"),
        pytest.param(symptom("leg_numbness"), {MSCC: "emergency"}, id="CG75-sensory-loss"),
        pytest.param(symptom("gait_difficulty"), {MSCC: "emergency"}, id="CG75-difficulty-walking"),
        pytest.param(symptom("bladder_bowel_dysfunction"), {MSCC: "emergency"}, id="CG75-sphincter"),
        pytest.param(symptom("saddle_numbness"), {MSCC: "emergency"}, id="CG75-cauda-equina"),
        pytest.param(symptom("radicular_pain"), {MSCC: "emergency"}, id="CG75-radicular-pain"),
        # NICE CG75: pain suggestive of spinal metastases -> within 24 hours
        pytest.param(
            symptom("back_pain", spinal_level="thoracic"),
            {SPINE: "urgent"},
            id="CG75-thoracic",
        ),
        pytest.param(
            symptom("back_pain", spinal_level="cervical"),
            {SPINE: "urgent"},
            id="CG75-cervical",
        ),
        pytest.param(symptom("neck_pain"), {SPINE: "urgent"}, id="CG75-neck"),
        pytest.param(
            symptom("back_pain", spinal_level="lumbar", progressive=True),
            {SPINE: "urgent"},
            id="CG75-progressive-lumbar",
        ),
        pytest.param(symptom("pain_worse_on_straining"), {SPINE: "urgent"}, id="CG75-straining"),
        pytest.param(symptom("spinal_tenderness"), {SPINE: "urgent"}, id="CG75-tenderness"),
        pytest.param(symptom("night_pain"), {SPINE: "urgent"}, id="CG75-nocturnal"),
        pytest.param(
            symptom("back_pain", spinal_level="lumbar", progressive=False),
            {SPINE: "soon"},
            id="policy-stable-lumbar",
        ),
        pytest.param(symptom("bone_pain"), {BONE: "soon"}, id="Seo2011-bone-pain"),
        pytest.param(symptom("pathological_fracture"), {BONE: "urgent"}, id="fracture"),
        # Han 2010: 70% stroke-like onset from haemorrhage
        pytest.param(symptom("headache", sudden=True), {BRAIN: "emergency"}, id="Han2010"),
        pytest.param(symptom("seizure", sudden=True), {BRAIN: "emergency"}, id="seizure-sudden"),
        pytest.param(symptom("focal_weakness"), {BRAIN: "urgent"}, id="focal-weakness"),
        pytest.param(symptom("headache", progressive=True), {BRAIN: "urgent"}, id="headache-progressive"),
        pytest.param(symptom("headache"), {BRAIN: "soon"}, id="headache"),
        pytest.param(symptom("haemoptysis"), {"haemoptysis": "urgent"}, id="haemoptysis"),
        pytest.param(symptom("gi_bleeding"), {"gi_bleeding": "emergency"}, id="Baveno-VII-bleeding"),
        pytest.param(symptom("dyspnoea"), {"lung_symptoms": "soon"}, id="dyspnoea"),
        pytest.param(symptom("chest_pain"), {"lung_symptoms": "soon"}, id="chest-pain"),
        pytest.param(symptom("abdominal_pain"), {"peritoneal_symptoms": "soon"}, id="abdominal-pain"),
        pytest.param(symptom("jaundice"), {"jaundice": "urgent"}, id="jaundice"),
        pytest.param(symptom("weight_loss"), {"weight_loss": "soon"}, id="weight-loss"),
    ],
)
def test_symptom_triage(sym: dict[str, Any], expected: dict[str, str]) -> None:
    assert _triage(sym)[0] == expected


def test_unknown_details_are_named_as_gaps() -> None:
    found, missing = _triage(symptom("back_pain"), symptom("headache"))
    assert found == {SPINE: "urgent", "brain_metastasis_suspected": "soon"}
    assert {"symptoms.back_pain.spinal_level", "symptoms.headache.sudden"} <= set(missing)


def test_only_the_strongest_reading_of_a_symptom_is_reported() -> None:
    ctx = context(record(**with_(EARLY_MAN, symptoms=[symptom("back_pain")])))
    (s,) = red_flag_suspicions(ctx, ctx.trace("metastasis.sites"))
    assert len(s.reasons) == 1 and "thoracic" in s.reasons[0]
    assert "metastasis.red_flags.triggers.spinal_pain_other" not in s.unverified


def test_several_symptoms_of_one_alert_merge_into_one() -> None:
    found, _ = _triage(symptom("leg_weakness"), symptom("bladder_bowel_dysfunction"), symptom("night_pain"))
    assert found == {MSCC: "emergency", "spinal_metastasis_suspected": "urgent"}


def test_brain_emergency_asks_for_head_ct_first() -> None:
    ctx = context(record(**with_(EARLY_MAN, symptoms=[symptom("confusion", sudden=True)])))
    (s,) = red_flag_suspicions(ctx, ctx.trace("metastasis.sites"))
    assert {(r.test, r.urgency) for r in s.tests} == {("head_ct", "emergency"), ("brain_mri", "urgent")}
    assert "head CT now" in s.actions[0]


@pytest.mark.parametrize(
    ("liver", "caveat"),
    [
        ({"cirrhosis": True, "encephalopathy": "grade_3_4"}, True),
        ({"cirrhosis": True}, True),
        ({"cirrhosis": False, "encephalopathy": "none"}, False),
        ({}, False),
    ],
)
def test_confusion_in_liver_disease_names_hepatic_encephalopathy_first(
    liver: dict[str, Any], caveat: bool
) -> None:
    # A hepatologist reads confusion in cirrhosis as encephalopathy until shown otherwise
    # (AASLD/EASL HE guideline); the brain alert keeps its urgency but says so.
    ctx = context(record(**with_(EARLY_MAN, liver=liver, symptoms=[symptom("confusion")])))
    (s,) = red_flag_suspicions(ctx, ctx.trace("metastasis.sites"))
    assert s.urgency == "urgent"
    assert any("hepatic encephalopathy" in r for r in s.reasons) is caveat
    assert ("VILSTRUP-2014" in s.citations) is caveat
