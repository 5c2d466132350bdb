"""Helpers shared by the tests: build records tersely, find the shared data folder."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest

from hccwatch import PatientRecord, parse_record
from hccwatch.core.context import Context
from hccwatch.core.knowledge import default_knowledge

REPO = Path(__file__).resolve().parents[1]
# The shared public test data lives outside the repository (never copied in): beside the checkout
# by default, anywhere else through the environment variable.
SHARED_ENV = "HCCWATCH_SHARED_DATA"
SHARED = Path(os.environ.get(SHARED_ENV) or REPO.parent / "shared")
HAS_SHARED = SHARED.is_dir()
SHARED_MISSING = f"shared public data not found at {SHARED}; set {SHARED_ENV} to its folder"
# For tests that read the shared data: skipped with the one message above when the folder is absent.
requires_shared = pytest.mark.skipif(not HAS_SHARED, reason=SHARED_MISSING)
EXAMPLES = REPO / "examples"

# Plausible range and canonical unit of each lab, for generated records (hypothesis and the corpus).
LAB_RANGES: dict[str, tuple[float, float, str | None]] = {
    "afp": (0.5, 60000, "ng/mL"),
    "bilirubin": (0.1, 30, "mg/dL"),
    "albumin": (1.2, 5.5, "g/dL"),
    "inr": (0.8, 6, None),
    "creatinine": (0.3, 12, "mg/dL"),
    "sodium": (110, 160, "mmol/L"),
    "platelets": (10, 600, "10^9/L"),
    "dcp": (5, 20000, "mAU/mL"),
}
AS_OF = dt.date(2026, 11, 24)


def shared_path(*parts: str) -> Path:
    """A path in the shared data: skips the test when the folder is absent, but fails when the folder
    is there and the file is not (a moved or renamed file must not turn a test into a silent skip)."""
    if not HAS_SHARED:
        pytest.skip(SHARED_MISSING)
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"{path} is missing from the shared public data at {SHARED}")
    return path


def shared_file(*parts: str) -> Path | None:
    """For data read while tests are collected: None when the shared folder is absent (the tests
    reading it carry ``requires_shared``); raises when the folder is there and the file is not."""
    if not HAS_SHARED:
        return None
    path = SHARED.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing from the shared public data at {SHARED}")
    return path


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
