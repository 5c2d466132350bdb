"""Quick assessment (/quick): a pasted or uploaded record or FHIR R4 input assessed and shown,
never saved. The input is read as ``hccwatch registry import`` reads it (same limits, same
messages), assessed by :func:`hccwatch.assess` and shown with the HTML report renderer of
:mod:`hccwatch.report`; the FHIR mapping's warnings and stated assumptions are listed above it.
Nothing here touches the registry.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from markupsafe import Markup
from starlette.datastructures import FormData, UploadFile

from hccwatch.api import assess
from hccwatch.app.record_inputs import Incoming, decode_upload, incoming_records
from hccwatch.core.assessment import Assessment
from hccwatch.errors import HccwatchError, KnowledgeError
from hccwatch.registry import Action
from hccwatch.report import render_html_page
from hccwatch.web.deps import WebUser, csrf_form, require, today
from hccwatch.web.render import LANGS, render

__all__ = ["read_upload", "router", "upload_form"]

router = APIRouter()

Viewer = Annotated[WebUser, Depends(require(Action.VIEW))]
PASTED = "pasted text"
# A multipart field other than a file (the pasted record) may be as large as a whole body.
_DEFAULT_LIMIT = 10_000_000


def body_limit(request: Request) -> int:
    """The largest body the server accepts (HCCWATCH_MAX_BODY_BYTES, as for the API)."""
    settings = getattr(request.app.state, "settings", None)
    return int(getattr(settings, "max_body_bytes", _DEFAULT_LIMIT))


async def upload_form(request: Request) -> AsyncIterator[FormData]:
    """The submitted form read with the server's body limit for every part, then CSRF-checked;
    its uploaded files are closed when the response is made."""
    form = await request.form(max_part_size=body_limit(request))  # parsed once, kept by the request
    try:
        yield await csrf_form(request)
    finally:
        await form.close()


Form = Annotated[FormData, Depends(upload_form)]


async def read_upload(
    form: FormData, limit: int, *, text_field: str | None = None
) -> tuple[str, bytes] | str:
    """(name, bytes) of the uploaded file, else of the pasted text; or why there is none."""
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read(limit + 1)
        if len(raw) > limit:
            return f"{upload.filename}: larger than {limit} bytes, the largest input this server accepts"
        if raw:
            return upload.filename, raw
    pasted = form.get(text_field) if text_field else None
    if isinstance(pasted, str) and pasted.strip():
        return PASTED, pasted.encode("utf-8")
    return "choose a file" + (" or paste a record" if text_field else "")


@dataclass
class QuickResult:
    """One patient of the input: its reading, what stopped it, or its assessment."""

    name: str
    problems: list[str] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    assumptions: list[dict[str, Any]] = field(default_factory=list)
    assessment: Assessment | None = None


def _assess_one(incoming: Incoming, as_of: str | None, fallback: dt.date, lang: str) -> QuickResult:
    result = QuickResult(incoming.name, list(incoming.problems))
    if incoming.fhir is not None:
        result.warnings = [w.to_dict() for w in incoming.fhir.warnings]
        result.assumptions = [a.to_dict() for a in incoming.fhir.assumptions]
    if incoming.record is None:
        return result
    when: str | dt.date | None = as_of or (None if incoming.record.as_of is not None else fallback)
    try:
        result.assessment = assess(incoming.record, when, lang=lang)
    except KnowledgeError as exc:
        result.problems.append(
            f"{incoming.name}: internal error, a bug in hccwatch rather than in the record: {exc}"
        )
    except HccwatchError as exc:
        result.problems.append(f"{incoming.name}: {exc}")
    return result


@functools.cache
def report_css() -> str:
    """The report renderer's own stylesheet, scoped to the report's box on the quick page (the
    page's CSP allows no inline style, and the report's rules must not restyle the page)."""
    page = render_html_page([])
    found = re.search(r"<style>(.*?)</style>", page, re.S)
    css = found.group(1) if found else ""
    return "@scope (.quick-report) {\n" + css.replace(":root", ":scope") + "\n}\n"


# The page says "decision support, not a diagnosis" once, in English, above everything; the
# report's own English line would repeat it (a report in another language keeps its own).
_REPEATED_DISCLAIMER = re.compile(r'<p class="disclaimer" role="note" lang="en">.*?</p>', re.S)


def _report_body(assessments: list[Assessment]) -> Markup:
    page = render_html_page(assessments)
    found = re.search(r"<body>(.*)</body>", page, re.S)
    body = _REPEATED_DISCLAIMER.sub("", found.group(1) if found else "")
    # The renderer escapes every value (Jinja2 autoescape); its markup is shown as it made it.
    return Markup(body)


def _page(request: Request, context: Mapping[str, Any], status: int = 200) -> Response:
    base: dict[str, Any] = {
        "as_of": today(request).isoformat(),
        "pasted": "",
        "langs": LANGS,
        "chosen_lang": "en",
        "errors": {},
        "results": [],
        "report": None,
    }
    return render(request, "quick.html", {**base, **context}, status)


@router.get("/quick")
def quick_form(request: Request, user: Viewer) -> Response:
    return _page(request, {})


@router.get("/quick/report.css")
def quick_css(user: Viewer) -> Response:
    return Response(report_css(), media_type="text/css")


@router.post("/quick")
async def quick_assess(request: Request, user: Viewer, form: Form) -> Response:
    pasted = form.get("record")
    typed_as_of = str(form.get("as_of") or "").strip()
    lang = str(form.get("lang") or "en")
    kept = {
        "pasted": pasted if isinstance(pasted, str) else "",
        "as_of": typed_as_of,
        "chosen_lang": lang if lang in LANGS else "en",
    }
    errors: dict[str, str] = {}
    if lang not in LANGS:
        errors["lang"] = f"choose one of {', '.join(LANGS)}"
    if typed_as_of and _date_or_none(typed_as_of) is None:
        errors["as_of"] = f"{typed_as_of[:40]!r} is not a date (YYYY-MM-DD)"
    source = await read_upload(form, body_limit(request), text_field="record")
    if isinstance(source, str):
        errors["record"] = source
    if errors:
        return _page(request, {**kept, "errors": errors}, 422)
    assert not isinstance(source, str)
    name, raw = source
    data, problems = decode_upload(name, raw)
    if problems:
        return _page(request, {**kept, "errors": {"record": "; ".join(problems)}}, 422)
    results = [
        _assess_one(incoming, typed_as_of or None, today(request), kept["chosen_lang"])
        for incoming in incoming_records(name, data, None if not typed_as_of else _date_or_none(typed_as_of))
    ]
    assessed = [r.assessment for r in results if r.assessment is not None]
    report = _report_body(assessed) if assessed else None
    status = 200 if assessed else 422
    return _page(request, {**kept, "results": results, "report": report}, status)


def _date_or_none(text: str) -> dt.date | None:
    """The day that ends "the past week" of FHIR assumptions; a bad date is reported by assess."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None
