"""The embedded engine: DuckDB holds the scan (resource to patient links, the cohort's raw lines) on
disk-backed tables, so memory stays bounded whatever the export size, and hands each cohort
patient's lines back grouped and in patient-id order.

Two passes over the files: the first only decodes lines that could be an HCC Condition (a byte
search rules out the rest), so the second keeps raw lines for cohort patients alone.
"""

from __future__ import annotations

import datetime as dt
import itertools
import multiprocessing
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from hccwatch.population.batch import (
    MAX_LISTED_PROBLEMS,
    BatchStats,
    Mapper,
    PatientResult,
    process_group,
    process_patient,
)
from hccwatch.population.bulk import BulkExport, Line, Problem, classify, iter_lines, maybe_hcc

__all__ = ["run_duckdb"]

_BATCH = 50_000
# Cohort patients handed to the worker processes at a time.
_WINDOW = 1_000


def _cohort_ids(export: BulkExport) -> set[str]:
    found: set[str] = set()
    for name, path in zip(export.names, export.files, strict=True):
        for number, raw in iter_lines(path):
            if maybe_hcc(raw):
                judged = classify(raw, name, number)
                if isinstance(judged, Line) and judged.is_hcc and judged.pid:
                    found.add(judged.pid)
    return found


def _scan(
    con: duckdb.DuckDBPyConnection,
    export: BulkExport,
    cohort: set[str],
    stats: BatchStats,
    tick: Callable[[], None] | None,
) -> list[Problem]:
    con.execute("CREATE TABLE refs (pid VARCHAR, f INTEGER, line BIGINT, is_patient BOOLEAN)")
    con.execute("CREATE TABLE rows (pid VARCHAR, f INTEGER, line BIGINT, raw BLOB)")
    problems: list[Problem] = []
    refs: tuple[list[str], list[int], list[int], list[bool]] = ([], [], [], [])
    rows: tuple[list[str], list[int], list[int], list[bytes]] = ([], [], [], [])

    def flush() -> None:
        if refs[0]:
            ref_table = pa.table({"pid": refs[0], "f": refs[1], "line": refs[2], "is_patient": refs[3]})
            con.from_arrow(ref_table).insert_into("refs")
            for ref_col in refs:
                ref_col.clear()
        if rows[0]:
            row_table = pa.table(
                {"pid": rows[0], "f": rows[1], "line": rows[2], "raw": pa.array(rows[3], pa.binary())}
            )
            con.from_arrow(row_table).insert_into("rows")
            for row_col in rows:
                row_col.clear()

    for f, (name, path) in enumerate(zip(export.names, export.files, strict=True)):
        stats.files += 1
        for number, raw in iter_lines(path):
            stats.lines += 1
            judged = classify(raw, name, number)
            if isinstance(judged, Problem):
                stats.problems_by_kind[judged.kind] += 1
                if len(problems) < MAX_LISTED_PROBLEMS:
                    problems.append(judged)
                continue
            stats.resources_by_type[judged.rtype] += 1
            if judged.pid is None:
                continue
            refs[0].append(judged.pid)
            refs[1].append(f)
            refs[2].append(number)
            refs[3].append(judged.is_patient)
            if judged.pid in cohort:
                rows[0].append(judged.pid)
                rows[1].append(f)
                rows[2].append(number)
                rows[3].append(raw)
            if len(refs[0]) >= _BATCH:
                flush()
                if tick:
                    tick()
    flush()
    return problems


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
    patient-id order). ``mapper`` None uses the FHIR adapter (needed for ``workers`` > 1)."""
    stats = BatchStats()
    cohort = _cohort_ids(export)
    con = duckdb.connect(str(work_dir / "scan.duckdb"))
    # Deterministic order and a bounded footprint; DuckDB spills to its temp folder beyond the limit.
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute(f"SET temp_directory = '{work_dir / 'spill'}'")
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET enable_progress_bar = false")
    problems = _scan(con, export, cohort, stats, tick)

    # Resources naming a patient the export does not hold.
    dangling_sql = """
        SELECT r.f, r.line, r.pid FROM refs r
        WHERE NOT r.is_patient AND r.pid NOT IN (SELECT pid FROM refs WHERE is_patient)
    """
    n_dangling = con.execute(f"SELECT count(*) FROM ({dangling_sql})").fetchall()[0][0]
    if n_dangling:
        stats.problems_by_kind["dangling_reference"] += n_dangling
        for f, line, pid in con.execute(
            f"{dangling_sql} ORDER BY r.f, r.line LIMIT {MAX_LISTED_PROBLEMS}"
        ).fetchall():
            problems.append(
                Problem(export.names[f], line, "dangling_reference", f"Patient/{pid} is not in the export")
            )
    stats.problems = sorted(problems)[:MAX_LISTED_PROBLEMS]
    stats.patients = con.execute("SELECT count(DISTINCT pid) FROM refs WHERE is_patient").fetchall()[0][0]
    con.execute(
        "CREATE TABLE cohort AS SELECT DISTINCT pid FROM refs WHERE is_patient AND pid IN "
        "(SELECT pid FROM rows)"
    )
    stats.cohort = con.execute("SELECT count(*) FROM cohort").fetchall()[0][0]

    def groups() -> Iterator[tuple[str, list[bytes], dt.date]]:
        # A sort (which DuckDB spills to disk) rather than a list() aggregate (which must hold every
        # patient's lines at once); consecutive rows of one patient are gathered here.
        reader = con.sql(
            """SELECT pid, raw FROM rows WHERE pid IN (SELECT pid FROM cohort) ORDER BY pid, f, line"""
        ).to_arrow_reader(10_000)
        current: str | None = None
        raws: list[bytes] = []
        for batch in reader:
            for pid, raw in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True):
                if pid != current:
                    if current is not None:
                        yield current, raws, as_of
                    current, raws = pid, []
                raws.append(raw)
        if current is not None:
            yield current, raws, as_of
        con.close()

    def results() -> Iterator[PatientResult]:
        if workers > 1 and mapper is None:
            ctx = multiprocessing.get_context("spawn")
            with ctx.Pool(workers) as pool:
                # Pool.imap would read every group ahead of the workers (all raw lines in memory):
                # feed it a bounded window at a time instead.
                source = groups()
                while window := list(itertools.islice(source, _WINDOW)):
                    yield from pool.imap(process_group, window, chunksize=16)
        elif mapper is None:
            yield from map(process_group, groups())
        else:
            for pid, raws, when in groups():
                yield process_patient(pid, raws, when, mapper)

    return stats, stats.cohort, results()
