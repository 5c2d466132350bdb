"""The one ASGI application: REST API (/api/v1), CDS Hooks (/cds-services), OpenAPI (/docs),
/healthz. Adapters only: every clinical decision is ``hccwatch.assess``; FHIR reading and the
cards are the FHIR and CDS Hooks adapters'.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hccwatch.api import assess
from hccwatch.app.server import fhir_bridge
from hccwatch.app.server.auth import bearer, token_accepted
from hccwatch.app.server.feedback import FeedbackStore, parse_feedback
from hccwatch.app.server.jsonio import JsonError, dumps, loads
from hccwatch.app.server.jwt_auth import JwtVerifier, VerifiedCall
from hccwatch.app.server.logs import configure_logging, log_event
from hccwatch.app.server.openapi_docs import (
    ASSESS_BODY,
    ASSESS_RESPONSES,
    CDS_REQUEST_BODY,
    FEEDBACK_BODY,
    FHIR_BODY,
    PROBLEM_SCHEMA,
    record_components,
)
from hccwatch.app.server.prefetch import PREFETCH, fhir_access, gather
from hccwatch.app.server.problems import field_problems, problem
from hccwatch.app.server.settings import Settings
from hccwatch.core.assessment import Assessment
from hccwatch.core.knowledge import default_knowledge
from hccwatch.errors import DeceasedError, InvalidRecordError, UsageError
from hccwatch.record.model import PatientRecord
from hccwatch.registry import Registry
from hccwatch.version import __version__

__all__ = ["SERVICES", "create_app"]

FHIR_JSON = "application/fhir+json"
_MAX_LOGGED_PATH = 100
PATIENT_VIEW = "hccwatch-patient-view"
SERVICES: dict[str, dict[str, Any]] = {
    PATIENT_VIEW: {
        "hook": "patient-view",
        "id": PATIENT_VIEW,
        "title": "hccwatch: follow-up after hepatocellular carcinoma treatment",
        "description": (
            "When a chart opens: red flags of recurrence or metastasis, the workup to order, overdue "
            "surveillance and liver scores, each with its guideline source. Decision support, not a "
            "diagnosis; no card when nothing is actionable."
        ),
        "prefetch": PREFETCH,
    }
}


class _BodyTooLarge(Exception):
    pass


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused as soon as it passes ``limit`` (never read whole into memory)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _loopback(host: str | None) -> bool:
    if host is None:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class _Edge:
    """Pure ASGI middleware: request id, one log line per request, size limit, --dev loopback."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        rid = uuid.uuid4().hex[:16]
        status = {"code": 0}

        async def send_logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        client = scope.get("client")
        response: Response | None = None
        if (self.settings.dev or self.settings.demo) and not _loopback(client[0] if client else None):
            mode = "Development" if self.settings.dev else "Demo"
            response = problem(403, "forbidden", f"{mode} mode serves loopback clients only")
        else:
            length = dict(scope.get("headers") or []).get(b"content-length")
            if length is not None and (not length.isdigit() or int(length) > self.settings.max_body_bytes):
                response = problem(
                    413,
                    "too-large",
                    "Request body too large",
                    f"at most {self.settings.max_body_bytes} bytes",
                )
        try:
            if response is not None:
                await response(scope, receive, send_logged)
            else:
                await self.app(scope, receive, send_logged)
        finally:
            # Our paths hold no patient data (service ids only); a path we do not serve could hold
            # anything a client typed, so it is not logged. Query strings and bodies never are.
            path = scope.get("path") if status["code"] != 404 else "(unmatched)"
            log_event(
                "request",
                rid=rid,
                method=scope.get("method"),
                path=str(path)[:_MAX_LOGGED_PATH],
                status=status["code"],
                ms=round((time.perf_counter() - start) * 1000, 2),
            )


def _field_of_usage(message: str) -> str:
    for name, marker in (("as_of", "as_of"), ("lang", "language"), ("profile", "profile")):
        if marker in message:
            return name
    return ""


def create_app(
    settings: Settings | None = None,
    *,
    today: Callable[[], dt.date] | None = None,
    registry: Registry | None = None,
) -> FastAPI:
    """The application. ``today`` gives the CDS Hooks evaluation date (the server's local date by
    default; the REST API takes ``as_of`` as a parameter). With a ``registry``, the web app is
    served at ``/`` on it."""
    s = settings if settings is not None else Settings.from_env()
    configure_logging(s.log_level)
    # Loaded at start, not on the first call: a knowledge or import error stops the server at once,
    # and the first EHR call does not spend its deadline loading.
    default_knowledge()
    fhir_bridge.warm_up()
    clock_today = today if today is not None else dt.date.today
    verifier = JwtVerifier(s.cds_issuers, refresh_s=s.jwks_refresh_s, leeway_s=s.jwt_leeway_s)
    store = FeedbackStore(s.data_dir / "feedback.sqlite3")
    app = FastAPI(
        title="hccwatch",
        version=__version__,
        description=(
            "Decision support after hepatocellular carcinoma treatment: REST API and CDS Hooks 2.0 "
            "service. Decision support, not a diagnosis."
        ),
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = s

    @app.exception_handler(RequestValidationError)
    async def invalid_parameter(_request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ())[1:]) or "body",
                "detail": str(e.get("msg", "")),
            }
            for e in exc.errors()
        ]
        return problem(400, "bad-parameter", "A parameter is wrong", errors=errors)

    @app.exception_handler(Exception)
    async def internal_error(_request: Request, exc: Exception) -> Response:
        # The class only: an exception's message may quote the record.
        log_event("internal_error", logging.ERROR, error=type(exc).__name__)
        return problem(500, "internal", "Internal error (a bug in hccwatch, not in the request)")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        return problem(exc.status_code, "http", str(exc.detail), headers=exc.headers)

    app.state.verifier = verifier
    app.state.feedback = store
    if s.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(s.cors_origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "Accept"],
        )
    app.add_middleware(_Edge, settings=s)

    def api_token_ok(request: Request) -> bool:
        if s.dev and not s.api_token_digests:
            return True
        return token_accepted(bearer(request.headers.get("authorization")), s.api_token_digests)

    def unauthorized() -> Response:
        return problem(
            401, "unauthorized", "A valid bearer token is required", headers={"WWW-Authenticate": "Bearer"}
        )

    @app.get("/healthz", tags=["operations"], summary="Liveness and versions")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__, "knowledge_version": default_knowledge().version}

    # ---------------------------------------------------------------- REST API
    async def _json_body(request: Request, not_json_status: int) -> Any:
        """The request's JSON body, or the problem response that refuses it (too large, not JSON)."""
        try:
            return loads(await _body(request, s.max_body_bytes))
        except _BodyTooLarge:
            return problem(413, "too-large", "Request body too large", f"at most {s.max_body_bytes} bytes")
        except JsonError as exc:
            return problem(not_json_status, "not-json", "The body is not JSON", str(exc))

    async def _api_json(request: Request) -> Any:
        """The authorised API request's JSON body, or the problem response that refuses it."""
        if not api_token_ok(request):
            return unauthorized()
        return await _json_body(request, 415)

    @app.post(
        "/api/v1/assess",
        tags=["api"],
        summary="Assess one patient (hccwatch record or FHIR R4 in; Assessment or FHIR Bundle out)",
        openapi_extra=ASSESS_BODY,
        responses=ASSESS_RESPONSES,
        response_class=Response,
    )
    async def assess_route(
        request: Request, as_of: dt.date | None = None, lang: str = "en", profile: str | None = None
    ) -> Response:
        data = await _api_json(request)
        if isinstance(data, Response):
            return data
        want_fhir = FHIR_JSON in request.headers.get("accept", "")

        def work() -> tuple[Any, dict[str, str]]:
            headers: dict[str, str] = {}
            record = data
            if fhir_bridge.is_fhir(data):
                reading = fhir_bridge.read_fhir(data, as_of=as_of)
                record = reading.patient_record  # validated once, by the reader
                headers["X-Hccwatch-Mapping-Warnings"] = str(len(reading.warnings))
            assessment: Assessment = assess(record, as_of, lang=lang, profile=profile)
            return (fhir_bridge.assessment_bundle(assessment) if want_fhir else assessment.to_dict()), headers

        try:
            out, headers = await asyncio.wait_for(run_in_threadpool(work), timeout=s.request_timeout_s)
        except TimeoutError:
            log_event("assess_timeout", logging.WARNING)
            return problem(503, "timeout", "The assessment took too long", headers={"Retry-After": "1"})
        except InvalidRecordError as exc:
            return problem(
                422,
                "invalid-record",
                "The patient record cannot be read",
                f"{len(exc.problems)} problem(s); each is named in errors",
                errors=field_problems(exc.problems),
            )
        except DeceasedError as exc:
            # The record is read, and it says there is no one to follow up: refused as a record
            # is, with its own type so a client can tell it from an unreadable one.
            died = "deceased_on" if exc.deceased_on is not None else "deceased"
            return problem(
                422,
                "deceased",
                "The record says the patient has died",
                str(exc),
                errors=[{"field": died, "detail": str(exc)}],
            )
        except ImportError:
            # A build without the FHIR adapters: a capability missing, not a bug in the request.
            return problem(501, "fhir-unavailable", "FHIR input or output is not available in this build")
        except UsageError as exc:
            name = _field_of_usage(str(exc))
            return problem(
                400,
                "bad-parameter",
                "A parameter is wrong",
                str(exc),
                errors=[{"field": name, "detail": str(exc)}],
            )
        return Response(
            dumps(out), media_type=FHIR_JSON if want_fhir else "application/json", headers=headers
        )

    @app.post(
        "/api/v1/record",
        tags=["api"],
        summary="What hccwatch read from FHIR R4: the patient record, mapping warnings, stated assumptions",
        openapi_extra=FHIR_BODY,
        responses={k: v for k, v in ASSESS_RESPONSES.items() if k != 200}
        | {200: {"description": "`{record, warnings, assumptions}` (as `hccwatch record FILE`)."}},
        response_class=Response,
    )
    async def record_route(request: Request, as_of: dt.date | None = None) -> Response:
        data = await _api_json(request)
        if isinstance(data, Response):
            return data
        if not fhir_bridge.is_fhir(data):
            return problem(
                422,
                "not-fhir",
                "Expected FHIR R4 (a Bundle, a resource or a list of resources)",
                errors=[{"field": "resourceType", "detail": "required"}],
            )
        try:
            reading = await asyncio.wait_for(
                run_in_threadpool(fhir_bridge.read_fhir, data, as_of=as_of), timeout=s.request_timeout_s
            )
        except TimeoutError:
            return problem(503, "timeout", "Reading took too long", headers={"Retry-After": "1"})
        except InvalidRecordError as exc:
            return problem(
                422, "invalid-record", "No patient could be read", errors=field_problems(exc.problems)
            )
        return Response(dumps(reading.to_dict()), media_type="application/json")

    @app.get(
        "/api/v1/feedback/summary",
        tags=["api"],
        summary="What clinicians did with the cards: accepted / overridden, override reasons",
        responses={401: {"description": "No valid bearer token."}},
    )
    async def feedback_summary(request: Request) -> Response:
        if not api_token_ok(request):
            return unauthorized()
        return Response(dumps(await run_in_threadpool(store.summary)), media_type="application/json")

    # ---------------------------------------------------------------- CDS Hooks
    @app.get("/cds-services", tags=["cds-hooks"], summary="CDS Hooks discovery")
    async def discovery() -> dict[str, Any]:
        return {"services": list(SERVICES.values())}

    async def caller(request: Request) -> VerifiedCall | None | bool:
        """The verified EHR; True for an unsigned call in --dev; None: answer a bare 401."""
        header = request.headers.get("authorization")
        if s.dev and header is None:
            return True
        base = s.public_url + request.url.path if s.public_url else str(request.url).split("?")[0]
        return await verifier.verify(bearer(header), base)

    @app.post(
        "/cds-services/{service_id}",
        tags=["cds-hooks"],
        summary="Call a CDS Hooks service (patient-view)",
        openapi_extra=CDS_REQUEST_BODY,
        responses={
            200: {
                "description": (
                    '`{"cards": [...]}`; `{"cards": []}` when nothing is actionable or the deadline passed.'
                )
            },
            400: {"description": "Not a CDS Hooks request for this service."},
            401: {"description": "JWT missing or not valid (no detail given)."},
            404: {"description": "No such service."},
            412: {"description": "Neither the prefetch nor the FHIR server can provide the patient."},
        },
        response_class=Response,
    )
    async def cds_service(service_id: str, request: Request) -> Response:
        deadline = time.monotonic() + s.cds_deadline_s
        service = SERVICES.get(service_id)
        if service is None:
            return problem(404, "not-found", "No such CDS service")
        if await caller(request) is None:
            return Response(status_code=401)
        data = await _json_body(request, 400)
        if isinstance(data, Response):
            return data
        errors = _hook_errors(data, service["hook"])
        if errors:
            return problem(400, "bad-hook-request", "Not a CDS Hooks request for this service", errors=errors)
        patient_id: str = data["context"]["patientId"]
        access = fhir_access(data, allow_http=s.dev, http_loopback=s.fhir_http_loopback)
        try:
            return await asyncio.wait_for(
                _answer(data, patient_id, access, service_id), timeout=max(0.0, deadline - time.monotonic())
            )
        except TimeoutError:
            log_event("cds_deadline", logging.WARNING, service=service_id)
            return _cards_response([])

    async def _answer(data: dict[str, Any], patient_id: str, access: Any, service_id: str) -> Response:
        got = await gather(data.get("prefetch"), patient_id, access)
        if "patient" in got.missing and not got.resources:
            log_event("cds_no_data", service=service_id, missing=",".join(got.missing))
            return problem(412, "no-data", "Neither prefetch nor FHIR server access provides the patient")
        if got.missing:
            log_event("cds_partial_data", service=service_id, missing=",".join(got.missing))
        link = s.patient_url.replace("{patient_id}", quote(patient_id, safe="")) if s.patient_url else None

        def work() -> list[dict[str, Any]]:
            today = clock_today()
            reading = fhir_bridge.read_resources(got.resources, as_of=today)
            record = reading.record
            withdrawn = fhir_bridge.withdraw_unfounded(record, got.missing)
            if withdrawn:
                log_event("cds_assumptions_withdrawn", service=service_id, fields=",".join(withdrawn))
            # Unchanged, the record the reader validated is assessed as it is (not validated twice).
            assessment = assess(record if withdrawn else reading.patient_record, today)
            return fhir_bridge.cards(assessment, patient_link=link)

        try:
            cards = await run_in_threadpool(work)
        except InvalidRecordError:
            # No patient in the data: nothing to say about anyone (logged by kind, never content).
            log_event("cds_no_patient", logging.WARNING, service=service_id)
            return _cards_response([])
        except UsageError:
            log_event("cds_usage_error", logging.WARNING, service=service_id)
            return _cards_response([])
        except DeceasedError:
            # The EHR's record says the patient has died: no follow-up to show, so no card (an
            # expected answer, not a fault; logged by kind, never content).
            log_event("cds_deceased", service=service_id)
            return _cards_response([])
        except Exception as exc:
            # A bug in hccwatch: the EHR gets no card (never a 5xx it would show as an outage); the
            # log names the exception class only, since its message may quote the record.
            log_event("cds_internal_error", logging.ERROR, service=service_id, error=type(exc).__name__)
            return _cards_response([])
        log_event("cds_cards", service=service_id, cards=len(cards), fetched=",".join(got.fetched))
        response = _cards_response(cards)
        if cards:
            # Recorded after the answer is sent: the EHR does not wait for the database.
            response.background = BackgroundTask(store.issued, service_id, cards, clock_today().isoformat())
        return response

    @app.post(
        "/cds-services/{service_id}/feedback",
        tags=["cds-hooks"],
        summary="Feedback on cards: accepted or overridden (with reason)",
        openapi_extra=FEEDBACK_BODY,
        responses={
            200: {"description": "Stored (repeated reports are stored once)."},
            400: {"description": "Not a feedback body; `errors` names each field.", "content": {}},
            401: {"description": "JWT missing or not valid."},
            404: {"description": "No such service."},
        },
        response_class=Response,
    )
    async def cds_feedback(service_id: str, request: Request) -> Response:
        if service_id not in SERVICES:
            return problem(404, "not-found", "No such CDS service")
        who = await caller(request)
        if who is None:
            return Response(status_code=401)
        data = await _json_body(request, 400)
        if isinstance(data, Response):
            return data
        items, errors = parse_feedback(data)
        if errors:
            return problem(400, "bad-feedback", "The feedback cannot be read", errors=errors)
        issuer = who.iss if isinstance(who, VerifiedCall) else None
        new = await run_in_threadpool(store.add, service_id, items, issuer)
        log_event("cds_feedback", service=service_id, items=len(items), new=new)
        return Response(b"{}", media_type="application/json")

    def custom_openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(
                record_components(
                    PatientRecord.model_json_schema(ref_template="#/components/schemas/{model}")
                )
            )
            components["FhirResource"] = {
                "type": "object",
                "description": "A FHIR R4 resource (usually a Bundle) as JSON.",
                "required": ["resourceType"],
                "properties": {"resourceType": {"type": "string"}},
            }
            components["Problem"] = PROBLEM_SCHEMA
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = custom_openapi  # type: ignore[method-assign]
    if registry is not None:
        from hccwatch.web import mount  # the web app imports this package's settings

        mount(app, registry, s, clock_today)
    return app


def _cards_response(cards: list[dict[str, Any]]) -> Response:
    return Response(dumps({"cards": cards}), media_type="application/json")


def _hook_errors(data: object, hook: str) -> list[dict[str, str]]:
    if not isinstance(data, dict):
        return [{"field": "", "detail": "expected a JSON object"}]
    errors = []
    if data.get("hook") != hook:
        errors.append({"field": "hook", "detail": f"this service answers {hook!r}"})
    if not isinstance(data.get("hookInstance"), str):
        errors.append({"field": "hookInstance", "detail": "required (a UUID)"})
    context = data.get("context")
    if not isinstance(context, dict):
        errors.append({"field": "context", "detail": "required (an object)"})
    elif not isinstance(context.get("patientId"), str) or not context["patientId"]:
        errors.append({"field": "context.patientId", "detail": f"required for {hook}"})
    if "prefetch" in data and data["prefetch"] is not None and not isinstance(data["prefetch"], dict):
        errors.append({"field": "prefetch", "detail": "expected an object"})
    return errors
