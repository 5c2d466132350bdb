"""Where the Spark engine's seconds go: one ``hccwatch batch --engine spark`` run, whole tree.

    .venv/bin/python benchmarks/spark_breakdown.py EXPORT_DIR [--workers 2] [--runs 1]

Runs the batch in a child process (a ``local[WORKERS]`` master) and samples every process of its
tree from ``/proc`` every 0.1 s: processor seconds per kind of process (the driver's Python, the
JVM, the Python daemon, the Python workers it forks), summed over the run (each process's last
sample: at most 0.1 s of a process's end is missed), and the peak of the tree's resident memory.
The engine's own stage marks (its ``spark ...: N s since start`` log lines) give the wall time of
each stage; Spark's event log (written to a temporary folder) gives, per stage, the tasks'
run time and processor time in the JVM, garbage collection, the bytes shuffled, the bytes of
results sent to the driver and the size of what is kept in the block manager.

Processor time on a shared machine varies from one run to the next: compare only runs taken
together (``--runs`` alternates nothing; run the old and new code one after the other).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

TICK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024

CHILD = """
import logging, pathlib, sys
logging.basicConfig(level=logging.WARNING, format="%(message)s")
logging.getLogger("hccwatch.population.spark_engine").setLevel(logging.INFO)
from hccwatch.population.run import run_batch
run_batch(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), engine="spark",
          workers=int(sys.argv[3]), spark_master=f"local[{sys.argv[3]}]")
"""


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return out
    for task in tasks:
        try:
            out.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return out


def _tree(pid: int) -> list[int]:
    out = [pid]
    for child in _children(pid):
        out.extend(_tree(child))
    return out


def _stat(pid: int) -> tuple[float, int] | None:
    """(processor seconds, resident KiB) of one process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICK, int(fields[21]) * PAGE_KIB


def _kind(pid: int, root: int) -> str:
    if pid == root:
        return "driver (Python)"
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "other"
    if cmd and cmd[0].endswith(b"java"):
        return "JVM"
    if cmd and b"python" in cmd[0].rsplit(b"/", 1)[-1]:
        # The JVM's Python children: the daemon (pyspark.daemon, or the engine's module in its
        # place) and the workers it forks.
        return "Python daemon + workers"
    return "other"


def _event_log(folder: Path) -> dict[str, Any]:
    """Per stage: name, tasks, run/CPU/GC seconds, shuffle and result bytes."""
    stages: dict[int, dict[str, Any]] = defaultdict(
        lambda: {
            "tasks": 0,
            "run_s": 0.0,
            "cpu_s": 0.0,
            "gc_s": 0.0,
            "deserialize_s": 0.0,
            "shuffle_write_mib": 0.0,
            "shuffle_read_mib": 0.0,
            "result_mib": 0.0,
            "disk_spill_mib": 0.0,
        }
    )
    names: dict[int, str] = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        for line in path.read_text().splitlines():
            event = json.loads(line)
            kind = event.get("Event")
            if kind == "SparkListenerStageCompleted":
                info = event["Stage Info"]
                names[info["Stage ID"]] = info["Stage Name"]
                stages[info["Stage ID"]]["wall_s"] = (
                    info.get("Completion Time", 0) - info.get("Submission Time", 0)
                ) / 1000
            elif kind == "SparkListenerTaskEnd":
                m = event.get("Task Metrics") or {}
                s = stages[event["Stage ID"]]
                s["tasks"] += 1
                s["run_s"] += m.get("Executor Run Time", 0) / 1000
                s["cpu_s"] += m.get("Executor CPU Time", 0) / 1e9
                s["gc_s"] += m.get("JVM GC Time", 0) / 1000
                s["deserialize_s"] += m.get("Executor Deserialize Time", 0) / 1000
                s["result_mib"] += m.get("Result Size", 0) / 2**20
                s["disk_spill_mib"] += m.get("Disk Bytes Spilled", 0) / 2**20
                w = m.get("Shuffle Write Metrics") or {}
                s["shuffle_write_mib"] += w.get("Shuffle Bytes Written", 0) / 2**20
                r = m.get("Shuffle Read Metrics") or {}
                s["shuffle_read_mib"] += (
                    r.get("Remote Bytes Read", 0) + r.get("Local Bytes Read", 0)
                ) / 2**20
    return {f"{sid} {names.get(sid, '?')}": dict(v) for sid, v in sorted(stages.items())}


def run(source: Path, workers: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="spark-breakdown-") as tmp:
        events = Path(tmp) / "events"
        events.mkdir()
        env = dict(os.environ)
        env["PYSPARK_SUBMIT_ARGS"] = (
            f"--conf spark.eventLog.enabled=true --conf spark.eventLog.dir=file://{events} "
            "--conf spark.eventLog.compress=false --conf spark.eventLog.rolling.enabled=false pyspark-shell"
        )
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(source), str(Path(tmp) / "out"), str(workers)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        last: dict[int, tuple[str, float]] = {}
        peak_kib = 0
        at_peak: dict[str, int] = {}
        while child.poll() is None:
            rss: dict[str, int] = defaultdict(int)
            for pid in _tree(child.pid):
                got = _stat(pid)
                if got is None:
                    continue
                # Looked up at every sample: spark-submit's shell script becomes the JVM (exec);
                # an ending process's command line reads empty, so a known kind is kept.
                kind = _kind(pid, child.pid)
                if kind == "other" and pid in last:
                    kind = last[pid][0]
                last[pid] = (kind, got[0])
                rss[kind] += got[1]
            if sum(rss.values()) > peak_kib:
                peak_kib = sum(rss.values())
                at_peak = {k: round(v / 1024) for k, v in sorted(rss.items())}
            time.sleep(0.1)
        wall = time.perf_counter() - start
        _, err = child.communicate()
        if child.returncode:
            sys.exit(f"the batch failed:\n{err}")
        # The driver's own figure, from the kernel once it has ended, replaces its last sample.
        cpu: dict[str, float] = defaultdict(float)
        count: dict[str, int] = defaultdict(int)
        for _pid, (kind, seconds) in last.items():
            cpu[kind] += seconds
            count[kind] += 1
        marks = [line for line in err.splitlines() if line.startswith("spark ")]
        return {
            "wall_s": round(wall, 2),
            "cpu_s": {k: round(v, 2) for k, v in sorted(cpu.items())},
            "cpu_total_s": round(sum(cpu.values()), 2),
            "processes": dict(sorted(count.items())),
            "peak_mib": round(peak_kib / 1024),
            "peak_by_kind_mib": at_peak,
            "load": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "marks": marks,
            "stages": _event_log(events),
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("export", type=Path)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    for _ in range(args.runs):
        got = run(args.export, args.workers)
        print(
            f"wall {got['wall_s']} s, processor {got['cpu_total_s']} s {got['cpu_s']}, "
            f"processes {got['processes']}, peak {got['peak_mib']} MiB {got['peak_by_kind_mib']}, "
            f"load {got['load'][0]} -> {got['load'][1]}"
        )
        for mark in got["marks"]:
            print("  " + mark)
        for name, s in got["stages"].items():
            print(
                f"  stage {name[:60]}: {s['tasks']} tasks, wall {s.get('wall_s', 0):.1f} s, "
                f"run {s['run_s']:.1f} s (JVM CPU {s['cpu_s']:.1f}, GC {s['gc_s']:.1f}, "
                f"deserialise {s['deserialize_s']:.1f}), shuffle {s['shuffle_write_mib']:.1f} MiB out "
                f"{s['shuffle_read_mib']:.1f} in, results {s['result_mib']:.1f} MiB"
            )


if __name__ == "__main__":
    main()
