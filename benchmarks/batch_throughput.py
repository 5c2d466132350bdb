"""Throughput of ``hccwatch batch`` per engine against the parse floor, and where the time goes.

    .venv/bin/python benchmarks/batch_throughput.py                 # 10,000 patients, both engines
    .venv/bin/python benchmarks/batch_throughput.py --patients 100000 --engines duckdb
    .venv/bin/python benchmarks/batch_throughput.py --stages        # the per-stage breakdown only
    .venv/bin/python benchmarks/batch_throughput.py --breakdown     # the whole run's, then --stages

Builds a synthetic Bulk export (``hccwatch synth``, seed 1; kept under --work so a second run
reuses it), then runs each engine in its own process and prints, per engine: wall seconds,
processor seconds (the engine's process and the descendants it waited for: all of the DuckDB
engine's, a lower bound for Spark, whose JVM and Python workers are not all waited for),
exported patients/s, HCC patients/s,
resources/s, peak memory, the ratio engine/floor, the load average around the run, and PASS or
FAIL against each goal. Goals on 2 cores: >= 1,000 HCC patients/s end to end, within 3x the
floor, peak memory < 1 GiB at 100,000 patients.

The floor is the time to decode **every line of the export** (not only the cohort's) with the
fastest JSON parser installed, alone, in one process: orjson and msgspec are both timed (best of
3) and the faster counts; reading the files (from the page cache) and splitting the lines are
included, as they are in every engine's time.

``--stages`` times each stage of the DuckDB engine in one process, with the engine's own
functions and its collector settings, in processor time per HCC patient and against the floor
measured in the same run: the scan, DuckDB (runs in, cohort, dangling references; the sort by
patient), reading a patient's lines back, the FHIR mapping with the lines' decoding (the worker's
``read_lines``: each line decoded once, straight into the adapter's typed views),
``assess``, ``to_dict``, the JSON lines, the worklist row and the output files; then the batch
layer's share (all but the mapping and ``assess``), the most HCC patients per second two cores
could reach, and a projection with the mapping and ``assess`` at 1 ms each.

``--breakdown`` accounts for the whole ``hccwatch batch`` run (DuckDB, ``--workers``): its
processor time and wall time through the command itself, the interpreter's start and the imports
apart; then one run with the engine's functions wrapped in processor-time counters: the parent
(block scans merged into DuckDB, the sort, results received, results written, the rest) and each
worker (scan, read back, mapping with the lines' decoding, ``assess``, ``to_dict``, JSON lines,
worklist row, and
its overhead: tasks in, results out, start), and how many cores the process tree kept busy in
each phase; then ``--stages`` in the same conditions, so the two can be compared (processor time
per unit of work depends on what else the machine runs: compare only figures taken together).

Peak memory is the highest sum of the resident memory of the engine's process and all its
descendants (worker processes; for Spark the JVM and its Python workers), sampled every 50 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import orjson

GOAL_HCC_PER_S = 1000
GOAL_FLOOR_RATIO = 3.0
GOAL_PEAK_MIB = 1024


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree(pid: int) -> list[int]:
    """The process and all its descendants (Linux /proc)."""
    out = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            out.extend(_tree(int(child)))
    return out


class _PeakSampler(threading.Thread):
    """Samples the resident memory of this process and all its descendants (worker processes, the
    Spark JVM and its Python workers) together, every 50 ms; keeps the highest sum. (ru_maxrss of
    children would overstate: Linux keeps a child's high-water mark across fork and exec.)"""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kib = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.05):
            self.peak_kib = max(self.peak_kib, sum(_rss_kib(p) for p in _tree(os.getpid())))


def run_one(engine: str, source: Path, out: Path, workers: int) -> None:
    """In a child process: one batch run; prints its figures as JSON."""
    from hccwatch.population.run import run_batch

    sampler = _PeakSampler()
    sampler.start()
    start = time.perf_counter()
    summary = run_batch(source, out, engine=engine, workers=workers, spark_master=f"local[{workers}]")
    elapsed = time.perf_counter() - start
    sampler.stop.set()
    sampler.join()
    print(json.dumps({"elapsed": elapsed, "summary": summary, "peak_kib": sampler.peak_kib}))


def _blocks(source: Path) -> Iterator[list[bytes]]:
    """The export's lines, a block of about 16 MiB at a time (so memory stays small at 100,000)."""
    for f in sorted(source.glob("*.ndjson")):
        with f.open("rb") as fh:
            rest = b""
            while chunk := fh.read(16 * 2**20):
                lines = (rest + chunk).split(b"\n")
                rest = lines.pop()
                yield lines
            if rest:
                yield [rest]


def floor_seconds(source: Path) -> tuple[float, str, int]:
    """(seconds, parser, lines): the fastest decode of every non-blank line of the export, reading
    (from the page cache, the files having just been read) and splitting the lines included."""
    count = sum(1 for lines in _blocks(source) for line in lines if line.strip())
    best: tuple[float, str] = (float("inf"), "")
    decoders = {"orjson": orjson.loads, "msgspec": msgspec.json.Decoder().decode}
    for name, decode in decoders.items():
        for _ in range(3):
            start = time.perf_counter()
            for lines in _blocks(source):
                for line in lines:
                    if line.strip():
                        decode(line)
            best = min(best, (time.perf_counter() - start, name))
    return best[0], best[1], count


def _load() -> float:
    return os.getloadavg()[0]


def _cpu_children() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _floor_cpu(source: Path) -> tuple[float, str]:
    """Processor seconds of the floor (the faster of orjson and msgspec, best of 3), for --stages."""
    best: tuple[float, str] = (float("inf"), "")
    for name, decode in {"orjson": orjson.loads, "msgspec": msgspec.json.Decoder().decode}.items():
        for _ in range(3):
            start = time.process_time()
            for lines in _blocks(source):
                for line in lines:
                    if line.strip():
                        decode(line)
            best = min(best, (time.process_time() - start, name))
    return best


def stages(source: Path, work: Path) -> None:
    """Processor time per HCC patient of each stage of the DuckDB engine, one process, with the
    engine's own functions."""
    import shutil

    from hccwatch.adapters.fhir import read_lines
    from hccwatch.api import assess
    from hccwatch.population import scan
    from hccwatch.population.batch import (
        PatientResult,
        _record_data,
        _worklist_row,
        json_bytes,
        write_outputs,
    )
    from hccwatch.population.bulk import open_export
    from hccwatch.population.duckdb_engine import collect, groups, open_db
    from hccwatch.population.run import evaluation_date

    clock = time.process_time
    export = open_export(source)
    as_of = evaluation_date(None, export.transaction_time)
    tmp = work / "stages"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    took: dict[str, float] = {}
    load_before = _load()
    floor, parser = _floor_cpu(source)

    t = clock()
    parts = list(scan.blocks(export.files, export.names))
    scanned = [scan.scan_block(block) for block in parts]
    took["scan: every line decoded once and placed"] = clock() - t
    t = clock()
    con = open_db(tmp)
    stats = collect(con, export, zip(parts, scanned, strict=True))
    took["DuckDB: runs in; cohort, dangling references"] = clock() - t
    del scanned
    t = clock()
    cohort = list(groups(con, as_of))
    took["DuckDB: the cohort's runs sorted by patient"] = clock() - t
    per = dict.fromkeys(
        (
            "read a patient's lines back (pread)",
            "FHIR mapping, lines decoded (read_lines)",
            "assess",
            "to_dict",
            "JSON lines",
            "worklist row",
        ),
        0.0,
    )
    reader = scan.RunReader(export.files)

    def results() -> Iterator[PatientResult]:
        # Streamed into the writers, as the engine does (nothing accumulates in memory).
        for pid, runs, when in cohort:
            t0 = clock()
            raws = reader.lines(runs)
            t1 = clock()
            reading = read_lines(raws, as_of=when)
            t2 = clock()
            assessment = assess(reading.record, as_of=when)
            t3 = clock()
            data = assessment.to_dict()
            t4 = clock()
            line, record = json_bytes(data), json_bytes(_record_data(reading.record))
            t5 = clock()
            row = _worklist_row(pid, data, reading)
            t6 = clock()
            pairs = zip(per, (t0, t1, t2, t3, t4, t5), (t1, t2, t3, t4, t5, t6), strict=True)
            for name, a, b in pairs:
                per[name] += b - a
            yield PatientResult(row, line, record)

    t = clock()
    write_outputs(tmp / "out", results(), stats, as_of=as_of, engine="duckdb", source="x")
    took["output files"] = clock() - t - sum(per.values())
    reader.close()
    took.update(per)
    n = len(cohort)
    total = sum(took.values())
    print(
        f"stages (DuckDB engine, one process, processor time), {n:,} HCC patients, "
        f"{stats.lines:,} resources; load {load_before:.1f} -> {_load():.1f} (shared machine)"
    )
    label = f"floor ({parser}, every line of the export)"
    print(f"  {label:<48} {floor:7.2f} s {1000 * floor / n:7.2f} ms/HCC patient")
    for name, secs in took.items():
        print(
            f"  {name:<48} {secs:7.2f} s {1000 * secs / n:7.2f} ms/HCC patient {100 * secs / total:5.1f}%"
            f" {secs / floor:5.2f}x floor"
        )
    print(
        f"  {'total':<48} {total:7.2f} s {1000 * total / n:7.2f} ms/HCC patient {total / floor:11.2f}x floor"
    )
    core = per["FHIR mapping, lines decoded (read_lines)"] + per["assess"]
    layer = total - core
    cores = os.cpu_count() or 1
    print(
        f"the batch layer (everything but the mapping and assess): {1000 * layer / n:.2f} ms per HCC patient "
        f"= {layer / floor:.2f}x the floor in processor time ({layer / floor / cores:.2f}x on {cores} cores)"
    )
    print(
        f"mapping + assess alone: {1000 * core / n:.2f} ms per HCC patient on one core, so {cores} cores "
        f"give at most {cores * n / core:,.0f} HCC patients/s (goal {GOAL_HCC_PER_S:,}); everything: "
        f"at most {cores * n / total:,.0f}/s"
    )
    if core / n > 0.002:
        ideal = layer + 0.002 * n
        print(
            f"if mapping and assess took 1 ms each: {1000 * ideal / n:.2f} ms per HCC patient, at most "
            f"{cores * n / ideal:,.0f}/s on {cores} cores, {ideal / floor / cores:.2f}x the floor "
            "(a projection, not a measurement)"
        )


# --breakdown: where the whole run's processor time goes, parent and each worker apart.
_STAGE_NAMES = (
    "scan (a block)",
    "read back (pread)",
    "record data, result (the lines: decoded in the mapping)",
    "FHIR mapping, lines decoded (read_lines)",
    "assess",
    "to_dict",
    "JSON lines",
    "worklist row",
)


_OVERHEAD = "worker overhead (tasks in, results out, start)"


def _proc_cpu(pid: int) -> float:
    """Processor seconds (user + system) of one process so far, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_breakdown(source: Path, out: Path, workers: int, report: Path) -> None:
    """In a child process: one DuckDB run through ``run_batch`` with the engine's functions wrapped
    in processor-time counters, in the parent and in each worker (a worker writes its counters
    when it ends); the tree's processor time is sampled every 0.1 s against the run's phases."""
    import functools
    import multiprocessing.util

    from hccwatch.core.assessment import Assessment
    from hccwatch.population import batch, duckdb_engine, scan
    from hccwatch.population.run import run_batch

    spent: dict[str, float] = {}
    registered: list[int] = []

    def clock() -> float:
        # The parent's counters count its main thread only: DuckDB's threads and this sampler
        # run beside it and are accounted apart. A worker has one thread.
        return time.thread_time() if os.getpid() == parent else time.process_time()

    def count(name: str, took: float) -> None:
        spent[name] = spent.get(name, 0.0) + took
        if os.getpid() != parent and not registered:
            registered.append(os.getpid())
            multiprocessing.util.Finalize(None, dump, exitpriority=100)

    def dump() -> None:
        spent["process total"] = clock()
        (report / f"worker-{os.getpid()}.json").write_text(json.dumps(spent))

    def timed(name: str, func: Any) -> Any:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = clock()
            try:
                return func(*args, **kwargs)
            finally:
                count(name, clock() - start)

        return wrapper

    def timed_iter(name: str, func: Any) -> Any:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            it = iter(func(*args, **kwargs))
            while True:
                start = clock()
                try:
                    item = next(it)
                except StopIteration:
                    count(name, clock() - start)
                    return
                count(name, clock() - start)
                yield item

        return wrapper

    parent = os.getpid()
    # Pickled by name into the workers: the wrapper must be what the name now holds.
    scan.scan_block = duckdb_engine.scan_block = timed(_STAGE_NAMES[0], scan.scan_block)  # type: ignore[assignment]
    scan.RunReader.lines = timed(_STAGE_NAMES[1], scan.RunReader.lines)  # type: ignore[method-assign]
    duckdb_engine.process_patient = timed("process_patient", batch.process_patient)
    from hccwatch.adapters.fhir import read_lines, read_resources

    # The adapter as default_mapper gives it, both of its ways timed (workers are given lines).
    mapper = batch._FhirMapper(timed(_STAGE_NAMES[3], read_resources), timed(_STAGE_NAMES[3], read_lines))
    duckdb_engine.default_mapper = lambda: mapper
    batch.assess = timed(_STAGE_NAMES[4], batch.assess)
    Assessment.to_dict = timed(_STAGE_NAMES[5], Assessment.to_dict)  # type: ignore[method-assign]
    batch.json_bytes = timed(_STAGE_NAMES[6], batch.json_bytes)
    batch._worklist_row = timed(_STAGE_NAMES[7], batch._worklist_row)
    duckdb_engine.collect = timed("parent: block scans received, merged into DuckDB", duckdb_engine.collect)
    duckdb_engine.groups = timed_iter("parent: DuckDB sort, runs grouped by patient", duckdb_engine.groups)
    batch._Outputs.add = timed("parent: a result written (CSV, JSON lines, Parquet rows)", batch._Outputs.add)  # type: ignore[method-assign]
    batch.write_outputs = timed("parent: write_outputs (all of it)", batch.write_outputs)
    run = sys.modules["hccwatch.population.run"]
    run.write_outputs = batch.write_outputs  # type: ignore[attr-defined]
    run_duckdb = duckdb_engine.run_duckdb

    def counted_run(*args: Any, **kwargs: Any) -> Any:
        stats, cohort, results = run_duckdb(*args, **kwargs)
        return stats, cohort, timed_iter("parent: results received (waiting, unpickling)", lambda: results)()

    duckdb_engine.run_duckdb = counted_run  # type: ignore[assignment]

    timeline: list[tuple[float, float]] = []
    stop = threading.Event()
    seen: dict[int, float] = {}  # each process's last figure: a worker that ended still counts

    def sample() -> None:
        while not stop.wait(0.1):
            for pid in _tree(parent):
                seen[pid] = max(seen.get(pid, 0.0), _proc_cpu(pid))
            timeline.append((time.perf_counter(), sum(seen.values())))
        spent["sampler"] = time.thread_time()

    marks: dict[str, float] = {}

    def progress(stage: str, n: int) -> None:
        marks.setdefault(stage, time.perf_counter())

    sampler = threading.Thread(target=sample, daemon=True)
    start_cpu, start_main, start = time.process_time(), clock(), time.perf_counter()
    sampler.start()
    summary = run_batch(source, out, workers=workers, progress=progress)
    end = time.perf_counter()
    stop.set()
    sampler.join()
    spent["main thread"] = clock() - start_main
    spent["process total"] = time.process_time() - start_cpu
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {
        "parent": spent,
        "children_cpu": ru.ru_utime + ru.ru_stime,
        "wall": end - start,
        "phases": {k: v - start for k, v in marks.items()},
        "timeline": [(t - start, c) for t, c in timeline],
        "hcc": summary["cohort"]["patients"],
        "load": _load(),
    }
    (report / "parent.json").write_text(json.dumps(result))


def _busy(timeline: list[tuple[float, float]], a: float, b: float) -> str:
    """Average processor use of the tree between two moments of the timeline, in cores."""
    inside = [(t, c) for t, c in timeline if a <= t <= b]
    if len(inside) < 2 or inside[-1][0] <= inside[0][0]:
        return "(too short to sample)"
    return f"{(inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0]):.2f}"


def breakdown(source: Path, work: Path, workers: int) -> None:
    """The whole ``hccwatch batch`` run's processor time, parent and workers apart, next to the
    one-process ``--stages`` figures measured just before it."""
    cli = Path(sys.executable).with_name("hccwatch")
    out = work / "out-breakdown"
    load0 = _load()
    cpu0 = _cpu_children()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    bare = _cpu_children() - cpu0
    cpu0 = _cpu_children()
    subprocess.run([sys.executable, "-c", "import hccwatch.app.cli"], check=True)
    imports = _cpu_children() - cpu0 - bare
    cpu0, wall0 = _cpu_children(), time.perf_counter()
    subprocess.run(
        [str(cli), "batch", str(source), "--out", str(out), "--workers", str(workers)],
        check=True,
        capture_output=True,
    )
    whole, whole_wall = _cpu_children() - cpu0, time.perf_counter() - wall0
    report = work / "breakdown"
    shutil_rmtree(report)
    report.mkdir(parents=True)
    cmd = [
        sys.executable,
        __file__,
        "--workers",
        str(workers),
        "--run-breakdown",
        str(source),
        str(out),
        str(report),
    ]
    subprocess.run(cmd, check=True)
    r = json.loads((report / "parent.json").read_text())
    kids = [json.loads(p.read_text()) for p in sorted(report.glob("worker-*.json"))]
    n = r["hcc"]
    ms = 1000 / n
    print(
        f"whole run, `hccwatch batch --workers {workers}`, {n:,} HCC patients "
        f"(load {load0:.1f} -> {_load():.1f}):"
    )
    print(
        f"  wall {whole_wall:.2f} s, processor {whole:.2f} s = {whole * ms:.2f} ms per HCC patient, "
        f"{whole / whole_wall:.2f} of {workers} cores busy on average"
    )
    print(
        f"  of which interpreter start {bare:.2f} s, imports (hccwatch.app.cli) {imports:.2f} s "
        f"= {imports * ms:.2f} ms/HCC"
    )
    p = r["parent"]
    sampler_cpu = p.pop("sampler", 0.0)
    total_parent = p.pop("process total") - sampler_cpu  # the benchmark's own thread left out
    main = p.pop("main thread")
    print(
        f"instrumented run (run_batch, same engine and workers; load {r['load']:.1f}): "
        f"wall {r['wall']:.2f} s, parent {total_parent:.2f} s + workers {r['children_cpu']:.2f} s "
        f"= {(total_parent + r['children_cpu']) * ms:.2f} ms/HCC"
    )
    received = p.get("parent: results received (waiting, unpickling)", 0.0) - p.get(
        "parent: DuckDB sort, runs grouped by patient", 0.0
    )
    writing = p.get("parent: write_outputs (all of it)", 0.0) - p.get(
        "parent: results received (waiting, unpickling)", 0.0
    )
    rows = {
        "block scans received, merged into DuckDB": p.get(
            "parent: block scans received, merged into DuckDB", 0.0
        ),
        "DuckDB sort, runs grouped by patient": p.get("parent: DuckDB sort, runs grouped by patient", 0.0),
        "results received from the workers": received,
        "results written (CSV, JSON lines, Parquet, summary)": writing,
    }
    rows["other (workers started, DuckDB opened, blocks cut)"] = main - sum(rows.values())
    rows["the parent's other threads (DuckDB's)"] = total_parent - main
    print(f"  parent {total_parent:.2f} s = {total_parent * ms:.2f} ms/HCC:")
    for name, secs in rows.items():
        print(f"    {name:<58} {secs:6.2f} s {secs * ms:6.2f} ms/HCC")
    summed: dict[str, float] = dict.fromkeys(_STAGE_NAMES, 0.0)
    summed[_OVERHEAD] = 0.0
    for i, k in enumerate(kids, start=1):
        total = k.get("process total", 0.0)
        pp = k.get("process_patient", 0.0)
        inner = sum(k.get(name, 0.0) for name in _STAGE_NAMES[3:])
        parts = {name: k.get(name, 0.0) for name in _STAGE_NAMES[:2]}
        parts[_STAGE_NAMES[2]] = pp - inner
        parts.update({name: k.get(name, 0.0) for name in _STAGE_NAMES[3:]})
        parts[_OVERHEAD] = total - sum(parts.values())
        for name, secs in parts.items():
            summed[name] += secs
        print(
            f"  worker {i}: {total:.2f} s (scan {parts[_STAGE_NAMES[0]]:.2f}, "
            f"patients {pp + parts[_STAGE_NAMES[1]]:.2f}, overhead {parts[_OVERHEAD]:.2f})"
        )
    print("  workers together, by stage:")
    for name, secs in summed.items():
        print(f"    {name:<58} {secs:6.2f} s {secs * ms:6.2f} ms/HCC")
    phases = r["phases"]
    scan_end = phases.get("cohort", 0.0)
    first = phases.get("assess", scan_end)
    tl = [tuple(x) for x in r["timeline"]]
    last = tl[-1][0] if tl else r["wall"]
    print(
        "  cores busy (the tree, sampled every 0.1 s): "
        f"scan {_busy(tl, 0.0, scan_end)} over {scan_end:.2f} s; "
        f"DuckDB to the first result {_busy(tl, scan_end, first)} over {first - scan_end:.2f} s; "
        f"assessing {_busy(tl, first, last)} over {last - first:.2f} s"
    )


def shutil_rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--patients", type=int, default=10_000, help="exported patients (100000 for the memory goal)"
    )
    ap.add_argument("--engines", default="duckdb,spark")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "hccwatch-batch-bench")
    ap.add_argument(
        "--stages", action="store_true", help="only the per-stage breakdown (DuckDB, one process)"
    )
    ap.add_argument(
        "--breakdown",
        action="store_true",
        help="the whole run's processor time, parent and each worker apart (DuckDB)",
    )
    ap.add_argument("--run-breakdown", nargs=3, metavar=("SOURCE", "OUT", "REPORT"), help=argparse.SUPPRESS)
    ap.add_argument("--run-one", nargs=3, metavar=("ENGINE", "SOURCE", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run_breakdown:
        run_breakdown(*map(Path, args.run_breakdown[:2]), args.workers, Path(args.run_breakdown[2]))
        return
    if args.run_one:
        engine, source, out = args.run_one
        run_one(engine, Path(source), Path(out), args.workers)
        return

    from hccwatch.population.synth import write_cohort

    source = args.work / f"export-{args.patients}-seed1"
    if not (source / "manifest.json").is_file():
        start = time.perf_counter()
        counts = write_cohort(source, args.patients, 1)
        print(
            f"synth: {args.patients:,} patients, {sum(counts.values()):,} resources "
            f"in {time.perf_counter() - start:.1f} s"
        )
    if args.breakdown:
        breakdown(source, args.work, args.workers)
    if args.stages or args.breakdown:
        from hccwatch.population.run import batch_gc

        with batch_gc():  # the engine's settings
            stages(source, args.work)
        return
    load = _load()
    floor, parser, resources = floor_seconds(source)
    size = sum(p.stat().st_size for p in source.glob("*.ndjson"))
    print(
        f"export: {resources:,} resources, {size / 2**20:.0f} MiB; floor ({parser} decode of every "
        f"line of the export, best of 3, one process): {floor:.2f} s = {resources / floor:,.0f} "
        f"resources/s; load {load:.1f}"
    )
    print(
        f"{'engine':<8} {'wall s':>7} {'CPU s':>7} {'patients/s':>11} {'HCC/s':>7} {'resources/s':>12} "
        f"{'peak MiB':>9} {'x floor':>8} {'load':>10}"
    )
    verdicts = []
    for engine in args.engines.split(","):
        out = args.work / f"out-{engine}"
        cmd = [
            sys.executable,
            __file__,
            "--workers",
            str(args.workers),
            "--run-one",
            engine,
            str(source),
            str(out),
        ]
        load_before, cpu_before = _load(), _cpu_children()
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        cpu = _cpu_children() - cpu_before
        if done.returncode != 0:
            print(f"{engine:<8} failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        s = r["summary"]
        t = r["elapsed"]
        hcc = s["cohort"]["patients"]
        peak = r["peak_kib"] / 1024
        print(
            f"{engine:<8} {t:7.1f} {cpu:7.1f} {s['export']['patients'] / t:11,.0f} {hcc / t:7,.0f} "
            f"{s['export']['lines'] / t:12,.0f} {peak:9,.0f} {t / floor:8.1f} "
            f"{load_before:4.1f}->{_load():<4.1f}  ({hcc:,} HCC)"
        )
        verdicts.append(
            f"{engine}: {_verdict(hcc / t >= GOAL_HCC_PER_S)} >= {GOAL_HCC_PER_S:,} HCC patients/s "
            f"({hcc / t:,.0f}); {_verdict(t / floor <= GOAL_FLOOR_RATIO)} <= {GOAL_FLOOR_RATIO:g}x floor "
            f"({t / floor:.1f}x); {_verdict(peak < GOAL_PEAK_MIB)} < {GOAL_PEAK_MIB:,} MiB peak ({peak:,.0f}"
            + (")" if args.patients >= 100_000 else "; the goal is set at 100,000 patients)")
        )
    print(f"goals on 2 cores ({os.cpu_count()} here, --workers {args.workers}), {dt.date.today()}:")
    for line in verdicts:
        print(f"  {line}")


if __name__ == "__main__":
    main()
