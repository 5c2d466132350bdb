"""The worklist (/): who needs attention first, read from the stored assessments.

``top_items`` is a hook: other modules add a provider (a function of the request and the user
returning ``TopItem``s) with :func:`add_top_provider`, shown above the worklist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from hccwatch.registry import Action
from hccwatch.web.deps import WebUser, registry, require
from hccwatch.web.render import render

__all__ = ["TopItem", "TopProvider", "add_top_provider", "router", "top_items"]

router = APIRouter()


@dataclass(frozen=True)
class TopItem:
    """One line above the worklist: ``kind`` (a CSS class: ``emergency``...), text and link;
    ``action``, when set, is the address of a one-button POST form (with ``action_label``)."""

    kind: str
    text: str
    href: str
    action: str | None = None
    action_label: str = ""


TopProvider = Callable[[Request, WebUser], list[TopItem]]
_TOP_PROVIDERS: list[TopProvider] = []


def add_top_provider(provider: TopProvider) -> None:
    """Register a provider of items shown above the worklist (idempotent)."""
    if provider not in _TOP_PROVIDERS:
        _TOP_PROVIDERS.append(provider)


def top_items(request: Request, user: WebUser) -> list[TopItem]:
    return [item for provider in _TOP_PROVIDERS for item in provider(request, user)]


@router.get("/")
async def worklist_page(
    request: Request, user: Annotated[WebUser, Depends(require(Action.VIEW))]
) -> Response:
    rows = registry(request).worklist(user.actor)
    return render(request, "worklist.html", {"rows": rows, "top_items": top_items(request, user)})
