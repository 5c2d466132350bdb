"""``hccwatch batch``: choose the engine, run it, write the outputs."""

from __future__ import annotations

import datetime as dt
import gc
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hccwatch.population.batch import Mapper, PatientResult, write_outputs
from hccwatch.population.bulk import BulkExport, ExportError, open_export
from hccwatch.population.source import is_url, url_name

__all__ = ["ENGINES", "batch_gc", "run_batch"]

ENGINES = ("duckdb", "spark")
# Allocations between two young-generation collections while a batch runs (Python's default: 700).
GC_YOUNG = 50_000


@contextmanager
def batch_gc() -> Iterator[None]:
    """While a batch runs: the objects already loaded (modules, the knowledge) are frozen out of
    the cycle collector, and it runs less often. Decoding and mapping a patient allocate tens of
    thousands of objects, nearly all freed by reference counting, and each default collection
    walked every loaded object again (about half the decode time). Worker processes forked
    meanwhile inherit both settings. Restored afterwards."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_YOUNG, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


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
        "cannot determine the evaluation date: the export has no transactionTime (neither a "
        "manifest nor a Bulk Data client's log.ndjson gives one); give --as-of"
    )


def run_batch(
    source: Path | str,
    out: Path,
    *,
    engine: str = "duckdb",
    as_of: dt.date | None = None,
    mapper: Mapper | None = None,
    workers: int = 1,
    spark_master: str | None = None,
    progress: Callable[[str, int], None] | None = None,
    storage_options: tuple[tuple[str, str], ...] = (),
) -> dict[str, Any]:
    """Run a batch; returns the summary. ``source`` is a folder or manifest of this machine, or
    the URL of one in an object store (read with ``storage_options``). Raises ExportError when
    the export cannot be read."""
    export = open_export(source, storage_options)
    name = url_name(source) if isinstance(source, str) and is_url(source) else Path(source).name
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
        elif engine == "spark":
            from hccwatch.population.spark_engine import run_spark
        else:
            raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
        with batch_gc():
            try:
                if engine == "duckdb":
                    stats, cohort, results = run_duckdb(
                        export, as_of=when, work_dir=work, mapper=mapper, workers=workers, tick=tick
                    )
                else:
                    master = spark_master or f"local[{max(1, workers)}]"
                    stats, cohort, results = run_spark(export, as_of=when, mapper=mapper, master=master)
            except Exception:
                export.check_unchanged()  # a file changed under the scan: that is the error to report
                raise
            if progress:
                progress("cohort", cohort)
            summary = write_outputs(
                out,
                _checked(results, export),
                stats,
                as_of=when,
                engine=engine,
                source=name,
                progress=done,
                skipped=export.skipped,
            )
    except BaseException:
        # What write_outputs left half-written; a result already in place stays as it was.
        shutil.rmtree(out.parent / f".{out.name}.partial", ignore_errors=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summary


def _checked(results: Iterator[PatientResult], export: BulkExport) -> Iterator[PatientResult]:
    """The results, then a last check that no file of the export was rewritten or replaced while
    they were read: write_outputs puts the result in place only after the last one, so a change
    (ExportError) leaves the previous result as it was."""
    try:
        yield from results
    except Exception:
        # Lines read back from a file rewritten since the scan are whatever its bytes now are
        # (half a line, not JSON): the change, not what it broke, is the error to report.
        export.check_unchanged()
        raise
    export.check_unchanged()
