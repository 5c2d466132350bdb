"""Engines and migrations: open a registry database, creating and migrating it on first use."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.pool import ConnectionPoolEntry

from hccwatch.registry.errors import RegistryError

__all__ = ["create_registry_engine", "current_revision", "downgrade", "head_revision", "migrate"]

# A writer waits this long for another process's write lock before giving up (SQLite).
_BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer; NORMAL sync is durable at every commit in WAL mode
    # except on power loss, and a crashed process (kill -9) loses nothing committed.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
    cursor.close()


def create_registry_engine(url: str) -> Engine:
    """An engine for ``url``; a SQLite file's folder is created, and WAL is switched on."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise RegistryError(f"not a database URL: {exc}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_pre_ping=True)
    raise RegistryError(f"unsupported database {backend!r}: use a SQLite file or PostgreSQL")


def _config(engine_connection: Any) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("hccwatch.registry") / "migrations"))
    cfg.attributes["connection"] = engine_connection
    return cfg


def head_revision() -> str:
    script = ScriptDirectory.from_config(_config(None))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (each migration in its own transaction)."""
    try:
        with engine.begin() as conn:
            command.upgrade(_config(conn), revision)
    except OperationalError as exc:
        raise RegistryError(f"cannot open the registry database: {exc.orig}") from None


def downgrade(engine: Engine, revision: str = "base") -> None:
    with engine.begin() as conn:
        command.downgrade(_config(conn), revision)
