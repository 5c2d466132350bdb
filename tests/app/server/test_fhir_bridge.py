"""Stated assumptions rest on data actually read: withdrawn when their resources never arrived."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest

from hccwatch.adapters.fhir import read_fhir
from hccwatch.app.server.fhir_bridge import is_fhir, withdraw_unfounded
from support import EXAMPLES


@pytest.fixture(scope="module")
def record() -> dict[str, Any]:
    bundle = json.loads(
        (EXAMPLES / "fhir" / "woman-back-pain-leg-numbness.bundle.json").read_text(encoding="utf-8")
    )
    data: dict[str, Any] = read_fhir(bundle, as_of=dt.date(2026, 11, 24)).record
    assert {a["field"] for a in data["assumptions"]} >= {"liver.dialysis_twice_past_week"}
    return data


def test_without_procedures_the_dialysis_assumptions_are_withdrawn(record: dict[str, Any]) -> None:
    rec = copy.deepcopy(record)
    withdrawn = withdraw_unfounded(rec, ["procedures"])
    assert "liver.dialysis_twice_past_week" in withdrawn
    assert rec["liver"]["dialysis_twice_past_week"] is None
    assert all(a["field"] not in withdrawn for a in rec["assumptions"])


def test_other_missing_keys_leave_the_dialysis_assumptions(record: dict[str, Any]) -> None:
    rec = copy.deepcopy(record)
    assert withdraw_unfounded(rec, ["labs"]) == []
    assert rec == record
    assert withdraw_unfounded(rec, []) == []


def test_an_assumption_of_unknown_origin_is_withdrawn_whatever_is_missing() -> None:
    rec: dict[str, Any] = {
        "id": "x",
        "ecog": 0,
        "assumptions": [{"field": "ecog", "value": 0, "reason": "?"}],
    }
    assert withdraw_unfounded(rec, ["imaging"]) == ["ecog"]
    assert rec == {"id": "x", "ecog": None, "assumptions": []}


@pytest.mark.parametrize(
    ("data", "fhir"),
    [
        ({"resourceType": "Bundle"}, True),
        ([{"resourceType": "Patient"}], True),
        ([], False),
        ({"id": "x"}, False),
        ([{"resourceType": "Patient"}, 3], False),
        ("Bundle", False),
    ],
)
def test_is_fhir(data: object, fhir: bool) -> None:
    assert is_fhir(data) is fhir
