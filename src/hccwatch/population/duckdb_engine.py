"""The embedded engine: the export is scanned in blocks by worker processes (``scan.py``), the raw
lines of cohort patients go to Parquet files in the work folder, and DuckDB sorts them by patient
(spilling to disk beyond its memory limit), so memory stays bounded whatever the export size;
each cohort patient's lines are then handed, in patient-id order, to the same worker processes.

Two passes over the files: the first decodes only lines that can be a Patient or an HCC
Condition (byte searches rule out the rest), so the second knows the cohort and every Patient id
and judges each line once, on the spot.
"""

from __future__ import annotations

import datetime as dt
import itertools
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from hccwatch.population.batch import (
    MAX_LISTED_PROBLEMS,
    BatchStats,
    Mapper,
    PatientResult,
    process_group,
    process_patient,
)
from hccwatch.population.bulk import BulkExport, Problem
from hccwatch.population.scan import blocks, prescan, save_ids, scan_block

__all__ = ["run_duckdb"]

# Cohort patients handed to the worker processes at a time.
_WINDOW = 200
_T = TypeVar("_T")
_R = TypeVar("_R")


def _first_lines(counts: list[tuple[int, int]]) -> list[int]:
    """The number of each block's first line, from (file, physical lines) per block in order."""
    firsts: list[int] = []
    seen: dict[int, int] = {}
    for f, n in counts:
        firsts.append(seen.get(f, 0) + 1)
        seen[f] = seen.get(f, 0) + n
    return firsts


def run_duckdb(
    export: BulkExport,
    *,
    as_of: dt.date,
    work_dir: Path,
    mapper: Mapper | None = None,
    workers: int = 1,
    memory_limit: str = "256MB",
    tick: Callable[[], None] | None = None,
) -> tuple[BatchStats, int, Iterator[PatientResult]]:
    """Scan the export; returns the scan statistics, the cohort size and the results (lazily, in
    patient-id order). ``workers`` > 1 scans and assesses in that many processes (the assessing
    ones only with the FHIR adapter, ``mapper`` None)."""
    pool: Any = multiprocessing.get_context("spawn").Pool(workers) if workers > 1 else None

    def each(fn: Callable[[_T], _R], items: Iterable[_T]) -> Iterator[_R]:
        # In order, whatever the number of workers: the output must not depend on it.
        return pool.imap(fn, items) if pool is not None else map(fn, items)

    try:
        stats = BatchStats(files=len(export.files))
        parts = list(blocks(export.files, export.names))
        patients: set[str] = set()
        hcc: set[str] = set()
        sizes: list[tuple[int, int]] = []
        for block, (lines, found_patients, found_hcc) in zip(parts, each(prescan, parts), strict=True):
            sizes.append((block.f, lines))
            patients |= found_patients
            hcc |= found_hcc
        cohort = hcc & patients
        ids = work_dir / "ids.pickle"
        save_ids(ids, patients, cohort)
        rows_dir = work_dir / "rows"
        rows_dir.mkdir()
        tasks = [(b, first, ids, rows_dir) for b, first in zip(parts, _first_lines(sizes), strict=True)]
        problems: list[Problem] = []
        row_files: list[str] = []
        for scanned in each(scan_block, tasks):
            stats.lines += scanned.resources
            stats.resources_by_type.update(scanned.by_type)
            stats.problems_by_kind.update(scanned.problems_by_kind)
            problems.extend(scanned.problems)
            if scanned.rows is not None:
                row_files.append(str(scanned.rows))
            if tick:
                tick()
        stats.problems = sorted(problems)[:MAX_LISTED_PROBLEMS]
        stats.patients = len(patients)
        stats.cohort = len(cohort)
    except BaseException:
        if pool is not None:
            pool.terminate()
        raise

    def groups() -> Iterator[tuple[str, list[bytes], dt.date]]:
        if not row_files:
            return
        con = duckdb.connect(str(work_dir / "group.duckdb"))
        # Deterministic order and a bounded footprint; DuckDB spills to its temp folder beyond the limit.
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute(f"SET temp_directory = '{work_dir / 'spill'}'")
        con.execute("SET preserve_insertion_order = true")
        con.execute("SET enable_progress_bar = false")
        # A sort (which DuckDB spills to disk) rather than a list() aggregate (which must hold every
        # patient's lines at once); consecutive rows of one patient are gathered here.
        reader = con.sql(
            "SELECT pid, raw FROM read_parquet($files) ORDER BY pid, f, line", params={"files": row_files}
        ).to_arrow_reader(10_000)
        current: str | None = None
        raws: list[bytes] = []
        try:
            for batch in reader:
                for pid, raw in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True):
                    if pid != current:
                        if current is not None:
                            yield current, raws, as_of
                        current, raws = pid, []
                    raws.append(raw)
            if current is not None:
                yield current, raws, as_of
        finally:
            con.close()

    def results() -> Iterator[PatientResult]:
        try:
            if pool is not None and mapper is None:
                # Pool.imap would read every group ahead of the workers (all raw lines in memory):
                # feed it a bounded window at a time instead.
                source = groups()
                while window := list(itertools.islice(source, _WINDOW)):
                    yield from pool.imap(process_group, window, chunksize=4)
            elif mapper is None:
                yield from map(process_group, groups())
            else:
                for pid, raws, when in groups():
                    yield process_patient(pid, raws, when, mapper)
        finally:
            if pool is not None:
                pool.terminate()

    return stats, stats.cohort, results()
