"""Options for extrahepatic disease (clinical reference §7): to discuss, never orders."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from hccwatch import parse_record
from hccwatch.core.finding import Finding, TreatmentOption
from hccwatch.core.knowledge import default_knowledge
from hccwatch.core.rules.recurrence.treatment_options import treatment_options
from strategies import records
from support import AS_OF, context, labs, record

CHECKPOINT = {
    "systemic.atezolizumab_bevacizumab", "systemic.durvalumab_tremelimumab", "systemic.nivolumab_ipilimumab",
    "systemic.camrelizumab_rivoceranib", "systemic.durvalumab", "systemic.tislelizumab",
}  # fmt: skip
STATUSES = {"candidate", "not_candidate", "cannot_determine", "contraindicated"}


def child_pugh(cls: str | None) -> Finding:
    return Finding(
        rule="scores.child_pugh", values={"class": cls}, determined=cls is not None, explanation=""
    )


def options(cp: str | None = "A", **fields: Any) -> dict[str, TreatmentOption]:
    ctx = context(record(**fields))
    found = treatment_options(
        ctx, scores={"child_pugh": child_pugh(cp)}, staging={}, transplant={}, metastasis=child_pugh(None)
    )
    return {o.id: o for o in found}


def oligo_lung(detected: str, **extra: Any) -> dict[str, Any]:
    """Two resectable lung nodules after a resection of 2023-01-10; liver clear on later imaging."""
    fields: dict[str, Any] = {
        "ecog": 0,
        "treatments": [{"type": "resection", "date": "2023-01-10"}],
        "metastatic_sites": [{"site": "lung", "count": 2, "date": detected, "resectable": True}],
        "imaging": [{"date": "2026-10-01", "modality": "ct", "region": "abdomen", "result": "normal"}],
        "liver": {"varices": "none", "varices_assessed_on": "2026-09-01"},
    }
    return {**fields, **extra}


def site(organ: str, **changes: Any) -> dict[str, Any]:
    return {"site": organ, "count": 1, "date": "2024-09-10", "resectable": True, **changes}


# --- when options apply ---


@pytest.mark.parametrize(
    "fields",
    [{}, {"extrahepatic_metastasis": False}, {"lymph_node_metastasis": False}, {"metastatic_sites": []}],
)
def test_no_extrahepatic_disease_gives_no_options(fields: dict[str, Any]) -> None:
    assert options(**fields) == {}


@pytest.mark.parametrize(
    "fields",
    [
        {"extrahepatic_metastasis": True},
        {"lymph_node_metastasis": True},
        {"metastatic_sites": [{"site": "adrenal"}]},
        {"imaging": [{"date": "2026-01-01", "modality": "ct", "region": "chest", "result": "new_lesion",
                      "lesions": [{"site": "lung", "new": True}]}]},
    ],
    ids=["flag", "nodes", "site", "imaging"],
)  # fmt: skip
def test_known_or_strongly_suspected_spread_lists_options(fields: dict[str, Any]) -> None:
    found = options(**fields)
    assert "metastasectomy" in found and "systemic.atezolizumab_bevacizumab" in found
    assert found["transplant"].status == "not_candidate"
    assert "MAZZAFERRO-1996" in found["transplant"].citations


def test_a_metastatic_site_dated_after_as_of_is_ignored() -> None:
    assert options(metastatic_sites=[{"site": "lung", "date": "2027-01-01"}]) == {}


# --- metastasectomy (reference §7.4; WANG-2018 DFI < 12 months HR 2.42) ---


def test_oligometastatic_lung_after_resection_with_dfi_20_months_is_a_candidate() -> None:
    m = options(**oligo_lung("2024-09-10"))["metastasectomy"]
    assert m.status == "candidate", m.reasons
    assert any("disease-free interval 20 months" in r for r in m.reasons)
    # Wang 2018 abstract: DFI < 12 months HR 2.421, verified in issue 11.
    assert "WANG-2018" in m.citations and "options.metastasectomy.dfi_min_months" not in m.unverified


def test_dfi_8_months_is_not_a_candidate() -> None:
    m = options(**oligo_lung("2023-09-20"))["metastasectomy"]
    assert m.status == "not_candidate"
    assert any(r.startswith("not met: disease-free interval 8 months") for r in m.reasons)


@pytest.mark.parametrize(
    ("change", "unmet"),
    [
        ({"ecog": 2}, "ECOG 2"),
        ({"metastatic_sites": [site("lung", count=4)]}, "4 lesion"),
        ({"metastatic_sites": [site("lung"), site("bone")]}, "2 organ"),
        ({"metastatic_sites": [site("lung", resectable=False)]}, "resectable"),
        ({"lymph_node_metastasis": True}, "2 organ"),
        ({"tumors": [{"viable": True}]}, "viable"),
    ],
    ids=["ecog", "lesions", "organs", "unresectable", "plus-nodes", "viable-liver"],
)  # fmt: skip
def test_each_unmet_criterion_excludes(change: dict[str, Any], unmet: str) -> None:
    m = options(**oligo_lung("2024-09-10", **change))["metastasectomy"]
    assert m.status == "not_candidate"
    assert any(r.startswith("not met:") and unmet in r for r in m.reasons), m.reasons


def test_child_pugh_b_is_not_a_candidate_even_with_other_gaps() -> None:
    m = options("B", extrahepatic_metastasis=True)["metastasectomy"]
    assert m.status == "not_candidate" and m.missing


@pytest.mark.parametrize(
    ("change", "gap"),
    [
        ({"metastatic_sites": [site("lung", count=None)]}, "metastatic_sites[].count"),
        ({"metastatic_sites": [site("lung", date=None)]}, "metastatic_sites[].date"),
        ({"imaging": []}, "liver imaging after the last curative treatment"),
        ({"ecog": None}, "ecog"),
    ],
    ids=["count", "date", "liver-imaging", "ecog"],
)  # fmt: skip
def test_unknowns_give_cannot_determine_naming_the_gap(change: dict[str, Any], gap: str) -> None:
    m = options(**oligo_lung("2024-09-10", **change))["metastasectomy"]
    assert m.status == "cannot_determine" and gap in m.missing


def test_child_pugh_unknown_cannot_be_determined() -> None:
    found = options(None, **oligo_lung("2024-09-10"))
    for option_id in ("metastasectomy", "systemic.atezolizumab_bevacizumab", "systemic.lenvatinib"):
        assert found[option_id].status == "cannot_determine"
        assert "scores.child_pugh.class" in found[option_id].missing


# --- systemic therapy (reference §7.1-7.3) ---


def test_first_line_lists_every_regimen_in_order_with_its_trial() -> None:
    ids = list(options(**oligo_lung("2024-09-10")))
    first_line = default_knowledge().entry("options.regimens.first_line").value
    assert ids[1:-1] == [f"systemic.{r}" for r in first_line]  # type: ignore[union-attr]
    atezo = options(**oligo_lung("2024-09-10"))["systemic.atezolizumab_bevacizumab"]
    assert atezo.status == "candidate" and "FINN-2020" in atezo.citations and "IMbrave150" in atezo.title


@pytest.mark.parametrize(
    ("cp", "ecog", "within"),
    [("B", 0, set()), ("C", 1, set()), ("A", 2, {"systemic.sorafenib"}), ("A", 3, set())],
)
def test_outside_the_trial_population_is_not_a_candidate(cp: str, ecog: int, within: set[str]) -> None:
    # Every pivotal trial enrolled Child-Pugh A; all but SHARP (ECOG 0-2) enrolled ECOG 0-1.
    found = options(cp, **oligo_lung("2024-09-10", ecog=ecog))
    systemic = {k: o.status for k, o in found.items() if k.startswith("systemic.")}
    assert {k for k, status in systemic.items() if status != "not_candidate"} == within


def test_after_transplant_checkpoint_inhibitors_are_contraindicated() -> None:
    found = options(
        extrahepatic_metastasis=True, ecog=0, treatments=[{"type": "transplant", "date": "2022-01-01"}]
    )
    for option_id in CHECKPOINT:
        assert found[option_id].status == "contraindicated"
        assert "AASLD-2023" in found[option_id].citations
        assert "options.checkpoint_inhibitor_after_transplant" in found[option_id].unverified
    assert found["systemic.sorafenib"].status != "contraindicated"
    assert found["systemic.lenvatinib"].status != "contraindicated"


def test_varices_unknown_is_a_caution_not_a_block() -> None:
    atezo = options(**oligo_lung("2024-09-10", liver={}))["systemic.atezolizumab_bevacizumab"]
    assert atezo.status == "candidate"
    assert any("Varices not assessed" in c for c in atezo.cautions)
    assert {"liver.varices", "liver.varices_assessed_on"} <= set(atezo.missing)


@pytest.mark.parametrize(
    ("liver", "caution"),
    [
        ({"varices": "large", "varices_assessed_on": "2026-10-01"}, "Untreated large varices"),
        ({"varices": "none", "varices_assessed_on": "2025-01-01"}, "older than 6 months"),
    ],
)
def test_varices_cautions(liver: dict[str, Any], caution: str) -> None:
    atezo = options(**oligo_lung("2024-09-10", liver=liver))["systemic.atezolizumab_bevacizumab"]
    assert any(caution in c for c in atezo.cautions), atezo.cautions
    assert "options.bevacizumab.varices_assessment_max_age_months" in atezo.unverified


def test_recent_normal_endoscopy_needs_no_caution() -> None:
    assert options(**oligo_lung("2024-09-10"))["systemic.atezolizumab_bevacizumab"].cautions == ()


def test_only_bevacizumab_carries_the_varices_check() -> None:
    found = options(**oligo_lung("2024-09-10", liver={}))
    with_caution = {k for k, o in found.items() if any("Varices" in c for c in o.cautions)}
    assert with_caution == {"systemic.atezolizumab_bevacizumab"}


SORAFENIB = {"type": "systemic", "date": "2025-01-01", "agent": "sorafenib"}


@pytest.mark.parametrize(
    ("afp", "status"),
    [(500.0, "candidate"), (400.0, "candidate"), (120.0, "not_candidate"), (None, "cannot_determine")],
    ids=["REACH-2-500", "REACH-2-boundary-400", "below", "unknown"],
)
def test_ramucirumab_second_line_needs_afp_400(afp: float | None, status: str) -> None:
    found = options(
        extrahepatic_metastasis=True,
        ecog=1,
        treatments=[SORAFENIB],
        labs=[] if afp is None else labs("2026-11-01", afp=afp),
    )
    ram = found["systemic.ramucirumab"]
    assert ram.status == status and "ZHU-2019-REACH2" in ram.citations
    if afp is None:
        assert "labs.afp" in ram.missing


def test_sorafenib_admits_ecog_2_as_sharp_did() -> None:
    # SHARP enrolled ECOG 0-2 (registered inclusion criteria, NCT00105443); REFLECT only 0-1.
    found = options(extrahepatic_metastasis=True, ecog=2)
    assert found["systemic.sorafenib"].status == "candidate"
    assert found["systemic.lenvatinib"].status == "not_candidate"
    assert any("ECOG 2 (needs 0-1)" in r for r in found["systemic.lenvatinib"].reasons)
    assert options(extrahepatic_metastasis=True, ecog=3)["systemic.sorafenib"].status == "not_candidate"


def test_second_line_follows_a_recorded_systemic_therapy() -> None:
    found = options(extrahepatic_metastasis=True, ecog=0, treatments=[SORAFENIB])
    assert "systemic.atezolizumab_bevacizumab" not in found and "systemic.regorafenib" in found
    assert found["systemic.sorafenib"].status == "not_candidate"
    assert any("already given" in r for r in found["systemic.sorafenib"].reasons)
    assert any("after sorafenib, as here" in c for c in found["systemic.regorafenib"].cautions)


def test_second_line_after_immunotherapy_warns_the_sequence_is_untested() -> None:
    prior = {"type": "systemic", "date": "2025-01-01", "agent": "Atezolizumab + Bevacizumab"}
    found = options(extrahepatic_metastasis=True, ecog=0, treatments=[prior])
    assert any("without phase 3 evidence" in c for c in found["systemic.cabozantinib"].cautions)
    assert any("first-line trial" in c for c in found["systemic.lenvatinib"].cautions)


# --- bone radiotherapy (JUNG-2017) and the spinal cord compression caution (NICE-CG75) ---


def bone(*symptoms: str) -> dict[str, Any]:
    return {
        "metastatic_sites": [{"site": "bone", "count": 1}],
        "symptoms": [{"code": code, "onset": "2026-11-01"} for code in symptoms],
    }


def test_painful_bone_metastasis_is_a_radiotherapy_candidate() -> None:
    rt = options(**bone("back_pain"))["bone_radiotherapy"]
    assert rt.status == "candidate" and "JUNG-2017" in rt.citations and rt.cautions == ()


def test_neurological_symptoms_send_to_the_cord_compression_pathway_first() -> None:
    rt = options(**bone("bone_pain", "leg_weakness"))["bone_radiotherapy"]
    assert any("spinal cord compression" in c for c in rt.cautions) and "NICE-CG75" in rt.citations


def test_bone_metastasis_without_recorded_pain_asks_about_pain() -> None:
    rt = options(**bone())["bone_radiotherapy"]
    assert rt.status == "cannot_determine" and "symptoms (bone or back pain)" in rt.missing


def test_no_bone_involvement_no_radiotherapy_option() -> None:
    assert "bone_radiotherapy" not in options(**oligo_lung("2024-09-10"))


# --- every option, any record ---


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records)
def test_any_record_gives_well_formed_options(data: dict[str, Any]) -> None:
    ctx = context(parse_record(data), AS_OF)
    for cp in ("A", "B", None):
        found = treatment_options(
            ctx, scores={"child_pugh": child_pugh(cp)}, staging={}, transplant={}, metastasis=child_pugh(None)
        )
        for o in found:
            assert o.status in STATUSES and o.citations and o.reasons
            assert (o.status == "cannot_determine") <= bool(o.missing)


# --- review fixes: an undated site and a viable tumour that was since treated ---


def test_an_undated_site_leaves_the_disease_free_interval_unknown() -> None:
    # The undated lung site may predate the dated imaging lesion, so 20 months is not established.
    new_lung = {"date": "2024-09-10", "modality": "ct", "region": "chest", "result": "new_lesion",
                "lesions": [{"site": "lung", "new": True}]}  # fmt: skip
    fields = oligo_lung("2024-09-10", metastatic_sites=[site("lung", date=None)])
    m = options(**{**fields, "imaging": [*fields["imaging"], new_lung]})["metastasectomy"]
    assert m.status == "cannot_determine" and "metastatic_sites[].date" in m.missing
    assert not any("disease-free interval 20 months" in r for r in m.reasons)


def test_a_viable_tumour_assessed_before_the_last_curative_treatment_was_treated_by_it() -> None:
    before = oligo_lung("2024-09-10", tumors=[{"viable": True}], tumors_assessed_on="2022-12-01")
    assert options(**before)["metastasectomy"].status == "candidate"
    after = oligo_lung("2024-09-10", tumors=[{"viable": True}], tumors_assessed_on="2023-02-01")
    m = options(**after)["metastasectomy"]
    assert m.status == "not_candidate" and any("viable liver tumour" in r for r in m.reasons)


# --- options read lesion sites, not a study's overall result (issue 6 §1) ---

# The article's long-term survivor: one resectable adrenal metastasis on abdominal CT, found the
# same day as a normal liver MRI, years after a curative resection (adrenalectomy series:
# Staubitz 2021, Ha 2014; selection criteria WANG-2018, reference §7.4).
SURVIVOR_CT = {
    "date": "2025-03-04", "modality": "ct", "region": "abdomen", "result": "new_lesion",
    "lesions": [{"site": "adrenal", "size_cm": 3.2, "new": True}],
}  # fmt: skip
SURVIVOR_MRI = {"date": "2025-03-04", "modality": "mri", "region": "liver", "result": "normal"}
SURVIVOR: dict[str, Any] = {
    "ecog": 0,
    "treatments": [{"type": "resection", "date": "2022-02-15", "margin": "R0", "curative": True}],
    "tumors": [{"size_cm": 3.5, "segment": "6", "viable": True}],
    "tumors_assessed_on": "2022-01-20",
    "metastatic_sites": [{"site": "adrenal", "count": 1, "date": "2025-03-04", "resectable": True}],
    "liver": {"varices": "none", "varices_assessed_on": "2025-02-01"},
}


@pytest.mark.parametrize(
    "imaging", [[SURVIVOR_CT, SURVIVOR_MRI], [SURVIVOR_MRI, SURVIVOR_CT]], ids=["ct-first", "mri-first"]
)
def test_the_article_survivor_with_one_resectable_adrenal_metastasis_is_a_metastasectomy_candidate(
    imaging: list[dict[str, Any]],
) -> None:
    found = options(**SURVIVOR, imaging=imaging)
    option = found["metastasectomy"]
    assert option.status == "candidate", option.reasons
    assert any("intrahepatic disease controlled (liver clear on 2025-03-04" in r for r in option.reasons)
    assert any("disease-free interval 36 months" in r for r in option.reasons)


def test_an_abdominal_ct_showing_only_the_adrenal_lesion_clears_the_liver() -> None:
    found = options(**SURVIVOR, imaging=[SURVIVOR_CT])
    assert found["metastasectomy"].status == "candidate"


def test_an_abdominal_ct_new_lesion_with_no_lesion_listed_does_not_clear_the_liver() -> None:
    bare = {**SURVIVOR_CT, "lesions": []}
    found = options(**SURVIVOR, imaging=[bare])
    assert found["metastasectomy"].status == "cannot_determine"


def test_a_sub_centimetre_liver_lesion_the_same_day_leaves_control_unknown_not_a_recurrence() -> None:
    small = {
        **SURVIVOR_MRI,
        "result": "new_lesion",
        "lesions": [{"site": "liver", "size_cm": 0.6, "new": True}],
    }
    found = options(**SURVIVOR, imaging=[SURVIVOR_CT, small])
    option = found["metastasectomy"]
    assert option.status == "cannot_determine"
    assert any(
        "unconfirmed liver finding on 2025-03-04 awaits follow-up imaging" in r for r in option.reasons
    )
    assert not any("intrahepatic recurrence" in r for r in option.reasons)


def test_an_indeterminate_extrahepatic_lesion_does_not_feed_options() -> None:
    unclear = {**SURVIVOR_CT, "result": "indeterminate"}
    assert options(ecog=0, imaging=[unclear]) == {}


def test_an_adrenal_count_known_only_from_imaging_is_read_from_its_lesions() -> None:
    found = options(**{**SURVIVOR, "metastatic_sites": []}, imaging=[SURVIVOR_CT, SURVIVOR_MRI])
    reasons = found["metastasectomy"].reasons
    assert "met: 1 lesion(s) (limit 3)" in reasons
    assert "unknown: all metastases completely resectable" in reasons
