"""Issue 11, verification part "fhir": the FHIR reader's and writer's code tables.

Every ``fhir.*`` and ``fhir_out.*`` entry states its review status with what a reviewer needs
to trace it, only the procedure table stays unverified, and the spot checks pin the tables to the
codes read in their sources (mCODE STU4, the IPS free set, FHIR R4, VSAC, WHO ICD-10, CDS Hooks 2.0).
"""

from __future__ import annotations

import pytest

from hccwatch import default_knowledge
from hccwatch.core.knowledge import Entry

PREFIXES = ("fhir.", "fhir_out.")


def _entries() -> list[Entry]:
    return [e for e in default_knowledge().entries.values() if e.key.startswith(PREFIXES)]


def test_the_part_is_found_and_only_the_procedure_codes_stay_unverified() -> None:
    # Its HCC treatment codes were found in no source searched (see the entry's note).
    entries = _entries()
    assert len(entries) >= 30
    unverified = sorted(e.key for e in entries if e.status == "unverified")
    assert set(unverified) <= {"fhir.snomed.procedures"}, unverified


@pytest.mark.parametrize("entry", _entries(), ids=lambda e: e.key)
def test_each_status_carries_what_a_reviewer_needs(entry: Entry) -> None:
    note = (entry.note or "").lower()
    if entry.status == "policy":
        assert "HCCWATCH-POLICY" in entry.citations and note, "a project choice says why"
    elif entry.status == "secondary":
        assert "secondary" in note and "primary" in note, "a secondary reading names its primary"
    elif entry.status == "unverified":
        assert "searched" in note or "not searched" in note, "an unverified entry says what was searched"
    assert entry.locator, "every entry says where it was read"


def _value(key: str) -> object:
    return default_knowledge().entry(key).value


def test_the_mcode_profile_codes() -> None:
    # mCODE STU4 patternCodeableConcept of each profile's Observation.code.
    assert _value("fhir.loinc.ecog") == ["89247-1"]
    assert _value("fhir.loinc.disease_status") == ["97509-4"]
    assert _value("fhir.loinc.tumor_size") == {"size": "21889-1", "longest": "33728-7", "other": "33729-5"}
    assert _value("fhir.snomed.disease_worse") == ["271299001"]


def test_the_ecog_answers_follow_ll529_9() -> None:
    assert _value("fhir.loinc.ecog_answers") == {
        "LA9622-7": 0,
        "LA9623-5": 1,
        "LA9624-3": 2,
        "LA9625-0": 3,
        "LA9626-8": 4,
        "LA9627-6": 5,
    }


def test_tnm_codes_are_the_mcode_clinical_and_pathological_staging_types() -> None:
    tnm = _value("fhir.tnm_codes")
    assert isinstance(tnm, dict)
    by_axis: dict[str, set[str]] = {}
    for code, axis in tnm.items():
        by_axis.setdefault(axis, set()).add(code)
    assert by_axis == {
        "t": {"399504009", "384625004", "21905-5", "21899-0"},
        "n": {"399534004", "371494008", "21906-3", "21900-6"},
        "m": {"399387003", "371497001", "21907-1", "21901-4"},
        "stage": {"399537006", "399588009", "21908-9", "21902-2"},
    }


def test_metastasis_sites_by_icd10_and_liver_metastasis_is_not_hcc() -> None:
    sites = _value("fhir.icd10.metastasis")
    assert isinstance(sites, dict)
    assert {k: sites[k] for k in ("C77", "C78.0", "C78.6", "C79.3", "C79.5", "C79.7")} == {
        "C77": "lymph_node",
        "C78.0": "lung",
        "C78.6": "peritoneum",
        "C79.3": "brain",
        "C79.5": "bone",
        "C79.7": "adrenal",
    }
    not_hcc = _value("fhir.not_hcc")
    assert isinstance(not_hcc, dict) and "C78.7" in not_hcc


def test_cirrhosis_codes_of_the_vsac_chronic_liver_disease_value_set() -> None:
    assert _value("fhir.cirrhosis") == {
        "snomed": ["19943007", "420054005", "1761006"],
        "icd10": ["K70.3", "K74.3", "K74.4", "K74.5", "K74.6"],
    }


def test_the_cord_compression_symptoms_are_the_lower_limb_codes_of_the_ips_free_set() -> None:
    # IPS free set (SNOMED CT 20220731): 309537005 'Numbness of lower limb', 249945007 'Monoparesis
    # of lower limb', 72042002 'Incontinence of feces', 165232002 'Urinary incontinence'.
    # 309521004 is 'Numbness of hand' and 249941001 was found nowhere: neither may raise the flag.
    symptoms = _value("fhir.snomed.symptoms")
    assert isinstance(symptoms, dict)
    cord = {
        code
        for code, s in symptoms.items()
        if s in ("leg_numbness", "leg_weakness", "bladder_bowel_dysfunction")
    }
    assert cord == {"309537005", "249945007", "72042002", "165232002"}


def test_the_imaging_conclusions_read_in_mcode_ips_and_dicom() -> None:
    assert _value("fhir.snomed.imaging_results") == {
        "281900007": "normal",
        "17621005": "normal",
        "359746009": "stable",
        "271299001": "progression",
        "263654008": "indeterminate",
        "300331000": "new_lesion",
    }


def _codes(key: str) -> set[str]:
    table = _value(key)
    assert isinstance(table, dict)
    return set(table.values())


def test_the_fhir_and_cds_hooks_codes_written_out() -> None:
    # FHIR R4 request-priority and detectedissue-severity; CDS Hooks 2.0 card indicator.
    assert _codes("fhir_out.service_request_priority") <= {"routine", "urgent", "asap", "stat"}
    assert _codes("fhir_out.detected_issue_severity") <= {"high", "moderate", "low"}
    assert _codes("fhir_out.card_indicator") <= {"info", "warning", "critical"}
    reasons = _value("fhir_out.override_reasons")
    assert isinstance(reasons, list) and all(r["display"] for r in reasons)
