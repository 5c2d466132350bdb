"""Throughput of ``hccwatch batch`` per engine against the parse floor.

    .venv/bin/python benchmarks/batch_throughput.py                 # 10,000 patients, both engines
    .venv/bin/python benchmarks/batch_throughput.py --patients 100000 --engines duckdb

Builds a synthetic Bulk export (``hccwatch synth``, seed 1; kept under --work so a second run
reuses it), then runs each engine in its own process and prints, per engine: exported patients/s,
HCC patients/s, resources/s, peak memory, the floor (decoding every NDJSON line with orjson alone,
the fastest JSON parser installed) and the ratio engine/floor. Goals on 2 cores: >= 1,000 HCC
patients/s end to end, within 3x the floor, peak memory < 1 GiB at 100,000 patients.

Peak memory is the highest sum of the resident memory of the engine's process and all its
descendants (worker processes; for Spark the JVM and its Python workers), sampled every 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

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


def floor_seconds(source: Path) -> tuple[float, int]:
    files = sorted(source.glob("*.ndjson"))
    best = float("inf")
    count = 0
    for _ in range(3):
        start = time.perf_counter()
        count = 0
        for f in files:
            with f.open("rb") as fh:
                for line in fh:
                    orjson.loads(line)
                    count += 1
        best = min(best, time.perf_counter() - start)
    return best, count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--patients", type=int, default=10_000, help="exported patients (100000 for the memory goal)"
    )
    ap.add_argument("--engines", default="duckdb,spark")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "hccwatch-batch-bench")
    ap.add_argument("--run-one", nargs=3, metavar=("ENGINE", "SOURCE", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
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
    floor, resources = floor_seconds(source)
    size = sum(p.stat().st_size for p in source.glob("*.ndjson"))
    print(
        f"export: {resources:,} resources, {size / 2**20:.0f} MiB; floor (orjson decode of every line, "
        f"best of 3): {floor:.2f} s = {resources / floor:,.0f} resources/s"
    )
    print(
        f"{'engine':<8} {'seconds':>8} {'patients/s':>11} {'HCC/s':>7} {'resources/s':>12} "
        f"{'peak MiB':>9} {'x floor':>8}"
    )
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
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"{engine:<8} failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        s = r["summary"]
        t = r["elapsed"]
        hcc = s["cohort"]["patients"]
        peak = r["peak_kib"] / 1024
        print(
            f"{engine:<8} {t:8.1f} {s['export']['patients'] / t:11,.0f} {hcc / t:7,.0f} "
            f"{s['export']['lines'] / t:12,.0f} {peak:9,.0f} {t / floor:8.1f}   ({hcc:,} HCC)"
        )
    print(
        f"goals: >= {GOAL_HCC_PER_S:,} HCC patients/s, <= {GOAL_FLOOR_RATIO}x floor, "
        f"< {GOAL_PEAK_MIB} MiB peak at 100,000 patients"
    )


if __name__ == "__main__":
    main()
