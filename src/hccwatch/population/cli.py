"""``hccwatch synth`` and ``hccwatch batch`` (registered on the main command group)."""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path

import click

from hccwatch.errors import HccwatchError

__all__ = ["batch", "synth"]

EXIT_BAD_INPUT = 2


@click.command("synth")
@click.option(
    "--patients", type=click.IntRange(min=1), required=True, help="People in the export (HCC and not)."
)
@click.option("--seed", type=int, default=0, show_default=True, help="The same seed gives the same export.")
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder to write."
)
def synth(patients: int, seed: int, out: Path) -> None:
    """Write a synthetic FHIR Bulk Data export (NDJSON per resource type and manifest.json)."""
    from hccwatch.population.synth import write_cohort

    counts = write_cohort(out, patients, seed)
    total = sum(counts.values())
    detail = ", ".join(f"{t} {n}" for t, n in counts.items())
    click.echo(f"{out}: {patients} patients, {total} resources ({detail})", err=True)


class _Progress:
    """A one-line progress display on a terminal; silent otherwise (logs stay clean)."""

    def __init__(self) -> None:
        self.on = sys.stderr.isatty()
        self.cohort: int | None = None
        self.last = 0.0

    def __call__(self, stage: str, n: int) -> None:
        if stage == "cohort":
            self.cohort = n
            return
        if not self.on:
            return
        now = time.monotonic()
        if now - self.last < 0.2 and not (stage == "assess" and n == self.cohort):
            return
        self.last = now
        if stage == "scan":
            text = f"scanning export: {n:,} block(s) of up to 8 MiB"
        elif self.cohort:
            width = 30
            filled = width * n // self.cohort
            text = f"assessing [{'#' * filled}{'.' * (width - filled)}] {n:,}/{self.cohort:,}"
        else:
            text = f"assessing {n:,}"
        click.echo(f"\r{text:<70}", err=True, nl=False)

    def end(self) -> None:
        if self.on:
            click.echo("", err=True)


@click.command("batch")
@click.argument("source", metavar="INPUT")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Result folder.")
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True)
@click.option(
    "--as-of", "as_of", default=None, help="Evaluation date (default: the export's transactionTime)."
)
@click.option("--spark-master", default=None, help="Spark master URL (default local[WORKERS]).")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes assessing patients (default: CPUs).",
)
@click.option(
    "--storage-option",
    "storage_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Passed to the object store's fsspec backend (repeatable); credentials are best left "
    "to the backend's own environment and configuration.",
)
def batch(
    source: str,
    out: Path,
    engine: str,
    as_of: str | None,
    spark_master: str | None,
    workers: int | None,
    storage_options: tuple[str, ...],
) -> None:
    """Find the HCC cohort in a FHIR Bulk export (folder or manifest) and write its worklist.

    INPUT is a folder or manifest of this machine, or its URL in an object store
    (s3://bucket/prefix/, gs://..., az://...; pip install 'hccwatch[objectstore]').

    Writes worklist.csv and worklist.parquet, assessments.jsonl, problems.csv (bad lines, unknown
    types and dangling references with file and line) and summary.json / summary.html.
    """
    from hccwatch.population.run import run_batch
    from hccwatch.population.source import is_url, parse_storage_options
    from hccwatch.record.units import boundary_tables

    where: Path | str = source
    if not is_url(source):
        # What click.Path(exists=True) said when INPUT could only be a path.
        ctx = click.get_current_context()
        param = next(p for p in ctx.command.params if p.name == "source")
        where = click.Path(exists=True, path_type=Path).convert(source, param, ctx)
    try:
        options = parse_storage_options(storage_options)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--storage-option") from None
    when = None
    if as_of is not None:
        try:
            when = dt.date.fromisoformat(as_of)
        except ValueError:
            raise click.BadParameter(f"{as_of!r} is not a date (YYYY-MM-DD)", param_hint="--as-of") from None
        tables = boundary_tables()
        if not tables.first_date <= when <= tables.last_date:
            raise click.BadParameter(f"{as_of} is outside the plausible dates", param_hint="--as-of")
    if engine == "spark":
        from hccwatch.population.spark_engine import spark_available

        why = spark_available()
        if why:
            click.echo(f"hccwatch batch: the Spark engine cannot run: {why}", err=True)
            sys.exit(EXIT_BAD_INPUT)
    progress = _Progress()
    try:
        summary = run_batch(
            where,
            out,
            engine=engine,
            as_of=when,
            workers=workers or os.cpu_count() or 1,
            spark_master=spark_master,
            progress=progress,
            storage_options=options,
        )
    except (HccwatchError, FileExistsError) as exc:
        progress.end()
        click.echo(f"hccwatch batch: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    progress.end()
    co = summary["cohort"]
    problems = sum(summary["export"]["problems_by_kind"].values())
    urgent = sum(co["by_highest_urgency"].get(k, 0) for k in ("emergency", "urgent"))
    click.echo(
        f"{out}: {co['patients']} HCC patients of {summary['export']['patients']} "
        f"(as of {summary['as_of']}); {urgent} with an urgent alert, "
        f"{co['with_overdue_surveillance']} with overdue surveillance; "
        f"{problems} problem line(s) in the export (problems.csv)"
        + "".join(f"; skipped {f['file']}: {f['reason']}" for f in summary["export"]["skipped_files"]),
        err=True,
    )
