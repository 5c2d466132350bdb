"""Adapters at the edge: they map and transport, and call :func:`hccwatch.assess`.

No clinical rule lives here; every decision stays in :mod:`hccwatch.core`.

- :mod:`hccwatch.adapters.fhir`: FHIR R4 resources to a patient record (and back).
"""
