"""FHIR R4 in: resources map to the record fields they state, and odd content only warns."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hccwatch import InvalidRecordError, assess, parse_record
from hccwatch.adapters.fhir import FhirReading, read_fhir, read_fhir_by_patient, read_resources
from hccwatch.adapters.fhir import read as fhir_read
from support import AS_OF, EXAMPLES

FHIR_EXAMPLES = EXAMPLES / "fhir"
WOMAN = FHIR_EXAMPLES / "woman-back-pain-leg-numbness.bundle.json"
MAN = FHIR_EXAMPLES / "man-quiet-follow-up.bundle.json"
LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1960-01-02"}
SUBJECT = {"reference": "Patient/p1"}


HCC = {
    "resourceType": "Condition",
    "id": "hcc",
    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "109841003"}]},
    "subject": {"reference": "Patient/p1"},
}


def _read(*resources: dict[str, Any], as_of: dt.date = AS_OF) -> FhirReading:
    return read_resources([PATIENT, HCC, *resources], as_of=as_of)


def _lab(code: str, value: float, unit: str, when: str = "2026-11-10", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": f"lab-{code}",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": SUBJECT,
        "effectiveDateTime": f"{when}T08:00:00+01:00",
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
        **extra,
    }


def _condition(system: str, code: str, rid: str = "c1", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": rid,
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": SUBJECT,
        **extra,
    }


def _alerts(record: Any) -> list[tuple[str, str]]:
    return [(a["id"], a["urgency"]) for a in assess(record, as_of=AS_OF).to_dict()["alerts"]]


# --- the examples -----------------------------------------------------------------------------


def test_the_back_pain_woman_as_fhir_gives_the_alerts_of_her_json_record() -> None:
    # The article's woman (examples/article-woman-back-pain.json) with new leg numbness added.
    reading = read_fhir(WOMAN.read_bytes(), as_of=AS_OF)
    as_json = json.loads((EXAMPLES / "article-woman-back-pain.json").read_text(encoding="utf-8"))
    as_json["symptoms"].append({"code": "leg_numbness", "onset": "2026-11-20"})
    assert _alerts(reading.record) == _alerts(as_json)
    assert ("mscc_suspected", "emergency") in _alerts(reading.record)
    assert reading.warnings == ()
    assert reading.record["symptoms"] == [
        {"code": "back_pain", "onset": "2026-10-13"},
        {"code": "leg_numbness", "onset": "2026-11-20"},
    ]


def test_the_quiet_follow_up_patient_gives_no_alert_like_his_json_record() -> None:
    reading = read_fhir(json.loads(MAN.read_text(encoding="utf-8")), as_of=AS_OF)
    as_json = json.loads((EXAMPLES / "article-man-after-resection.json").read_text(encoding="utf-8"))
    assert _alerts(reading.record) == _alerts(as_json) == []
    record = reading.record
    assert record["sex"] == "male" and record["birth_date"] == "1968-03-12" and record["ecog"] == 0
    assert record["liver"]["cirrhosis"] is True and record["liver"]["etiology"] == ["hbv"]
    assert record["tumors"] == [{"size_cm": 3.0}] and record["tumors_assessed_on"] == "2025-08-20"
    assert record["treatments"] == [{"type": "resection", "date": "2025-09-16"}]
    assert len(record["labs"]) == 12 and len(record["imaging"]) == 6


def test_a_bundle_a_list_and_json_bytes_read_the_same() -> None:
    bundle = json.loads(WOMAN.read_text(encoding="utf-8"))
    resources = [e["resource"] for e in bundle["entry"]]
    a = read_fhir(bundle, as_of=AS_OF)
    assert read_fhir(WOMAN.read_bytes(), as_of=AS_OF) == a
    assert read_resources([bundle], as_of=AS_OF) == a
    # Plain "Patient/id" references instead of the Bundle's urn:uuid ones.
    pid = a.record["id"]
    for r in resources:
        if "subject" in r:
            r["subject"] = {"reference": f"Patient/{pid}"}
    assert read_fhir(resources, as_of=AS_OF).record == a.record


# --- patients -----------------------------------------------------------------------------------


def test_no_patient_at_all_is_the_one_error() -> None:
    with pytest.raises(InvalidRecordError, match="no patient found"):
        read_fhir({"resourceType": "Medication", "id": "m"})
    with pytest.raises(InvalidRecordError, match="no patient found"):
        read_fhir({"resourceType": "Bundle", "type": "collection"})
    with pytest.raises(InvalidRecordError, match="not JSON"):
        read_fhir(b"{oops")
    assert read_fhir_by_patient([]) == {}


def test_several_patients_are_read_one_by_one() -> None:
    other = {"resourceType": "Patient", "id": "p2", "gender": "male"}
    bundle = [
        PATIENT,
        other,
        _lab("1834-1", 5, "ng/mL"),
        {**_lab("1834-1", 9, "ng/mL"), "subject": {"reference": "Patient/p2"}},
    ]
    with pytest.raises(InvalidRecordError, match="2 patients"):
        read_fhir(bundle)
    readings = read_fhir_by_patient(bundle, as_of=AS_OF)
    assert sorted(readings) == ["p1", "p2"]
    assert [lab["value"] for lab in readings["p2"].record["labs"]] == [9]


def test_a_prefetch_without_the_patient_resource_still_finds_the_patient() -> None:
    reading = read_resources([_lab("1834-1", 5, "ng/mL")], as_of=AS_OF)
    assert reading.record["id"] == "p1"
    assert reading.record["labs"][0]["test"] == "afp"


# --- observations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "value", "unit", "test", "canonical"),
    [
        ("1834-1", 12.0, "ng/mL", "afp", 12.0),
        ("19176-7", 10.0, "[IU]/mL", "afp", 12.1),  # WHO 72/225: 1 IU/mL = 1.21 ng/mL
        ("14631-6", 34.2, "umol/L", "bilirubin", 2.0),
        ("1751-7", 35.0, "g/L", "albumin", 3.5),
        ("6301-6", 1.3, "{INR}", "inr", 1.3),
        ("14682-9", 88.4, "umol/L", "creatinine", 1.0),
        ("2951-2", 131.0, "mmol/L", "sodium", 131.0),
        ("777-3", 95.0, "10*3/uL", "platelets", 95.0),
    ],
)
def test_labs_by_loinc_in_mass_molar_and_iu_units(
    code: str, value: float, unit: str, test: str, canonical: float
) -> None:
    reading = _read(_lab(code, value, unit))
    assert reading.warnings == ()
    assert reading.record["labs"] == [{"test": test, "value": value, "unit": unit, "date": "2026-11-10"}]
    lab = parse_record(reading.record).labs[0]
    assert lab.canonical.value == pytest.approx(canonical, rel=1e-3)


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        (_lab("19177-5", 2.0, "nmol/L"), "is not accepted for afp"),
        (
            _lab("1834-1", 5.0, "ng/mL", valueQuantity={"value": 5, "comparator": "<", "unit": "ng/mL"}),
            "bound",
        ),
        (_lab("1975-2", 900.0, "mg/dL"), "plausible"),
        ({**_lab("1834-1", 5.0, "ng/mL"), "effectiveDateTime": "2026-11"}, "date"),
        ({**_lab("1834-1", 5.0, "ng/mL"), "valueQuantity": None, "valueString": "see note"}, "text value"),
        ({**_lab("1834-1", 5.0, "ng/mL"), "valueQuantity": {"value": "5"}}, "wrong form"),
    ],
)
def test_a_lab_that_cannot_be_read_is_a_named_warning(resource: dict[str, Any], message: str) -> None:
    reading = _read(resource)
    assert "labs" not in reading.record
    assert [w.resource for w in reading.warnings if message in w.message] == [f"Observation/{resource['id']}"]


def test_void_observations_are_ignored() -> None:
    assert "labs" not in _read({**_lab("1834-1", 5.0, "ng/mL"), "status": "entered-in-error"}).record


def test_ecog_as_an_integer_or_a_loinc_answer_latest_wins() -> None:
    ecog = {
        "resourceType": "Observation",
        "status": "final",
        "subject": SUBJECT,
        "code": {"coding": [{"system": LOINC, "code": "89247-1"}]},
    }
    reading = _read(
        {**ecog, "id": "e1", "effectiveDateTime": "2026-01-01", "valueInteger": 0},
        {
            **ecog,
            "id": "e2",
            "effectiveDateTime": "2026-10-01",
            "valueCodeableConcept": {"coding": [{"system": LOINC, "code": "LA9624-3"}]},
        },
    )
    assert reading.record["ecog"] == 2


def test_mcode_tumour_size_in_mm_and_tnm_categories() -> None:
    size = {
        "resourceType": "Observation",
        "id": "s",
        "status": "final",
        "subject": SUBJECT,
        "code": {"coding": [{"system": LOINC, "code": "21889-1"}]},
        "effectiveDateTime": "2026-06-01",
        "component": [
            {
                "code": {"coding": [{"system": LOINC, "code": "33728-7"}]},
                "valueQuantity": {"value": 42, "unit": "mm", "system": UCUM, "code": "mm"},
            }
        ],
    }

    def tnm(rid: str, code: str, display: str) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "id": rid,
            "status": "final",
            "subject": SUBJECT,
            "effectiveDateTime": "2026-06-01",
            "code": {"coding": [{"system": SCT, "code": code}]},
            "valueCodeableConcept": {"coding": [{"system": SCT, "code": "0", "display": display}]},
        }

    reading = _read(
        size,
        tnm("n", "399534004", "American Joint Committee on Cancer cN1 (qualifier value)"),
        tnm("m", "399387003", "American Joint Committee on Cancer cM0 (qualifier value)"),
    )
    assert reading.record["tumors"] == [{"size_cm": 4.2}]
    assert reading.record["lymph_node_metastasis"] is True
    assert reading.record["extrahepatic_metastasis"] is False


def test_symptoms_as_observations_present_or_absent() -> None:
    obs = {
        "resourceType": "Observation",
        "status": "final",
        "subject": SUBJECT,
        "effectiveDateTime": "2026-11-20",
        "code": {"coding": [{"system": SCT, "code": "66857006"}]},
    }
    reading = _read(
        {**obs, "id": "a"},
        {
            **obs,
            "id": "b",
            "code": {"coding": [{"system": SCT, "code": "25064002"}]},
            "valueCodeableConcept": {"coding": [{"system": SCT, "code": "2667000"}]},
        },
    )
    assert reading.record["symptoms"] == [{"code": "haemoptysis", "onset": "2026-11-20"}]


def test_hand_numbness_is_not_leg_numbness_and_the_lower_limb_codes_are() -> None:
    # 309521004 is 'Numbness of hand' in the SNOMED CT IPS free set (HL7 IPS 1.1.0): it was read as
    # leg numbness, a spinal cord compression sign, until 2026.4.0. 249941001 was found in no source.
    def symptom(code: str, rid: str) -> dict[str, Any]:
        return _condition(SCT, code, rid, onsetDateTime="2026-11-20")

    assert "symptoms" not in _read(symptom("309521004", "hand"), symptom("249941001", "legs")).record
    reading = _read(symptom("309537005", "numb"), symptom("249945007", "weak"))
    assert reading.record["symptoms"] == [
        {"code": "leg_numbness", "onset": "2026-11-20"},
        {"code": "leg_weakness", "onset": "2026-11-20"},
    ]
    faecal = _read(symptom("72042002", "stool")).record["symptoms"]
    assert faecal == [{"code": "bladder_bowel_dysfunction", "onset": "2026-11-20"}]


# --- conditions ---------------------------------------------------------------------------------


def test_hcc_by_snomed_icd10_or_icdo3_and_c78_7_is_not_hcc() -> None:
    for system, code in (
        (SCT, "109841003"),
        (ICD10, "C22.0"),
        ("http://terminology.hl7.org/CodeSystem/icd-o-3", "8170/3"),
    ):
        reading = read_resources([PATIENT, _condition(system, code)], as_of=AS_OF)
        assert not any("no hepatocellular" in w.message for w in reading.warnings)
    reading = read_resources([PATIENT, _condition(ICD10, "C78.7")], as_of=AS_OF)
    messages = [w.message for w in reading.warnings]
    assert any(m.startswith("C78.7: secondary malignant neoplasm of liver") for m in messages)
    assert any("no hepatocellular" in m for m in messages)
    assert "metastatic_sites" not in reading.record


def test_metastases_by_icd10_site_snomed_descendant_or_mcode_profile() -> None:
    reading = _read(
        _condition(ICD10, "C79.51", "bone", onsetDateTime="2026-10-01"),
        _condition(ICD10, "C77.2", "node"),
        _condition(SCT, "128462008", "generic", bodySite=[{"coding": [{"system": SCT, "code": "39607008"}]}]),
        _condition(SCT, "94225005", "brain"),
        _condition(
            SCT,
            "999999",
            "mcode",
            meta={
                "profile": [
                    "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-secondary-cancer-condition"
                ]
            },
            bodySite=[{"coding": [{"system": SCT, "code": "23451007"}]}],
        ),
    )
    assert reading.record["metastatic_sites"] == [
        {"site": "bone", "date": "2026-10-01"},
        {"site": "lymph_node"},
        {"site": "lung"},
        {"site": "brain"},
        {"site": "adrenal"},
    ]
    assert reading.record["extrahepatic_metastasis"] is True
    assert reading.record["lymph_node_metastasis"] is True


def test_refuted_conditions_and_resolved_symptoms_are_not_current() -> None:
    refuted = {"coding": [{"code": "refuted"}]}
    resolved = {"coding": [{"code": "resolved"}]}
    reading = _read(
        _condition(ICD10, "K74.60", "cirrhosis", verificationStatus=refuted),
        _condition(
            SCT,
            "161891005",
            "pain",
            clinicalStatus=resolved,
            onsetDateTime="2026-01-01",
            abatementDateTime="2026-02-01",
        ),
        _condition(SCT, "49727002", "cough", clinicalStatus=resolved),
    )
    assert "cirrhosis" not in reading.record.get("liver", {})
    assert reading.record["symptoms"] == [
        {"code": "back_pain", "onset": "2026-01-01", "resolved": "2026-02-01"}
    ]
    assert [w.resource for w in reading.warnings if "resolved without a date" in w.message] == [
        "Condition/cough"
    ]


# --- procedures, dialysis and medications ---------------------------------------------------------


def _procedure(code: str, rid: str, when: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "id": rid,
        "status": "completed",
        "subject": SUBJECT,
        "code": {"coding": [{"system": SCT, "code": code}]},
        "performedDateTime": when,
        **extra,
    }


def test_no_dialysis_recorded_is_a_stated_assumption_that_meld_shows() -> None:
    reading = _read(_lab("1975-2", 1.0, "mg/dL"), _lab("6301-6", 1.2, "{INR}"), _lab("2160-0", 1.1, "mg/dL"))
    assert reading.record["liver"]["dialysis_twice_past_week"] is False
    assert [a.field for a in reading.assumptions] == [
        "liver.dialysis_twice_past_week",
        "liver.cvvhd_24h_past_week",
    ]
    assert reading.record["assumptions"] == [a.to_dict() for a in reading.assumptions]
    assert "2026-11-17 to 2026-11-24" in reading.assumptions[0].reason
    meld = assess(reading.record, as_of=AS_OF).to_dict()["scores"]["meld"]
    assert meld["determined"] is True
    assert [a["field"] for a in meld["assumptions"]] == [
        "liver.dialysis_twice_past_week",
        "liver.cvvhd_24h_past_week",
    ]


def test_two_dialysis_sessions_in_the_past_week_are_a_fact_not_an_assumption() -> None:
    reading = _read(
        _procedure("265764009", "d1", "2026-11-19"),
        _procedure("302497006", "d2", "2026-11-22"),
        _procedure("265764009", "old", "2026-10-01"),
    )
    assert reading.record["liver"]["dialysis_twice_past_week"] is True
    assert [a.field for a in reading.assumptions] == ["liver.cvvhd_24h_past_week"]
    one = _read(_procedure("265764009", "d1", "2026-11-19"))
    assert one.record["liver"]["dialysis_twice_past_week"] is False
    assert one.assumptions[0].reason.startswith("1 dialysis procedure(s)")


def test_cvvhd_needs_a_measured_duration() -> None:
    long = _procedure(
        "714749008",
        "v",
        "x",
        performedDateTime=None,
        performedPeriod={"start": "2026-11-20T08:00:00Z", "end": "2026-11-21T10:00:00Z"},
    )
    assert _read(long).record["liver"]["cvvhd_24h_past_week"] is True
    undated = _read(_procedure("714749008", "v", "2026-11-20"))
    assert "cvvhd_24h_past_week" not in undated.record["liver"]
    assert any("without a measurable duration" in w.message for w in undated.warnings)


def test_treatments_by_procedure_and_systemic_agents_by_name() -> None:
    def med(kind: str, rid: str, name: str, **extra: Any) -> dict[str, Any]:
        return {
            "resourceType": kind,
            "id": rid,
            "status": "active",
            "intent": "order",
            "subject": SUBJECT,
            "medicationCodeableConcept": {
                "coding": [
                    {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1", "display": name}
                ]
            },
            **extra,
        }

    reading = _read(
        _procedure("9699000", "resection", "2024-03-01"),
        _procedure("426248006", "rfa", "2025-02-01T10:00:00Z"),
        med("MedicationRequest", "atezo", "atezolizumab 1200 MG in 20 ML Injection", authoredOn="2026-01-10"),
        med("MedicationAdministration", "bev", "Bevacizumab 25 MG/ML", effectiveDateTime="2026-01-10"),
        med(
            "MedicationRequest",
            "plan",
            "sorafenib 200 MG Oral Tablet",
            intent="plan",
            authoredOn="2026-05-01",
        ),
        med("MedicationStatement", "other", "metformin 500 MG", effectiveDateTime="2026-01-10"),
    )
    assert reading.record["treatments"] == [
        {"type": "resection", "date": "2024-03-01"},
        {"type": "ablation", "date": "2025-02-01"},
        {"type": "systemic", "date": "2026-01-10", "agent": "atezolizumab_bevacizumab"},
    ]


def test_a_medication_reference_is_followed() -> None:
    medication = {"resourceType": "Medication", "id": "m1", "code": {"text": "Lenvatinib 4 mg capsule"}}
    request = {
        "resourceType": "MedicationRequest",
        "id": "r",
        "status": "completed",
        "intent": "order",
        "subject": SUBJECT,
        "medicationReference": {"reference": "Medication/m1"},
        "authoredOn": "2026-03-01",
    }
    assert _read(medication, request).record["treatments"] == [
        {"type": "systemic", "date": "2026-03-01", "agent": "lenvatinib"}
    ]


# --- imaging ------------------------------------------------------------------------------------


def test_imaging_report_with_study_reference_and_metastasis_conclusion() -> None:
    study = {
        "resourceType": "ImagingStudy",
        "id": "st",
        "status": "available",
        "subject": SUBJECT,
        "started": "2026-11-01T09:00:00Z",
        "modality": [{"code": "CT"}],
        "series": [{"modality": {"code": "CT"}, "bodySite": {"system": SCT, "code": "51185008"}}],
    }
    report = {
        "resourceType": "DiagnosticReport",
        "id": "r",
        "status": "final",
        "subject": SUBJECT,
        "code": {"text": "CT chest"},
        "imagingStudy": [{"reference": "ImagingStudy/st"}],
        "conclusionCode": [{"coding": [{"system": SCT, "code": "94391008"}]}],
    }
    lonely = {**study, "id": "lonely"}
    reading = _read(study, report, lonely)
    assert reading.record["imaging"] == [
        {
            "date": "2026-11-01",
            "modality": "ct",
            "region": "chest",
            "result": "new_lesion",
            "lesions": [{"site": "lung", "new": True}],
        }
    ]
    assert [w.resource for w in reading.warnings if "without a report" in w.message] == [
        "ImagingStudy/lonely"
    ]


def test_imaging_without_a_coded_conclusion_is_a_warning() -> None:
    report = {
        "resourceType": "DiagnosticReport",
        "id": "r",
        "status": "final",
        "subject": SUBJECT,
        "code": {"coding": [{"system": LOINC, "code": "28614-6"}]},
        "effectiveDateTime": "2026-11-01",
        "conclusion": "No focal lesion.",
    }
    reading = _read(report)
    assert "imaging" not in reading.record
    assert any(
        w.resource == "DiagnosticReport/r" and "coded conclusion" in w.message for w in reading.warnings
    )


def test_items_the_record_model_refuses_are_dropped_with_a_warning() -> None:
    # A lab dated before the birth date: the record model refuses it, the reader keeps the rest.
    reading = _read(_lab("1834-1", 5.0, "ng/mL", when="1950-01-01"), _lab("1975-2", 1.0, "mg/dL"))
    assert [lab["test"] for lab in reading.record["labs"]] == ["bilirubin"]
    assert any(w.resource == "Observation/lab-1834-1" and "refused" in w.message for w in reading.warnings)


def test_reading_does_not_change_its_input() -> None:
    bundle = json.loads(WOMAN.read_text(encoding="utf-8"))
    before = copy.deepcopy(bundle)
    read_fhir(bundle, as_of=AS_OF)
    assert bundle == before


def test_a_contained_medication_is_followed() -> None:
    request = {
        "resourceType": "MedicationRequest",
        "id": "r",
        "status": "active",
        "intent": "order",
        "subject": SUBJECT,
        "contained": [
            {"resourceType": "Medication", "id": "med", "code": {"text": "SORAfenib 200 mg tablet"}}
        ],
        "medicationReference": {"reference": "#med"},
        "authoredOn": "2026-04-01",
    }
    assert _read(request).record["treatments"] == [
        {"type": "systemic", "date": "2026-04-01", "agent": "sorafenib"}
    ]


def test_hcc_by_mcode_morphology_extension_and_dotless_icd10() -> None:
    morphology = {
        "url": "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior",
        "valueCodeableConcept": {"coding": [{"system": SCT, "code": "25370001"}]},
    }
    weird = {"url": "http://example.org/epic-extension", "valueCodeableConcept": "not a concept"}
    primary = _condition(SCT, "363349007", extension=[weird, morphology])  # malignant tumour of liver
    for resource in (primary, _condition("http://hl7.org/fhir/sid/icd-10", "C220")):
        reading = read_resources([PATIENT, resource], as_of=AS_OF)
        assert not any("no hepatocellular" in w.message for w in reading.warnings)
    dotless = read_resources([PATIENT, HCC, _condition(ICD10, "C7951", "bone")], as_of=AS_OF)
    assert dotless.record["metastatic_sites"] == [{"site": "bone"}]


def test_a_known_patient_id_reads_even_an_empty_prefetch_and_leaves_others_out() -> None:
    empty = read_resources([None, {"resourceType": "OperationOutcome"}], as_of=AS_OF, patient_id="p9")
    assert empty.record["id"] == "p9"
    assert "labs" not in empty.record
    other = {**_lab("1834-1", 9, "ng/mL"), "subject": {"reference": "Patient/p2"}}
    reading = read_fhir([PATIENT, _lab("1975-2", 1.0, "mg/dL"), other], as_of=AS_OF, patient_id="p1")
    assert [lab["test"] for lab in reading.record["labs"]] == ["bilirubin"]
    assert any("1 resource(s) of other patients left out" in w.message for w in reading.warnings)


# --- the record validated once ----------------------------------------------------------------


def _same_assessment(reading: FhirReading, as_of: dt.date) -> None:
    assert parse_record(reading.patient_record) is reading.patient_record  # nothing left to validate
    assert reading.patient_record == parse_record(reading.record)
    assert (
        assess(reading.patient_record, as_of=as_of).to_dict() == assess(reading.record, as_of=as_of).to_dict()
    )


@pytest.mark.parametrize("path", sorted(FHIR_EXAMPLES.glob("*.json")), ids=lambda p: p.name)
def test_the_validated_record_assesses_as_the_record_on_the_examples(path: Any) -> None:
    for reading in read_fhir_by_patient(json.loads(path.read_text(encoding="utf-8")), as_of=AS_OF).values():
        _same_assessment(reading, AS_OF)


def test_the_validated_record_assesses_as_the_record_on_a_synthetic_cohort() -> None:
    from hccwatch.population.synth import generate, load_distributions

    d = load_distributions()
    as_of = dt.date.fromisoformat(str(d.values["reference_date"]))
    for resources in generate(d, 40, 11):
        _same_assessment(read_resources(resources, as_of=as_of), as_of)


def test_the_validated_record_is_the_one_left_after_refusals_with_its_assumptions() -> None:
    reading = _read(_lab("1834-1", 5.0, "ng/mL", when="1950-01-01"), _lab("1975-2", 1.0, "mg/dL"))
    assert [lab.test for lab in reading.patient_record.labs] == ["bilirubin"]
    assert [a.field for a in reading.patient_record.assumptions] == [a.field for a in reading.assumptions]
    _same_assessment(reading, AS_OF)


def test_a_reading_for_a_named_patient_keeps_its_validated_record() -> None:
    other = {
        "resourceType": "Condition",
        "id": "o",
        "code": HCC["code"],
        "subject": {"reference": "Patient/p2"},
    }
    reading = read_resources([PATIENT, HCC, other], as_of=AS_OF, patient_id="p1")
    assert any("other patients" in w.message for w in reading.warnings)
    _same_assessment(reading, AS_OF)


def test_a_reading_built_by_hand_is_validated_when_asked() -> None:
    reading = FhirReading(
        {"id": "x", "labs": [{"test": "afp", "value": 7, "unit": "ng/mL", "date": "2026-01-01"}]}
    )
    assert reading.patient_record.labs[0].canonical.value == 7
    with pytest.raises(InvalidRecordError):
        _ = FhirReading({"id": "x", "age": "61"}).patient_record


def test_the_validated_record_uses_the_knowledge_base_of_the_reading() -> None:
    import dataclasses

    from hccwatch import default_knowledge

    k = default_knowledge()
    pinned = dataclasses.replace(k, entries=dict(k.entries))
    reading = read_resources([PATIENT, HCC, _lab("1975-2", 1.0, "mg/dL")], as_of=AS_OF, knowledge=pinned)
    assert reading.patient_record.knowledge is pinned
    assert parse_record(reading.patient_record, knowledge=pinned) is reading.patient_record
    # Assessed with another knowledge base, it is converted again from its values as given.
    assert parse_record(reading.patient_record) == parse_record(reading.record)


# --- labs built without validating them again (mapped_lab): the same reading as validating -----

_LAB_UNITS = st.sampled_from(["ng/mL", "ng/ml", " ng/mL", "IU/mL", "mg/dL", "µmol/L", "g/dL", "g/L", "mmol/L",
                              "10*9/L", "%", "1", "", "mg/L"])  # fmt: skip
_LAB_CODES = st.sampled_from(["1834-1", "1975-2", "1751-7", "6301-6", "2951-2", "777-3", "42332-7", "2160-0"])
_LAB_DAYS = st.dates(min_value=dt.date(1890, 1, 1), max_value=dt.date(2100, 12, 31))


@st.composite
def _lab_panels(draw: st.DrawFn) -> list[dict[str, Any]]:
    resources: list[dict[str, Any]] = []
    for i in range(draw(st.integers(0, 6))):
        unit = draw(_LAB_UNITS)
        quantity: dict[str, Any] = {"value": draw(st.floats(0, 500) | st.integers(-1, 200)), "unit": unit}
        if draw(st.booleans()):
            quantity |= {"system": UCUM, "code": unit}
        day = draw(_LAB_DAYS).isoformat()
        resources.append(
            {
                **_lab(draw(_LAB_CODES), 0, unit, when=day),
                "id": f"lab{i}",
                "valueQuantity": quantity,
            }
        )
    return resources


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(labs=_lab_panels(), born=st.sampled_from(["1960-01-02", "2020-05-05", "1800-01-01"]))
def test_labs_built_without_validation_read_the_same(
    labs: list[dict[str, Any]], born: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    resources = [{**PATIENT, "birthDate": born}, HCC, *labs]
    fast = read_resources(copy.deepcopy(resources), as_of=AS_OF)
    with monkeypatch.context() as m:
        m.setattr(fhir_read, "mapped_lab", lambda *args: None)
        slow = read_resources(copy.deepcopy(resources), as_of=AS_OF)
    assert fast.to_dict() == slow.to_dict()
    assert json.dumps(fast.to_dict()) == json.dumps(slow.to_dict())
    a, b = fast.patient_record, slow.patient_record
    assert a == b and repr(a) == repr(b) and a.model_dump_json() == b.model_dump_json()
    assert a.__pydantic_fields_set__ == b.__pydantic_fields_set__
    assert a.knowledge is b.knowledge
    for x, y in zip(a.labs, b.labs, strict=True):
        assert x.__dict__ == y.__dict__ and x.__pydantic_fields_set__ == y.__pydantic_fields_set__
        assert x.__pydantic_private__ == y.__pydantic_private__ and repr(x) == repr(y)


# --- Conditions whose codes hccwatch does not know are named, never dropped in silence ---------


def _condition_warnings(reading: FhirReading, rid: str) -> list[str]:
    return [w.message for w in reading.warnings if w.resource == f"Condition/{rid}"]


def test_a_condition_with_unknown_codes_is_named_with_its_codes() -> None:
    hypertension = {
        **_condition(SCT, "59621000", rid="htn"),
        "code": {"coding": [{"system": SCT, "code": "59621000"}, {"system": ICD10, "code": "I10"}]},
    }
    reading = _read(hypertension)
    assert _condition_warnings(reading, "htn") == [
        "diagnosis SNOMED CT 59621000, ICD-10 I10 is not in hccwatch's code tables: not read"
    ]


def test_a_condition_in_another_code_system_is_named_with_its_system() -> None:
    local = _condition("urn:oid:1.2.3.4", "LIVER-9", rid="loc")
    assert _condition_warnings(_read(local), "loc") == [
        "diagnosis urn:oid:1.2.3.4 LIVER-9 is not in hccwatch's code tables: not read"
    ]


def test_a_condition_without_a_code_is_named() -> None:
    text_only = {**_condition(SCT, "x", rid="txt"), "code": {"text": "liver lesion"}}
    assert _condition_warnings(_read(text_only), "txt") == ["Condition without a coded diagnosis: not read"]


def test_a_condition_with_many_unknown_codes_is_named_briefly() -> None:
    codings = [{"system": SCT, "code": f"{i}" * 200} for i in range(1, 8)]
    many = {**_condition(SCT, "x", rid="many"), "code": {"coding": codings}}
    (message,) = _condition_warnings(_read(many), "many")
    assert message.endswith("and 3 more is not in hccwatch's code tables: not read")
    assert len(message) < 400


@pytest.mark.parametrize(
    "condition",
    [
        _condition(SCT, "109841003", rid="known"),  # HCC
        _condition(ICD10, "K74.60", rid="known"),  # cirrhosis
        _condition(ICD10, "B18.2", rid="known"),  # hepatitis C: an aetiology
        {
            **_condition(SCT, "59621000", rid="known"),
            "verificationStatus": {"coding": [{"code": "entered-in-error"}]},
        },
        {**_condition(SCT, "59621000", rid="known"), "verificationStatus": {"coding": [{"code": "refuted"}]}},
    ],
)
def test_known_or_void_conditions_are_not_named(condition: dict[str, Any]) -> None:
    assert _condition_warnings(_read(condition), "known") == []


def test_an_unknown_code_beside_a_known_one_is_not_named() -> None:
    both = {
        **_condition(SCT, "109841003", rid="both"),
        "code": {"coding": [{"system": SCT, "code": "109841003"}, {"system": "urn:local", "code": "HCC1"}]},
    }
    assert _condition_warnings(_read(both), "both") == []


def test_a_condition_read_as_hcc_by_its_morphology_is_not_named() -> None:
    morphology = {
        "url": "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior",
        "valueCodeableConcept": {"coding": [{"system": SCT, "code": "25370001"}]},
    }
    primary = _condition(SCT, "363349007", rid="primary", extension=[morphology])  # malignant tumour of liver
    reading = read_resources([PATIENT, primary], as_of=AS_OF)
    assert _condition_warnings(reading, "primary") == []
    assert not any("no hepatocellular" in w.message for w in reading.warnings)
    without = read_resources([PATIENT, HCC, _condition(SCT, "363349007", rid="primary")], as_of=AS_OF)
    assert _condition_warnings(without, "primary") == [
        "diagnosis SNOMED CT 363349007 is not in hccwatch's code tables: not read"
    ]
