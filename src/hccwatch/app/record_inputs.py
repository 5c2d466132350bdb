"""The patients held in one decoded input (a record, a FHIR Bundle or resource, Bulk NDJSON), as
``hccwatch registry import`` and the web app's import page both read them.

A FHIR input may hold many patients: each becomes its own record, named ``source#patient``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hccwatch.adapters.fhir import read_fhir_by_patient
from hccwatch.adapters.fhir.read import FhirReading
from hccwatch.app.io import Source, _decode, _is_fhir, _ndjson, _read
from hccwatch.errors import InvalidRecordError
from hccwatch.record.model import PatientRecord, parse_record

__all__ = ["Incoming", "decode_upload", "incoming_records"]


@dataclass(frozen=True)
class Incoming:
    """One patient of an input: its ``record`` when valid, else the ``problems`` (never both)."""

    name: str
    record: PatientRecord | None
    problems: tuple[str, ...] = ()
    fhir: FhirReading | None = None


def decode_upload(name: str, raw: bytes) -> tuple[Any, tuple[str, ...]]:
    """The decoded JSON of an uploaded file (``*.ndjson``: a list of resources), with the size
    limit and refusals of ``assess``."""
    text, problems = _read(Source(name, None), lambda: raw)
    if text is None:
        return None, problems
    if name.lower().endswith(".ndjson"):
        return _ndjson(name, text)
    return _decode(name, text)


def _is_fhir_input(data: Any) -> bool:
    return _is_fhir(data) or (isinstance(data, list) and bool(data) and all(_is_fhir(r) for r in data))


def incoming_records(name: str, data: Any, as_of: dt.date | None) -> Iterator[Incoming]:
    """Every patient in ``data`` (decoded JSON of the input called ``name``), validated."""
    if not _is_fhir_input(data):
        try:
            yield Incoming(name, parse_record(data))
        except InvalidRecordError as exc:
            yield Incoming(name, None, tuple(f"{name}: {p}" for p in exc.problems))
        return
    try:
        readings = read_fhir_by_patient(data, as_of=as_of)
    except InvalidRecordError as exc:
        yield Incoming(name, None, tuple(f"{name}: {p}" for p in exc.problems))
        return
    if not readings:
        yield Incoming(name, None, (f"{name}: no FHIR Patient found",))
    for patient, reading in readings.items():
        label = f"{name}#{patient}"
        try:
            yield Incoming(label, reading.patient_record, fhir=reading)
        except InvalidRecordError as exc:
            yield Incoming(label, None, tuple(f"{label}: {p}" for p in exc.problems), fhir=reading)
