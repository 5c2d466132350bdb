"""The patient record: contract field names, validation messages, unknown stays unknown."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hccwatch import InvalidRecordError, PatientRecord, parse_record


def _problems(data: Any) -> list[str]:
    with pytest.raises(InvalidRecordError) as info:
        parse_record(data)
    return info.value.problems


def test_a_minimal_record_is_all_unknown() -> None:
    r = parse_record({"id": "p1"})
    assert r.sex is None and r.ecog is None and r.tumors is None
    assert r.liver.cirrhosis is None and r.liver.ascites is None
    assert r.macrovascular_invasion is None and r.microvascular_invasion is None


def test_contract_field_names_exist() -> None:
    fields = set(PatientRecord.model_fields)
    assert {
        "id", "sex", "birth_date", "age", "ecog", "liver", "labs", "tumors", "tumors_assessed_on",
        "macrovascular_invasion", "microvascular_invasion", "histologic_grade", "lymph_node_metastasis",
        "extrahepatic_metastasis", "dcp_mau_ml", "treatments", "imaging", "symptoms", "metastatic_sites",
    } <= fields  # fmt: skip


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"id": "x", "labs": [{"test": "afp", "value": 5, "unit": "mg/L", "date": "2026-01-01"}]},
            "labs[0]: unit 'mg/L'",
        ),
        (
            {"id": "x", "labs": [{"test": "albumin", "value": 35, "unit": "g/dL", "date": "2026-01-01"}]},
            "not physiologically",
        ),
        (
            {"id": "x", "labs": [{"test": "ast", "value": 5, "unit": "U/L", "date": "2026-01-01"}]},
            "labs[0].test",
        ),
        (
            {"id": "x", "labs": [{"test": "afp", "value": 5, "unit": "ng/mL", "date": "01/02/2026"}]},
            "labs[0].date",
        ),
        ({"id": "x", "tumors": [{"size_cm": 55}]}, "tumors[0].size_cm"),
        ({"id": "x", "tumors": [{"size_cm": -1}]}, "tumors[0].size_cm"),
        ({"id": "x", "tumors": [{"segment": "9"}]}, "tumors[0].segment"),
        ({"id": "x", "ecog": 5}, "ecog"),
        ({"id": "x", "sex": "m"}, "sex"),
        ({"id": "x", "liver": {"ascites": "lots"}}, "liver.ascites"),
        ({"id": "x", "tumour": []}, "tumour: unknown field"),
        ({"id": "x", "liver": {"cirrhosys": True}}, "liver.cirrhosys: unknown field"),
        ({"id": "x", "symptoms": [{"code": "itch"}]}, "symptoms[0].code"),
        (
            {"id": "x", "treatments": [{"type": "tace", "date": "2026-01-01", "margin": "R0"}]},
            "margin applies",
        ),
        (
            {
                "id": "x",
                "birth_date": "1990-01-01",
                "labs": [{"test": "inr", "value": 1, "date": "1980-01-01"}],
            },
            "before birth",
        ),
        ({"id": ""}, "id"),
        ({}, "id"),
    ],
)
def test_problems_name_the_field(data: dict[str, Any], expected: str) -> None:
    problems = _problems(data)
    assert any(expected in p for p in problems), problems


def test_every_problem_is_reported_at_once() -> None:
    problems = _problems({"id": "x", "ecog": 9, "sex": "?", "tumors": [{"size_cm": 0}]})
    assert len(problems) == 3


@pytest.mark.parametrize("bad", [[], "text", 3, None])
def test_a_record_must_be_an_object(bad: Any) -> None:
    assert "JSON object" in _problems(bad)[0]


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("hemoptysis", "haemoptysis"),
        ("dyspnea", "dyspnoea"),
        ("Abdominal distention", "abdominal_distension"),
        ("back-pain", "back_pain"),
    ],
)
def test_us_spellings_of_symptoms_are_accepted(given: str, stored: str) -> None:
    r = parse_record({"id": "x", "symptoms": [{"code": given}]})
    assert r.symptoms[0].code == stored


@pytest.mark.parametrize(
    ("given", "stored"),
    [("G2", "moderate"), ("III", "poor"), ("well differentiated", "well"), ("poorly", "poor")],
)
def test_grade_spellings(given: str, stored: str) -> None:
    assert parse_record({"id": "x", "histologic_grade": given}).histologic_grade == stored


@pytest.mark.parametrize(("given", "stored"), [(6, "6"), ("S4a", "4a"), ("segment 7", "7"), ("4B", "4b")])
def test_segments_are_normalised(given: Any, stored: str) -> None:
    assert parse_record({"id": "x", "tumors": [{"segment": given}]}).tumors[0].segment == stored  # type: ignore[index]


def test_lab_keeps_what_was_reported_and_what_rules_see() -> None:
    lab = parse_record(
        {"id": "x", "labs": [{"test": "bilirubin", "value": 34.2, "unit": "µmol/L", "date": "2026-01-01"}]}
    ).labs[0]
    assert (lab.value, lab.unit) == (34.2, "µmol/L")
    assert lab.canonical.value == pytest.approx(2.0) and lab.canonical.unit == "mg/dL"


def test_age_on_a_date() -> None:
    r = parse_record({"id": "x", "birth_date": "1960-06-15"})
    assert r.age_on(dt.date(2026, 6, 14)) == 65
    assert r.age_on(dt.date(2026, 6, 15)) == 66
    assert parse_record({"id": "x", "age": 70}).age_on(dt.date(2026, 1, 1)) == 70


def test_schema_is_json_and_names_the_contract() -> None:
    schema = PatientRecord.model_json_schema()
    text = json.dumps(schema)
    for name in ("labs", "tumors", "treatments", "symptoms", "metastatic_sites", "dialysis_twice_past_week"):
        assert name in text


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
field_names = st.sampled_from(sorted(PatientRecord.model_fields)) | st.text(max_size=8)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(field_names, json_values, max_size=8))
def test_fuzz_any_json_object_is_accepted_or_refused_cleanly(data: dict[str, Any]) -> None:
    try:
        parse_record(data)
    except InvalidRecordError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)


lab_entries = st.fixed_dictionaries(
    {
        "test": st.sampled_from(["afp", "bilirubin", "albumin", "inr", "creatinine", "sodium", "platelets"]),
        "value": st.floats(min_value=-1e9, max_value=1e9, allow_nan=False) | st.integers(),
        "unit": st.sampled_from(
            ["ng/mL", "IU/mL", "mg/dL", "µmol/L", "g/L", "g/dL", "mmol/L", "10^9/L", "1", None, "x"]
        ),
        "date": st.dates(dt.date(1990, 1, 1), dt.date(2030, 1, 1)).map(str),
    }
)


@settings(max_examples=300, deadline=None)
@given(st.lists(lab_entries, max_size=6))
def test_fuzz_labs_either_convert_into_range_or_name_the_lab(entries: list[dict[str, Any]]) -> None:
    try:
        r = parse_record({"id": "x", "labs": entries})
    except InvalidRecordError as exc:
        assert all(p.startswith("labs[") for p in exc.problems), exc.problems
    else:
        assert all(lab.canonical.value >= 0 for lab in r.labs)
