"""Backup and restore: one portable file (gzip JSON Lines) for SQLite and PostgreSQL alike.

The file holds a header (format, schema revision, hccwatch version, row counts) and then every
row of every table, read in one consistent snapshot. A restore goes into an empty registry at the
same schema revision, in one transaction: it is all there or nothing is. Because the format is
the same for both backends, a SQLite registry can be moved to PostgreSQL this way.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Date, Engine, Integer, func, select, text
from sqlalchemy.sql.schema import Table

from hccwatch.registry.db import current_revision, head_revision
from hccwatch.registry.errors import RegistryError
from hccwatch.registry.models import Base, UtcDateTime
from hccwatch.version import __version__

__all__ = ["FORMAT", "backup", "restore"]

FORMAT = "hccwatch-registry-backup/1"
# Parents before children, so foreign keys hold at every insert. Web sessions are not kept: a
# restored registry starts with nobody logged in.
_TABLES = (
    "users",
    "registry_settings",
    "patients",
    "assessments",
    "outreach",
    "symptom_links",
    "symptom_submissions",
    "audit_events",
)


def _tables() -> list[Table]:
    return [Base.metadata.tables[name] for name in _TABLES]


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _decode(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key not in table.c:
            raise RegistryError(f"backup: table {table.name} has no column {key!r}")
        kind = table.c[key].type
        if value is not None and isinstance(kind, UtcDateTime):
            value = dt.datetime.fromisoformat(value)
        elif value is not None and isinstance(kind, Date):
            value = dt.date.fromisoformat(value)
        out[key] = value
    return out


def _snapshot(conn: Connection) -> None:
    # pysqlite opens no transaction for reads: begin one so every table is read at one instant.
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN")


def _rows(conn: Connection, table: Table) -> Iterator[dict[str, Any]]:
    order = list(table.primary_key.columns)
    for row in conn.execute(select(table).order_by(*order)):
        yield {k: _encode(v) for k, v in row._mapping.items()}


def backup(engine: Engine, out: IO[bytes]) -> dict[str, int]:
    """Write a backup of the whole registry to ``out``; returns the row count per table."""
    isolation = "SERIALIZABLE" if engine.dialect.name == "postgresql" else None
    options = {"isolation_level": isolation} if isolation else {}
    with engine.connect().execution_options(**options) as conn:
        _snapshot(conn)
        counts = {t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0) for t in _tables()}
        revision = conn.scalar(text("SELECT version_num FROM alembic_version"))
        with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
            header = {"format": FORMAT, "schema": revision, "hccwatch_version": __version__, "counts": counts}
            gz.write((json.dumps(header) + "\n").encode())
            for table in _tables():
                for row in _rows(conn, table):
                    gz.write((json.dumps({"t": table.name, "r": row}, ensure_ascii=False) + "\n").encode())
        conn.rollback()
    return counts


def restore(engine: Engine, source: Path, audit: dict[str, Any] | None = None) -> dict[str, int]:
    """Load a backup into an empty registry (already migrated to the backup's schema); ``audit``
    is an audit_events row recording the restore, written in the same transaction."""
    try:
        with gzip.open(source, "rt", encoding="utf-8") as lines:
            header = json.loads(next(lines, "null") or "null")
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise RegistryError(f"{source}: not an hccwatch registry backup")
            if header.get("schema") != (current_revision(engine) or head_revision()):
                raise RegistryError(
                    f"{source}: made at schema {header.get('schema')}, this registry is at "
                    f"{current_revision(engine)}; restore with the hccwatch version that made it"
                )
            tables = {t.name: t for t in _tables()}
            counts = dict.fromkeys(_TABLES, 0)
            with engine.begin() as conn:
                for table in tables.values():
                    if conn.scalar(select(func.count()).select_from(table)):
                        raise RegistryError(f"restore needs an empty registry; table {table.name} has rows")
                for number, line in enumerate(lines, start=2):
                    item = json.loads(line)
                    target = tables.get(item.get("t"))
                    if target is None:
                        raise RegistryError(f"{source}: line {number}: unknown table {item.get('t')!r}")
                    conn.execute(target.insert().values(**_decode(target, item["r"])))
                    counts[target.name] += 1
                if counts != header.get("counts"):
                    raise RegistryError(
                        f"{source}: truncated (rows {counts}, header says {header.get('counts')})"
                    )
                if conn.dialect.name == "postgresql":
                    # Inserting explicit ids leaves the sequences behind; move them past the rows.
                    for table in tables.values():
                        pk = next(iter(table.primary_key.columns))
                        if pk.autoincrement is True or (
                            pk.autoincrement == "auto"
                            and table.name != "assessments"
                            and isinstance(pk.type, Integer)
                        ):
                            conn.execute(
                                text(
                                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk.name}'), "
                                    f"COALESCE((SELECT MAX({pk.name}) FROM {table.name}), 0) + 1, false)"
                                )
                            )
                if audit is not None:
                    conn.execute(tables["audit_events"].insert().values(**audit))
    except (OSError, EOFError, gzip.BadGzipFile, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RegistryError(f"{source}: cannot be read as a backup ({exc})") from None
    return counts
