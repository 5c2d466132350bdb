"""Import (/import): an uploaded record JSON, FHIR R4 Bundle or Bulk NDJSON file, read as
``hccwatch registry import`` reads it and stored with :meth:`Registry.import_record` (one audited
transaction per patient), with each patient's result listed: added, updated, unchanged or failed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from hccwatch.app.record_inputs import decode_upload, incoming_records
from hccwatch.errors import HccwatchError
from hccwatch.registry import Action
from hccwatch.web.deps import WebUser, registry, require
from hccwatch.web.quick import Form, body_limit, read_upload
from hccwatch.web.render import render

__all__ = ["router"]

router = APIRouter()

Importer = Annotated[WebUser, Depends(require(Action.IMPORT))]


@dataclass(frozen=True)
class ImportLine:
    """One patient of the file: ``status`` added, updated, unchanged or failed."""

    name: str
    status: str
    record_id: str | None = None
    patient_id: int | None = None
    message: str = ""
    warnings: int = 0


def _page(request: Request, context: dict[str, object], status: int = 200) -> Response:
    base: dict[str, object] = {"errors": {}, "lines": [], "counts": None, "as_of": ""}
    return render(request, "import.html", {**base, **context}, status)


@router.get("/import")
def import_form(request: Request, user: Importer) -> Response:
    return _page(request, {})


@router.post("/import")
async def import_file(request: Request, user: Importer, form: Form) -> Response:
    typed_as_of = str(form.get("as_of") or "").strip()
    as_of: dt.date | None = None
    errors: dict[str, str] = {}
    if typed_as_of:
        try:
            as_of = dt.date.fromisoformat(typed_as_of)
        except ValueError:
            errors["as_of"] = f"{typed_as_of[:40]!r} is not a date (YYYY-MM-DD)"
    source = await read_upload(form, body_limit(request))
    if isinstance(source, str):
        errors["file"] = source
    if errors or isinstance(source, str):
        return _page(request, {"errors": errors, "as_of": typed_as_of}, 422)
    name, raw = source
    data, problems = decode_upload(name, raw)
    if problems:
        return _page(request, {"errors": {"file": "; ".join(problems)}, "as_of": typed_as_of}, 422)
    reg = registry(request)
    lines: list[ImportLine] = []
    for incoming in incoming_records(name, data, as_of):
        warnings = len(incoming.fhir.warnings) if incoming.fhir is not None else 0
        if incoming.record is None:
            lines.append(
                ImportLine(incoming.name, "failed", message="; ".join(incoming.problems), warnings=warnings)
            )
            continue
        try:
            result = reg.import_record(user.actor, incoming.record)
        except HccwatchError as exc:
            lines.append(
                ImportLine(incoming.name, "failed", incoming.record.id, message=str(exc), warnings=warnings)
            )
            continue
        lines.append(
            ImportLine(incoming.name, result.status, result.record_id, result.patient_id, warnings=warnings)
        )
    counts = {
        s: sum(1 for line in lines if line.status == s) for s in ("added", "updated", "unchanged", "failed")
    }
    status = 200 if counts["failed"] < len(lines) else 422
    return _page(request, {"lines": lines, "counts": counts, "as_of": typed_as_of}, status)
