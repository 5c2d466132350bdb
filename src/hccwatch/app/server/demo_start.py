"""``hccwatch serve --demo``: the demo registry on first start, and its accounts.

On an empty database: the demo patients (``registry/demo.py``), one account per role, ONE random
password printed once, and a mark that this database is a demo. A database with patients that is
not marked as a demo is refused: demo accounts never enter a real registry.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from hccwatch.registry import ROLES, Actor, Registry
from hccwatch.registry.demo import load_demo
from hccwatch.registry.meta import DEMO_KEY, is_demo, set_setting

__all__ = ["DEMO_OPERATOR", "DemoRefusedError", "DemoStart", "prepare_demo"]

DEMO_OPERATOR = Actor("serve --demo", "admin")
# A password of 16 URL-safe characters (96 random bits): typed once from the terminal.
_PASSWORD_BYTES = 12


class DemoRefusedError(Exception):
    """The database holds a real registry: --demo would add demo accounts to it."""


@dataclass(frozen=True)
class DemoStart:
    patients: int
    usernames: tuple[str, ...]
    # Only on the first start (None afterwards: it was printed then, and is not stored).
    password: str | None


def prepare_demo(registry: Registry, today: dt.date) -> DemoStart:
    """Set up the demo on an empty database; on a demo database, finish what a stopped first
    start left undone (and otherwise change nothing)."""
    if not is_demo(registry):
        if registry.count_patients(DEMO_OPERATOR) or registry.list_users(DEMO_OPERATOR):
            raise DemoRefusedError(
                "--demo needs an empty database or one made by --demo; this one already holds a "
                "registry. Point HCCWATCH_DATA_DIR (or HCCWATCH_DATABASE_URL) at another place for the demo."
            )
        # Marked first: a first start stopped half-way is finished by the next, never taken for real.
        set_setting(registry, DEMO_OPERATOR, DEMO_KEY, "1")
    password = None
    if not registry.list_users(DEMO_OPERATOR):
        password = secrets.token_urlsafe(_PASSWORD_BYTES)
        for role in ROLES:
            registry.add_user(DEMO_OPERATOR, role, role, password, display_name=f"Demo {role}")
    if not registry.count_patients(DEMO_OPERATOR):
        load_demo(registry, DEMO_OPERATOR, today)
    return DemoStart(registry.count_patients(DEMO_OPERATOR), ROLES, password)
