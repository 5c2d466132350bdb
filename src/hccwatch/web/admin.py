"""User administration (/admin/users): list, add, disable, set a password. MANAGE_USERS only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from hccwatch.registry import Action
from hccwatch.web.deps import WebUser, registry, require
from hccwatch.web.render import render

__all__ = ["router"]

router = APIRouter()


@router.get("/admin/users")
async def users_page(
    request: Request, user: Annotated[WebUser, Depends(require(Action.MANAGE_USERS))]
) -> Response:
    users = registry(request).list_users(user.actor)
    return render(request, "admin/users.html", {"users": users, "messages": [], "errors": {}, "form": {}})
