"""``hccwatch registry ...`` and ``hccwatch users ...``: the registry from the command line.

The command line acts as an administrator named after the operating-system user (whoever can
reach the database file or URL can do anything with it anyway); every write is audited under
that name. The database is ``--database URL``, else ``HCCWATCH_DATABASE_URL``, else the SQLite
file in the data directory. Exit codes as for ``assess``: 0 done, 2 a usage error or at least
one input refused (each named on stderr, every other one still imported), 1 a bug.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from hccwatch.app.io import Source, _decode, _ndjson, _read, _read_ndjson_folder, expand
from hccwatch.app.record_inputs import incoming_records
from hccwatch.errors import HccwatchError
from hccwatch.record.model import PatientRecord

__all__ = ["registry_group", "users_group"]

EXIT_BAD_INPUT = 2


def _operator() -> Any:
    from hccwatch.registry import Actor

    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "unknown"
    return Actor(f"cli:{login}", "admin")


@contextlib.contextmanager
def _open(database: str | None, as_of: dt.date | None = None) -> Iterator[Any]:
    """The registry, closed whatever happens; a refusal becomes a message, never a traceback."""
    # Imported here so `hccwatch --help` and `assess` never load SQLAlchemy.
    from hccwatch.registry import Registry

    today: Callable[[], dt.date] = (lambda: as_of) if as_of is not None else dt.date.today
    try:
        registry = Registry.open(database, today=today)
    except HccwatchError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        yield registry
    except HccwatchError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        registry.close()


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


_database = click.option(
    "--database",
    metavar="URL",
    default=None,
    help="SQLAlchemy URL (default: HCCWATCH_DATABASE_URL, else a SQLite file in HCCWATCH_DATA_DIR).",
)
_as_of = click.option(
    "--as-of", callback=_date, default=None, help="Assessment date for stored assessments (default: today)."
)


@click.group("registry")
def registry_group() -> None:
    """The follow-up registry: import, export, back up, restore, demo data."""


def _decoded(source: Source) -> tuple[Any, tuple[str, ...]]:
    """The decoded JSON of one input (an NDJSON file or folder as a list of resources), read with
    the same limits and refusals as ``assess``."""
    if source.ndjson_folder:
        return _read_ndjson_folder(source)
    text, problems = _read(source, lambda: sys.stdin.buffer.read())
    if text is None:
        return None, problems
    if source.path is not None and source.path.suffix == ".ndjson":
        return _ndjson(source.name, text)
    return _decode(source.name, text)


def _inputs(
    files: tuple[str, ...], as_of: dt.date | None
) -> Iterator[tuple[str, PatientRecord | None, tuple[str, ...]]]:
    """(name, record or None, problems) for every patient in the inputs. A FHIR Bundle or Bulk
    NDJSON export may hold many patients: each becomes its own record (named file#patient)."""
    for source in expand(files):
        data, problems = _decoded(source)
        if problems:
            yield source.name, None, problems
            continue
        for incoming in incoming_records(source.name, data, as_of):
            if incoming.fhir is not None and incoming.fhir.warnings:
                click.echo(
                    f"{incoming.name}: read from FHIR with {len(incoming.fhir.warnings)} mapping warning(s)",
                    err=True,
                )
            yield incoming.name, incoming.record, incoming.problems


@registry_group.command("import")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@_database
@_as_of
def import_command(files: tuple[str, ...], database: str | None, as_of: dt.date | None) -> None:
    """Import hccwatch records (files, folders, - for stdin), FHIR Bundles or Bulk NDJSON.

    Each record is one transaction: a record already stored with the same id is replaced (the audit
    trail keeps the old one), an identical one is left alone, and a bad one is named and skipped.
    A folder written by ``hccwatch batch`` loads its cohort (assessed as of the batch's date).
    """
    from hccwatch.population import registry_import as batch

    try:
        result = batch.batch_result(files)
    except HccwatchError as exc:
        raise click.ClickException(str(exc)) from None
    if result is not None:
        with _open(database, as_of or result.as_of) as registry:
            done = batch.import_batch_result(
                registry, _operator(), result, echo=lambda m: click.echo(m, err=True)
            )
        click.echo(batch.summary_line(result, done))
        if done["refused"]:
            sys.exit(EXIT_BAD_INPUT)
        return
    with _open(database, as_of) as registry:
        actor = _operator()
        counts = {"added": 0, "updated": 0, "unchanged": 0, "refused": 0}
        for name, record, problems in _inputs(files, as_of):
            if record is None:
                counts["refused"] += 1
                for problem in problems:
                    click.echo(problem, err=True)
                continue
            try:
                result = registry.import_record(actor, record)
            except HccwatchError as exc:
                counts["refused"] += 1
                click.echo(f"{name}: {exc}", err=True)
                continue
            counts[result.status] += 1
        click.echo(", ".join(f"{k} {v}" for k, v in counts.items()))
    if counts["refused"]:
        sys.exit(EXIT_BAD_INPUT)


@registry_group.command("export")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, writable=True), default="-", show_default=True
)
@_database
def export_command(output: str, database: str | None) -> None:
    """Every stored record as JSON Lines (one hccwatch record a line), ready to import again."""
    with _open(database) as registry:
        with click.open_file(output, "w", encoding="utf-8", atomic=output != "-") as out:
            for record in registry.export_records(_operator()):
                out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")


@registry_group.command("backup")
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@_database
def backup_command(output: Path, database: str | None) -> None:
    """A full, consistent copy of the registry (one portable file for SQLite and PostgreSQL)."""
    with _open(database) as registry:
        partial = output.with_name(output.name + ".partial")
        with partial.open("wb") as out:
            counts = registry.backup(_operator(), out)
        partial.replace(output)  # a backup is either complete under its name or absent
        click.echo(f"backup written to {output}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@registry_group.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_database
def restore_command(source: Path, database: str | None) -> None:
    """Load a backup into an empty registry (all of it, or nothing)."""
    with _open(database) as registry:
        try:
            counts = registry.restore(_operator(), source)
        except HccwatchError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"restored from {source}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@registry_group.command("refresh")
@_database
@_as_of
def refresh_command(database: str | None, as_of: dt.date | None) -> None:
    """Recompute the stored assessments that are stale (another day, changed data, new knowledge)."""
    with _open(database, as_of) as registry:
        done = registry.refresh_assessments(as_of, actor=_operator())
        click.echo(f"recomputed {done} assessments")


@registry_group.command("worklist")
@click.option(
    "--group", default=None, help="alerts, afp, overdue, lost, due_soon, not_assessed or off_worklist."
)
@click.option("--search", default=None)
@_database
def worklist_command(group: str | None, search: str | None, database: str | None) -> None:
    """The worklist as text: most urgent alert first, then most days overdue."""
    with _open(database) as registry:
        try:
            rows = registry.worklist(_operator(), group=group, search=search)
        except HccwatchError as exc:
            raise click.ClickException(str(exc)) from None
        for r in rows:
            late = f"{r.days_overdue} d overdue" if r.days_overdue is not None else ""
            due = f"next {r.next_due.isoformat()}" if r.next_due else ""
            click.echo(
                f"{r.record_id:<28} {r.top_urgency or '-':<10} {'AFP' if r.afp_suspicious else '':<4}"
                f"{late:<16}{due:<17}{r.bclc_stage or '':<3}{r.last_outreach or ''}{r.error or ''}"
            )
        click.echo(f"{len(rows)} patients")


@registry_group.command("demo")
@click.option("--as-of", callback=_date, default="2026-11-24", show_default=True, help="The demo's today.")
@_database
def demo_command(as_of: dt.date, database: str | None) -> None:
    """Load the demo registry (about 50 fictitious patients) into an empty registry."""
    from hccwatch.registry.demo import load_demo

    with _open(database, as_of) as registry:
        try:
            n = load_demo(registry, _operator(), as_of)
        except HccwatchError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"demo registry loaded: {n} patients, assessed as of {as_of.isoformat()}")


@click.group("users")
def users_group() -> None:
    """Registry users: add, list, disable, set a password."""


def _password() -> str:
    """From a prompt (twice) on a terminal, else the first line of standard input; never an argument."""
    if sys.stdin.isatty():
        value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        return value
    line = sys.stdin.readline()
    if not line:
        raise click.UsageError("no password on standard input")
    return line.rstrip("\r\n")


@users_group.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["admin", "clinician", "navigator", "readonly"]))
@click.option("--display-name", default=None)
@_database
def users_add(username: str, role: str, display_name: str | None, database: str | None) -> None:
    """Add a user; the password is read from a prompt or standard input."""
    with _open(database) as registry:
        try:
            user = registry.add_user(_operator(), username, role, _password(), display_name=display_name)
        except HccwatchError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"added {user.username} ({user.role})")


@users_group.command("list")
@_database
def users_list(database: str | None) -> None:
    with _open(database) as registry:
        for u in registry.list_users(_operator()):
            state = "active" if u.active else "disabled"
            click.echo(f"{u.username:<24} {u.role:<10} {state:<9} {u.display_name or ''}")


@users_group.command("disable")
@click.argument("username")
@_database
def users_disable(username: str, database: str | None) -> None:
    with _open(database) as registry:
        try:
            registry.disable_user(_operator(), username)
        except HccwatchError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"disabled {username}")


@users_group.command("set-password")
@click.argument("username")
@_database
def users_set_password(username: str, database: str | None) -> None:
    """Set a user's password, read from a prompt or standard input."""
    with _open(database) as registry:
        try:
            registry.set_password(_operator(), username, _password())
        except HccwatchError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"password set for {username}")
