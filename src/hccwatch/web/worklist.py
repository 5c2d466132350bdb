"""The worklist (/): who needs attention first, read from the stored assessments (no ``assess``
call while rendering), with filters, search, counts, the clinic KPIs and one-click outreach.

``top_items`` is a hook: other modules add a provider (a function of the request and the user
returning ``TopItem``s) with :func:`add_top_provider`; its items are shown above the worklist.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from hccwatch.registry import (
    OUTCOMES,
    WORKLIST_GROUPS,
    Action,
    ConflictError,
    NotFoundError,
    RegistryError,
    WorklistRow,
)
from hccwatch.registry.kpis import ClinicKpis, clinic_kpis
from hccwatch.registry.worklist_index import IndexEntry, fingerprint, group_counts, worklist_index
from hccwatch.web.deps import BadInput, WebUser, csrf_form, registry, require, today
from hccwatch.web.freshness import Freshness
from hccwatch.web.render import render
from hccwatch.web.vocab import GROUP_TITLES, LEAVE_REASON_NAMES, OUTCOME_NAMES, URGENCY_NAMES

__all__ = ["Section", "TopItem", "TopProvider", "add_top_provider", "router", "sections", "top_items"]

router = APIRouter()

# Rows shown per section of the default view, and per page of a filtered list.
SECTION_ROWS = 25
PAGE_ROWS = 100
KPI_MAX_AGE_S = 60.0
_MAX_ROWS = 10_000
_MAX_SEARCH = 100
URGENCIES = ("emergency", "urgent", "soon", "routine", "none")
STAGES = ("0", "A", "B", "C", "D", "unknown")


@dataclass(frozen=True)
class TopItem:
    """One line above the worklist: ``kind`` (a CSS class: ``emergency``...), text and link."""

    kind: str
    text: str
    href: str


TopProvider = Callable[[Request, WebUser], list[TopItem]]
_TOP_PROVIDERS: list[TopProvider] = []


def add_top_provider(provider: TopProvider) -> None:
    """Register a provider of items shown above the worklist (once, however often it is added)."""
    if provider not in _TOP_PROVIDERS:
        _TOP_PROVIDERS.append(provider)


def top_items(request: Request, user: WebUser) -> list[TopItem]:
    return [item for provider in _TOP_PROVIDERS for item in provider(request, user)]


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    ids: list[int]
    total: int
    more_href: str
    rows: list[WorklistRow] = field(default_factory=list)


def _section_of(row: IndexEntry) -> str:
    """Where a patient goes in the default view: the first of these it fits (what assess said,
    as stored; no rule here)."""
    if row.top_urgency in ("emergency", "urgent"):
        return "urgent"
    if row.not_assessed:
        return "not_assessed"
    if row.afp_suspicious:
        return "afp"
    if row.lost_to_follow_up:
        return "lost"
    if row.overdue:
        return "overdue"
    if row.due_soon:
        return "due_soon"
    if row.alert_count:
        return "other_alerts"
    return "up_to_date"


def sections(rows: Sequence[IndexEntry], *, lost_months: float, due_days: float) -> list[Section]:
    """The default view: patients in their sections, in the order of the issue (alerts, AFP,
    overdue, lost, due soon), each capped at ``SECTION_ROWS``; ``rows`` come most urgent first."""
    titles = {
        "urgent": ("Emergency and urgent alerts", "/?group=alerts"),
        "not_assessed": ("Could not be assessed: check the record", "/?group=not_assessed"),
        "afp": ("Suspicious AFP", "/?group=afp"),
        "overdue": ("Overdue surveillance", "/?group=overdue"),
        "lost": (f"Lost to follow-up: overdue more than {lost_months:g} months", "/?group=lost"),
        "due_soon": (f"Due in the next {due_days:g} days", "/?group=due_soon"),
        "other_alerts": ("Other alerts (soon or routine)", "/?group=alerts"),
    }
    grouped: dict[str, list[int]] = {key: [] for key in titles}
    for row in rows:
        key = _section_of(row)
        if key in grouped:
            grouped[key].append(row.patient_id)
    return [
        Section(key, title, grouped[key][:SECTION_ROWS], len(grouped[key]), href)
        for key, (title, href) in titles.items()
    ]


@dataclass(frozen=True)
class _Overview:
    """What the default view computes from the whole registry, kept until the registry changes."""

    key: tuple[object, ...]
    sections: list[Section]
    counts: dict[str, int]
    kpis: ClinicKpis
    kpis_at: float


def _overview(
    request: Request, user: WebUser, as_of: dt.date, lost_months: float, due_days: float
) -> _Overview:
    reg = registry(request)
    key = (as_of, *fingerprint(reg))
    cached: _Overview | None = getattr(request.app.state, "worklist_overview", None)
    if cached is not None and cached.key == key:
        return cached
    index = worklist_index(reg, user.actor)
    now = time.monotonic()
    # The clinic's figures move slowly: after a write they are kept up to a minute (the groups
    # and counts are always current).
    keep_kpis = cached is not None and cached.kpis.as_of == as_of and now - cached.kpis_at < KPI_MAX_AGE_S
    made = _Overview(
        key=key,
        sections=sections(index, lost_months=lost_months, due_days=due_days),
        counts=group_counts(reg, user.actor, index),
        kpis=cached.kpis if keep_kpis and cached is not None else clinic_kpis(reg, user.actor, as_of=as_of),
        kpis_at=cached.kpis_at if keep_kpis and cached is not None else now,
    )
    request.app.state.worklist_overview = made
    return made


def _choice(value: str | None, allowed: Sequence[str]) -> str | None:
    return value if value in allowed else None


def _int(value: str | None, default: int) -> int:
    try:
        return max(1, min(_MAX_ROWS, int(value))) if value else default
    except ValueError:
        return default


def _freshness(request: Request) -> Freshness:
    state = request.app.state
    if getattr(state, "freshness", None) is None:
        state.freshness = Freshness(registry(request))
    fresh: Freshness = state.freshness
    return fresh


def _done_message(request: Request, rows: Sequence[WorklistRow]) -> list[tuple[str, str]]:
    done, outcome = request.query_params.get("logged"), request.query_params.get("outcome")
    if not done or outcome not in OUTCOME_NAMES:
        return []
    who = next((r.name or r.record_id for r in rows if str(r.patient_id) == done), "the patient")
    return [("ok", f"Call logged for {who}: {OUTCOME_NAMES[outcome]}.")]


@router.get("/")
def worklist_page(request: Request, user: Annotated[WebUser, Depends(require(Action.VIEW))]) -> Response:
    reg = registry(request)
    as_of = today(request)
    updating = _freshness(request).ensure(as_of)
    q = request.query_params
    group = _choice(q.get("group"), WORKLIST_GROUPS)
    urgency = _choice(q.get("urgency"), URGENCIES)
    stage = _choice(q.get("stage"), STAGES)
    search = (q.get("q") or "").strip()[:_MAX_SEARCH] or None
    limit = _int(q.get("limit"), PAGE_ROWS)
    filtered = bool(group or urgency or stage or search)
    knowledge = reg.knowledge
    lost_months = knowledge.number("worklist.lost_to_follow_up_months")
    due_days = knowledge.number("worklist.due_soon_days")
    overview = _overview(request, user, as_of, lost_months, due_days)
    if filtered:
        rows = reg.worklist(
            user.actor,
            group=group,  # type: ignore[arg-type]  # checked against WORKLIST_GROUPS above
            urgency=urgency,
            stage=stage,
            search=search,
            limit=limit + 1,
        )
    else:
        # Only the rows shown are read in full: a few per section, whatever the registry's size.
        rows = reg.worklist(user.actor, ids=[i for s in overview.sections for i in s.ids])
    context: dict[str, Any] = {
        "as_of": as_of,
        "updating": updating,
        "filtered": filtered,
        "group": group,
        "urgency": urgency,
        "stage": stage,
        "search": search or "",
        "counts": overview.counts,
        "groups": WORKLIST_GROUPS,
        "group_titles": GROUP_TITLES,
        "urgencies": URGENCIES,
        "urgency_names": URGENCY_NAMES,
        "stages": STAGES,
        "outcomes": OUTCOMES,
        "outcome_names": OUTCOME_NAMES,
        "leave_names": LEAVE_REASON_NAMES,
        "kpis": overview.kpis,
        "top_items": top_items(request, user),
        "messages": _done_message(request, rows),
        "back": request.url.query,
        "can_call": user.may(Action.OUTREACH),
        "lost_months": lost_months,
        "due_days": due_days,
    }
    if filtered:
        context["rows"] = rows[:limit]
        context["more_href"] = (
            "/?" + urlencode({**dict(q), "limit": limit + PAGE_ROWS}) if len(rows) > limit else None
        )
        context["sections"] = []
    else:
        by_id = {r.patient_id: r for r in rows}
        context["rows"] = rows
        context["sections"] = [
            dataclasses.replace(s, rows=[by_id[i] for i in s.ids if i in by_id]) for s in overview.sections
        ]
        context["more_href"] = None
    return render(request, "worklist.html", context)


def _back(value: object, **extra: str) -> str:
    query = value if isinstance(value, str) and "\n" not in value and "\r" not in value else ""
    kept = [(k, v) for k, v in _parse(query) if k not in ("logged", "outcome")]
    return "/?" + urlencode([*kept, *extra.items()])


def _parse(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=False)[:20]


@router.post("/worklist/outreach/{patient_id}")
def log_call(
    request: Request,
    patient_id: int,
    user: Annotated[WebUser, Depends(require(Action.OUTREACH))],
    form: Annotated[FormData, Depends(csrf_form)],
) -> Response:
    """One click from a worklist row: an outreach call and its coded outcome, version-checked."""
    outcome = str(form.get("outcome") or "")
    if outcome not in OUTCOMES:
        raise BadInput(
            f"Unknown call outcome {outcome[:40]!r}: nothing was logged. Choose one of the buttons."
        )
    try:
        version = int(str(form.get("version") or ""))
    except ValueError:
        raise BadInput(
            "The form lost the patient's version: nothing was logged. Reload and try again."
        ) from None
    try:
        registry(request).log_outreach(user.actor, patient_id, outcome, expected_version=version)
    except (ConflictError, NotFoundError):
        raise  # answered by the app's conflict and not-found pages
    except RegistryError as exc:
        raise BadInput(f"{exc}. Nothing was logged.") from None
    return RedirectResponse(_back(form.get("back"), logged=str(patient_id), outcome=outcome), status_code=303)
