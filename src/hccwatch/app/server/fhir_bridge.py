"""The FHIR adapters the server calls (``hccwatch.adapters``), imported on first use.

Reading FHIR into a record, writing an Assessment as a Bundle and building CDS Hooks cards are
the adapters' work; the server only transports (and withdraws a stated assumption when the
resources it rests on never arrived).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from hccwatch.adapters.fhir import FhirReading
from hccwatch.core.assessment import Assessment

__all__ = [
    "ASSUMPTION_SOURCES",
    "assessment_bundle",
    "cards",
    "is_fhir",
    "read_fhir",
    "read_resources",
    "warm_up",
    "withdraw_unfounded",
]


def warm_up() -> None:
    """Import the adapters now, so the first CDS call does not spend its deadline on imports."""
    import hccwatch.adapters.cds_hooks
    import hccwatch.adapters.fhir  # noqa: F401


def is_fhir(data: object) -> bool:
    """A FHIR resource (or a list of them) rather than an hccwatch record."""
    if isinstance(data, list):
        return bool(data) and all(isinstance(x, dict) and "resourceType" in x for x in data)
    return isinstance(data, dict) and "resourceType" in data


def read_fhir(data: object, *, as_of: dt.date | None = None) -> FhirReading:
    from hccwatch.adapters.fhir import read_fhir as _read

    return _read(data, as_of=as_of)


def read_resources(resources: Iterable[Mapping[str, Any]], *, as_of: dt.date | None = None) -> FhirReading:
    from hccwatch.adapters.fhir import read_resources as _read

    return _read(resources, as_of=as_of)


# Which prefetch keys each stated assumption rests on ("none recorded means none" holds only if
# those resources were actually obtained). An assumption not listed rests on every key.
ASSUMPTION_SOURCES: dict[str, tuple[str, ...]] = {
    "liver.dialysis_twice_past_week": ("procedures",),
    "liver.cvvhd_24h_past_week": ("procedures",),
}


def withdraw_unfounded(record: dict[str, Any], missing: Iterable[str]) -> list[str]:
    """Undo the assumptions whose resources could not be obtained: the field goes back to
    unknown (None) and the assumption is dropped. Returns the withdrawn fields."""
    gone = set(missing)
    if not gone:
        return []
    kept: list[Any] = []
    withdrawn: list[str] = []
    for assumption in record.get("assumptions") or []:
        field = assumption.get("field") if isinstance(assumption, dict) else None
        sources = ASSUMPTION_SOURCES.get(field) if isinstance(field, str) else None
        if isinstance(field, str) and (sources is None or gone.intersection(sources)):
            parent: Any = record
            *path, leaf = field.split(".")
            for part in path:
                parent = parent.get(part) if isinstance(parent, dict) else None
            if isinstance(parent, dict) and leaf in parent:
                parent[leaf] = None
            withdrawn.append(field)
        else:
            kept.append(assumption)
    record["assumptions"] = kept
    return withdrawn


def assessment_bundle(assessment: Assessment) -> dict[str, Any]:
    from hccwatch.adapters.fhir import assessment_bundle as _bundle

    return _bundle(assessment)


def cards(assessment: Assessment, *, patient_link: str | None) -> list[dict[str, Any]]:
    from hccwatch.adapters.cds_hooks import cards as _cards

    return _cards(assessment, patient_link=patient_link)
