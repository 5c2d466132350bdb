"""FHIR R4 in and out for hccwatch."""

# --- fhir-out: the assessment written as FHIR R4 resources ---
from hccwatch.adapters.fhir.out import assessment_bundle, workup_service_request

__all__ = ["assessment_bundle", "workup_service_request"]
