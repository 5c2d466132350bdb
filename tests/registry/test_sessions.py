"""Web login sessions in the registry (SQLite and PostgreSQL) and the demo marker."""

from __future__ import annotations

import datetime as dt

import pytest
from registry_support import ADMIN

from hccwatch.registry import Registry
from hccwatch.registry.meta import DEMO_KEY, get_setting, is_demo, set_setting
from hccwatch.registry.sessions import SessionLimits, end_session, find_session, start_session

LIMITS = SessionLimits(idle=dt.timedelta(minutes=30), absolute=dt.timedelta(hours=12))


def test_a_session_lives_until_logout(registry: Registry) -> None:
    registry.add_user(ADMIN, "nurse", "navigator", "pw-nurse-test-0001")
    actor = registry.authenticate("nurse", "pw-nurse-test-0001")
    token, session = start_session(registry, actor)
    found = find_session(registry, token, LIMITS)
    assert found is not None
    assert found.actor == actor
    assert found.csrf_token == session.csrf_token
    assert find_session(registry, token + "x", LIMITS) is None
    assert find_session(registry, None, LIMITS) is None
    end_session(registry, token, actor)
    assert find_session(registry, token, LIMITS) is None
    assert [e.action for e in registry.audit_events(ADMIN, limit=2)] == ["user.logout", "user.login"]


def test_an_operator_has_no_web_session(registry: Registry) -> None:
    with pytest.raises(ValueError, match="registry user"):
        start_session(registry, ADMIN)


def test_the_demo_marker(registry: Registry) -> None:
    assert not is_demo(registry)
    assert get_setting(registry, DEMO_KEY) is None
    set_setting(registry, ADMIN, DEMO_KEY, "1")
    assert is_demo(registry)
    set_setting(registry, ADMIN, DEMO_KEY, "0")
    assert not is_demo(registry)
    assert registry.audit_events(ADMIN, limit=1)[0].before == {"value": "1"}
