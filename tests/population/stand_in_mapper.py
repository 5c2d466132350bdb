"""A deliberately small FHIR-to-record stand-in for the batch plumbing tests.

The batch tests check scanning, grouping, cohort finding, outputs and engine equivalence; they
must not depend on how complete the real FHIR adapter is. This maps only sex, birth date, the
LOINC labs and the first treatment (CPT), nothing else. The real adapter is exercised by
``test_batch_real_adapter``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from hccwatch import PatientRecord, parse_record

_LOINC = {
    "1834-1": ("afp", "ng/mL"),
    "1975-2": ("bilirubin", "mg/dL"),
    "1751-7": ("albumin", "g/dL"),
    "6301-6": ("inr", None),
    "2160-0": ("creatinine", "mg/dL"),
    "2951-2": ("sodium", "mmol/L"),
    "777-3": ("platelets", "10^9/L"),
}
_CPT = {
    "47120": "resection",
    "47382": "ablation",
    "37243": "tace",
    "47135": "transplant",
    "96413": "systemic",
}


@dataclass
class StandInReading:
    record: PatientRecord
    warnings: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)


def read(resources: list[dict[str, Any]], *, as_of: dt.date) -> StandInReading:
    data: dict[str, Any] = {"labs": [], "treatments": []}
    assumptions: list[str] = []
    for r in resources:
        t = r["resourceType"]
        if t == "Patient":
            data["id"] = r["id"]
            data["sex"] = r.get("gender")
            data["birth_date"] = r.get("birthDate")
        elif t == "Observation":
            for c in r.get("code", {}).get("coding", []):
                if c.get("code") in _LOINC and "valueQuantity" in r:
                    test, unit = _LOINC[c["code"]]
                    lab = {
                        "test": test,
                        "value": r["valueQuantity"]["value"],
                        "date": r["effectiveDateTime"][:10],
                    }
                    if unit:
                        lab["unit"] = unit
                    data["labs"].append(lab)
        elif t == "Procedure" and not data["treatments"]:
            for c in r.get("code", {}).get("coding", []):
                if c.get("code") in _CPT:
                    data["treatments"].append({"type": _CPT[c["code"]], "date": r["performedDateTime"][:10]})
                    assumptions.append("treatment intent taken from the procedure code")
    return StandInReading(parse_record(data), [], assumptions)
