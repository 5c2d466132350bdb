"""How fast does the registry import, and how fast is its worklist? Anyone can run it.

    .venv/bin/python benchmarks/registry_import.py [--patients 5000] [--queries 50] [--no-postgres]

Builds a registry of ``--patients`` fictitious patients (the demo generator with a new seed per
52 patients, so the records differ) through the service layer, one transaction per patient as
``hccwatch registry import`` does, and prints the import rate (patients/s, wall clock: it
includes assessing each record and writing it, its assessment and its audit row). Then times
the worklist query ``--queries`` times: the whole worklist, its first 100 rows (a web page), and
the overdue group, as p50/p95 in milliseconds (wall clock). The import also prints its rate in
this process's processor time: the development machine is shared, and on PostgreSQL the
server's own work is not in that figure. On SQLite (a file in a temporary folder) and,
when PostgreSQL can be started here (a throwaway cluster, as the tests do), on PostgreSQL.
Goal (issue 8): worklist p95 under 300 ms on the embedded database for 5,000 patients.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "registry"))

from registry_support import PgUnavailableError, throwaway_cluster  # noqa: E402

from hccwatch.registry import Actor, Registry  # noqa: E402
from hccwatch.registry.demo import demo_patients  # noqa: E402

AS_OF = dt.date(2026, 11, 24)
ACTOR = Actor("benchmark", "admin")


def records(n: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seed = 0
    while len(out) < n:
        for p in demo_patients(AS_OF, seed=seed):
            out.append(dict(p.record, id=f"bench-{len(out):05d}"))
            if len(out) == n:
                break
        seed += 1
    return out


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms"


def timed(fn: Callable[[], object], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def run(label: str, url: str, data: list[dict[str, Any]], queries: int) -> None:
    reg = Registry.open(url, today=lambda: AS_OF)
    try:
        start, cpu = time.perf_counter(), time.process_time()
        for rec in data:
            reg.import_record(ACTOR, rec)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        print(
            f"{label}: imported {len(data)} patients in {elapsed:.1f} s = {len(data) / elapsed:.0f}/s "
            f"(processor time of this process {cpu:.1f} s = {len(data) / cpu:.0f} patients/s)",
            flush=True,
        )
        rows = reg.worklist(ACTOR)
        print(f"{label}: worklist of {len(rows)} patients")
        cases: list[tuple[str, Callable[[], object]]] = [
            ("whole worklist", lambda: reg.worklist(ACTOR)),
            ("first 100 rows", lambda: reg.worklist(ACTOR, limit=100)),
            ("overdue group", lambda: reg.worklist(ACTOR, group="overdue")),
            ("search 'bench-012'", lambda: reg.worklist(ACTOR, search="bench-012")),
        ]
        for name, query in cases:
            print(f"  {name:<20}{percentiles(timed(query, queries))}", flush=True)
        start = time.perf_counter()
        done = reg.refresh_assessments(AS_OF + dt.timedelta(days=1))
        print(f"  refresh next day    {done} assessments in {time.perf_counter() - start:.1f} s")
    finally:
        reg.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    data = records(args.patients)
    with tempfile.TemporaryDirectory() as folder:
        run("SQLite", f"sqlite:///{Path(folder) / 'bench.sqlite3'}", data, args.queries)
    if args.no_postgres:
        return
    try:
        with throwaway_cluster() as cluster:
            run("PostgreSQL", cluster.new_database(), data, args.queries)
    except PgUnavailableError as exc:
        print(f"PostgreSQL: skipped ({exc})")


if __name__ == "__main__":
    main()
