"""The FHIR reader's code tables say what the code systems say (issue 11, part "fhir").

Each test pins a correction made when the tables were checked against their sources: a code
that means something else in its code system must not be read as the record fact it was
mistaken for.
"""

from __future__ import annotations

from typing import Any

import pytest

from hccwatch.adapters.fhir import read_resources
from hccwatch.adapters.fhir.codes import code_tables
from support import AS_OF

LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"
SUBJECT = {"reference": "Patient/p1"}
PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1960-01-02"}
HCC = {
    "resourceType": "Condition",
    "id": "hcc",
    "code": {"coding": [{"system": SCT, "code": "109841003"}]},
    "subject": SUBJECT,
}


def _inr(code: str, value: float) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": f"inr-{code}",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": SUBJECT,
        "effectiveDateTime": "2026-11-10T08:00:00Z",
        "valueQuantity": {
            "value": value,
            "unit": "{INR}",
            "system": "http://unitsofmeasure.org",
            "code": "{INR}",
        },
    }


# 92891-1 is the patient's INR goal (a target, e.g. 2.5 on warfarin) and 72281-9 the share of
# days in the therapeutic INR range; 61189-7 could not be found in any source. None is a
# measured INR, and reading one as such would feed a target or a ratio into Child-Pugh and MELD.
@pytest.mark.parametrize("code", ["92891-1", "72281-9", "61189-7"])
def test_an_inr_goal_or_time_in_range_is_not_read_as_the_patients_inr(code: str) -> None:
    assert code not in code_tables().labs
    reading = read_resources([PATIENT, HCC, _inr(code, 2.5)], as_of=AS_OF)
    assert not [lab for lab in reading.record.get("labs", []) if lab.get("test") == "inr"]


@pytest.mark.parametrize("code", ["6301-6", "34714-6", "38875-1", "46418-0", "52129-4"])
def test_measured_inr_codes_are_still_read(code: str) -> None:
    reading = read_resources([PATIENT, HCC, _inr(code, 1.4)], as_of=AS_OF)
    assert [lab["value"] for lab in reading.record["labs"] if lab["test"] == "inr"] == [1.4]


def test_volumetric_modulated_arc_therapy_is_radiotherapy_not_sbrt() -> None:
    # SNOMED CT 1156530009 is "Volumetric Modulated Arc Therapy (procedure)" (mCODE STU4,
    # TeleradiotherapyPhotonBeamTechniqueVS): a technique of external beam radiotherapy, not SBRT.
    assert code_tables().procedures["1156530009"] == "radiotherapy"
    procedure = {
        "resourceType": "Procedure",
        "id": "vmat",
        "status": "completed",
        "code": {"coding": [{"system": SCT, "code": "1156530009"}]},
        "subject": SUBJECT,
        "performedDateTime": "2026-06-01",
    }
    reading = read_resources([PATIENT, HCC, procedure], as_of=AS_OF)
    assert reading.record["treatments"] == [{"type": "radiotherapy", "date": "2026-06-01"}]
