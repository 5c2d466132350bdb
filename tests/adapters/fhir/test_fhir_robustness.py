"""Nothing the FHIR reader is given makes it crash: shared public files and mutated resources."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fhir_mutation import mutate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hccwatch import DeceasedError, InvalidRecordError, assess, parse_record
from hccwatch.adapters.fhir import FhirReading, read_fhir, read_fhir_by_patient
from support import AS_OF, EXAMPLES, requires_shared, shared_path

BUNDLES = sorted((EXAMPLES / "fhir").glob("*.bundle.json"))
RESOURCES = [e["resource"] for b in BUNDLES for e in json.loads(b.read_text(encoding="utf-8"))["entry"]]


def _load(path: Path) -> Any:
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix == ".ndjson":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return json.loads(text)


def _check(reading: FhirReading) -> None:
    # The record is valid, and the assessment runs on it (or says the record says the patient died:
    # several public examples and exports hold patients who have).
    record = parse_record(reading.record)
    try:
        assess(reading.record, as_of=AS_OF)
    except DeceasedError as exc:
        assert record.has_died and str(exc).startswith("the record says the patient ")
    for w in reading.warnings:
        assert w.resource and "/" in w.resource and w.message


@requires_shared
def test_every_shared_fhir_file_is_read_without_an_exception() -> None:
    root = shared_path("data")
    files = sorted(p for p in root.rglob("*") if p.suffix in (".json", ".ndjson") and p.is_file())
    assert len(files) > 500
    patients = 0
    for path in files:
        data = _load(path)
        for reading in read_fhir_by_patient(data, as_of=AS_OF).values():
            _check(reading)
            patients += 1
        try:
            _check(read_fhir(data, as_of=AS_OF))
        except InvalidRecordError as exc:
            assert "patient" in str(exc), path
    # The Bulk Data exports, each folder read as one export of several patients.
    for folder in sorted({p.parent for p in files if p.suffix == ".ndjson"}):
        resources = [r for p in sorted(folder.glob("*.ndjson")) for r in _load(p)]
        readings = read_fhir_by_patient(resources, as_of=AS_OF)
        assert readings, folder
        for reading in readings.values():
            _check(reading)
    assert patients > 100


@requires_shared
def test_synthea_bundles_give_their_labs() -> None:
    folder = shared_path("data", "synthea-r4-bundles")
    labs = 0
    for path in sorted(folder.glob("*.json")):
        for reading in read_fhir_by_patient(_load(path), as_of=AS_OF).values():
            labs += len(reading.record.get("labs", []))
    assert labs > 50


@requires_shared
def test_synthea_bulk_patients_get_their_sex_and_a_dialysis_assumption() -> None:
    folder = shared_path("data", "synthea-bulk-ndjson-10")
    resources = [r for p in sorted(folder.glob("*.ndjson")) for r in _load(p)]
    readings = read_fhir_by_patient(resources, as_of=AS_OF)
    assert len(readings) == 13  # the "10-patients" export holds 13 Patient resources
    for reading in readings.values():
        assert reading.record["sex"] in ("male", "female")
        assert [a.field for a in reading.assumptions][:1] in (["liver.dialysis_twice_past_week"], [])


_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.just("x" * 100_000),
    st.just("2026-13-45T99:99:99Z"),
    st.just([]),
    st.just({}),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def _mutate(resource: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    return mutate(resource, data, _JUNK, least=1, most=4)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_resources_give_warnings_never_exceptions(data: st.DataObject) -> None:
    chosen = data.draw(st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=8))
    mutated = [_mutate(r, data) for r in chosen]
    patient = {"resourceType": "Patient", "id": "p"}
    for r in mutated:
        if isinstance(r.get("subject"), dict):
            r["subject"]["reference"] = "Patient/p"
    readings = read_fhir_by_patient([patient, *mutated], as_of=AS_OF)
    for reading in readings.values():
        _check(reading)


@pytest.mark.parametrize("day", [dt.date(2026, 11, 24), dt.date(2000, 1, 1)])
def test_whole_mutated_bundles_do_not_crash(day: dt.date) -> None:
    for bundle_path in BUNDLES:
        bundle = json.loads(bundle_path.read_text(encoding="utf-8"))
        for junk in (None, 1, "x", [], {}, [None, 1, "x"], {"resource": 1}):
            broken = {**bundle, "entry": [*bundle["entry"], junk]}
            _check(read_fhir(broken, as_of=day))
