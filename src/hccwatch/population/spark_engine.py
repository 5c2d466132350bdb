"""The scale-out engine: Apache Spark through PySpark (plain Spark; no extra jars).

The same functions as the DuckDB engine judge each line (``bulk.classify``) and process each
patient (``batch.process_patient``); Spark only distributes the scan, the cohort join and the
grouping by patient. Results come back to the driver in patient-id order (``sortByKey`` then
``toLocalIterator``: one partition at a time, so the driver's memory stays bounded) and are
written by the shared writers, so both engines give the same bytes.

Line numbers: ``textFile(...).zipWithIndex()`` numbers a file's lines in order across its
splits, so a problem is reported at the same file and line as the DuckDB engine reports it.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from collections.abc import Iterator
from typing import Any

from hccwatch.population.batch import (
    MAX_LISTED_PROBLEMS,
    BatchStats,
    Mapper,
    PatientResult,
    process_group,
    process_patient,
)
from hccwatch.population.bulk import BulkExport, Line, Problem, classify

__all__ = ["spark_available", "spark_session", "run_spark"]


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
    import path on the workers, so they run exactly the driver's hccwatch."""
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(master)
        .appName("hccwatch-batch")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )
    if master.startswith("local"):
        # Few partitions on one machine: each Spark task costs tens of milliseconds.
        builder = builder.config("spark.default.parallelism", "2").config("spark.sql.shuffle.partitions", "2")
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        builder = builder.config("spark.executorEnv.PYTHONPATH", os.pathsep.join(p for p in sys.path if p))
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def _key(item: tuple[int, int, bytes, Line | Problem]) -> tuple[str, str]:
    judged = item[3]
    if isinstance(judged, Problem):
        return ("problem", judged.kind)
    return ("type", judged.rtype)


def run_spark(
    export: BulkExport, *, as_of: dt.date, mapper: Mapper | None = None, master: str = "local[2]"
) -> tuple[BatchStats, int, Iterator[PatientResult]]:
    from pyspark import StorageLevel

    spark = spark_session(master)
    sc = spark.sparkContext
    names = export.names
    parts = []
    for f, path in enumerate(export.files):
        numbered = sc.textFile(str(path.absolute()), minPartitions=1, use_unicode=False).zipWithIndex()
        parts.append(numbered.map(lambda x, f=f: (f, x[1] + 1, bytes(x[0]).rstrip(b"\r"))))
    lines = sc.union(parts).filter(lambda t: t[2].strip())
    judged = lines.map(lambda t: (t[0], t[1], t[2], classify(t[2], names[t[0]], t[1])))
    judged.persist(StorageLevel.MEMORY_AND_DISK)

    stats = BatchStats(files=len(export.files))
    for (what, name), n in sorted(judged.map(_key).countByValue().items()):
        stats.lines += n
        if what == "problem":
            stats.problems_by_kind[name] += n
        else:
            stats.resources_by_type[name] += n
    problems: list[Problem] = (
        judged.filter(lambda j: isinstance(j[3], Problem))
        .map(lambda j: j[3])
        .takeOrdered(MAX_LISTED_PROBLEMS)
    )

    links = judged.filter(lambda j: isinstance(j[3], Line) and j[3].pid is not None).map(
        lambda j: (j[3].pid, (j[3].is_patient, j[0], j[1], j[3].is_hcc))
    )
    links.persist(StorageLevel.MEMORY_AND_DISK)
    patients = links.filter(lambda kv: kv[1][0]).map(lambda kv: (kv[0], None)).distinct()
    patients.persist(StorageLevel.MEMORY_AND_DISK)
    dangling = links.filter(lambda kv: not kv[1][0]).subtractByKey(patients)
    n_dangling = dangling.count()
    if n_dangling:
        stats.problems_by_kind["dangling_reference"] += n_dangling
        problems += dangling.map(
            lambda kv: Problem(
                names[kv[1][1]], kv[1][2], "dangling_reference", f"Patient/{kv[0]} is not in the export"
            )
        ).takeOrdered(MAX_LISTED_PROBLEMS)
    stats.problems = sorted(problems)[:MAX_LISTED_PROBLEMS]
    stats.patients = patients.count()

    # The cohort is small (one patient in tens to hundreds of an export): broadcast its ids, so
    # only cohort patients' lines are shuffled to be grouped.
    hcc = links.filter(lambda kv: kv[1][3]).map(lambda kv: (kv[0], None)).distinct()
    cohort_ids = sc.broadcast(frozenset(hcc.join(patients).keys().collect()))
    stats.cohort = len(cohort_ids.value)
    grouped = (
        judged.filter(lambda j: isinstance(j[3], Line) and j[3].pid in cohort_ids.value)
        .map(lambda j: (j[3].pid, (j[0], j[1], j[2])))
        .groupByKey()
    )

    def process(kv: tuple[str, Any]) -> PatientResult:
        pid, items = kv
        raws = [raw for _, _, raw in sorted(items)]
        if mapper is None:
            return process_group((pid, raws, as_of))
        return process_patient(pid, raws, as_of, mapper)

    results = grouped.sortByKey().map(process)

    def iterate() -> Iterator[PatientResult]:
        try:
            yield from results.toLocalIterator()
        finally:
            judged.unpersist()
            links.unpersist()
            patients.unpersist()
            cohort_ids.unpersist()

    return stats, stats.cohort, iterate()
