"""``hccwatch batch``: choose the engine, run it, write the outputs."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hccwatch.population.batch import Mapper, write_outputs
from hccwatch.population.bulk import ExportError, open_export

__all__ = ["ENGINES", "run_batch"]

ENGINES = ("duckdb", "spark")


def evaluation_date(given: dt.date | None, transaction_time: str | None) -> dt.date:
    """The date every patient is assessed on: given, else the export's transactionTime. Never the
    clock: the same export must give the same worklist whenever it is run."""
    if given is not None:
        return given
    if transaction_time:
        try:
            return dt.date.fromisoformat(transaction_time[:10])
        except ValueError:
            pass
    raise ExportError(
        "cannot determine the evaluation date: the export has no manifest transactionTime; give --as-of"
    )


def run_batch(
    source: Path,
    out: Path,
    *,
    engine: str = "duckdb",
    as_of: dt.date | None = None,
    mapper: Mapper | None = None,
    workers: int = 1,
    spark_master: str | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, Any]:
    """Run a batch; returns the summary. Raises ExportError when the export cannot be read."""
    export = open_export(source)
    when = evaluation_date(as_of, export.transaction_time)
    out = out.absolute()
    if out.exists() and not (out / "summary.json").is_file():
        # Checked before the work starts, and again when the result is moved into place.
        raise FileExistsError(f"{out.name} exists and is not a batch result; choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = out.parent / f".{out.name}.work"
    if work.exists():
        shutil.rmtree(work)  # left by an interrupted run
    work.mkdir()
    scanned = [0]

    def tick() -> None:
        scanned[0] += 1
        if progress:
            progress("scan", scanned[0])

    def done(n: int) -> None:
        if progress:
            progress("assess", n)

    try:
        if engine == "duckdb":
            from hccwatch.population.duckdb_engine import run_duckdb

            stats, cohort, results = run_duckdb(
                export, as_of=when, work_dir=work, mapper=mapper, workers=workers, tick=tick
            )
        elif engine == "spark":
            from hccwatch.population.spark_engine import run_spark

            stats, cohort, results = run_spark(
                export, as_of=when, mapper=mapper, master=spark_master or f"local[{max(1, workers)}]"
            )
        else:
            raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
        if progress:
            progress("cohort", cohort)
        summary = write_outputs(
            out, results, stats, as_of=when, engine=engine, source=source.name, progress=done
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summary
