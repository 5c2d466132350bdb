"""The patient symptom check on the web: the patient's form at ``/s/{token}``, the navigator's
links page, acknowledgement from the worklist, and the FHIR Questionnaire and responses.

The patient pages need no login: the link's token is the key, so every refusal (unknown,
expired, revoked) shows one neutral page that names no patient; a form's CSRF token is bound to
its link. What the patient reads after sending comes from the alert ``assess`` raised
(:func:`hccwatch.symptoms.choose_outcome`), never from a rule here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from hccwatch.registry import Action, NotFoundError
from hccwatch.registry.symptom_checks import ReportView, SymptomChecks, token_hash
from hccwatch.symptoms import (
    LANGUAGES,
    ResponseError,
    form,
    page_text,
    questionnaire_resource,
    response_from_form,
    tell_words,
)
from hccwatch.web.deps import WebUser, csrf_form, registry, require
from hccwatch.web.escalation import Notifier, install_escalation_loop
from hccwatch.web.ratelimit import FailureLimiter
from hccwatch.web.render import render
from hccwatch.web.symptom_settings import SymptomSettings
from hccwatch.web.worklist import TopItem, add_top_provider

__all__ = ["SymptomWeb", "configure", "install", "patient_router", "router"]

# Staff pages (session login, roles, the session's CSRF token): listed in ROUTERS.
router = APIRouter()
# The patient's pages and the public Questionnaire: no session; the link's token is the key and
# the form's CSRF token is bound to the link. Included by :func:`install`.
patient_router = APIRouter()
FHIR_JSON = "application/fhir+json"
_HOUR_S = 3600.0
_TEN_MINUTES_S = 600.0


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class SymptomWeb:
    """The symptom check's per-app state: settings, service, rate limits, the CSRF key."""

    settings: SymptomSettings
    checks: SymptomChecks
    notifier: Notifier
    csrf_key: bytes
    posts: FailureLimiter
    hits: FailureLimiter


def configure(
    app: FastAPI, settings: SymptomSettings, *, now: Callable[[], dt.datetime] = _utcnow
) -> SymptomWeb:
    """(Re)build the symptom check's state of ``app`` with ``settings`` (tests pass their own)."""
    reg = app.state.registry
    public = getattr(app.state.settings, "public_url", None)
    state = SymptomWeb(
        settings=settings,
        checks=SymptomChecks(reg, link_days=settings.link_days),
        notifier=Notifier(settings, public_url=public, now=now),
        csrf_key=secrets.token_bytes(32),
        posts=FailureLimiter(settings.posts_per_hour, _HOUR_S),
        hits=FailureLimiter(settings.hits_per_10_minutes, _TEN_MINUTES_S),
    )
    app.state.symptoms = state
    return state


def install(app: FastAPI) -> None:
    """Set the symptom check up on ``app`` (settings from the environment) and start escalation."""
    configure(app, SymptomSettings.from_env())
    app.include_router(patient_router, include_in_schema=False)
    add_top_provider(_top_items)

    def current() -> SymptomWeb:
        web: SymptomWeb = app.state.symptoms
        return web

    install_escalation_loop(
        app,
        checks=lambda: current().checks,
        settings=lambda: current().settings,
        notifier=lambda: current().notifier,
        now=_utcnow,
    )


def _state(request: Request) -> SymptomWeb:
    web: SymptomWeb = request.app.state.symptoms
    return web


# -- the patient's pages ------------------------------------------------------------------------


def _lang(request: Request) -> str:
    asked = request.query_params.get("lang")
    return asked if asked in LANGUAGES else "en"


def _csrf_for(state: SymptomWeb, token: str) -> str:
    return hmac.new(state.csrf_key, token_hash(token).encode(), hashlib.sha256).hexdigest()


def _client(request: Request) -> str:
    return "addr:" + (request.client.host if request.client else "unknown")


def _patient_page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    lang = _lang(request)
    texts = {key: page_text(key, lang) for key in _PAGE_KEYS}
    return render(request, template, {"t": texts, "form": form(), **context}, status)


_PAGE_KEYS = (
    "emergency_title", "emergency_body", "emergency_tell", "emergency_script", "emergency_team",
    "urgent_title", "urgent_body", "urgent_phone", "urgent_no_phone", "urgent_worse", "routine_title",
    "routine_body", "routine_next", "routine_worse", "unknown_title", "unknown_body", "advice",
    "neutral_title", "neutral_body", "send", "language", "select_hint", "date_hint",
    "form_expired_title", "form_expired_body",
)  # fmt: skip


def _neutral(request: Request, status: int) -> Response:
    # One page for unknown, expired and revoked links: it names no patient and no reason.
    return _patient_page(request, "symptoms/neutral.html", {}, status)


def _too_many(request: Request, wait_s: float) -> Response:
    response = _patient_page(request, "symptoms/neutral.html", {}, 429)
    response.headers["Retry-After"] = str(max(1, int(wait_s)))
    return response


def _gate(request: Request, token: str, *, posting: bool) -> Response | None:
    """A response refusing this request (rate limit, bad link), or None to go on."""
    state = _state(request)
    wait = state.hits.wait_s(_client(request))
    if posting:
        wait = max(wait, state.posts.wait_s("link:" + token_hash(token)))
    if wait > 0:
        return _too_many(request, wait)
    state.hits.failed(_client(request))
    link_state, _target = state.checks.resolve(token)
    if link_state == "none":
        return _neutral(request, 404)
    if link_state != "active":
        return _neutral(request, 410)
    return None


def _form_page(
    request: Request, token: str, *, values: dict[str, str], errors: list[str], status: int = 200
) -> Response:
    lang = _lang(request)
    other = "zh" if lang == "en" else "en"
    context = {
        "token": token,
        "link_csrf": _csrf_for(_state(request), token),
        "values": values,
        "errors": errors,
        "other_lang": other,
        "questions": form().questions,
    }
    return _patient_page(request, "symptoms/form.html", context, status)


@patient_router.get("/s/{token}")
async def symptom_form(request: Request, token: str) -> Response:
    refused = _gate(request, token, posting=False)
    if refused is not None:
        return refused
    return _form_page(request, token, values={}, errors=[])


@patient_router.post("/s/{token}")
async def symptom_submit(request: Request, token: str) -> Response:
    refused = _gate(request, token, posting=True)
    if refused is not None:
        return refused
    state = _state(request)
    fields = await request.form()
    sent = fields.get("csrf_token")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, _csrf_for(state, token)):
        return _patient_page(request, "symptoms/neutral.html", {"expired_form": True}, 403)
    state.posts.failed("link:" + token_hash(token))
    values = {k: v for k, v in fields.items() if isinstance(v, str) and k != "csrf_token"}
    lang = _lang(request)
    try:
        qr = response_from_form(values, authored=_utcnow())
        result = state.checks.submit(token, qr, lang=lang)
    except ResponseError as exc:
        return _form_page(request, token, values=values, errors=_plain(exc.problems, lang), status=400)
    except NotFoundError:
        return _neutral(request, 410)
    outcome = result.outcome
    page = "unknown" if outcome is None else outcome.page
    context = {
        "page": page,
        "advice": outcome.advice if outcome is not None else (),
        "symptom_words": tell_words(result.reported_codes, lang),
        "phone": state.settings.clinic_phone,
        "next_due": result.next_due.isoformat(),
    }
    return _patient_page(request, "symptoms/result.html", context)


def _plain(problems: list[str], lang: str) -> list[str]:
    """The problems in the patient's terms: the question's own text instead of its linkId."""
    out = []
    for p in problems:
        link, _, why = p.partition(": ")
        q = form().question(link)
        asked = q.text[lang] if q is not None and q.text[lang] else form().text("since", lang) if q else link
        out.append(f"{asked}: {why}")
    return out


# -- staff: links, acknowledgement, worklist ----------------------------------------------------


def _link_url(request: Request, token: str) -> str:
    public = getattr(request.app.state.settings, "public_url", None)
    base = public or str(request.base_url).rstrip("/")
    return f"{base}/s/{token}"


def _links_page(request: Request, user: WebUser, patient_id: int, new_url: str | None = None) -> Response:
    reg = registry(request)
    patient = reg.get_patient(user.actor, patient_id)
    reg.record_view(user.actor, patient_id)
    checks = _state(request).checks
    context = {
        "patient": patient,
        "links": checks.links(user.actor, patient_id),
        "reports": checks.submissions(user.actor, patient_id),
        "new_url": new_url,
        "link_days": _state(request).settings.link_days,
    }
    return render(request, "symptoms/links.html", context)


@router.get("/patients/{patient_id}/symptom-links")
async def links_page(
    request: Request, patient_id: int, user: Annotated[WebUser, Depends(require(Action.OUTREACH))]
) -> Response:
    return _links_page(request, user, patient_id)


@router.post("/patients/{patient_id}/symptom-links")
async def create_link(
    request: Request,
    patient_id: int,
    user: Annotated[WebUser, Depends(require(Action.OUTREACH))],
    _form: Annotated[FormData, Depends(csrf_form)],
) -> Response:
    created = _state(request).checks.create_link(user.actor, patient_id)
    # Shown this once: only the token's hash is stored.
    return _links_page(request, user, patient_id, new_url=_link_url(request, created.token))


@router.post("/patients/{patient_id}/symptom-links/{link_id}/revoke")
async def revoke_link(
    request: Request,
    patient_id: int,
    link_id: int,
    user: Annotated[WebUser, Depends(require(Action.OUTREACH))],
    _form: Annotated[FormData, Depends(csrf_form)],
) -> Response:
    checks = _state(request).checks
    if link_id not in {link.id for link in checks.links(user.actor, patient_id)}:
        raise NotFoundError(f"no symptom-check link {link_id} for this patient")
    checks.revoke_link(user.actor, link_id)
    return RedirectResponse(f"/patients/{patient_id}/symptom-links", status_code=303)


@router.post("/symptom-reports/{report_id}/acknowledge")
async def acknowledge(
    request: Request,
    report_id: int,
    user: Annotated[WebUser, Depends(require(Action.OUTREACH))],
    _form: Annotated[FormData, Depends(csrf_form)],
) -> Response:
    _state(request).checks.acknowledge(user.actor, report_id)
    return RedirectResponse("/", status_code=303)


def _report_text(r: ReportView) -> str:
    who = r.name or r.record_id
    at = r.received_at.strftime("%Y-%m-%d %H:%M UTC")
    text = f"Patient-reported {r.top_urgency}: {who} ({r.record_id}), symptom check sent {at}"
    if r.escalated_at is not None:
        text += f"; escalated {r.escalated_at.strftime('%H:%M UTC')} ({r.escalation})"
    elif r.escalation:
        text += f"; escalation: {r.escalation}"
    return text


def _top_items(request: Request, user: WebUser) -> list[TopItem]:
    state: SymptomWeb | None = getattr(request.app.state, "symptoms", None)
    if state is None:
        return []
    items = [
        TopItem(
            kind=r.top_urgency or "urgent",
            text=_report_text(r),
            href=f"/patients/{r.patient_id}/symptom-links",
            action=f"/symptom-reports/{r.id}/acknowledge" if user.may(Action.OUTREACH) else None,
            action_label="Acknowledge",
        )
        for r in state.checks.open_reports(user.actor)
    ]
    today = request.app.state.today()
    for due in state.checks.due_checks(user.actor, today):
        items.append(
            TopItem(
                kind="due",
                text=f"Symptom check due since {due.due.isoformat()}: {due.record_id} "
                f"(link {due.link_state})",
                href=f"/patients/{due.patient_id}/symptom-links",
            )
        )
    return items


# -- FHIR ---------------------------------------------------------------------------------------


def _fhir(body: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status_code=status, media_type=FHIR_JSON)


def _outcome(status: int, text: str) -> Response:
    issue = {"severity": "error", "code": "not-found", "diagnostics": text}
    return _fhir({"resourceType": "OperationOutcome", "issue": [issue]}, status)


@patient_router.get("/fhir/Questionnaire/{questionnaire_id}")
async def fhir_questionnaire(questionnaire_id: str) -> Response:
    """The published symptom-check Questionnaire (public: it holds no patient data)."""
    if questionnaire_id != form().id:
        return _outcome(404, f"no Questionnaire {questionnaire_id!r}")
    return _fhir(questionnaire_resource())


@router.get("/fhir/QuestionnaireResponse/{report_id}")
async def fhir_response(
    request: Request, report_id: int, user: Annotated[WebUser, Depends(require(Action.VIEW))]
) -> Response:
    """A patient's answers as sent, for staff (the view is audited)."""
    try:
        report = _state(request).checks.submission(user.actor, report_id)
    except NotFoundError:
        return _outcome(404, f"no QuestionnaireResponse {report_id}")
    registry(request).record_view(user.actor, report.patient_id)
    body = {**report.response, "id": str(report.id)}
    body.setdefault("subject", {"reference": f"Patient/{report.patient_id}"})
    return _fhir(body)
