"""FHIR R4: resources in (a Bundle, an NDJSON export, a CDS Hooks prefetch) -> a patient record.

See ``docs/fhir.md`` for what is mapped and what is not. Out: ``assessment_bundle`` and
``workup_service_request`` write an assessment as R4 resources (``docs/fhir-out.md``).
"""

from hccwatch.adapters.fhir.out import assessment_bundle, workup_service_request
from hccwatch.adapters.fhir.read import (
    Assumption,
    FhirReading,
    MappingWarning,
    diagnosis_code_family,
    read_fhir,
    read_fhir_by_patient,
    read_lines,
    read_resources,
)

__all__ = [
    "Assumption",
    "FhirReading",
    "MappingWarning",
    "assessment_bundle",
    "diagnosis_code_family",
    "read_fhir",
    "read_fhir_by_patient",
    "read_lines",
    "read_resources",
    "workup_service_request",
]
