"""The patient page, its printable report and the reminder letters.

Every page reads through the registry (role VIEW) and tells it of the view, so each one leaves an
audit row. An unknown id is a plain 404 naming nothing but the address.
"""

from __future__ import annotations

import functools
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from hccwatch.app.server.settings import Settings
from hccwatch.registry import Action, NotFoundError, PatientView, Registry
from hccwatch.report.html import render_html, render_html_page
from hccwatch.report.labels import labels
from hccwatch.web.afp_chart import Scale
from hccwatch.web.deps import WebUser, registry, require
from hccwatch.web.entry import flash_messages
from hccwatch.web.letters import RECIPIENTS, Clinic, Recipient, letter
from hccwatch.web.patient_page import PAGE_SECTIONS, assessment_of, build_page
from hccwatch.web.render import render
from hccwatch.web.wording import LANGUAGES, wording

__all__ = ["router"]

router = APIRouter()

Viewer = Annotated[WebUser, Depends(require(Action.VIEW))]
Reg = Annotated[Registry, Depends(registry)]

_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def _open(reg: Registry, user: WebUser, patient_id: int) -> PatientView:
    """The patient, audited as viewed; any miss is the same 404 (an id says nothing of who exists)."""
    try:
        view = reg.get_patient(user.actor, patient_id)
    except NotFoundError:
        raise NotFoundError("There is no patient at this address.") from None
    reg.record_view(user.actor, patient_id)
    return view


def _lang(request: Request) -> str:
    asked = request.query_params.get("lang", "en")
    return asked if asked in LANGUAGES else "en"


def _clinic(request: Request) -> Clinic:
    """The sender of letters (HCCWATCH_CLINIC_NAME, HCCWATCH_CLINIC_PHONE)."""
    settings: Settings = request.app.state.settings
    return Clinic(settings.clinic_name, settings.clinic_phone)


@functools.cache
def _report_css() -> str:
    """The HTML report's own stylesheet (the page CSP allows no inline style): taken from the
    report renderer's output, so the print page looks exactly like ``assess --format html``."""
    found = _STYLE.search(render_html_page([]))
    own = "\n.print-bar { margin: 0 0 1rem; font-size: .9rem; }\n"
    own += "@media print { .print-bar { display: none; } }\n"
    return (found.group(1) if found else "") + own


@router.get("/patients/report.css")
async def report_css() -> Response:
    return Response(_report_css(), media_type="text/css", headers={"cache-control": "max-age=3600"})


@router.get("/patients/{patient_id:int}", response_class=HTMLResponse)
async def patient_page(request: Request, patient_id: int, user: Viewer, reg: Reg) -> HTMLResponse:
    view = _open(reg, user, patient_id)
    scale: Scale = "log" if request.query_params.get("scale") == "log" else "linear"
    outreach = reg.outreach_history(user.actor, patient_id)
    page = build_page(view, reg.knowledge, outreach, scale=scale)
    return render(
        request,
        "patient/page.html",
        {
            "page": page,
            "report": page.report,
            "marker_labels": (labels().word("unverified"), labels().word("policy")),
            "p": view,
            "scale": scale,
            "section_order": PAGE_SECTIONS,
            "chart_words": wording("en").chart,
            "word": labels().word,
            "recipients": RECIPIENTS,
            "languages": LANGUAGES,
            "messages": flash_messages(request),
        },
    )


@router.get("/patients/{patient_id:int}/print", response_class=HTMLResponse)
async def print_report(request: Request, patient_id: int, user: Viewer, reg: Reg) -> HTMLResponse:
    view = _open(reg, user, patient_id)
    lang = _lang(request)
    a, error = assessment_of(view, reg.knowledge, lang=lang)
    if a is None:
        return render(request, "patient/no_report.html", {"p": view, "error": error})
    html = render_html(a)
    # The report as `assess --format html` writes it, its styles from a stylesheet instead of
    # inline (CSP), with a bar to go back that does not print.
    bar = (
        f'<nav class="print-bar" aria-label="Print">'
        f'<a href="/patients/{view.id}">Back to the patient page</a> '
        "· use your browser's Print command (one report, then the patient summary on its own page)</nav>"
    )
    html = _STYLE.sub('<link rel="stylesheet" href="/patients/report.css">', html, count=1)
    html = html.replace("<body>", "<body>\n" + bar, 1)
    if lang == "zh":
        html = html.replace('<html lang="en">', '<html lang="en" data-summary-lang="zh">', 1)
    return HTMLResponse(html)


@router.get("/patients/{patient_id:int}/letter", response_class=HTMLResponse)
async def reminder_letter(request: Request, patient_id: int, user: Viewer, reg: Reg) -> HTMLResponse:
    view = _open(reg, user, patient_id)
    lang = _lang(request)
    asked = request.query_params.get("to", "patient")
    to: Recipient = "doctor" if asked == "doctor" else "patient"
    clinic = _clinic(request)
    a, error = assessment_of(view, reg.knowledge, lang=lang)
    doc = (
        None
        if a is None
        else letter(
            a,
            to=to,
            lang=lang,
            clinic=clinic,
            name=view.name,
            record_id=view.record_id,
            family_doctor=view.family_doctor,
        )
    )
    return render(
        request,
        "patient/letter.html",
        {
            "p": view,
            "doc": doc,
            "error": error,
            "to": to,
            "letter_lang": lang,
            "words": wording(lang).letter,
            "clinic": clinic,
        },
    )
