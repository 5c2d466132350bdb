"""The scale-out engine: Apache Spark through PySpark (plain Spark; no extra jars).

Spark distributes the work; every judgement is a shared function: ``scan.scan_block`` (the
embedded engine's one-pass scan) judges every line of a block, ``batch.process_group`` (or
``process_patient``) maps and assesses a patient. Three Spark jobs:

1. **Scan**: a task per run of consecutive blocks (``scan.blocks``: about 8 MiB each, ending at a
   line end; as many tasks as patient partitions) reads each block's byte range itself and scans
   it once with ``scan.scan_block``; the scans stay on the executors. The driver gets each
   block's counts, problems, Patient ids and HCC patient ids.
2. **Place and shuffle**: with the Patient ids and the cohort broadcast, each block's scan gives
   the byte ranges of the cohort's runs of lines, keyed by patient, and its dangling references
   (runs naming a Patient the export does not hold). One shuffle sends the runs to partitions
   that are ranges of patient ids (cut from the sorted cohort, so partition order is patient-id
   order); the dangling references ride in the same shuffle to partition 0.
3. **Assess**: each patient partition reads each patient's lines back from the files by byte
   range (``scan.RunReader``), in (file, position) order, and assesses the patients in
   patient-id order. The results are kept on the executors' disks, so all partitions run at
   once, then streamed to the driver a partition at a time (``toLocalIterator``): the driver's
   memory stays bounded.

Why not Spark's text reader: it would ship every raw line from the JVM to Python twice (the
first pass alone cost most of the previous version's time), it ends lines at a lone carriage
return too, and it replaces bytes that are not UTF-8 before Python sees them; reading the byte
ranges in Python gives exactly the lines, numbers and problems the DuckDB engine reports.
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
import math
import os
import shutil
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from hccwatch.population import scan as _scan
from hccwatch.population.batch import (
    MAX_LISTED_PROBLEMS,
    BatchStats,
    Mapper,
    PatientResult,
    process_group,
    process_patient,
)
from hccwatch.population.bulk import BulkExport, Problem
from hccwatch.population.scan import STORE_BATCH, Block, BlockScan, RunReader, Runs, blocks, scan_block
from hccwatch.population.source import ExportError

__all__ = ["spark_available", "spark_context", "run_spark"]

log = logging.getLogger(__name__)

# Local mode on a small machine: the driver JVM runs the executor too. Its heap only buffers the
# shuffle and holds the broadcast ids; the assessing is done by the Python workers.
LOCAL_CONF = {
    "spark.driver.memory": "512m",
    "spark.driver.extraJavaOptions": "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss1m -Xms64m -Xmn48m",
    "spark.python.worker.memory": "256m",
    "spark.ui.showConsoleProgress": "false",
}
# Raw export bytes per patient partition, at most: bounds a Python worker's memory while it groups.
PARTITION_BYTES = 32 * 2**20
# Patient partitions per core, at least: keeps both cores busy when patients differ in cost.
PARTITIONS_PER_CORE = 2


def spark_available() -> str | None:
    """None when PySpark and a Java runtime are present, else why not (one sentence)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "PySpark is not installed (pip install 'hccwatch[spark]')"
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        return "no Java runtime found (install Java 17, e.g. Debian's openjdk-17-jre-headless)"
    return None


def spark_context(master: str) -> Any:
    """The running Spark context, or a new one for ``master``. Only RDDs are used: a plain context
    starts in about half the JVM processor time of a SQL session (which loads Spark SQL's classes
    for nothing here). Local masters get this interpreter and its import path on the workers, so
    they run exactly the driver's hccwatch, and a small JVM; on a cluster, memory and the Python
    environment are the job's settings (spark-submit)."""
    from pyspark import SparkConf, SparkContext

    conf = (
        SparkConf()
        .setMaster(master)
        .setAppName("hccwatch-batch")
        .set("spark.ui.enabled", "false")
        .set("spark.ui.showConsoleProgress", "false")
    )
    if master.startswith("local"):
        for key, value in LOCAL_CONF.items():
            conf.set(key, value)
        # The Python daemon is this module (the end of this file): it imports the engine's code
        # once and forks every Python worker with it, instead of each worker importing it on its
        # first task. Only here, where the workers run this interpreter with this import path: on
        # a cluster hccwatch may reach the workers only with the tasks (``addPyFile``), after the
        # daemon has started; there it is the job's choice (docs/batch.md).
        conf.setIfMissing("spark.python.daemon.module", __name__)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        conf.set("spark.executorEnv.PYTHONPATH", os.pathsep.join(p for p in sys.path if p))
    active = SparkContext._active_spark_context
    if active is not None and active.master != master:
        # getOrCreate keeps the running context: said, so a caller asking for another master in
        # the same process knows which one did the work.
        log.warning(
            "a Spark context for %s is already running in this process: it is used, not %s",
            active.master,
            master,
        )
    sc = SparkContext.getOrCreate(conf)
    sc.setLogLevel("ERROR")
    return sc


@dataclass(frozen=True)
class _Unreadable:
    """An ExportError met on an executor, returned in place of the item (or the rest of the
    partition) it stopped, so that the driver recognises it by its type and raises it again with
    its message whole: the job's exception would only give its text inside Spark's wording."""

    message: str

    def error(self) -> ExportError:
        return ExportError(self.message)


def _scanned_group(group: list[Block]) -> list[tuple[int, BlockScan | _Unreadable]]:
    return [_scanned(block) for block in group]


def _scanned(block: Block) -> tuple[int, BlockScan | _Unreadable]:
    try:
        return block.index, scan_block(block)
    except ExportError as exc:
        return block.index, _Unreadable(str(exc))


def _summary(item: tuple[int, BlockScan | _Unreadable]) -> tuple[int, BlockScan | _Unreadable]:
    """What the driver needs of a block's scan: everything but its runs, plus its Patient ids (as
    the only runs left, so the scan's own type carries them)."""
    index, found = item
    if isinstance(found, _Unreadable):
        return item
    runs = Runs()
    for pid, is_patient in zip(found.runs.pid, found.runs.patient, strict=True):
        if is_patient:
            runs.add(pid, 0, 0, 0, 0, True)
    return index, replace(found, runs=runs)


def _task_groups(parts: list[Block], tasks: int) -> list[list[Block]]:
    """The blocks cut into at most ``tasks`` runs of consecutive blocks of about equal bytes."""
    total = sum(block.length for block in parts)
    groups: list[list[Block]] = []
    taken = 0
    for block in parts:
        # A new group when this block starts past the current group's share of the bytes.
        if not groups or (len(groups) < tasks and taken >= total * len(groups) / tasks):
            groups.append([])
        groups[-1].append(block)
        taken += block.length
    return groups


def _first_lines(parts: list[Block], counts: list[int]) -> list[int]:
    """The number of each block's first line, from the physical line count of every block."""
    firsts: list[int] = []
    seen: dict[int, int] = {}
    for block, n in zip(parts, counts, strict=True):
        firsts.append(seen.get(block.f, 0) + 1)
        seen[block.f] = seen.get(block.f, 0) + n
    return firsts


def _placed(
    block: Block, first: int, found: BlockScan, patients: frozenset[str], cohort: frozenset[str]
) -> Iterator[tuple[str | None, Any]]:
    """(patient id, (file, start, end)) for each run of a cohort patient in a block's scan, then
    (None, (dangling lines, the first of them as problems)): the DuckDB engine's cohort and
    anti-join, block by block."""
    dangling = 0
    listed: list[Problem] = []
    r = found.runs
    for pid, start, end, line, n, is_patient in zip(
        r.pid, r.start, r.end, r.line, r.n, r.patient, strict=True
    ):
        if pid in cohort:
            yield pid, (block.f, start, end)
        elif not is_patient and pid not in patients:
            dangling += n
            # A block lies in one file, in line order: its later lines sort after these.
            take = min(n, MAX_LISTED_PROBLEMS - len(listed))
            detail = f"Patient/{pid} is not in the export"
            listed.extend(
                Problem(block.name, first + line + i, "dangling_reference", detail) for i in range(take)
            )
    yield None, (dangling, listed)


def _bounds(cohort: Iterable[str], parts: int) -> list[str]:
    """Cut points of ``parts`` ranges of patient ids holding about as many cohort patients each."""
    ids = sorted(cohort)
    return [ids[len(ids) * i // parts] for i in range(1, parts) if ids]


def _patient_partitions(export: BulkExport, cores: int) -> int:
    size = export.total_bytes()
    return max(cores * PARTITIONS_PER_CORE, math.ceil(size / PARTITION_BYTES))


def run_spark(
    export: BulkExport, *, as_of: dt.date, mapper: Mapper | None = None, master: str = "local[2]"
) -> tuple[BatchStats, int, Iterator[PatientResult]]:
    """Scan the export; returns the scan statistics, the cohort size and the results (lazily, in
    patient-id order)."""
    from pyspark import StorageLevel

    started = time.perf_counter()

    def took(stage: str) -> None:
        log.info("spark %s: %.1f s since start", stage, time.perf_counter() - started)

    sc = spark_context(master)
    cores = max(1, sc.defaultParallelism)
    took("session")

    parts = list(blocks(export.files, export.names, store=export.store, sizes=export.sizes))
    stats = BatchStats(files=len(export.files))
    if not parts:
        return stats, 0, iter(())
    sc.setJobDescription("hccwatch: scan every line (counts, problems, Patient ids, HCC patients)")
    # One scan per block, the embedded engine's; kept on the executors, which place its runs next.
    # A task scans a run of blocks (as many tasks as patient partitions, not one per block): each
    # task costs a round trip from the JVM to a Python worker and back, in this job and the next.
    n_patient_parts = _patient_partitions(export, cores)
    groups = _task_groups(parts, n_patient_parts)
    scanned = (
        sc.parallelize(groups, len(groups)).flatMap(_scanned_group).persist(StorageLevel.MEMORY_AND_DISK)
    )
    summaries = sorted(scanned.map(_summary).collect(), key=lambda item: item[0])
    found: list[tuple[int, BlockScan]] = []
    for index, summary in summaries:
        if isinstance(summary, _Unreadable):  # the first block's in block order
            scanned.unpersist()
            raise summary.error()
        found.append((index, summary))
    del summaries
    firsts = _first_lines(parts, [block_scan.lines for _, block_scan in found])
    patients: set[str] = set()
    hcc: set[str] = set()
    problems: list[Problem] = []
    for (_, block_scan), first_line in zip(found, firsts, strict=True):
        stats.lines += block_scan.resources
        stats.resources_by_type.update(block_scan.by_type)
        stats.problems_by_kind.update(block_scan.problems_by_kind)
        problems.extend(replace(p, line=p.line + first_line) for p in block_scan.problems)
        patients.update(block_scan.runs.pid)
        hcc |= block_scan.hcc
    cohort = frozenset(hcc & patients)
    stats.patients = len(patients)
    stats.cohort = len(cohort)
    took("scan")
    try:
        # Before the cohort is assessed: a file changed since it was listed makes the scan void.
        export.check_unchanged()
    except ExportError:
        scanned.unpersist()
        raise

    ids = sc.broadcast((frozenset(patients), cohort))
    del patients, hcc, found
    bounds = _bounds(cohort, n_patient_parts)
    files = export.files
    store = export.store  # each Python worker builds its own file system from it
    read_ahead = _scan.STORE_READ_AHEAD  # the driver's, sent with the closure

    def place(item: tuple[int, BlockScan | _Unreadable]) -> Iterator[tuple[str | None, Any]]:
        known, members = ids.value
        index, block_scan = item
        if isinstance(block_scan, _Unreadable):
            # A scan done again (its cached copy lost) that failed this time: to partition 0,
            # which the driver reads first.
            return iter([(None, block_scan)])
        return _placed(parts[index], firsts[index], block_scan, known, members)

    def partition_of(pid: str | None) -> int:
        # 0 holds the blocks' dangling references; then ranges of patient ids, in order.
        return 0 if pid is None else 1 + bisect.bisect_right(bounds, pid)

    def assess(index: int, items: Iterator[tuple[str | None, Any]]) -> Iterator[Any]:
        if index == 0:
            yield from (dangling for _, dangling in items)  # an _Unreadable rides along as it is
            return
        runs: dict[str, list[tuple[int, int, int]]] = {}
        for pid, run in items:
            runs.setdefault(pid, []).append(run)  # type: ignore[arg-type]
        reader = RunReader(files, store)
        # From an object store, a few patients' lines are read together (one wait for them all),
        # the next few's sent while these are assessed.
        step = 1 if store is None else STORE_BATCH
        try:
            pids = sorted(runs)
            batches = (pids[at : at + step] for at in range(0, len(pids), step))
            if store is None:
                reads: Iterator[tuple[list[str], list[list[bytes]]]] = (
                    (batch, [reader.lines(sorted(runs.pop(batch[0])))]) for batch in batches
                )
            else:
                reads = reader.ahead(
                    ((batch, [sorted(runs.pop(pid)) for pid in batch]) for batch in batches), read_ahead
                )
            for batch, read in reads:
                for pid, raws in zip(batch, read, strict=True):
                    if mapper is None:
                        yield process_group((pid, raws, as_of))
                    else:
                        yield process_patient(pid, raws, as_of, mapper)
        except ExportError as exc:
            # In place of the partition's other patients: the driver stops at it.
            yield _Unreadable(str(exc))
        finally:
            reader.close()

    sc.setJobDescription("hccwatch: group the cohort's lines by patient, assess")
    results = (
        scanned.flatMap(place)
        .partitionBy(1 + n_patient_parts, partition_of)
        .mapPartitionsWithIndex(assess, preservesPartitioning=True)
    )
    # On disk, so every partition is assessed at once (both cores) and the driver then reads them
    # one at a time; counted on the JVM side, without a second pass through Python.
    results.persist(StorageLevel.DISK_ONLY)
    results._jrdd.count()
    scanned.unpersist()
    took("assess")

    sc.setJobDescription("hccwatch: results to the driver")
    # Not prefetched: at 100,000 exported patients a partition fetched ahead took the JVM to 527
    # MiB against 408 and the whole tree to 965 MiB, near the 1 GiB bound, to save about 3 s.
    stream = results.toLocalIterator()
    first: PatientResult | None = None
    for item in stream:
        if isinstance(item, PatientResult):
            first = item
            break
        if isinstance(item, _Unreadable):
            results.unpersist()
            ids.unpersist()
            raise item.error()
        dangling, listed = item
        if dangling:
            stats.problems_by_kind["dangling_reference"] += dangling
        problems.extend(listed)
    stats.problems = sorted(problems)[:MAX_LISTED_PROBLEMS]

    def iterate() -> Iterator[PatientResult]:
        try:
            if first is not None:
                yield first
                for item in stream:
                    if isinstance(item, _Unreadable):
                        raise item.error()
                    yield item
        finally:
            results.unpersist()
            ids.unpersist()
            took("results written")

    return stats, stats.cohort, iterate()


if __name__ == "__main__":
    # Run by each executor as its Python daemon (``spark.python.daemon.module``): this module's
    # imports, done above, are inherited by every worker the daemon forks.
    from pyspark import daemon

    daemon.manager()
