"""Thin front ends: read records, call :func:`hccwatch.assess`, render the answer."""
