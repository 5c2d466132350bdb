"""FHIR R4: resources in (a Bundle, an NDJSON export, a CDS Hooks prefetch) -> a patient record.

See ``docs/fhir.md`` for what is mapped and what is not.
"""

from hccwatch.adapters.fhir.read import (
    Assumption,
    FhirReading,
    MappingWarning,
    read_fhir,
    read_fhir_by_patient,
    read_resources,
)

__all__ = [
    "Assumption",
    "FhirReading",
    "MappingWarning",
    "read_fhir",
    "read_fhir_by_patient",
    "read_resources",
]
