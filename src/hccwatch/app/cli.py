"""The ``hccwatch`` command: parse the arguments, call :func:`hccwatch.assess`, render.

Exit codes: 0 every record was assessed; 2 a usage error, or at least one input could not be
read (each problem is named on stderr, and every other input is still assessed and printed);
1 a bug in hccwatch for at least one record (named on stderr; the others are still printed).
No traceback is ever printed for an input. The knowledge base is loaded on first use, not at
import, so ``hccwatch --help`` stays instant and cannot fail on it.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator

import click

# The package, not its renderers: they load Jinja2 on first use, which `hccwatch batch` never makes.
from hccwatch import report
from hccwatch.api import assess
from hccwatch.app import knowledge_report
from hccwatch.app.io import MAX_RECORD_BYTES, expand, is_directory, load
from hccwatch.app.registry_cli import registry_group, users_group
from hccwatch.app.symptoms_cli import symptoms_group
from hccwatch.core.assessment import Assessment
from hccwatch.core.knowledge import default_knowledge
from hccwatch.errors import HccwatchError, KnowledgeError
from hccwatch.population import cli as population_cli
from hccwatch.record.model import PatientRecord, surveillance_profile_ids
from hccwatch.record.units import boundary_tables
from hccwatch.version import __version__

__all__ = ["main"]

EXIT_BUG = 1
EXIT_BAD_INPUT = 2
FORMATS = ("text", "json", "markdown", "html", "fhir")


def _as_of(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        when = dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None
    tables = boundary_tables()
    if not tables.first_date <= when <= tables.last_date:
        raise click.BadParameter(
            f"{value} is outside the plausible dates "
            f"({tables.first_date.isoformat()} to {tables.last_date.isoformat()})"
        )
    return when


def _lang(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    # Checked here, not with click.Choice, so the knowledge base is not loaded at import.
    available = default_knowledge().languages
    if value not in available:
        raise click.BadParameter(f"{value!r} is not a language; available: {', '.join(available)}")
    return value


class _Bug(Exception):
    """A report could not be written: a bug in hccwatch, not in the record."""


def _json(assessment: Assessment, *, compact: bool, fhir: bool = False) -> str:
    if fhir:
        # Imported here: the FHIR adapters are not needed by the other formats or by --help.
        from hccwatch.adapters.fhir import assessment_bundle

        data = assessment_bundle(assessment)
    else:
        data = assessment.to_dict()
    try:
        # allow_nan=False: a non-finite number is a bug to report, never "Infinity" in the output.
        if compact:
            return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"
        return json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
    except ValueError as exc:
        raise _Bug(f"the assessment holds a value JSON cannot carry ({exc})") from exc


def _render(assessment: Assessment, fmt: str, *, compact: bool, separate: bool) -> str:
    """One report as text (all formats but HTML, which is one page for every record)."""
    if fmt in ("json", "fhir"):
        return _json(assessment, compact=compact, fhir=fmt == "fhir")
    render: Callable[[Assessment], str] = report.render_text if fmt == "text" else report.render_markdown
    return ("\n" if separate else "") + render(assessment)


def _profile(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    available = surveillance_profile_ids()
    if value is not None and value not in available:
        raise click.BadParameter(f"{value!r} is not a profile; available: {', '.join(available)}")
    return value


def _read_stdin() -> bytes:
    # Looked up only when "-" is given: a run without standard input must not fail otherwise.
    return sys.stdin.buffer.read(MAX_RECORD_BYTES + 1)


def _problem(message: str) -> None:
    click.echo(message, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hccwatch")
def main() -> None:
    """Decision support after hepatocellular carcinoma treatment (not a diagnosis)."""


@main.command("assess")
@click.argument("inputs", nargs=-1, required=True, metavar="FILE...")
@click.option(
    "--as-of",
    metavar="DATE",
    callback=_as_of,
    help="Evaluation date, YYYY-MM-DD (default: the record's as_of, else today).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Output format (fhir: a FHIR R4 Bundle).",
)
@click.option(
    "--lang",
    metavar="LANG",
    callback=_lang,
    default="en",
    show_default=True,
    help="Language of the patient summary (en, zh).",
)
@click.option(
    "--profile",
    metavar="ID",
    callback=_profile,
    help="Surveillance schedule profile (default: the record's, else 'default').",
)
def assess_command(
    inputs: tuple[str, ...], as_of: dt.date | None, fmt: str, lang: str, profile: str | None
) -> None:
    """Assess patient records: FILE is a JSON record, a directory of *.json records, or - for stdin.

    A FHIR R4 Bundle or resource (JSON with a resourceType), an *.ndjson file, or a directory
    of *.ndjson files (one patient's Bulk Data export) is mapped to a record first; `hccwatch
    record FILE` shows what was read from it.

    Several records with --format json print JSON Lines (one compact object per record);
    --format fhir prints the assessment as a FHIR R4 Bundle (JSON Lines for several records).
    Exit code 2: an input could not be read (the others are still assessed); 1: a bug.
    """
    compact = fmt in ("json", "fhir") and (len(inputs) > 1 or any(is_directory(i) for i in inputs))
    pages: list[Assessment] = []
    printed = 0
    failed: set[int] = set()
    for name, assessment, code in _assessments(inputs, as_of, lang, profile):
        if assessment is None:
            failed.add(code)
        elif fmt == "html":
            pages.append(assessment)
        else:
            try:
                text = _render(assessment, fmt, compact=compact, separate=printed > 0)
            except Exception as exc:  # one record's bug must not lose the other records
                _bug(name, exc)
                failed.add(EXIT_BUG)
                continue
            click.echo(text, nl=False)
            printed += 1
    if pages:
        try:
            click.echo(report.render_html_page(pages), nl=False)
        except Exception as exc:
            _bug("the HTML page", exc)
            failed.add(EXIT_BUG)
    if failed:
        sys.exit(min(failed))


def _bug(name: str, exc: BaseException) -> None:
    detail = str(exc) if isinstance(exc, HccwatchError | _Bug) else repr(exc)
    _problem(f"{name}: internal error, a bug in hccwatch rather than in the record: {detail[:500]}")


def _assessments(
    inputs: tuple[str, ...], as_of: dt.date | None, lang: str, profile: str | None
) -> Iterator[tuple[str, Assessment | None, int]]:
    """Each input's assessment, or None and the exit code it deserves (the problem is printed)."""
    for source in expand(inputs):
        try:
            loaded = load(source, _read_stdin, None, as_of)
        except Exception as exc:  # a reading bug: name the input and go on with the next one
            _bug(source.name, exc)
            yield source.name, None, EXIT_BUG
            continue
        if loaded.fhir is not None and loaded.fhir.warnings:
            _problem(
                f"{loaded.name}: read from FHIR with {len(loaded.fhir.warnings)} mapping warning(s); "
                "`hccwatch record` lists them"
            )
        if loaded.record is None:
            for problem in loaded.problems:
                _problem(problem)
            yield loaded.name, None, EXIT_BAD_INPUT
            continue
        assessment, code = _assess(loaded.name, loaded.record, as_of, lang, profile)
        yield loaded.name, assessment, code


def _assess(
    name: str, record: PatientRecord, as_of: dt.date | None, lang: str, profile: str | None
) -> tuple[Assessment | None, int]:
    """The assessment, or None and the exit code it deserves (the message is already printed)."""
    try:
        return assess(record, as_of, lang=lang, profile=profile), 0
    except KnowledgeError as exc:
        _bug(name, exc)
        return None, EXIT_BUG
    except HccwatchError as exc:
        _problem(f"{name}: {exc}")
        return None, EXIT_BAD_INPUT
    except Exception as exc:  # one record's bug must not lose the other records
        _bug(name, exc)
        return None, EXIT_BUG


@main.command("record")
@click.argument("inputs", nargs=-1, required=True, metavar="FILE...")
@click.option(
    "--as-of",
    metavar="DATE",
    callback=_as_of,
    help="Day that ends 'the past week' of FHIR dialysis assumptions (default: today).",
)
def record_command(inputs: tuple[str, ...], as_of: dt.date | None) -> None:
    """Print the patient record hccwatch reads from each FILE, with the FHIR mapping's warnings
    and stated assumptions (JSON; JSON Lines for several inputs).

    Exit code 2: an input could not be read (the others are still printed); 1: a bug.
    """
    compact = len(inputs) > 1 or any(is_directory(i) for i in inputs)
    failed: set[int] = set()
    for source in expand(inputs):
        try:
            loaded = load(source, _read_stdin, None, as_of)
        except Exception as exc:  # a reading bug: name the input and go on with the next one
            _bug(source.name, exc)
            failed.add(EXIT_BUG)
            continue
        for problem in loaded.problems:
            _problem(problem)
        if loaded.record is None:
            failed.add(EXIT_BAD_INPUT)
            continue
        reading = loaded.fhir
        out = {
            "source": loaded.name,
            "format": "record" if reading is None else "fhir",
            "record": loaded.record.model_dump(mode="json", exclude_defaults=True)
            if reading is None
            else reading.record,
            "warnings": [] if reading is None else [w.to_dict() for w in reading.warnings],
            "assumptions": [] if reading is None else [a.to_dict() for a in reading.assumptions],
        }
        click.echo(json.dumps(out, ensure_ascii=False, indent=None if compact else 2))
    if failed:
        sys.exit(min(failed))


@main.command()
def schema() -> None:
    """Print the JSON Schema of a patient record."""
    click.echo(json.dumps(PatientRecord.model_json_schema(), ensure_ascii=False, indent=2))


@main.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "csv", "html"]),
    default="text",
    show_default=True,
    help="text: counts and what is left to check; json: every entry; csv/html: a review sheet.",
)
def knowledge(fmt: str) -> None:
    """Counts by review status and the entries to check; csv and html give a sign-off sheet."""
    k = default_knowledge()
    render = {
        "text": knowledge_report.summary_text,
        "json": knowledge_report.summary_json,
        "csv": knowledge_report.review_csv,
        "html": knowledge_report.review_html,
    }[fmt]
    click.echo(render(k), nl=False)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port.")
@click.option(
    "--dev",
    is_flag=True,
    help="Development only: accept unsigned CDS Hooks calls and token-less API calls (loopback only).",
)
@click.option(
    "--demo",
    is_flag=True,
    help="On an empty database: load the demo registry and accounts, print the password (loopback only).",
)
def serve(host: str, port: int, dev: bool, demo: bool) -> None:
    """Run the server: web app (/), REST API (/api/v1), CDS Hooks (/cds-services), OpenAPI (/docs),
    /healthz.

    Settings come from HCCWATCH_* environment variables (docs/server.md lists them); the registry
    is HCCWATCH_DATABASE_URL, else a SQLite file in HCCWATCH_DATA_DIR.
    """
    # Imported here: the web stack is not loaded for the other commands.
    from hccwatch.app.server.serve import run

    sys.exit(run(host, port, dev=dev, demo=demo))


# The registry commands live in their own module (they load SQLAlchemy only when run).
main.add_command(registry_group)
main.add_command(users_group)
main.add_command(symptoms_group)
# Population mode (synthetic exports, the batch worklist) lives in its own adapter package.
main.add_command(population_cli.synth)
main.add_command(population_cli.batch)

if __name__ == "__main__":
    main()
