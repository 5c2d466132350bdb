"""The scale-out engine: Apache Spark through PySpark (plain Spark; no extra jars).

Spark distributes the work; every judgement is a shared function: ``bulk.classify`` judges a
line, ``scan.scan_block`` (the embedded engine's one-pass scan) finds the Patient and HCC ids
in the first pass, ``batch.process_group`` (or ``process_patient``) maps and assesses a patient.
Three Spark jobs:

1. **Prescan**: one task per block of a file (``scan.blocks``, about 8 MiB ending at a line
   end); each task reads its byte range itself, scans it with ``scan.scan_block`` and returns
   the block's line count, Patient ids and HCC patient ids. Only these small sets reach the driver.
2. **Scan and shuffle**: with the Patient ids and the cohort broadcast, each block task judges
   every line (counts, problems with file and line, dangling references) and emits only the
   cohort's lines, keyed by patient. One shuffle sends them to partitions that are ranges of
   patient ids (cut from the sorted cohort, so partition order is patient-id order); the
   block's counts and problems ride in the same shuffle to partition 0.
3. **Assess**: each patient partition groups its lines by patient, puts each patient's lines in
   (file, line) order and assesses the patients in patient-id order. The results are kept on
   the executors' disks, so all partitions run at once, then streamed to the driver a partition
   at a time (``toLocalIterator``): the driver's memory stays bounded.

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
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from hccwatch.population.batch import (
    MAX_LISTED_PROBLEMS,
    BatchStats,
    Mapper,
    PatientResult,
    process_group,
    process_patient,
)
from hccwatch.population.bulk import BulkExport, Problem, classify
from hccwatch.population.scan import Block, blocks, scan_block

__all__ = ["spark_available", "spark_session", "run_spark"]

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


def spark_session(master: str) -> Any:
    """The running session, or a new one for ``master``. Local masters get this interpreter and its
    import path on the workers, so they run exactly the driver's hccwatch, and a small JVM; on a
    cluster, memory and the Python environment are the job's settings (spark-submit)."""
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(master)
        .appName("hccwatch-batch")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )
    if master.startswith("local"):
        for key, value in LOCAL_CONF.items():
            builder = builder.config(key, value)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        builder = builder.config("spark.executorEnv.PYTHONPATH", os.pathsep.join(p for p in sys.path if p))
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


@dataclass
class _BlockCounts:
    """What the second pass saw in one block (sent to the driver through the shuffle)."""

    index: int
    resources: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    problems_by_kind: Counter[str] = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)


def _read(block: Block) -> bytes:
    with block.path.open("rb") as fh:
        fh.seek(block.offset)
        return fh.read(block.length)


def _prescan(block: Block) -> tuple[int, set[str], set[str]]:
    """(physical lines, Patient ids, ids of patients with an HCC Condition) of one block, from the
    embedded engine's own scan of it."""
    found = scan_block(block)
    runs = found.runs
    patients = {pid for pid, is_patient in zip(runs.pid, runs.patient, strict=True) if is_patient}
    return found.lines, patients, found.hcc


def _first_lines(parts: list[Block], counts: list[int]) -> list[int]:
    """The number of each block's first line, from the physical line count of every block."""
    firsts: list[int] = []
    seen: dict[int, int] = {}
    for block, n in zip(parts, counts, strict=True):
        firsts.append(seen.get(block.f, 0) + 1)
        seen[block.f] = seen.get(block.f, 0) + n
    return firsts


def _scan(
    block: Block, first: int, patients: frozenset[str], cohort: frozenset[str]
) -> Iterator[tuple[str | None, Any]]:
    """Judge every line of a block: (patient id, (file, line, raw)) for each cohort line, then
    (None, the block's counts). The same checks as the DuckDB engine's second pass."""
    data = _read(block)
    counts = _BlockCounts(block.index)
    lines = data.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()  # the block ends with a line end
    for number, line in enumerate(lines, start=first):
        raw = line.rstrip(b"\r")
        if not raw.strip():
            continue
        counts.resources += 1
        judged = classify(raw, block.name, number)
        if isinstance(judged, Problem):
            counts.problems_by_kind[judged.kind] += 1
            # A block lies in one file, in line order: its later problems sort after these.
            if len(counts.problems) < MAX_LISTED_PROBLEMS:
                counts.problems.append(judged)
            continue
        counts.by_type[judged.rtype] += 1
        pid = judged.pid
        if pid is None:
            continue
        if pid in cohort:
            yield pid, (block.f, number, raw)
        elif not judged.is_patient and pid not in patients:
            counts.problems_by_kind["dangling_reference"] += 1
            if len(counts.problems) < MAX_LISTED_PROBLEMS:
                counts.problems.append(
                    Problem(block.name, number, "dangling_reference", f"Patient/{pid} is not in the export")
                )
    yield None, counts


def _bounds(cohort: Iterable[str], parts: int) -> list[str]:
    """Cut points of ``parts`` ranges of patient ids holding about as many cohort patients each."""
    ids = sorted(cohort)
    return [ids[len(ids) * i // parts] for i in range(1, parts) if ids]


def _patient_partitions(export: BulkExport, cores: int) -> int:
    size = sum(p.stat().st_size for p in export.files)
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

    spark = spark_session(master)
    sc = spark.sparkContext
    cores = max(1, sc.defaultParallelism)
    took("session")

    parts = list(blocks(export.files, export.names))
    stats = BatchStats(files=len(export.files))
    if not parts:
        return stats, 0, iter(())
    sc.setJobDescription("hccwatch: prescan (Patient ids, HCC patients)")
    found = sc.parallelize(parts, len(parts)).map(_prescan).collect()
    patients: set[str] = set()
    hcc: set[str] = set()
    for _, in_block, hcc_in_block in found:
        patients |= in_block
        hcc |= hcc_in_block
    cohort = frozenset(hcc & patients)
    stats.patients = len(patients)
    stats.cohort = len(cohort)
    took("prescan")

    firsts = _first_lines(parts, [n for n, _, _ in found])
    ids = sc.broadcast((frozenset(patients), cohort))
    del patients, hcc, found
    n_patient_parts = _patient_partitions(export, cores)
    bounds = _bounds(cohort, n_patient_parts)

    def scan(task: tuple[Block, int]) -> Iterator[tuple[str | None, Any]]:
        known, members = ids.value
        return _scan(task[0], task[1], known, members)

    def partition_of(pid: str | None) -> int:
        # 0 holds the blocks' counts; then ranges of patient ids, in order.
        return 0 if pid is None else 1 + bisect.bisect_right(bounds, pid)

    def assess(index: int, items: Iterator[tuple[str | None, Any]]) -> Iterator[Any]:
        if index == 0:
            yield from (counts for _, counts in items)
            return
        lines: dict[str, list[tuple[int, int, bytes]]] = {}
        for pid, line in items:
            lines.setdefault(pid, []).append(line)  # type: ignore[arg-type]
        for pid in sorted(lines):
            raws = [raw for _, _, raw in sorted(lines.pop(pid))]
            if mapper is None:
                yield process_group((pid, raws, as_of))
            else:
                yield process_patient(pid, raws, as_of, mapper)

    sc.setJobDescription("hccwatch: scan every line, group the cohort by patient, assess")
    results = (
        sc.parallelize(list(zip(parts, firsts, strict=True)), len(parts))
        .flatMap(scan)
        .partitionBy(1 + n_patient_parts, partition_of)
        .mapPartitionsWithIndex(assess, preservesPartitioning=True)
    )
    # On disk, so every partition is assessed at once (both cores) and the driver then reads them
    # one at a time; counted on the JVM side, without a second pass through Python.
    results.persist(StorageLevel.DISK_ONLY)
    results._jrdd.count()
    took("scan and assess")

    sc.setJobDescription("hccwatch: results to the driver")
    stream = results.toLocalIterator()
    problems: list[Problem] = []
    first: PatientResult | None = None
    for item in stream:
        if isinstance(item, PatientResult):
            first = item
            break
        stats.lines += item.resources
        stats.resources_by_type.update(item.by_type)
        stats.problems_by_kind.update(item.problems_by_kind)
        problems.extend(item.problems)
    stats.problems = sorted(problems)[:MAX_LISTED_PROBLEMS]

    def iterate() -> Iterator[PatientResult]:
        try:
            if first is not None:
                yield first
                yield from stream
        finally:
            results.unpersist()
            ids.unpersist()
            took("results written")

    return stats, stats.cohort, iterate()
