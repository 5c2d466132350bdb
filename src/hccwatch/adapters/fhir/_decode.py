"""Tolerant typed views of the few FHIR R4 elements the reader needs.

msgspec Structs ignore every field they do not declare (extensions, Epic's own elements,
narrative), so only what the mapping reads is decoded and type-checked. A resource whose
needed elements have the wrong JSON type fails as a whole, and the reader turns that into a
named warning; elements are all optional, because real exports omit anything.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

__all__ = [
    "ELSEWHERE",
    "LINE_DECODERS",
    "LINE_VIEWS",
    "RAW_JSON_FIELD",
    "Elsewhere",
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


class _S(msgspec.Struct, forbid_unknown_fields=False, gc=False):
    """Not tracked by the garbage collector: a view decoded from JSON holds no cycle, and a
    patient's hundred views would otherwise trigger collections for nothing."""


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
    deceasedBoolean: bool | None = None
    deceasedDateTime: str | None = None


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
    # Kept raw: extensions of any shape must not fail the Condition (each is read on its own).
    extension: list[Any] | None = None


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
    contained: list[Any] | None = None
    subject: Reference | None = None
    authoredOn: str | None = None
    effectiveDateTime: str | None = None
    effectivePeriod: Period | None = None
    dateAsserted: str | None = None


def convert(resource: Any, kind: type[msgspec.Struct]) -> Any:
    """``resource`` (a decoded JSON object) as ``kind``; raises msgspec.ValidationError."""
    return msgspec.convert(resource, kind, strict=True)


# --- one NDJSON line straight into its typed view ---------------------------------------------


class Elsewhere(_S):
    """What the reader needs of a resource type it does not map: its type and the patient it
    names (for grouping); each kept as the JSON has it."""

    resourceType: Any = None
    subject: Any = None
    patient: Any = None


# An int element of a line view: orjson reads an integer beyond 64 bits as a float (which
# fhir.convert then refuses), msgspec as an integer; refused here too, the line is read as
# orjson reads it. (msgspec's bounds stop at int64: the rare larger uint64 is refused as well.)
_LINE_INT = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)] | None


def _line_struct(kind: str, view: type[msgspec.Struct]) -> type[msgspec.Struct]:
    """``view`` with the tag ``resourceType == kind`` checked, the elements the grouping reads
    (``subject``, ``patient``) typed as references, and its int elements bounded (``_LINE_INT``)."""
    extra: list[tuple[str, Any, Any]] = [("patient", Reference | None, None)]
    if "subject" not in view.__struct_fields__:
        extra.append(("subject", Reference | None, None))
    for f in msgspec.structs.fields(view):
        if f.type == (int | None):
            extra.append((f.name, _LINE_INT, None))
    return msgspec.defstruct(
        f"{kind}Line",
        extra,
        bases=(view,),
        tag_field="resourceType",
        tag=kind,
        forbid_unknown_fields=False,
        gc=False,
    )


# The resource types decoded straight from a line. Medication and ImagingStudy are left out on
# purpose: other resources refer to them, and the reader reads them as JSON objects then.
LINE_VIEWS: dict[str, type[msgspec.Struct]] = {
    "Patient": Patient,
    "Condition": Condition,
    "Observation": Observation,
    "DiagnosticReport": DiagnosticReport,
    "Procedure": Procedure,
    "MedicationRequest": MedicationUse,
    "MedicationAdministration": MedicationUse,
    "MedicationStatement": MedicationUse,
}
# The element of a view that keeps raw JSON (list[Any]), if any: its integers are checked.
RAW_JSON_FIELD: dict[type[msgspec.Struct], str] = {Condition: "extension", MedicationUse: "contained"}
# resourceType (as the line writes it) -> the decoder, the type, and its RAW_JSON_FIELD.
LINE_DECODERS: dict[bytes, tuple[msgspec.json.Decoder[Any], str, str | None]] = {
    kind.encode(): (msgspec.json.Decoder(_line_struct(kind, view)), kind, RAW_JSON_FIELD.get(view))
    for kind, view in LINE_VIEWS.items()
}
ELSEWHERE = msgspec.json.Decoder(Elsewhere)
