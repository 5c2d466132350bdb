"""read_lines: a patient's NDJSON lines decoded once, straight into the typed views, give the very
reading read_resources gives of the same lines decoded by orjson, warnings included."""

from __future__ import annotations

import json
import random
from typing import Any

import msgspec
import orjson
import pytest
from fhir_mutation import mutate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hccwatch import InvalidRecordError
from hccwatch.adapters.fhir import FhirReading, read_lines, read_resources
from hccwatch.adapters.fhir import _decode as fhir
from hccwatch.adapters.fhir import read as fhir_read
from hccwatch.population.synth import generate_patient, load_distributions
from support import AS_OF, EXAMPLES

BUNDLES = sorted((EXAMPLES / "fhir").glob("*.bundle.json"))
EXAMPLE_RESOURCES = [
    e["resource"] for b in BUNDLES for e in json.loads(b.read_text(encoding="utf-8"))["entry"]
]
SYNTH = [r for i in range(40) for r in generate_patient(load_distributions(), 3, i)]
RESOURCES = EXAMPLE_RESOURCES + SYNTH
SUBJECT = {"reference": "Patient/p1"}
PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1960-01-02"}
HCC = {
    "resourceType": "Condition",
    "id": "hcc",
    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "109841003"}]},
    "subject": SUBJECT,
}


def _line(resource: Any) -> bytes:
    # json, not orjson: it writes integers beyond 64 bits too, as an export may hold them.
    return json.dumps(resource, ensure_ascii=False, separators=(",", ":")).encode()


def _both(raws: list[bytes]) -> tuple[Any, Any]:
    """Each path's reading as plain data, or the refusal's text."""

    def run(read: Any) -> Any:
        try:
            reading: FhirReading = read()
        except InvalidRecordError as exc:
            return ("refused", str(exc))
        return (reading.to_dict(), reading.warnings, reading.assumptions)

    old = run(lambda: read_resources([orjson.loads(r) for r in raws], as_of=AS_OF))
    new = run(lambda: read_lines(raws, as_of=AS_OF))
    return old, new


def _assert_same(raws: list[bytes]) -> None:
    old, new = _both(raws)
    assert new == old


def _kinds(raws: list[bytes]) -> list[str]:
    """How _line_items reads each line: typed, head (a type not mapped) or object (as orjson)."""
    out = []
    for item in fhir_read._line_items(raws):
        r = item.resource
        if type(r) is fhir_read._Typed:
            out.append("typed")
        else:
            out.append("head" if set(r) == {"resourceType", "subject", "patient"} else "object")
    return out


# --- the common case goes the typed way, and reads the same -------------------------------------


def test_a_synthetic_patients_lines_are_decoded_straight_into_views() -> None:
    d = load_distributions()
    for index in range(30):
        raws = [_line(r) for r in generate_patient(d, 1, index)]
        kinds = _kinds(raws)
        assert "object" not in kinds
        _assert_same(raws)


def test_every_example_resource_reads_the_same() -> None:
    _assert_same([_line(PATIENT), *(_line(r) for r in EXAMPLE_RESOURCES)])


# --- what could differ is read as orjson reads it --------------------------------------------------


def _obs(**extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": "o1",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "89247-1"}]},
        "subject": SUBJECT,
        "effectiveDateTime": "2026-01-02",
        **extra,
    }


@pytest.mark.parametrize(
    "raw",
    [
        # Beyond 64 bits orjson reads a float (refused as an int: a warning), msgspec an int.
        b'{"resourceType":"Observation","id":"o","subject":{"reference":"Patient/p1"},"valueInteger":18446744073709551616}',
        b'{"resourceType":"Observation","id":"o","subject":{"reference":"Patient/p1"},"valueInteger":-9223372036854775809}',
        b'{"resourceType":"Observation","id":"o","subject":{"reference":"Patient/p1"},"valueInteger":18446744073709551615}',
        # A wrong form: the warning is convert's, msgspec's path text included.
        b'{"resourceType":"Observation","id":"o","subject":{"reference":"Patient/p1"},"code":{"coding":[{"code":5}]}}',
        b'{"resourceType":"Condition","id":"c","subject":{"reference":"Patient/p1"},"code":{"coding":{"code":"x"}}}',
        # A second resourceType: orjson keeps the last.
        b'{"resourceType":"Observation","id":"o","subject":{"reference":"Patient/p1"},"resourceType":"Encounter"}',
        b'{"resourceType":"Encounter","id":"e","subject":{"reference":"Patient/p1"},"resourceType":"Observation"}',
        # The type written with an escape, or not first.
        b'{"resourceType":"Obs\\u0065rvation","id":"o","subject":{"reference":"Patient/p1"},"status":"final"}',
        b'{"id":"o","resourceType":"Observation","subject":{"reference":"Patient/p1"},"status":"final"}',
        b'{ "resourceType" : "Observation", "id":"o", "subject":{"reference":"Patient/p1"}}',
        # The patient named by "patient", or a subject of an odd form.
        b'{"resourceType":"Observation","id":"o","patient":{"reference":"Patient/p1"},"status":"final"}',
        b'{"resourceType":"Observation","id":"o","subject":{"reference":""},"patient":{"reference":"Patient/p1"}}',
        b'{"resourceType":"Encounter","id":"e","patient":{"reference":"Patient/p2"}}',
        b'{"resourceType":"Encounter","id":"e","subject":"Patient/p2"}',
        b'{"resourceType":"Patient","id":"p1","subject":5}',
        b'{"resourceType":"Patient","id":""}',
        b'{"resourceType":"Patient","id":7}',
        # Duplicate elements: orjson keeps the last.
        b'{"resourceType":"Observation","id":"o","id":"o2","subject":{"reference":"Patient/p1"}}',
        b'{"resourceType":"Observation","id":"o","subject":{"reference":"Patient/p1"},"valueQuantity":{"value":-0,"value":2.5}}',
        b'{"resourceType":"Observation","id":"o","subject":{"reference":"Patient/p1"},"valueQuantity":{"value":-0}}',
        b'{"resourceType":"Observation","id":"o","subject":{"reference":"Patient/p1"},"valueQuantity":{"value":123456789012345678901234567890}}',
        b'{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","id":"p1"}}]}',
        b'{"resourceType":"Unknown","id":"x"}',
        b'{"resourceType":5}',
        b"[1, 2]",
        b'"text"',
    ],
)
def test_odd_lines_read_as_orjson_reads_them(raw: bytes) -> None:
    _assert_same([_line(PATIENT), _line(HCC), raw])
    _assert_same([raw])


def test_raw_json_elements_with_huge_integers_are_read_as_orjson_reads_them() -> None:
    ext = {"url": "x", "valueInteger": 2**70}
    condition = {**HCC, "id": "c2", "extension": [ext]}
    med = {"resourceType": "Medication", "id": "m", "code": {"text": "sorafenib"}, "n": 2**70}
    use = {
        "resourceType": "MedicationRequest",
        "id": "r",
        "status": "active",
        "intent": "order",
        "subject": SUBJECT,
        "authoredOn": "2026-01-02",
        "medicationReference": {"reference": "#m"},
        "contained": [med],
    }
    raws = [_line(PATIENT), _line(condition), _line(use)]
    assert _kinds(raws) == ["typed", "object", "object"]
    _assert_same(raws)
    small = {**use, "contained": [{**med, "n": 1}]}
    assert _kinds([_line(small)]) == ["typed"]
    _assert_same([_line(PATIENT), _line(HCC), _line(small)])


def test_medications_and_imaging_studies_are_read_as_objects_and_found_by_reference() -> None:
    med = {"resourceType": "Medication", "id": "m1", "code": {"text": "lenvatinib"}}
    use = {
        "resourceType": "MedicationStatement",
        "id": "s",
        "status": "active",
        "subject": SUBJECT,
        "effectiveDateTime": "2026-01-02",
        "medicationReference": {"reference": "Medication/m1"},
    }
    raws = [_line(PATIENT), _line(HCC), _line(med), _line(use)]
    assert _kinds(raws) == ["typed", "typed", "object", "typed"]
    _assert_same(raws)


def test_a_line_that_is_not_json_is_refused_by_name() -> None:
    with pytest.raises(InvalidRecordError, match="not JSON"):
        read_lines([_line(PATIENT), b'{"resourceType":"Observation",'], as_of=AS_OF)


def test_every_element_that_may_hold_an_integer_is_checked() -> None:
    # A view element that keeps raw JSON or an int must be checked (RAW_JSON_FIELD) or bounded
    # (the line views' int elements): orjson and msgspec read an integer beyond 64 bits apart.
    def holds_integers(t: msgspec.inspect.Type, seen: set[type]) -> list[str]:
        if isinstance(t, msgspec.inspect.UnionType):
            return [x for u in t.types for x in holds_integers(u, seen)]
        if isinstance(t, msgspec.inspect.ListType):
            return holds_integers(t.item_type, seen)
        if isinstance(t, msgspec.inspect.StructType):
            if t.cls in seen:
                return []
            seen.add(t.cls)
            return [f"{t.cls.__name__}.{f.name}" for f in t.fields if holds_integers(f.type, seen)]
        return ["x"] if isinstance(t, msgspec.inspect.IntType | msgspec.inspect.AnyType) else []

    for view in set(fhir.LINE_VIEWS.values()):
        found = holds_integers(msgspec.inspect.type_info(view), set())
        allowed = {f"{view.__name__}.{fhir.RAW_JSON_FIELD.get(view)}", "Observation.valueInteger"}
        assert set(found) <= allowed, found
    line = fhir.LINE_DECODERS[b"Observation"][0]
    with pytest.raises(msgspec.ValidationError):
        line.decode(b'{"resourceType":"Observation","valueInteger":9223372036854775808}')


# --- mutated resources and lines: both paths agree -----------------------------------------------

_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.just("2026-13-45T99:99:99Z"),
    st.just([]),
    st.just({}),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.sampled_from(["Observation", "Patient", "Encounter", "Bundle", "Medication", "Patient/p1"]),
)


def _mutate(resource: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    return mutate(resource, data, _JUNK, least=0, most=3)


def _text_mutation(raw: bytes, data: st.DataObject) -> bytes:
    """A change of the JSON text that keeps it JSON (or not: orjson judges, as the scan does)."""
    choice = data.draw(st.integers(0, 6))
    if choice == 0:
        return raw
    if choice == 1:  # an element written twice, the second wins for orjson
        key = data.draw(st.sampled_from([b"id", b"status", b"resourceType", b"subject", b"valueQuantity"]))
        value = _line(data.draw(_JUNK))
        return raw[:-1] + b',"' + key + b'":' + value + b"}"
    if choice == 2:  # spaces
        return raw.replace(b'":', b'" : ')
    if choice == 3:  # keys in another order
        obj = orjson.loads(raw)
        if isinstance(obj, dict):
            items = list(obj.items())
            random.Random(data.draw(st.integers(0, 100))).shuffle(items)
            return _line(dict(items))
        return raw
    if choice == 4:  # a number written otherwise
        return raw.replace(b'"value":', b'"value":-0.0e0,"value":', 1)
    if choice == 5:  # an escaped letter
        return raw.replace(b"a", b"\\u0061", data.draw(st.integers(1, 3)))
    at = data.draw(st.integers(0, len(raw)))  # cut short
    return raw[:at]


# The patient's deceased[x] as exports write it, both at once, or in a wrong form.
_DECEASED = st.one_of(
    st.just({}),
    st.fixed_dictionaries({"deceasedBoolean": st.booleans()}),
    st.fixed_dictionaries(
        {
            "deceasedDateTime": st.sampled_from(
                ["2019-05-02", "1989-05-09T20:35:22-04:00", "2019-05", "1950-01-01"]
            )
        }
    ),
    st.fixed_dictionaries({"deceasedBoolean": st.booleans(), "deceasedDateTime": st.just("2019-05-02")}),
    st.fixed_dictionaries({"deceasedBoolean": _JUNK}),
    st.fixed_dictionaries({"deceasedDateTime": _JUNK}),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_lines_give_the_same_reading_both_ways(data: st.DataObject) -> None:
    chosen = data.draw(st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=8))
    patient = {**PATIENT, **data.draw(_DECEASED, label="deceased")}
    resources = [patient, HCC, *(_mutate(r, data) for r in chosen)]
    for r in resources[2:]:
        if isinstance(r.get("subject"), dict) and data.draw(st.booleans()):
            r["subject"]["reference"] = "Patient/p1"
    raws = [_text_mutation(_line(r), data) for r in resources]
    accepted = []
    for raw in raws:
        try:
            orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue  # the batch scan keeps only what orjson reads
        accepted.append(raw)
    _assert_same(accepted)


# --- Patient.deceased[x], read the same both ways ---------------------------------------------------


@pytest.mark.parametrize(
    ("deceased", "fields", "warning"),
    [
        ({"deceasedBoolean": True}, {"deceased": True}, None),
        ({"deceasedBoolean": False}, {"deceased": False}, None),
        # The date part of the dateTime, as written (as for every other dateTime).
        ({"deceasedDateTime": "1989-05-09T20:35:22-04:00"}, {"deceased_on": "1989-05-09"}, None),
        ({"deceasedDateTime": "2019-05-02"}, {"deceased_on": "2019-05-02"}, None),
        (
            {"deceasedDateTime": "2019-05"},
            {"deceased": True},
            "date of death not given to the day: recorded as died, date left unknown",
        ),
        (
            {"deceasedBoolean": False, "deceasedDateTime": "2019-05-02"},
            {},
            "deceasedBoolean false and a deceasedDateTime both given: "
            "whether the patient has died is left unknown",
        ),
    ],
)
def test_deceased_is_read_the_same_both_ways(
    deceased: dict[str, Any], fields: dict[str, Any], warning: str | None
) -> None:
    raws = [_line({**PATIENT, **deceased}), _line(HCC)]
    _assert_same(raws)
    reading = read_lines(raws, as_of=AS_OF)
    assert {k: v for k, v in reading.record.items() if k.startswith("deceased")} == fields
    # The birth date and sex are read beside it, and the record validates.
    assert reading.record["birth_date"] == PATIENT["birthDate"]
    assert reading.patient_record.has_died is (fields.get("deceased") is True or "deceased_on" in fields)
    messages = [w.message for w in reading.warnings if w.resource == "Patient/p1"]
    assert (warning in messages) if warning else messages == []


@pytest.mark.parametrize(
    "deceased",
    [
        {"deceasedBoolean": "true"},
        {"deceasedBoolean": 1},
        {"deceasedDateTime": 20190502},
        {"deceasedDateTime": {"value": "2019-05-02"}},
    ],
)
def test_a_wrong_form_of_deceased_gives_the_usual_warning_both_ways(deceased: dict[str, Any]) -> None:
    raws = [_line({**PATIENT, **deceased}), _line(HCC)]
    _assert_same(raws)
    reading = read_lines(raws, as_of=AS_OF)
    (key,) = deceased
    assert any(
        w.resource == "Patient/p1"
        and w.message.startswith("not read: an element has the wrong form")
        and key in w.message
        for w in reading.warnings
    ), reading.warnings
    assert "deceased" not in reading.record and "deceased_on" not in reading.record


def test_a_death_before_birth_drops_the_date_with_a_warning_both_ways() -> None:
    raws = [_line({**PATIENT, "deceasedDateTime": "1950-01-01"}), _line(HCC)]
    _assert_same(raws)
    reading = read_lines(raws, as_of=AS_OF)
    assert "deceased_on" not in reading.record and reading.record["birth_date"] == "1960-01-02"
    assert any("deceased_on: 1950-01-01 is before birth_date" in w.message for w in reading.warnings)
