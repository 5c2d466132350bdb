"""The embedded engine: worker processes judge the export in blocks (``scan.py``, one pass), DuckDB
collects each block's runs (byte ranges of consecutive lines of one patient) and finds the
cohort, the dangling references and each cohort patient's lines in patient-id order (a sort that
spills to disk beyond its memory limit, so memory stays bounded whatever the export size); the
same worker processes then read each patient's lines back from the files and assess them.

No raw line crosses a process boundary: a worker gets a patient id and a few byte ranges, and
sends back the patient's result. The workers are plain processes on pipes (``_Workers``), driven
from the calling thread.
"""

from __future__ import annotations

import datetime as dt
import gc
import itertools
import multiprocessing
import traceback
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import replace
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import duckdb

from hccwatch.population import scan as _scan
from hccwatch.population.batch import (
    MAX_LISTED_PROBLEMS,
    BatchStats,
    Mapper,
    PatientResult,
    default_mapper,
    process_patient,
)
from hccwatch.population.bulk import BulkExport, Problem
from hccwatch.population.scan import (
    STORE_BATCH,
    Block,
    BlockScan,
    RunReader,
    blocks,
    scan_block,
)
from hccwatch.population.source import Store

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

__all__ = ["collect", "groups", "open_db", "run_duckdb"]

# Cohort patients handed to the worker processes and not yet written out, at most.
_WINDOW = 200
# Patients per task sent to a worker (fewer messages; small enough to keep both cores busy to the end).
_CHUNK = 4

_Group = tuple[str, list[tuple[int, int, int]], dt.date]

# Set in each worker process (and in the parent when it assesses): the export's files.
_READER: RunReader | None = None
_MAPPER: Mapper | None = None


def _init_worker(files: tuple[Path | str, ...], store: Store | None, young: int) -> None:
    global _READER
    # An object store's file system is built here, in the worker, on its first read.
    _READER = RunReader(files, store)
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


def _assess_groups(batch: list[_Group]) -> list[PatientResult]:
    """``_assess_group`` of a few patients of an object store, their lines read together (or
    already on their way: ``_read_ahead``)."""
    global _MAPPER
    if _MAPPER is None:
        _MAPPER = default_mapper()
    assert _READER is not None, "worker started without the export's files"
    ahead = _AHEAD.pop(id(batch), None)
    if ahead is not None and ahead[0] is batch:
        raws = ahead[1].result()
    else:
        raws = _READER.many([runs for _, runs, _ in batch])
    return [process_patient(pid, r, as_of, _MAPPER) for (pid, _, as_of), r in zip(batch, raws, strict=True)]


# In a worker: batches whose lines were sent for ahead, by id, and their reads: the batch being
# assessed (its reads sent while the one before it was) and the next one, at most.
_AHEAD: dict[int, tuple[list[_Group], Future[list[list[bytes]]]]] = {}
_AHEAD_THREAD: ThreadPoolExecutor | None = None


def _read_ahead(task: tuple[Callable[[Any], Any], list[Any]]) -> None:
    """In a worker, before assessing a batch of an object store's patients: send the reads of the
    next task's (already in the pipe) from a thread, so they travel while this one is assessed."""
    global _AHEAD_THREAD
    func, items = task
    if func is not _assess_groups or not items or not _scan.STORE_READ_AHEAD:
        return
    assert _READER is not None, "worker started without the export's files"
    if _AHEAD_THREAD is None:
        # Imported here: a run of local files never loads it.
        from concurrent.futures import ThreadPoolExecutor

        _AHEAD_THREAD = ThreadPoolExecutor(1, thread_name_prefix="hccwatch-read-ahead")
    batch = items[0]
    _AHEAD[id(batch)] = (batch, _AHEAD_THREAD.submit(_READER.many, [runs for _, runs, _ in batch]))


def _batched(items: Iterable[_Group], n: int) -> Iterator[list[_Group]]:
    source = iter(items)
    while batch := list(itertools.islice(source, n)):
        yield batch


def _context() -> Any:
    # fork where the platform has it: a worker inherits the imported modules and the loaded
    # knowledge instead of importing them again (about half a second of processor time each).
    # The workers are started before this run opens DuckDB, and use neither DuckDB nor Arrow.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _serve(conn: Connection, files: tuple[Path | str, ...], store: Store | None, young: int) -> None:
    """A worker's loop: a list of items in, the list of their results (or the exception) out."""
    _init_worker(files, store, young)
    following: Any = None  # the next task, taken from the pipe early to read its lines ahead
    stopping = False  # the end (None) was the task taken early: no other one will come
    try:
        while not stopping and (task := following if following is not None else conn.recv()) is not None:
            following = None
            func, items = task
            if func is _assess_groups and conn.poll():
                following = conn.recv()
                if following is None:
                    stopping = True
                else:
                    _read_ahead(following)
            try:
                reply: tuple[bool, Any] = (True, [func(item) for item in items])
            except Exception as exc:  # raised again in the parent, with where it happened
                exc.add_note(f"in a worker process:\n{traceback.format_exc()}")
                reply = (False, exc)
            try:
                conn.send(reply)
            except Exception as exc:  # the exception itself would not pickle
                conn.send((False, RuntimeError(f"in a worker process: {reply[1]!r} ({exc})")))
    except (EOFError, KeyboardInterrupt):
        pass  # the parent went away or was interrupted: it reports, not the worker
    finally:
        conn.close()


def _ended() -> RuntimeError:
    # Killed (out of memory, a signal): said, rather than waited for forever as Pool would.
    return RuntimeError("a worker process ended unexpectedly (out of memory? see the system log)")


class _Workers:
    """Worker processes, each on a pipe of its own, fed and read by the calling thread.

    multiprocessing.Pool was used before: its worker-handler thread also waits on the results
    queue, so it woke (and took the interpreter lock) whenever a result waited to be read; with
    its task and result threads the parent took about 0.4 s more processor time on the
    10,000-patient export than now. Here nothing runs in a thread: ``map`` sends small tasks,
    waits for whichever worker answers, and yields in order.
    """

    def __init__(self, n: int, files: tuple[Path | str, ...], young: int, store: Store | None = None) -> None:
        ctx = _context()
        self.conns: list[Connection] = []
        self.procs: list[Any] = []
        try:
            for _ in range(n):
                mine, theirs = ctx.Pipe()
                proc = ctx.Process(target=_serve, args=(theirs, files, store, young), daemon=True)
                proc.start()
                theirs.close()
                self.conns.append(mine)
                self.procs.append(proc)
        except BaseException:
            self.terminate()
            raise

    def map(
        self, func: Callable[[Any], Any], items: Iterable[Any], *, window: int, chunk: int, depth: int = 2
    ) -> Iterator[Any]:
        """``func`` of each item, in the items' order; at most ``window`` items read ahead of the
        results yielded, handed out ``chunk`` at a time to whichever worker is free (each keeps up
        to ``depth`` chunks, the one it works on included, so it never waits for the parent)."""
        source = iter(items)
        sent = 0  # items handed out
        yielded = 0
        ready: dict[int, Any] = {}
        queued: dict[Connection, deque[tuple[int, int]]] = {c: deque() for c in self.conns}
        exhausted = False

        def feed(conn: Connection) -> None:
            nonlocal sent, exhausted
            while not exhausted and len(queued[conn]) < depth and sent - yielded < window:
                batch = list(itertools.islice(source, min(chunk, window - (sent - yielded))))
                if not batch:
                    exhausted = True
                    return
                try:
                    conn.send((func, batch))
                except OSError:
                    raise _ended() from None
                queued[conn].append((sent, len(batch)))
                sent += len(batch)

        for conn in self.conns:
            feed(conn)
        while yielded < sent:
            busy = [c for c in self.conns if queued[c]]
            for answered in wait(busy):
                conn = cast(Connection, answered)
                try:
                    ok, payload = conn.recv()
                except (EOFError, OSError):
                    raise _ended() from None
                first, count = queued[conn].popleft()
                if not ok:
                    raise payload
                ready.update(zip(range(first, first + count), payload, strict=True))
            while yielded in ready:
                yield ready.pop(yielded)
                yielded += 1
            for conn in sorted(self.conns, key=lambda c: len(queued[c])):
                feed(conn)

    def close(self) -> None:
        """Let the workers end, and reap them (their processor time is then the parent's children's)."""
        for conn in self.conns:
            try:
                conn.send(None)
            except OSError:
                pass
        for proc in self.procs:
            proc.join(timeout=5)
        self.terminate()

    def terminate(self) -> None:
        for proc in self.procs:
            if proc.is_alive():
                proc.terminate()
            proc.join()
        for conn in self.conns:
            conn.close()
        self.procs, self.conns = [], []


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


def groups(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> Generator[_Group, None, None]:
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
    pool = _Workers(workers, export.files, gc.get_threshold()[0], export.store) if workers > 1 else None
    con: duckdb.DuckDBPyConnection | None = None
    try:
        con = open_db(work_dir, memory_limit)
        parts = list(blocks(export.files, export.names, store=export.store, sizes=export.sizes))
        # In order, whatever the number of workers: the output must not depend on it.
        scanned = (
            pool.map(scan_block, parts, window=2 * workers, chunk=1)
            if pool is not None
            else map(scan_block, parts)
        )
        stats = collect(con, export, zip(parts, scanned, strict=True), tick)
        # Here, not in the caller: the workers and the database are let go below if it fails.
        export.check_unchanged()
    except BaseException:
        if con is not None:
            con.close()
        if pool is not None:
            pool.terminate()
        raise
    db = con

    def results() -> Iterator[PatientResult]:
        finished = False
        try:
            if pool is not None and mapper is None and export.store is None:
                yield from pool.map(_assess_group, groups(db, as_of), window=_WINDOW, chunk=_CHUNK)
                finished = True
            elif pool is not None and mapper is None:
                batches = _batched(groups(db, as_of), STORE_BATCH)
                # One more batch per worker: the one whose lines it reads ahead (_serve).
                depth = 2 + _scan.STORE_READ_AHEAD
                for done in pool.map(
                    _assess_groups, batches, window=_WINDOW // STORE_BATCH, chunk=1, depth=depth
                ):
                    yield from done
                finished = True
            else:
                reader = RunReader(export.files, export.store)
                try:
                    use = mapper or default_mapper()
                    if export.store is None:
                        for pid, runs, when in groups(db, as_of):
                            yield process_patient(pid, reader.lines(runs), when, use)
                    else:
                        pending = _batched(groups(db, as_of), STORE_BATCH)
                        for batch, raws in reader.ahead((b, [runs for _, runs, _ in b]) for b in pending):
                            for (pid, _, when), r in zip(batch, raws, strict=True):
                                yield process_patient(pid, r, when, use)
                finally:
                    reader.close()
        finally:
            db.close()
            if pool is not None:
                if finished:
                    pool.close()
                else:  # stopped early (an error, an interrupt): a worker may be blocked sending
                    pool.terminate()

    return stats, stats.cohort, results()


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
