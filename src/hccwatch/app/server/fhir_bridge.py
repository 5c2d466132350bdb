"""The FHIR adapters the server calls (``hccwatch.adapters``), imported on first use.

Reading FHIR into a record, writing an Assessment as a Bundle and building CDS Hooks cards are
the adapters' work; the server only transports. Imported lazily so ``hccwatch serve --help`` and
the REST API for hccwatch's own record do not pay for the FHIR models.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hccwatch.core.assessment import Assessment

__all__ = ["assessment_bundle", "cards", "is_fhir", "read_fhir", "read_resources", "warm_up"]


def warm_up() -> None:
    """Import the adapters now, so the first CDS call does not spend its deadline on imports."""
    import hccwatch.adapters.cds_hooks
    import hccwatch.adapters.fhir  # noqa: F401


def is_fhir(data: object) -> bool:
    """A FHIR resource (or a list of them) rather than an hccwatch record."""
    if isinstance(data, list):
        return bool(data) and all(isinstance(x, dict) and "resourceType" in x for x in data)
    return isinstance(data, dict) and "resourceType" in data


def read_fhir(data: object) -> Any:
    from hccwatch.adapters.fhir import read_fhir as _read

    return _read(data)


def read_resources(resources: Iterable[Mapping[str, Any]]) -> Any:
    from hccwatch.adapters.fhir import read_resources as _read

    return _read(resources)


def assessment_bundle(assessment: Assessment) -> dict[str, Any]:
    from hccwatch.adapters.fhir import assessment_bundle as _bundle

    return _bundle(assessment)


def cards(assessment: Assessment, *, patient_link: str | None) -> list[dict[str, Any]]:
    from hccwatch.adapters.cds_hooks import cards as _cards

    return _cards(assessment, patient_link=patient_link)
