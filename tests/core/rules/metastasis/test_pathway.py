"""The metastasis pathway end to end, written as "situation -> expected alerts, workup and ranking".

Sources of the expectations: NICE CG75 key priorities (MSCC emergency and 24-hour pain patterns),
NICE NG234 (whole-spine MRI within 24 h, dexamethasone 16 mg), Seo 2011 (PET/CT over bone scan),
Sugiyama 2004 and Yoon 2021 (rising AFP with normal ultrasound), Han 2010 (haemorrhagic brain
metastases: CT first), Kwak 2012 (rupture -> peritoneum), Katyal 2000 / Uka 2007 (site order).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from metastasis_helpers import (
    EARLY_MAN,
    NORMAL_AFP,
    RISING_AFP,
    WOMAN_AFTER_5CM,
    afp_finding,
    alerts,
    ranking,
    run,
    study,
    symptom,
    tumour,
    with_,
    workup,
)

from hccwatch.core.finding import URGENCY_ORDER, Finding
from hccwatch.core.knowledge import default_knowledge
from hccwatch.core.rules.metastasis.model import ALERT_TITLES
from hccwatch.core.rules.metastasis.pathway import metastasis_pathway
from hccwatch.record.model import parse_record
from strategies import records
from strategies import symptom as symptom_strategy
from support import context

POPULATION_ORDER = ["lung", "lymph_node", "bone", "adrenal", "peritoneum", "brain"]
SPINAL_URGENT = {"spinal_metastasis_suspected": "urgent"}
SPINE_URGENT = {"whole_spine_mri": "urgent", "bone_imaging": "urgent"}
MSCC = {"mscc_suspected": "emergency"}
MRI_NOW = {"whole_spine_mri": "emergency"}
NOTHING: dict[str, str] = {}
MAN = EARLY_MAN


def _sym(*items: dict[str, Any]) -> dict[str, Any]:
    return with_(MAN, symptoms=list(items))


def _img(*items: dict[str, Any]) -> dict[str, Any]:
    return with_(MAN, imaging=list(items))


# (id, record fields, AFP finding, expected alerts, expected workup, expected head of the ranking)
SCENARIOS: list[tuple[str, dict[str, Any], Finding, dict[str, str], dict[str, str], list[str]]] = [
    # --- the article's two patients -----------------------------------------------------------
    ("article-1: man after resection of early HCC, routine follow-up", MAN, NORMAL_AFP, NOTHING, NOTHING,
     POPULATION_ORDER),
    (
        "article-2: woman 5 y after 5 cm resection, persistent back pain -> spine + bone workup (CG75)",
        with_(WOMAN_AFTER_5CM, symptoms=[symptom("back_pain", "2026-08-01")]),
        NORMAL_AFP,
        SPINAL_URGENT,
        SPINE_URGENT,
        ["bone", "lung"],
    ),
    (
        "article-2b: same woman with leg numbness -> MSCC emergency (CG75, NG234)",
        with_(WOMAN_AFTER_5CM, symptoms=[symptom("back_pain", "2026-08-01"), symptom("leg_numbness")]),
        NORMAL_AFP,
        {"mscc_suspected": "emergency", "spinal_metastasis_suspected": "urgent"},
        {"whole_spine_mri": "emergency", "bone_imaging": "urgent"},
        ["bone"],
    ),
    (
        "article-2c: lumbar, stable back pain -> review soon",
        with_(WOMAN_AFTER_5CM, symptoms=[symptom("back_pain", spinal_level="lumbar", progressive=False)]),
        NORMAL_AFP,
        {"spinal_metastasis_suspected": "soon"},
        {"whole_spine_mri": "soon", "bone_imaging": "soon"},
        ["bone"],
    ),
    # --- MSCC and spinal pain (NICE CG75) -------------------------------------------------------
    ("CG75: thoracic back pain", _sym(symptom("back_pain", spinal_level="thoracic")), NORMAL_AFP,
     SPINAL_URGENT, SPINE_URGENT, ["bone"]),
    ("CG75: progressive lumbar pain", _sym(symptom("back_pain", spinal_level="lumbar", progressive=True)),
     NORMAL_AFP, SPINAL_URGENT,
     SPINE_URGENT, ["bone"]),
    ("CG75: cervical (neck) pain", _sym(symptom("neck_pain")), NORMAL_AFP,
     SPINAL_URGENT, SPINE_URGENT, ["bone"]),
    ("CG75: night pain", _sym(symptom("night_pain")), NORMAL_AFP,
     SPINAL_URGENT, SPINE_URGENT, ["bone"]),
    ("CG75: pain worse on straining", _sym(symptom("pain_worse_on_straining")), NORMAL_AFP,
     SPINAL_URGENT, SPINE_URGENT, ["bone"]),
    ("CG75: radicular pain is a neurological symptom -> emergency", _sym(symptom("radicular_pain")),
     NORMAL_AFP,
     MSCC, MRI_NOW, ["bone"]),
    ("CG75: leg weakness", _sym(symptom("leg_weakness")), NORMAL_AFP,
     MSCC, MRI_NOW, ["bone"]),
    ("CG75: gait difficulty", _sym(symptom("gait_difficulty")), NORMAL_AFP,
     MSCC, MRI_NOW, ["bone"]),
    ("CG75: bladder or bowel dysfunction", _sym(symptom("bladder_bowel_dysfunction")), NORMAL_AFP,
     MSCC, MRI_NOW, ["bone"]),
    ("CG75: saddle numbness (cauda equina)", _sym(symptom("saddle_numbness")), NORMAL_AFP,
     MSCC, MRI_NOW, ["bone"]),
    # --- bone (Seo 2011) ----------------------------------------------------------------------
    ("Seo 2011: bone pain -> PET/CT or CT/MRI, not bone scan", _sym(symptom("bone_pain")), NORMAL_AFP,
     {"bone_metastasis_suspected": "soon"}, {"bone_imaging": "soon"}, ["bone"]),
    ("pathological fracture", _sym(symptom("pathological_fracture")), NORMAL_AFP,
     {"bone_metastasis_suspected": "urgent"}, {"bone_imaging": "urgent"}, ["bone"]),
    # --- brain (Han 2010, Lin 2017) -------------------------------------------------------------
    ("Han 2010: sudden headache -> head CT now, then MRI", _sym(symptom("headache", sudden=True)), NORMAL_AFP,
     {"brain_metastasis_suspected": "emergency"}, {"head_ct": "emergency", "brain_mri": "urgent"}, ["brain"]),
    ("confusion, not sudden -> brain MRI", _sym(symptom("confusion", sudden=False)), NORMAL_AFP,
     {"brain_metastasis_suspected": "urgent"}, {"brain_mri": "urgent"}, ["brain"]),
    ("focal weakness -> brain MRI", _sym(symptom("focal_weakness", sudden=False)), NORMAL_AFP,
     {"brain_metastasis_suspected": "urgent"}, {"brain_mri": "urgent"}, ["brain"]),
    ("seizure", _sym(symptom("seizure", sudden=False)), NORMAL_AFP,
     {"brain_metastasis_suspected": "urgent"}, {"brain_mri": "urgent"}, ["brain"]),
    ("headache, gradual, not progressive", _sym(symptom("headache", sudden=False, progressive=False)),
     NORMAL_AFP,
     {"brain_metastasis_suspected": "soon"}, {"brain_mri": "soon"}, ["brain"]),
    ("cranial nerve palsy (brain or skull base)", _sym(symptom("cranial_nerve_palsy")), NORMAL_AFP,
     {"brain_metastasis_suspected": "urgent"}, {"brain_mri": "urgent"}, ["bone", "brain"]),
    # --- lung, gut, peritoneum, nodes, general ------------------------------------------------
    ("haemoptysis -> chest CT", _sym(symptom("haemoptysis")), NORMAL_AFP,
     {"haemoptysis": "urgent"}, {"chest_ct": "urgent"}, ["lung"]),
    ("cough -> chest CT, not X-ray", _sym(symptom("cough")), NORMAL_AFP,
     {"lung_symptoms": "soon"}, {"chest_ct": "soon"}, ["lung"]),
    ("GI bleeding -> emergency endoscopy (Baveno VII)", _sym(symptom("gi_bleeding")), NORMAL_AFP,
     {"gi_bleeding": "emergency"}, {"upper_gi_endoscopy": "emergency"}, ["peritoneum"]),
    ("abdominal distension", _sym(symptom("abdominal_distension")), NORMAL_AFP,
     {"peritoneal_symptoms": "soon"}, {"abdomen_pelvis_ct_or_mri": "soon"}, ["peritoneum"]),
    ("jaundice (hilar nodes)", _sym(symptom("jaundice")), NORMAL_AFP,
     {"jaundice": "urgent"}, {"liver_multiphase_ct_or_mri": "urgent"}, ["lymph_node"]),
    ("weight loss -> restaging", _sym(symptom("weight_loss")), NORMAL_AFP,
     {"weight_loss": "soon"}, {"liver_multiphase_ct_or_mri": "soon", "chest_ct": "soon", "afp": "soon"},
     POPULATION_ORDER),
    # --- AFP (Sugiyama 2004, Yoon 2021) ---------------------------------------------------------
    ("article rule: AFP rising, ultrasound normal -> liver CT/MRI + chest CT", MAN, RISING_AFP,
     {"afp_rise": "soon"}, {"liver_multiphase_ct_or_mri": "soon", "chest_ct": "soon"}, POPULATION_ORDER),
    ("AFP rising, no imaging in 90 days", with_(MAN, imaging=[]), RISING_AFP,
     {"afp_rise": "soon"}, {"liver_multiphase_ct_or_mri": "soon", "chest_ct": "soon"}, POPULATION_ORDER),
    ("AFP rising, liver MRI and chest CT negative -> FDG PET-CT",
     _img(study("2026-10-01", "mri", "liver", "normal"), study("2026-10-01", "ct", "chest", "normal")),
     RISING_AFP, {"afp_rise": "soon"}, {"fdg_pet_ct": "soon"}, POPULATION_ORDER),
    ("Sugiyama 2004: AFP rising, PET also negative -> repeat liver imaging",
     _img(study("2026-10-01", "mri", "liver", "stable"), study("2026-10-01", "ct", "chest", "normal"),
          study("2026-10-20", "pet_ct", "whole_body", "normal")),
     RISING_AFP, {"afp_rise": "soon"}, {"liver_multiphase_ct_or_mri": "soon"}, POPULATION_ORDER),
    ("AFP raised and stable", MAN, afp_finding("stable", True, 35.0),
     {"afp_rise": "soon"}, {"liver_multiphase_ct_or_mri": "soon", "chest_ct": "soon"}, POPULATION_ORDER),
    ("AFP raised but falling after treatment -> no alert", MAN, afp_finding("falling", True, 60.0),
     {}, {}, POPULATION_ORDER),
    ("Shirabe 1997: AFP falling but not normalised well after resection -> liver CT/MRI + chest CT", MAN,
     afp_finding("falling", True, 60.0, normalisation="not_normalised"),
     {"afp_not_normalised": "soon"}, {"liver_multiphase_ct_or_mri": "soon", "chest_ct": "soon"},
     POPULATION_ORDER),
    ("AFP rising with a new liver lesion -> imaging explains it, restage",
     _img(study("2026-11-05", "ct", "abdomen", "new_lesion", {"site": "liver", "size_cm": 1.8, "new": True})),
     RISING_AFP, {"afp_rise": "soon", "imaging_new_lesion": "soon"}, {"chest_ct": "soon"}, POPULATION_ORDER),
    # --- imaging ------------------------------------------------------------------------------
    ("new lung nodule on chest CT",
     _img(study("2026-11-05", "ct", "chest", "new_lesion", {"site": "lung", "size_cm": 0.8, "new": True})),
     NORMAL_AFP, {"imaging_new_lesion": "soon"}, {"liver_multiphase_ct_or_mri": "soon"}, ["lung"]),
    ("new liver lesion on ultrasound -> multiphase CT/MRI, not more ultrasound",
     _img(study("2026-11-05", "ultrasound", "abdomen", "new_lesion", {"site": "liver", "size_cm": 1.2})),
     NORMAL_AFP, {"imaging_new_lesion": "soon"},
     {"liver_multiphase_ct_or_mri": "soon", "chest_ct": "soon"}, POPULATION_ORDER),
    ("new adrenal mass on abdominal CT -> adrenal protocol",
     _img(study("2026-11-05", "ct", "abdomen", "new_lesion", {"site": "adrenal", "size_cm": 2.4})),
     NORMAL_AFP, {"imaging_new_lesion": "soon"}, {"adrenal_ct_or_mri": "soon", "chest_ct": "soon"},
     ["adrenal"]),
    ("new brain lesion on MRI -> urgent (haemorrhage risk)",
     _img(study("2026-11-05", "mri", "brain", "new_lesion", {"site": "brain", "size_cm": 1.1})),
     NORMAL_AFP, {"imaging_new_lesion": "urgent"},
     {"liver_multiphase_ct_or_mri": "urgent", "chest_ct": "urgent"}, ["brain"]),
    ("indeterminate node on abdominal CT",
     _img(study("2026-11-05", "ct", "abdomen", "indeterminate", {"site": "lymph_node", "size_cm": 1.3})),
     NORMAL_AFP, {"imaging_indeterminate": "soon"}, {"abdomen_pelvis_ct_or_mri": "soon"}, ["lymph_node"]),
    ("progressing peritoneal deposits on pelvic MRI",
     _img(study("2026-11-05", "mri", "pelvis", "progression", {"site": "peritoneum", "count": 3})),
     NORMAL_AFP, {"imaging_new_lesion": "soon"},
     {"liver_multiphase_ct_or_mri": "soon", "chest_ct": "soon"}, ["peritoneum"]),
    ("new bone lesion on PET-CT",
     _img(study("2026-11-05", "pet_ct", "whole_body", "new_lesion", {"site": "bone", "size_cm": 2.0})),
     NORMAL_AFP, {"imaging_new_lesion": "soon"},
     {"liver_multiphase_ct_or_mri": "soon", "chest_ct": "soon"}, ["bone"]),
    ("an old abnormal chest CT superseded by a normal one -> nothing",
     _img(study("2025-05-01", "ct", "chest", "indeterminate", {"site": "lung"}),
          study("2025-08-01", "ct", "chest", "normal")),
     NORMAL_AFP, {}, {}, POPULATION_ORDER),
    # --- ranking adjustments -----------------------------------------------------------------
    ("Kwak 2012: ruptured tumour -> peritoneum first, no alert", with_(MAN, tumors=[tumour(ruptured=True)]),
     NORMAL_AFP, {}, {}, ["peritoneum", "lung"]),
    ("known bone metastasis, tumour by the IVC -> bone, then lung",
     with_(MAN, tumors=[tumour(near_ivc=True)], metastatic_sites=[{"site": "bone", "date": "2026-01-10"}]),
     NORMAL_AFP, {}, {}, ["bone", "lung", "lymph_node"]),
    ("known adrenal metastasis ranks first", with_(MAN, metastatic_sites=[{"site": "adrenal"}]),
     NORMAL_AFP, {}, {}, ["adrenal", "lung"]),
    # --- time window -------------------------------------------------------------------------
    ("symptom resolved before as_of -> nothing",
     _sym(symptom("leg_weakness", "2026-06-01", resolved="2026-07-01")), NORMAL_AFP, NOTHING, NOTHING,
     POPULATION_ORDER),
    ("symptom after as_of is invisible", _sym(symptom("haemoptysis", "2026-12-01")), NORMAL_AFP,
     {}, {}, POPULATION_ORDER),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "afp", "expected_alerts", "expected_workup", "head"),
    [pytest.param(*case[1:], id=case[0]) for case in SCENARIOS],
)
def test_scenario(
    fields: dict[str, Any],
    afp: Finding,
    expected_alerts: dict[str, str],
    expected_workup: dict[str, str],
    head: list[str],
) -> None:
    p = run(fields, afp)
    assert alerts(p) == expected_alerts
    assert workup(p) == expected_workup
    assert ranking(p)[: len(head)] == head


def test_scenarios_cover_every_alert_and_every_site() -> None:
    raised = {aid for case in SCENARIOS for aid in case[3]}
    assert raised == set(ALERT_TITLES)
    tops = {case[5][0] for case in SCENARIOS}
    assert set(POPULATION_ORDER) <= tops


def test_article_patient_1_has_no_alert_and_a_complete_finding() -> None:
    p = run(MAN)
    assert p.alerts == () and p.workup == ()
    assert p.metastasis.determined and p.metastasis.missing == ()
    assert "routine follow-up" in p.metastasis.explanation
    factors = p.metastasis["risk_factors"]
    assert isinstance(factors, list)
    assert all(isinstance(f, dict) and f["present"] is False for f in factors)


def test_article_patient_2_mscc_alert_carries_the_nice_actions() -> None:
    fields = with_(WOMAN_AFTER_5CM, symptoms=[symptom("back_pain"), symptom("leg_numbness")])
    first = run(fields).alerts[0]
    assert (first.id, first.urgency) == ("mscc_suspected", "emergency")
    text = " ".join(first.actions)
    for phrase in (
        "within 24 hours",
        "dexamethasone 16 mg",
        "log-roll",
        "spinal surgical / clinical oncology",
    ):
        assert phrase in text
    assert {"NICE-CG75", "NICE-NG234"} <= set(first.citations)
    assert "metastasis.red_flags.mscc.dexamethasone_mg" in first.unverified  # NG234 seen via summaries [S]


def test_alerts_are_sorted_most_urgent_first_and_keep_the_contract() -> None:
    fields = _sym(symptom("cough"), symptom("gi_bleeding"), symptom("jaundice"))
    p = run(fields, RISING_AFP)
    order = [URGENCY_ORDER[a.urgency] for a in p.alerts]
    assert order == sorted(order)
    for a in p.alerts:
        d = a.to_dict()
        assert {"id", "urgency", "title", "detail", "citations"} <= set(d) and d["citations"]
        assert "Urgency" in a.detail
    for w in p.workup:
        assert w.to_dict()["citations"]
    json.dumps(p.metastasis.to_dict(), allow_nan=False)


def test_workup_prefers_current_evidence_over_the_older_list() -> None:
    fields = _sym(symptom("cough"), symptom("back_pain", spinal_level="thoracic"))
    items = {w.test: w for w in run(fields, RISING_AFP).workup}
    assert items["chest_ct"].instead_of == "chest_xray"
    assert items["liver_multiphase_ct_or_mri"].instead_of == "abdominal_ultrasound"
    assert items["bone_imaging"].instead_of == "bone_scan"
    assert items["whole_spine_mri"].instead_of == "bone_xray"
    assert "98%" in items["bone_imaging"].reason  # Seo 2011


def test_afp_rise_with_normal_ultrasound_explains_the_evidence() -> None:
    detail = next(a.detail for a in run(MAN, RISING_AFP).alerts if a.id == "afp_rise")
    assert "AFP 48 ng/mL on 2026-11-01 is at or above 20 ng/mL; its trend is rising" in detail
    assert "38%" in detail and "FDG-PET/CT if both are negative" in detail


def test_explanation_states_each_present_factor_in_words() -> None:
    # "capsule" alone would read as a (protective) complete capsule; the reason says "incomplete".
    p = run(with_(MAN, tumors=[tumour(capsule="incomplete")], lymph_node_metastasis=True))
    assert "Risk factors present: capsule: incomplete." in p.metastasis.explanation
    assert "likelihood for this patient" not in p.metastasis.explanation
    assert "sites by likelihood: lymph node, lung" in p.metastasis.explanation


def test_unknown_afp_kinetics_is_a_gap_not_normal() -> None:
    p = run(MAN, afp_finding(None, None, None))
    assert p.alerts == ()
    assert {"afp.trend", "afp.above_threshold"} <= set(p.metastasis.missing)


def test_afp_finding_read_defensively() -> None:
    bare = Finding(rule="afp.kinetics", values={"trend": "rising"}, determined=True, explanation="x")
    p = run(MAN, bare)
    assert alerts(p) == {"afp_rise": "soon"}
    assert "AFP is rising." in p.alerts[0].detail


def test_every_alert_and_test_has_patient_words_in_english_and_chinese() -> None:
    k = default_knowledge()
    tests = {key.rsplit(".", 1)[1] for key in k.entries if key.startswith("metastasis.workup.tests.")}
    older = {"chest_xray", "abdominal_ultrasound", "bone_scan", "bone_xray"}
    required = {
        "liver_multiphase_ct_or_mri", "chest_ct", "chest_xray", "abdominal_ultrasound", "afp", "fdg_pet_ct",
        "whole_spine_mri", "bone_imaging", "bone_scan", "brain_mri", "head_ct", "adrenal_ct_or_mri",
        "abdomen_pelvis_ct_or_mri",
    }  # fmt: skip
    for lang in ("en", "zh"):
        for alert_id in ALERT_TITLES:
            assert k.text(lang, f"alert.{alert_id}")
        for test in tests | older | required:
            assert k.text(lang, f"test.{test}")


def test_end_to_end_through_assess() -> None:
    from hccwatch import assess

    data = {"id": "w", **with_(WOMAN_AFTER_5CM, symptoms=[symptom("back_pain", "2026-08-01")])}
    out = assess(parse_record(data), as_of="2026-11-24").to_dict()
    assert any(a["id"] == "spinal_metastasis_suspected" for a in out["alerts"])
    assert {w["test"] for w in out["workup"]} >= {"whole_spine_mri", "bone_imaging"}


# --- properties ----------------------------------------------------------------------------

AFPS = st.sampled_from(
    [NORMAL_AFP, RISING_AFP, afp_finding(None, None, None), afp_finding("falling", True, 80.0)]
)
RED_FLAGS = [
    "leg_weakness", "leg_numbness", "gait_difficulty", "bladder_bowel_dysfunction", "saddle_numbness",
    "radicular_pain", "back_pain", "neck_pain", "night_pain", "pain_worse_on_straining", "spinal_tenderness",
    "bone_pain", "pathological_fracture", "headache", "confusion", "seizure", "focal_weakness",
    "cranial_nerve_palsy", "haemoptysis", "gi_bleeding", "jaundice",
]  # fmt: skip
PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _highest(data: dict[str, Any], afp: Finding) -> int:
    p = metastasis_pathway(context(parse_record(data)), afp)
    return min((URGENCY_ORDER[a.urgency] for a in p.alerts), default=len(URGENCY_ORDER))


@PROPERTY
@given(records, AFPS, symptom_strategy, st.sampled_from(RED_FLAGS))
def test_adding_a_red_flag_never_lowers_the_highest_urgency(
    data: dict[str, Any], afp: Finding, extra: dict[str, Any], code: str
) -> None:
    before = _highest(data, afp)
    more = {**data, "symptoms": [*data.get("symptoms", []), {**extra, "code": code}]}
    assert _highest(more, afp) <= before


def _ids(data: dict[str, Any], afp: Finding) -> set[str]:
    return {a.id for a in metastasis_pathway(context(parse_record(data)), afp).alerts}


def _without_symptom_details(data: dict[str, Any]) -> dict[str, Any]:
    kept = ("code", "onset")
    return {**data, "symptoms": [{k: v for k, v in s.items() if k in kept} for s in data.get("symptoms", [])]}


@PROPERTY
@given(records, AFPS)
def test_removing_data_never_invents_an_alert(data: dict[str, Any], afp: Finding) -> None:
    full = _ids(data, afp)
    for field in [f for f in data if f != "id"]:
        smaller = {k: v for k, v in data.items() if k != field}
        assert _ids(smaller, afp) <= full, f"removing {field} invented an alert"
    assert _ids(_without_symptom_details(data), afp) <= full
    assert _ids(data, afp_finding(None, None, None)) <= full


@PROPERTY
@given(records, AFPS)
def test_one_workup_item_per_test_and_every_alert_cites(data: dict[str, Any], afp: Finding) -> None:
    p = metastasis_pathway(context(parse_record(data)), afp)
    tests = [w.test for w in p.workup]
    assert len(tests) == len(set(tests))
    assert all(a.citations for a in p.alerts) and all(w.citations for w in p.workup)
    assert p.metastasis.determined and p.metastasis.citations
