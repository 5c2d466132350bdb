"""Helpers shared by the tests: build records tersely, find the shared data folder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from hccwatch import PatientRecord, parse_record
from hccwatch.core.context import Context
from hccwatch.core.knowledge import default_knowledge

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
EXAMPLES = REPO / "examples"
AS_OF = dt.date(2026, 11, 24)


def record(**fields: Any) -> PatientRecord:
    """A valid record with id ``t``; keyword arguments are record fields (JSON shapes)."""
    data: dict[str, Any] = {"id": "t", **fields}
    return parse_record(data)


def labs(when: str = "2026-11-01", **values: float | tuple[float, str]) -> list[dict[str, Any]]:
    """Lab entries in canonical units (or ``(value, unit)``), all on one date."""
    default_units = {
        "afp": "ng/mL",
        "bilirubin": "mg/dL",
        "albumin": "g/dL",
        "inr": None,
        "creatinine": "mg/dL",
        "sodium": "mmol/L",
        "platelets": "10^9/L",
        "dcp": "mAU/mL",
        "afp_l3": "%",
    }
    out = []
    for test, v in values.items():
        value, unit = v if isinstance(v, tuple) else (v, default_units[test])
        out.append({"test": test, "value": value, "unit": unit, "date": when})
    return out


def context(rec: PatientRecord, as_of: dt.date = AS_OF) -> Context:
    return Context(record=rec, as_of=as_of, knowledge=default_knowledge())
