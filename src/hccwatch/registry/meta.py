"""Facts about the registry database itself (``registry_settings``), e.g. that ``hccwatch serve
--demo`` made it. Setting one is audited."""

from __future__ import annotations

from sqlalchemy import select

from hccwatch.registry.models import RegistrySetting
from hccwatch.registry.roles import Action, Actor, require
from hccwatch.registry.service import Registry

__all__ = ["DEMO_KEY", "get_setting", "is_demo", "set_setting"]

DEMO_KEY = "demo"


def get_setting(registry: Registry, key: str) -> str | None:
    with registry._sessions() as session:
        return session.scalars(select(RegistrySetting.value).where(RegistrySetting.key == key)).one_or_none()


def set_setting(registry: Registry, actor: Actor, key: str, value: str) -> None:
    require(actor, Action.MANAGE_USERS)
    with registry._sessions() as session:
        row = session.get(RegistrySetting, key)
        before = None if row is None else {"value": row.value}
        if row is None:
            session.add(RegistrySetting(key=key, value=value))
        else:
            row.value = value
        registry._audit(
            session, actor, "registry.setting", "registry", key, before=before, after={"value": value}
        )
        session.commit()


def is_demo(registry: Registry) -> bool:
    return get_setting(registry, DEMO_KEY) == "1"
