"""Web login sessions, kept in the registry database.

The browser holds a random session id; the database holds only its SHA-256, so a stolen backup
opens no session. A session ends at logout, after ``idle`` without a request, after ``absolute``
from its start, or as soon as its user is disabled. Logging in and out is audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select

from hccwatch.registry.models import User, WebSession
from hccwatch.registry.roles import Actor
from hccwatch.registry.service import Registry, _role

__all__ = [
    "LoginSession",
    "SessionLimits",
    "end_session",
    "end_user_sessions",
    "find_session",
    "start_session",
]

# last_seen is written at most this often: a page view is a read, not a write, most of the time.
_TOUCH_EVERY = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class SessionLimits:
    idle: dt.timedelta
    absolute: dt.timedelta


@dataclass(frozen=True)
class LoginSession:
    actor: Actor
    display_name: str | None
    csrf_token: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(registry: Registry, actor: Actor) -> tuple[str, LoginSession]:
    """A new session for an authenticated actor: (the id for the cookie, the session). A new id
    at every login, so an id planted before the login is worth nothing after it."""
    if actor.user_id is None:
        raise ValueError("a web session belongs to a registry user")
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = registry._now()
    with registry._sessions() as session:
        user = session.get(User, actor.user_id)
        session.add(
            WebSession(
                token_hash=_hash(token), user_id=actor.user_id, csrf_token=csrf, created_at=now, last_seen=now
            )
        )
        session.commit()
        return token, LoginSession(actor, user.display_name if user else None, csrf)


def find_session(registry: Registry, token: str | None, limits: SessionLimits) -> LoginSession | None:
    """The live session of this cookie value, else None (an expired or orphaned one is deleted)."""
    if not token:
        return None
    now = registry._now()
    with registry._sessions() as session:
        row = session.scalars(select(WebSession).where(WebSession.token_hash == _hash(token))).one_or_none()
        if row is None:
            return None
        user = session.get(User, row.user_id)
        expired = now - row.last_seen >= limits.idle or now - row.created_at >= limits.absolute
        if user is None or not user.active or expired:
            session.delete(row)
            session.commit()
            return None
        if now - row.last_seen > _TOUCH_EVERY:
            row.last_seen = now
            session.commit()
        actor = Actor(user.username, _role(user.role), user.id)
        return LoginSession(actor, user.display_name, row.csrf_token)


def end_session(registry: Registry, token: str, actor: Actor) -> None:
    """Logout: the session row is deleted, and the logout audited."""
    with registry._sessions() as session:
        session.execute(delete(WebSession).where(WebSession.token_hash == _hash(token)))
        registry._audit(session, actor, "user.logout", "user", actor.username)
        session.commit()


def end_user_sessions(registry: Registry, user_id: int) -> int:
    """Every session of one user ends (used when an account is disabled or its password set)."""
    with registry._sessions() as session:
        result = session.execute(delete(WebSession).where(WebSession.user_id == user_id))
        session.commit()
        return int(getattr(result, "rowcount", 0) or 0)
