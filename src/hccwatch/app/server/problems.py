"""Errors as RFC 9457 problem details (``application/problem+json``), each naming its field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fastapi.responses import Response

from hccwatch.app.server.jsonio import dumps

__all__ = ["PROBLEM_JSON", "field_problems", "problem"]

PROBLEM_JSON = "application/problem+json"
# Problem types are URNs: stable identifiers a client can switch on, with no web page to keep alive.
TYPE_PREFIX = "urn:hccwatch:problem:"


def field_problems(problems: Iterable[str]) -> list[dict[str, str]]:
    """``InvalidRecordError.problems`` ("labs[0]: unit ...") as ``{"field", "detail"}`` pairs."""
    out: list[dict[str, str]] = []
    for text in problems:
        head, sep, rest = text.partition(": ")
        # A problem about the whole record ("a patient record must be a JSON object") has no field.
        if sep and head and " " not in head:
            out.append({"field": head, "detail": rest})
        else:
            out.append({"field": "", "detail": text})
    return out


def problem(
    status: int,
    kind: str,
    title: str,
    detail: str | None = None,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {"type": TYPE_PREFIX + kind, "title": title, "status": status}
    if detail is not None:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    return Response(dumps(body), status_code=status, media_type=PROBLEM_JSON, headers=headers)
