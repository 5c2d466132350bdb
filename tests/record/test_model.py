"""The patient record: contract field names, validation messages, unknown stays unknown."""

from __future__ import annotations

import copy
import datetime as dt
import json
import pickle
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hccwatch import InvalidRecordError, PatientRecord, parse_record
from hccwatch.record.model import Tumor, mapped_lab, parse_mapped_record
from hccwatch.record.units import boundary_tables


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


# ---------------------------------------------------------------- strict types, clinician's words


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"id": "x", "age": True}, "age: expected a whole number, got true"),
        ({"id": "x", "age": 61.5}, "age: expected a whole number, got 61.5"),
        ({"id": "x", "age": "61"}, "age: expected a whole number, got '61'"),
        (
            {"id": "x", "labs": [{"test": "afp", "value": True, "unit": "ng/mL", "date": "2026-01-01"}]},
            "labs[0].value: expected a number, got true",
        ),
        (
            {"id": "x", "labs": [{"test": "afp", "value": "7", "unit": "ng/mL", "date": "2026-01-01"}]},
            "labs[0].value: expected a number, got '7'",
        ),
        (
            {"id": "x", "labs": [{"test": "afp", "value": 7, "unit": "ng/mL", "date": 20260101}]},
            "labs[0].date: expected a date (YYYY-MM-DD), got 20260101",
        ),
        ({"id": "x", "as_of": "2026-01-01T08:00:00"}, "as_of: expected a date (YYYY-MM-DD)"),
        ({"id": "x", "liver": {"cirrhosis": "yes"}}, "liver.cirrhosis: expected true or false, got 'yes'"),
        ({"id": "x", "liver": {"cirrhosis": 1}}, "liver.cirrhosis: expected true or false, got 1"),
        ({"id": "x", "liver": 3}, "liver: expected an object ({...}), got 3"),
        ({"id": "x", "labs": {"test": "afp"}}, "labs: expected a list ([...]), got {'test': 'afp'}"),
        ({"id": 17}, "id: expected text, got 17"),
        (
            {"id": "x", "labs": [{"test": "afp", "value": 7, "date": "2026-01-01"}]},
            "labs[0]: no unit given for afp (accepted: IU/mL, kU/L, ng/mL, µg/L)",
        ),
        ({"id": "x", "tumors": [{"segment": True}]}, "tumors[0].segment: expected a Couinaud segment"),
        ({"id": "x", "histologic_grade": False}, "histologic_grade: expected a grade"),
        ({"id": "x", "tumors": [{"size_cm": 0}]}, "tumors[0].size_cm: must be greater than 0"),
    ],
)
def test_coercions_that_hide_mistakes_are_refused_in_words(data: dict[str, Any], expected: str) -> None:
    problems = _problems(data)
    assert any(expected in p for p in problems), problems
    for word in ("NoneType", "instance of", "valid tuple", "unit None", "Input should"):
        assert all(word not in p for p in problems), problems


def test_a_segment_may_be_written_as_a_number() -> None:
    assert parse_record({"id": "x", "tumors": [{"segment": 7}]}).tumors == (Tumor(segment="7"),)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"id": "x", "treatments": [{"type": "systemic", "date": "2026-02-01", "end_date": "2026-01-01"}]},
            "treatments[0].end_date: 2026-01-01 is before the treatment date 2026-02-01",
        ),
        (
            {"id": "x", "symptoms": [{"code": "cough", "onset": "2026-02-01", "resolved": "2026-01-01"}]},
            "symptoms[0].resolved: 2026-01-01 is before the onset 2026-02-01",
        ),
        (
            {
                "id": "x",
                "birth_date": "1990-01-01",
                "imaging": [{"date": "1989-01-01", "modality": "ct", "region": "liver", "result": "normal"}],
                "as_of": "1985-01-01",
            },
            "imaging[0].date 1989-01-01, as_of 1985-01-01: dated before birth_date 1990-01-01",
        ),
        (
            {"id": "x", "as_of": "9999-12-31"},
            "as_of: 9999-12-31 is outside the plausible dates (1900-01-01 to 2100-12-31)",
        ),
        (
            {"id": "x", "treatments": [{"type": "resection", "date": "0001-01-01"}]},
            "treatments[0].date: 0001-01-01 is outside the plausible dates",
        ),
        ({"id": "x", "birth_date": "2026-02-30"}, "birth_date: '2026-02-30' is not a calendar date"),
    ],
)
def test_date_problems_name_the_field(data: dict[str, Any], expected: str) -> None:
    problems = _problems(data)
    assert any(expected in p for p in problems), problems


def _nested(levels: int) -> dict[str, Any]:
    inner: dict[str, Any] = {}
    outer = inner
    for _ in range(levels):
        inner["a"] = {}
        inner = inner["a"]
    return outer


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"id": "x", "age": 10**5000}, "age: a number of about 5001 digits is not a plausible value"),
        ({"id": "x", "dcp_mau_ml": 2**80}, "dcp_mau_ml: a number of about 25 digits"),
        (
            {"id": "x", "liver": _nested(100_000)},
            "liver.a.a.a.a.a.a.a.a.a.a.a: nested more than 12 levels deep",
        ),
        ({"id": "x", "id2": "y" * 1_000_000}, "id2: unknown field"),
        ({"id": "x" * 1_000_000, "sex": "?"}, "sex: expected one of 'male' or 'female', got '?'"),
    ],
)
def test_huge_or_deep_input_gives_a_short_bounded_problem(data: dict[str, Any], expected: str) -> None:
    with pytest.raises(InvalidRecordError) as info:
        parse_record(data)
    assert any(expected in p for p in info.value.problems), info.value.problems
    assert len(str(info.value)) < 500


def test_a_record_that_contains_itself_is_refused() -> None:
    data: dict[str, Any] = {"id": "x"}
    data["liver"] = data
    assert "nested more than" in _problems(data)[0]


def test_many_problems_are_all_listed_but_the_message_stays_short() -> None:
    labs = [{"test": "afp", "value": True, "unit": "ng/mL", "date": "2026-01-01"}] * 500
    with pytest.raises(InvalidRecordError) as info:
        parse_record({"id": "x", "labs": labs})
    assert len(info.value.problems) == 500
    assert "and 490 more" in str(info.value) and len(str(info.value)) < 2000


def test_a_fhir_resource_is_named_as_such_in_one_problem() -> None:
    problems = _problems({"resourceType": "Patient", "id": "example", "gender": "male"})
    assert problems == [
        "a FHIR 'Patient' resource, not an hccwatch patient record "
        "(`hccwatch schema` describes the record; FHIR must be mapped to it first)"
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"id": "x", "dcp_mau_ml": 1e300}, "dcp_mau_ml: DCP 1e+300 mAU/mL is not physiologically plausible"),
        (
            {"id": "x", "explant": {"largest_viable_cm": 500}},
            "explant.largest_viable_cm: largest viable tumour 500 cm",
        ),
        (
            {"id": "x", "explant": {"viable_count": 10**12}},
            "explant.viable_count: viable nodule count 1000000000000",
        ),
        ({"id": "x", "metastatic_sites": [{"site": "lung", "count": 5000}]}, "metastatic_sites[0].count"),
    ],
)
def test_sizes_and_counts_beyond_the_plausibility_bounds_are_refused(
    data: dict[str, Any], expected: str
) -> None:
    problems = _problems(data)
    assert any(expected in p for p in problems), problems


def test_an_explant_without_viable_tumour_is_accepted() -> None:
    explant = parse_record({"id": "x", "explant": {"largest_viable_cm": 0, "viable_count": 0}}).explant
    assert explant is not None and explant.largest_viable_cm == 0


def test_a_parsed_record_is_kept_with_its_own_knowledge_base() -> None:
    rec = parse_record({"id": "x"})
    assert parse_record(rec) is rec


def test_something_json_cannot_hold_is_refused_without_a_class_name() -> None:
    problems = _problems({"id": "x", "labs": [object()]})
    assert problems == ["labs[0]: expected an object ({...}), got a value that JSON cannot hold"]


def test_a_date_gives_the_same_answer_each_time_it_is_read() -> None:
    # Dates are read through a cache: the second reading of a text must answer as the first.
    for _ in range(2):
        assert parse_record({"id": "x", "as_of": " 2026-01-05 "}).as_of == dt.date(2026, 1, 5)
        assert "as_of: ' 2026-02-30' is not a calendar date" in _problems({"id": "x", "as_of": " 2026-02-30"})
        assert any(
            "as_of: expected a date (YYYY-MM-DD)" in p for p in _problems({"id": "x", "as_of": "2026-1-5"})
        )


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789- \t٣T:", max_size=14))
def test_fuzz_dates_are_read_as_the_iso_pattern_says(text: str) -> None:
    # The reference: the YYYY-MM-DD pattern (ASCII digits only) on the stripped text, then the calendar.
    expected: dt.date | None = None
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text.strip()):
        try:
            expected = dt.date.fromisoformat(text.strip())
        except ValueError:
            expected = None
    for _ in range(2):
        try:
            got = parse_record({"id": "x", "as_of": text}).as_of
        except InvalidRecordError:
            got = None
        if expected is not None and not dt.date(1900, 1, 1) <= expected <= dt.date(2100, 12, 31):
            expected = None
        assert got == expected


def test_a_lab_keeps_its_canonical_value_through_copies_and_pickling() -> None:
    rec = parse_record(
        {"id": "x", "labs": [{"test": "bilirubin", "value": 34.2, "unit": "µmol/L", "date": "2026-01-01"}]}
    )
    lab = rec.labs[0]
    for other in (
        pickle.loads(pickle.dumps(lab)),
        lab.model_copy(),
        copy.deepcopy(lab),
        pickle.loads(pickle.dumps(rec)).labs[0],
    ):
        assert other == lab
        assert other.canonical == lab.canonical
    assert lab.canonical.unit == "mg/dL" and lab.canonical.value == pytest.approx(2.0)


# --- labs an adapter has just converted, built without validating again ----------------------

_UNITS = st.sampled_from(
    [None, "", "ng/mL", "ng/ml", " ng/mL", "ng/mL ", "IU/mL", "kU/L", "mg/dL", "µmol/L", "umol/L",
     "g/dL", "g/L", "mmol/L", "mEq/L", "10^9/L", "10*3/uL", "%", "1", "{INR}", "mg/L", "U/L",
     "\u00a0ng/mL", "furlongs"]
)  # fmt: skip
_TESTS = st.sampled_from(["afp", "bilirubin", "albumin", "inr", "creatinine", "sodium", "platelets", "dcp",
                          "afp_l3", "ast", "AFP"])  # fmt: skip
_VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0, max_value=2000),
    st.integers(min_value=-5, max_value=500),
)
_DAYS = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)) | st.dates(
    min_value=dt.date(1899, 1, 1), max_value=dt.date(2101, 12, 31)
)


def _lab_entry(test: Any, value: Any, unit: Any, day: dt.date) -> dict[str, Any]:
    entry: dict[str, Any] = {"test": test, "value": value, "date": day.isoformat()}
    if unit is not None:
        entry["unit"] = unit
    return entry


def _same_model(fast: Any, slow: Any) -> None:
    """Two validated models the same in every observable way (the fields, which were given,
    the private store, how they print, dump and pickle)."""
    assert type(fast) is type(slow)
    assert fast == slow
    assert fast.__dict__ == slow.__dict__
    assert list(fast.__dict__) == list(slow.__dict__)
    assert [type(v) for v in fast.__dict__.values()] == [type(v) for v in slow.__dict__.values()]
    assert fast.__pydantic_fields_set__ == slow.__pydantic_fields_set__
    assert fast.__pydantic_private__ == slow.__pydantic_private__
    assert fast.__pydantic_extra__ == slow.__pydantic_extra__
    assert repr(fast) == repr(slow)
    assert fast.model_dump_json() == slow.model_dump_json()
    assert fast.model_dump(exclude_unset=True) == slow.model_dump(exclude_unset=True)
    assert pickle.loads(pickle.dumps(fast)) == slow


@settings(max_examples=400, deadline=None)
@given(test=_TESTS, value=_VALUES, unit=_UNITS, day=_DAYS)
def test_a_mapped_lab_is_the_lab_validation_gives_or_none(
    test: str, value: Any, unit: Any, day: dt.date
) -> None:
    tables = boundary_tables()
    fast = mapped_lab(test, value, unit, day, tables)
    try:
        slow = parse_record({"id": "p", "labs": [_lab_entry(test, value, unit, day)]}).labs[0]
    except InvalidRecordError:
        assert fast is None  # every refusal is left to the model
        return
    if fast is not None:
        _same_model(fast, slow)
        assert fast.canonical == slow.canonical


def test_mapped_labs_of_the_plain_form_are_built() -> None:
    tables = boundary_tables()
    lab = mapped_lab("afp", 12.0, "ng/mL", dt.date(2026, 1, 5), tables)
    assert lab is not None
    _same_model(
        lab,
        parse_record({"id": "p", "labs": [_lab_entry("afp", 12.0, "ng/mL", dt.date(2026, 1, 5))]}).labs[0],
    )
    # Not of the plainest form: left to the model.
    assert mapped_lab("afp", 12, "ng/mL", dt.date(2026, 1, 5), tables) is None
    assert mapped_lab("afp", 12.0, " ng/mL", dt.date(2026, 1, 5), tables) is None
    assert mapped_lab("afp", 12.0, "ng/mL", dt.datetime(2026, 1, 5, 8), tables) is None


# Mostly plausible days (a lab before birth, or in 1890, now and then).
_SIMPLE_DAYS = st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2026, 12, 31)) | st.dates(
    min_value=dt.date(1890, 1, 1), max_value=dt.date(2100, 12, 31)
)


@st.composite
def _mapped_records(draw: st.DrawFn) -> dict[str, Any]:
    record: dict[str, Any] = {"id": draw(st.sampled_from(["p", "p", "p", "p", ""]))}
    if draw(st.booleans()):
        record["birth_date"] = draw(_SIMPLE_DAYS).isoformat()
    if draw(st.booleans()):
        record["sex"] = draw(st.sampled_from(["male", "female", "female", "m"]))
    plausible = {"afp": (0.5, 900.0), "inr": (0.9, 4.0), "albumin": (2.0, 5.0), "sodium": (120.0, 150.0)}
    tests = st.sampled_from(sorted(plausible))
    labs = draw(
        st.lists(
            tests.flatmap(lambda t: st.tuples(st.just(t), st.floats(*plausible[t]), _SIMPLE_DAYS)), max_size=6
        )
    )
    units = {"afp": "ng/mL", "inr": None, "albumin": "g/dL", "sodium": "mmol/L"}
    if labs or draw(st.booleans()):
        record["labs"] = [_lab_entry(t, v, units[t], d) for t, v, d in labs]
    if draw(st.booleans()):
        record["treatments"] = [
            {
                "type": draw(st.sampled_from(["tace", "resection", "tace", "laser"])),
                "date": draw(_SIMPLE_DAYS).isoformat(),
            }
        ]
    if draw(st.booleans()):
        record["imaging"] = [
            {
                "date": draw(_SIMPLE_DAYS).isoformat(),
                "modality": "ct",
                "region": "abdomen",
                "result": "normal",
            }
        ]
    if draw(st.booleans()):
        record["liver"] = {"dialysis_twice_past_week": False}
        record["assumptions"] = [
            {
                "field": draw(st.sampled_from(["liver.dialysis_twice_past_week"] * 4 + ["labs", "labs.x"])),
                "value": draw(st.sampled_from([False, False, False, True, None])),
                "reason": "none recorded",
            }
        ]
    if draw(st.booleans()):
        record["as_of"] = draw(_SIMPLE_DAYS).isoformat()
    if draw(st.sampled_from([False] * 9 + [True])):
        record["extra_field"] = 1
    return record


@settings(max_examples=300, deadline=None)
@given(record=_mapped_records())
def test_a_mapped_record_is_the_record_validation_gives_or_none(record: dict[str, Any]) -> None:
    tables = boundary_tables()
    labs = [
        mapped_lab(lab["test"], lab["value"], lab.get("unit"), dt.date.fromisoformat(lab["date"]), tables)
        for lab in record.get("labs", [])
    ]
    built = tuple(lab for lab in labs if lab is not None)
    if len(built) != len(labs):
        return
    fast = parse_mapped_record(copy.deepcopy(record), built)
    try:
        slow = parse_record(record)
    except InvalidRecordError:
        assert fast is None  # the caller validates again and reports the model's problems
        return
    assert fast is not None
    _same_model(fast, slow)
    for a, b in zip(fast.labs, slow.labs, strict=True):
        _same_model(a, b)
    assert fast.knowledge is slow.knowledge


def test_the_before_birth_check_names_the_same_events() -> None:
    record = {
        "id": "p",
        "birth_date": "1990-01-01",
        "labs": [
            _lab_entry("inr", 1.0, None, dt.date(2020, 1, 1)),
            _lab_entry("inr", 1.1, None, dt.date(1980, 1, 1)),
        ],
        "imaging": [{"date": "1985-01-01", "modality": "ct", "region": "abdomen", "result": "normal"}],
    }
    problems = _problems(record)
    assert problems == [
        "labs[1].date 1980-01-01, imaging[0].date 1985-01-01: dated before birth_date 1990-01-01"
    ]


# --- death as the record states it ----------------------------------------------------------------


def test_a_record_says_nothing_of_death_unless_told() -> None:
    r = parse_record({"id": "p1"})
    assert r.deceased is None and r.deceased_on is None and not r.has_died
    # A living patient's record serialises as before: the two facts appear only when stated.
    assert "deceased" not in r.model_dump(exclude_none=True)
    assert "deceased_on" not in r.model_dump(exclude_defaults=True)


@pytest.mark.parametrize(
    ("data", "died", "on"),
    [
        ({"deceased": True}, True, None),
        ({"deceased": False}, False, None),
        ({"deceased": True, "deceased_on": "2019-05-02"}, True, dt.date(2019, 5, 2)),
        # A date of death alone says the patient died.
        ({"deceased_on": "2019-05-02"}, True, dt.date(2019, 5, 2)),
    ],
)
def test_death_is_read_as_stated(data: dict[str, Any], died: bool, on: dt.date | None) -> None:
    r = parse_record({"id": "p1", **data})
    assert r.has_died is died and r.deceased_on == on
    assert parse_record(r.model_dump(mode="json", exclude_none=True)) == r


def test_deceased_false_with_a_date_of_death_is_refused_naming_both_fields() -> None:
    (problem,) = _problems({"id": "p1", "deceased": False, "deceased_on": "2019-05-02"})
    assert problem.startswith("deceased_on: 2019-05-02")
    assert "deceased is false" in problem


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"deceased": "yes"}, "deceased: expected true or false"),
        ({"deceased": 1}, "deceased: expected true or false"),
        ({"deceased_on": "2019-13-02"}, "deceased_on: '2019-13-02' is not a calendar date"),
        ({"birth_date": "1950-01-01", "deceased_on": "1949-12-31"}, "deceased_on: 1949-12-31 is before"),
    ],
)
def test_a_wrong_death_is_refused_by_field(data: dict[str, Any], expected: str) -> None:
    problems = _problems({"id": "p1", **data})
    assert any(p.startswith(expected) for p in problems), problems


def test_events_after_the_death_are_kept() -> None:
    # EHR data is messy: a lab dated after the death is not a reason to refuse the record.
    r = parse_record(
        {
            "id": "p1",
            "deceased_on": "2019-05-02",
            "labs": [{"test": "afp", "value": 5.0, "unit": "ng/mL", "date": "2020-01-01"}],
        }
    )
    assert r.deceased_on == dt.date(2019, 5, 2) and len(r.labs) == 1
