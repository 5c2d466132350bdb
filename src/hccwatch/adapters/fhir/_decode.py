"""Tolerant typed views of the few FHIR R4 elements the reader needs.

msgspec Structs ignore every field they do not declare (extensions, Epic's own elements,
narrative), so only what the mapping reads is decoded and type-checked. A resource whose
needed elements have the wrong JSON type fails as a whole, and the reader turns that into a
named warning; elements are all optional, because real exports omit anything.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = [
    "CodeableConcept",
    "Coding",
    "Component",
    "Condition",
    "DiagnosticReport",
    "Dosage",
    "ImagingStudy",
    "Medication",
    "MedicationUse",
    "Meta",
    "Observation",
    "Patient",
    "Period",
    "Procedure",
    "Quantity",
    "Reference",
    "Series",
]


class _S(msgspec.Struct, forbid_unknown_fields=False):
    pass


class Coding(_S):
    system: str | None = None
    code: str | None = None
    display: str | None = None


class CodeableConcept(_S):
    coding: list[Coding] | None = None
    text: str | None = None


class Reference(_S):
    reference: str | None = None
    display: str | None = None


class Quantity(_S):
    value: float | None = None
    comparator: str | None = None
    unit: str | None = None
    system: str | None = None
    code: str | None = None


class Period(_S):
    start: str | None = None
    end: str | None = None


class Meta(_S):
    profile: list[str] | None = None


class Patient(_S):
    id: str | None = None
    gender: str | None = None
    birthDate: str | None = None


class Condition(_S):
    id: str | None = None
    meta: Meta | None = None
    clinicalStatus: CodeableConcept | None = None
    verificationStatus: CodeableConcept | None = None
    category: list[CodeableConcept] | None = None
    code: CodeableConcept | None = None
    bodySite: list[CodeableConcept] | None = None
    subject: Reference | None = None
    onsetDateTime: str | None = None
    onsetPeriod: Period | None = None
    abatementDateTime: str | None = None
    recordedDate: str | None = None


class Component(_S):
    code: CodeableConcept | None = None
    valueQuantity: Quantity | None = None
    valueCodeableConcept: CodeableConcept | None = None


class Observation(_S):
    id: str | None = None
    meta: Meta | None = None
    status: str | None = None
    code: CodeableConcept | None = None
    subject: Reference | None = None
    focus: list[Reference] | None = None
    effectiveDateTime: str | None = None
    effectivePeriod: Period | None = None
    issued: str | None = None
    valueQuantity: Quantity | None = None
    valueCodeableConcept: CodeableConcept | None = None
    valueInteger: int | None = None
    valueBoolean: bool | None = None
    valueString: str | None = None
    bodySite: CodeableConcept | None = None
    component: list[Component] | None = None


class DiagnosticReport(_S):
    id: str | None = None
    status: str | None = None
    category: list[CodeableConcept] | None = None
    code: CodeableConcept | None = None
    subject: Reference | None = None
    effectiveDateTime: str | None = None
    effectivePeriod: Period | None = None
    issued: str | None = None
    imagingStudy: list[Reference] | None = None
    conclusionCode: list[CodeableConcept] | None = None


class Series(_S):
    modality: Coding | None = None
    bodySite: Coding | None = None


class ImagingStudy(_S):
    id: str | None = None
    status: str | None = None
    subject: Reference | None = None
    started: str | None = None
    modality: list[Coding] | None = None
    series: list[Series] | None = None


class Procedure(_S):
    id: str | None = None
    status: str | None = None
    code: CodeableConcept | None = None
    subject: Reference | None = None
    performedDateTime: str | None = None
    performedPeriod: Period | None = None
    bodySite: list[CodeableConcept] | None = None


class Medication(_S):
    id: str | None = None
    code: CodeableConcept | None = None


class Dosage(_S):
    text: str | None = None


class MedicationUse(_S):
    """MedicationRequest, MedicationAdministration and MedicationStatement share these elements."""

    id: str | None = None
    status: str | None = None
    intent: str | None = None
    medicationCodeableConcept: CodeableConcept | None = None
    medicationReference: Reference | None = None
    subject: Reference | None = None
    authoredOn: str | None = None
    effectiveDateTime: str | None = None
    effectivePeriod: Period | None = None
    dateAsserted: str | None = None


def convert(resource: Any, kind: type[msgspec.Struct]) -> Any:
    """``resource`` (a decoded JSON object) as ``kind``; raises msgspec.ValidationError."""
    return msgspec.convert(resource, kind, strict=True)
