"""The embedded engine: worker processes judge the export in blocks (``scan.py``, one pass), DuckDB
collects each block's runs (byte ranges of consecutive lines of one patient) and finds the
cohort, the dangling references and each cohort patient's lines in patient-id order (a sort that
spills to disk beyond its memory limit, so memory stays bounded whatever the export size); the
same worker processes then read each patient's lines back from the files and assess them.

No raw line crosses a process boundary: a worker gets a patient id and a few byte ranges, and
sends back the patient's result.
"""

from __future__ import annotations

import datetime as dt
import gc
import multiprocessing
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb

from hccwatch.population.batch import (
    MAX_LISTED_PROBLEMS,
    BatchStats,
    Mapper,
    PatientResult,
    default_mapper,
    process_patient,
)
from hccwatch.population.bulk import BulkExport, Problem
from hccwatch.population.scan import Block, BlockScan, RunReader, blocks, scan_block

__all__ = ["collect", "groups", "open_db", "run_duckdb"]

# Cohort patients handed to the worker processes and not yet written out, at most.
_WINDOW = 200
# Patients per task sent to a worker (fewer messages; small enough to keep both cores busy to the end).
_CHUNK = 4

_Group = tuple[str, list[tuple[int, int, int]], dt.date]

# Set in each worker process (and in the parent when it assesses): the export's files.
_READER: RunReader | None = None
_MAPPER: Mapper | None = None


def _init_worker(files: tuple[Path, ...], young: int) -> None:
    global _READER
    _READER = RunReader(files)
    # What run.batch_gc does in the parent (a spawned worker does not inherit it).
    gc.freeze()
    gc.set_threshold(young, *gc.get_threshold()[1:])


def _assess_group(group: _Group) -> PatientResult:
    """In a worker: read one patient's lines back from the files, map and assess them."""
    global _MAPPER
    if _MAPPER is None:
        _MAPPER = default_mapper()
    assert _READER is not None, "worker started without the export's files"
    pid, runs, as_of = group
    return process_patient(pid, _READER.lines(runs), as_of, _MAPPER)


def _context() -> Any:
    # fork where the platform has it: a worker inherits the imported modules and the loaded
    # knowledge instead of importing them again (about half a second of processor time each).
    # The pool is made before this run opens DuckDB, and workers use neither DuckDB nor Arrow.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _runs_table(scanned: BlockScan, f: int, first: int) -> Any:
    import pyarrow as pa

    r = scanned.runs
    return pa.table(
        {
            "pid": pa.array(r.pid, pa.string()),
            "f": pa.array([f] * len(r.pid), pa.int32()),
            "start": pa.array(r.start, pa.int64()),
            "end": pa.array(r.end, pa.int64()),
            "line": pa.array([first + i for i in r.line], pa.int64()),
            "n": pa.array(r.n, pa.int64()),
            "patient": pa.array(r.patient, pa.bool_()),
        }
    )


def _dangling(con: duckdb.DuckDBPyConnection, names: Sequence[str]) -> tuple[int, list[Problem]]:
    """Lines naming a Patient the export does not hold: their number, and the first
    MAX_LISTED_PROBLEMS of each file (enough for the report's first MAX_LISTED_PROBLEMS)."""
    dangling = "FROM runs WHERE NOT patient AND pid NOT IN (SELECT pid FROM patients)"  # an anti-join
    total = int(con.execute(f"SELECT coalesce(sum(n), 0) {dangling}").fetchall()[0][0])
    listed: list[Problem] = []
    if not total:
        return 0, listed
    per_file: dict[int, int] = {}
    con.execute(f"SELECT f, line, n, pid {dangling} ORDER BY f, line")
    while rows := con.fetchmany(10_000):
        for f, line, n, pid in rows:
            room = MAX_LISTED_PROBLEMS - per_file.get(f, 0)
            take = min(n, room)
            per_file[f] = per_file.get(f, 0) + take
            detail = f"Patient/{pid} is not in the export"
            listed.extend(Problem(names[f], line + i, "dangling_reference", detail) for i in range(take))
    return total, listed


def open_db(work_dir: Path, memory_limit: str = "256MB") -> duckdb.DuckDBPyConnection:
    """The engine's database in the work folder, with its empty ``runs`` table."""
    con = duckdb.connect(str(work_dir / "group.duckdb"))
    try:
        # A bounded footprint; DuckDB spills to its temp folder beyond the limit.
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute(f"SET temp_directory = '{work_dir / 'spill'}'")
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = false")
        con.execute(
            'CREATE TABLE runs (pid VARCHAR, f INTEGER, start BIGINT, "end" BIGINT, line BIGINT, '
            "n BIGINT, patient BOOLEAN)"
        )
    except BaseException:
        con.close()
        raise
    return con


def collect(
    con: duckdb.DuckDBPyConnection,
    export: BulkExport,
    scans: Iterable[tuple[Block, BlockScan]],
    tick: Callable[[], None] | None = None,
) -> BatchStats:
    """Merge the blocks' scans (in block order) into the statistics and the ``runs`` table, then
    find the Patient ids, the cohort and the dangling references."""
    stats = BatchStats(files=len(export.files))
    hcc: set[str] = set()
    problems: list[Problem] = []
    seen: dict[int, int] = {}  # lines so far in each file
    for block, scanned in scans:
        first = seen.get(block.f, 0) + 1
        seen[block.f] = first - 1 + scanned.lines
        stats.lines += scanned.resources
        stats.resources_by_type.update(scanned.by_type)
        stats.problems_by_kind.update(scanned.problems_by_kind)
        problems.extend(replace(p, line=p.line + first) for p in scanned.problems)
        if len(problems) > 2 * MAX_LISTED_PROBLEMS:
            problems = sorted(problems)[:MAX_LISTED_PROBLEMS]
        hcc |= scanned.hcc
        if scanned.runs.pid:
            con.register("block_runs", _runs_table(scanned, block.f, first))
            con.execute("INSERT INTO runs SELECT * FROM block_runs")
            con.unregister("block_runs")
        if tick:
            tick()
    con.execute("CREATE TABLE patients AS SELECT DISTINCT pid FROM runs WHERE patient")
    con.execute("CREATE TABLE hcc (pid VARCHAR)")
    if hcc:
        import pyarrow as pa

        con.register("block_hcc", pa.table({"pid": pa.array(sorted(hcc), pa.string())}))
        con.execute("INSERT INTO hcc SELECT pid FROM block_hcc")
        con.unregister("block_hcc")
    con.execute("CREATE TABLE cohort AS SELECT pid FROM patients WHERE pid IN (SELECT pid FROM hcc)")
    count, listed = _dangling(con, export.names)
    if count:
        stats.problems_by_kind["dangling_reference"] += count
    stats.problems = sorted(problems + listed)[:MAX_LISTED_PROBLEMS]
    stats.patients = _count(con, "patients")
    stats.cohort = _count(con, "cohort")
    return stats


def groups(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, stop: threading.Event | None = None
) -> Generator[_Group, None, None]:
    """Each cohort patient's runs, in patient-id order, then file and line order; closes ``con``."""
    # A sort (which DuckDB spills to disk) rather than a list() aggregate (which must hold every
    # patient's runs at once); consecutive rows of one patient are gathered here.
    try:
        reader = con.sql(
            'SELECT pid, f, start, "end" FROM runs WHERE pid IN (SELECT pid FROM cohort) '
            "ORDER BY pid, f, start"
        ).to_arrow_reader(10_000)
        current: str | None = None
        runs: list[tuple[int, int, int]] = []
        for batch in reader:
            if stop is not None and stop.is_set():
                return
            columns = [c.to_pylist() for c in batch.columns]
            for pid, f, start, end in zip(*columns, strict=True):
                if pid != current:
                    if current is not None:
                        yield current, runs, as_of
                    current, runs = pid, []
                runs.append((f, start, end))
        if current is not None:
            yield current, runs, as_of
    finally:
        con.close()


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
    pool: Any = (
        _context().Pool(workers, initializer=_init_worker, initargs=(export.files, gc.get_threshold()[0]))
        if workers > 1
        else None
    )
    con: duckdb.DuckDBPyConnection | None = None
    try:
        con = open_db(work_dir, memory_limit)
        parts = list(blocks(export.files, export.names))
        # In order, whatever the number of workers: the output must not depend on it.
        scanned = pool.imap(scan_block, parts) if pool is not None else map(scan_block, parts)
        stats = collect(con, export, zip(parts, scanned, strict=True), tick)
    except BaseException:
        if con is not None:
            con.close()
        if pool is not None:
            pool.terminate()
        raise
    db = con
    stop = threading.Event()

    def results() -> Iterator[PatientResult]:
        try:
            if pool is not None and mapper is None:
                yield from _streamed(pool, groups(db, as_of, stop), stop)
            else:
                reader = RunReader(export.files)
                try:
                    use = mapper or default_mapper()
                    for pid, runs, when in groups(db, as_of):
                        yield process_patient(pid, reader.lines(runs), when, use)
                finally:
                    reader.close()
        finally:
            stop.set()
            if pool is not None:
                pool.terminate()

    return stats, stats.cohort, results()


def _streamed(
    pool: Any, source: Generator[_Group, None, None], stop: threading.Event
) -> Iterator[PatientResult]:
    """The results of ``source``'s patients, in order, with at most ``_WINDOW`` read ahead: a
    steady stream (both cores busy up to the end) rather than windows that each wait for their
    slowest patient. Pool.imap reads its input in a thread of its own, which waits here for room."""
    room = threading.Semaphore(_WINDOW)

    def gated() -> Iterator[_Group]:
        try:
            for group in source:
                while not room.acquire(timeout=0.1):
                    if stop.is_set():
                        return
                yield group
        finally:
            source.close()

    for result in pool.imap(_assess_group, gated(), chunksize=_CHUNK):
        room.release()
        yield result


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
