"""OpenAPI pieces the routes cannot infer (they read raw bodies for the size limit)."""

from __future__ import annotations

from typing import Any

from hccwatch.app.server.prefetch import PREFETCH

__all__ = [
    "ASSESS_BODY",
    "ASSESS_RESPONSES",
    "CDS_REQUEST_BODY",
    "EXAMPLE_RECORD",
    "FEEDBACK_BODY",
    "FHIR_BODY",
    "PROBLEM_SCHEMA",
    "record_components",
]

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `errors` names each field that is wrong.",
    "properties": {
        "type": {"type": "string", "example": "urn:hccwatch:problem:invalid-record"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "detail": {"type": "string"}},
                "required": ["field", "detail"],
            },
        },
    },
    "required": ["type", "title", "status"],
}

# A short, invented follow-up record (not a real patient).
EXAMPLE_RECORD: dict[str, Any] = {
    "id": "example-after-resection",
    "sex": "female",
    "birth_date": "1962-05-04",
    "ecog": 1,
    "liver": {"cirrhosis": True, "etiology": ["hcv"], "ascites": "none", "encephalopathy": "none"},
    "treatments": [{"type": "resection", "date": "2021-10-12", "margin": "R0", "curative": True}],
    "labs": [
        {"test": "afp", "value": 24.6, "unit": "ng/mL", "date": "2026-11-18"},
        {"test": "bilirubin", "value": 0.8, "unit": "mg/dL", "date": "2026-11-18"},
        {"test": "albumin", "value": 3.9, "unit": "g/dL", "date": "2026-11-18"},
        {"test": "inr", "value": 1.0, "date": "2026-11-18"},
    ],
    "symptoms": [{"code": "back_pain", "onset": "2026-10-13", "progressive": True}],
}

_EXAMPLE_BUNDLE: dict[str, Any] = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        {"resource": {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1962-05-04"}},
        {
            "resource": {
                "resourceType": "Observation",
                "id": "afp1",
                "status": "final",
                "subject": {"reference": "Patient/p1"},
                "code": {"coding": [{"system": "http://loinc.org", "code": "1834-1"}]},
                "effectiveDateTime": "2026-11-18",
                "valueQuantity": {"value": 24.6, "unit": "ng/mL", "system": "http://unitsofmeasure.org"},
            }
        },
    ],
}


def record_components(schema: dict[str, Any]) -> dict[str, Any]:
    """The record's JSON Schema split for OpenAPI components (its $defs become siblings)."""
    defs = dict(schema.pop("$defs", {}))
    defs["PatientRecord"] = schema
    return defs


ASSESS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": (
            "An hccwatch patient record (see `hccwatch schema`), or FHIR R4 (a Bundle, one resource or a "
            "list of resources for one patient)."
        ),
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/PatientRecord"},
                        {"$ref": "#/components/schemas/FhirResource"},
                    ]
                },
                "examples": {
                    "record": {"summary": "hccwatch record", "value": EXAMPLE_RECORD},
                    "fhir": {"summary": "FHIR R4 Bundle", "value": _EXAMPLE_BUNDLE},
                },
            },
            "application/fhir+json": {
                "schema": {"$ref": "#/components/schemas/FhirResource"},
                "examples": {"fhir": {"summary": "FHIR R4 Bundle", "value": _EXAMPLE_BUNDLE}},
            },
        },
    }
}

FHIR_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "FHIR R4 for one patient: a Bundle, one resource, or a list of resources.",
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/FhirResource"},
                "examples": {"fhir": {"summary": "FHIR R4 Bundle", "value": _EXAMPLE_BUNDLE}},
            },
            "application/fhir+json": {
                "schema": {"$ref": "#/components/schemas/FhirResource"},
                "examples": {"fhir": {"summary": "FHIR R4 Bundle", "value": _EXAMPLE_BUNDLE}},
            },
        },
    }
}

_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}

ASSESS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": (
            "The Assessment (`Assessment.to_dict()`), or with `Accept: application/fhir+json` a FHIR R4 "
            "Bundle (RiskAssessment, DetectedIssue, proposed ServiceRequests, Observations)."
        ),
        "content": {
            "application/json": {
                "schema": {"type": "object"},
                "example": {"record_id": "example-after-resection", "as_of": "2026-11-24", "alerts": []},
            },
            "application/fhir+json": {"schema": {"$ref": "#/components/schemas/FhirResource"}},
        },
    },
    400: {"description": "A query parameter is wrong (as_of, lang, profile).", "content": _PROBLEM},
    401: {"description": "No valid bearer token.", "content": _PROBLEM},
    413: {"description": "The body is larger than HCCWATCH_MAX_BODY_BYTES.", "content": _PROBLEM},
    415: {"description": "The body is not JSON.", "content": _PROBLEM},
    422: {
        "description": (
            "The record cannot be read (`invalid-record`; `errors` names each field), or it says the "
            "patient had died by as_of (`deceased`: nothing is assessed)."
        ),
        "content": _PROBLEM,
    },
    503: {"description": "The assessment took longer than HCCWATCH_REQUEST_TIMEOUT_S.", "content": _PROBLEM},
}

CDS_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A CDS Hooks 2.0 request (hook, hookInstance, context, prefetch, fhirServer).",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["hook", "hookInstance", "context"],
                    "properties": {
                        "hook": {"type": "string"},
                        "hookInstance": {"type": "string"},
                        "fhirServer": {"type": "string"},
                        "fhirAuthorization": {"type": "object"},
                        "context": {"type": "object"},
                        "prefetch": {"type": "object"},
                    },
                },
                "example": {
                    "hook": "patient-view",
                    "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
                    "context": {"userId": "Practitioner/example", "patientId": "p1"},
                    "prefetch": {key: None for key in PREFETCH}
                    | {"patient": _EXAMPLE_BUNDLE["entry"][0]["resource"]},
                },
            }
        },
    }
}

FEEDBACK_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["feedback"],
                    "properties": {"feedback": {"type": "array", "items": {"type": "object"}}},
                },
                "example": {
                    "feedback": [
                        {
                            "card": "9368d37b-283f-44a0-93ea-547cebab93ed",
                            "outcome": "overridden",
                            "overrideReason": {
                                "reason": {
                                    "code": "patient-refused",
                                    "system": "http://example.org/cds-services/fhir/CodeSystem/override-reasons",
                                    "display": "Patient refused",
                                },
                                "userComment": "",
                            },
                            "outcomeTimestamp": "2026-11-24T10:00:00Z",
                        }
                    ]
                },
            }
        },
    }
}
