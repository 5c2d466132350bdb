"""Where the registry lives: ``HCCWATCH_DATABASE_URL``, else a SQLite file in the data directory.

The data directory is ``HCCWATCH_DATA_DIR`` if set, else ``$XDG_DATA_HOME/hccwatch``, else
``~/.local/share/hccwatch``. Reading the environment is the adapter's job; the service layer
takes the URL it is given.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["DATABASE_URL_ENV", "DATA_DIR_ENV", "SQLITE_NAME", "data_dir", "database_url"]

DATABASE_URL_ENV = "HCCWATCH_DATABASE_URL"
DATA_DIR_ENV = "HCCWATCH_DATA_DIR"
SQLITE_NAME = "registry.sqlite3"


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get(DATA_DIR_ENV):
        return Path(env[DATA_DIR_ENV]).expanduser()
    base = Path(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else Path.home() / ".local" / "share"
    return base / "hccwatch"


def database_url(env: Mapping[str, str] | None = None) -> str:
    """The SQLAlchemy URL to use; a PostgreSQL URL is given the psycopg 3 driver if it names none."""
    env = os.environ if env is None else env
    url = env.get(DATABASE_URL_ENV, "").strip()
    if url:
        for plain in ("postgresql://", "postgres://"):
            if url.startswith(plain):
                return "postgresql+psycopg://" + url[len(plain) :]
        return url
    return f"sqlite:///{data_dir(env) / SQLITE_NAME}"
