"""How fast are the web app's worklist and patient pages on a 5,000-patient registry? Anyone can run it.

    .venv/bin/python benchmarks/web_worklist.py [--patients 5000] [--requests 200]

Builds a registry on the embedded database (a SQLite file in a temporary data folder) from
``--patients`` fictitious records (the demo generator with a new seed per 52 patients, so the
records differ), imported by ``hccwatch registry import`` in its own process, and prints the
import rate (patients/s, wall clock: reading, assessing and storing each record in its own
transaction). Then starts ``hccwatch serve`` on a free loopback port, logs in through the login
form as a clinician, and times ``--requests`` requests of each page through real HTTP, one at a
time: the worklist (default view, a group filter, a search) and patient pages (a different
patient each time). Prints p50, p95 and max in milliseconds, and the load average of the machine
(it is shared: wall-clock times are upper bounds).
Goal (issue 8): worklist p95 under 300 ms on the embedded database for 5,000 patients.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "browser"))

from browser_support import PASSWORDS, http_login, run_cli, running_server, server_env  # noqa: E402

from hccwatch.registry.demo import demo_patients  # noqa: E402

AS_OF = dt.date(2026, 11, 24)
GOAL_MS = 300.0
USER = "clinician"
WARM_UP = 5
_PATIENT_LINK = re.compile(r'href="(/patients/[^"/?#]+)"')


def write_records(n: int, folder: Path) -> None:
    """``n`` records, one JSON file each (the import reads a folder of them, sorted by name)."""
    made = 0
    for seed in itertools.count():
        for p in demo_patients(AS_OF, seed=seed):
            record = dict(p.record, id=f"bench-{made:05d}")
            (folder / f"{record['id']}.json").write_text(json.dumps(record), encoding="utf-8")
            made += 1
            if made == n:
                return


def stats(samples: list[float]) -> tuple[float, float, float]:
    """p50, p95 and max in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000, ordered[-1] * 1000


def timed(client: httpx.Client, paths: Callable[[int], str], n: int) -> list[float]:
    for i in range(WARM_UP):
        client.get(paths(i)).raise_for_status()
    samples = []
    for i in range(n):
        start = time.perf_counter()
        answer = client.get(paths(i))
        samples.append(time.perf_counter() - start)
        if answer.status_code != httpx.codes.OK:
            raise SystemExit(f"GET {paths(i)} answered {answer.status_code}")
    return samples


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def measure(url: str, password: str, requests: int) -> bool:
    """Time the pages; True when every worklist view meets the goal."""
    with httpx.Client(base_url=url, follow_redirects=True, timeout=60) as client:
        http_login(client, USER, password)
        first = client.get("/")
        patients = sorted(set(_PATIENT_LINK.findall(first.text)))
        if not patients:
            raise SystemExit("the worklist links to no patient page")
        cases: list[tuple[str, Callable[[int], str], bool]] = [
            ("worklist, default view", lambda _i: "/", True),
            ("worklist, overdue group", lambda _i: "/?group=overdue", True),
            ("worklist, search", lambda i: f"/?q=bench-{i % 50:02d}", True),
            ("patient page", lambda i: patients[i % len(patients)], False),
        ]
        print(f"{len(patients)} patients linked from the first worklist page; {requests} requests each")
        print(f"{'page':<26}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
        ok = True
        for name, paths, is_worklist in cases:
            p50, p95, top = stats(timed(client, paths, requests))
            verdict = ("  PASS" if p95 < GOAL_MS else "  FAIL") if is_worklist else ""
            ok = ok and (p95 < GOAL_MS or not is_worklist)
            print(f"{name:<26}{p50:9.1f}{p95:9.1f}{top:9.1f}{verdict}", flush=True)
        return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    print(f"load average at start: {load()} ({os.cpu_count()} processors)")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir, records = Path(tmp) / "data", Path(tmp) / "records"
        data_dir.mkdir()
        records.mkdir()
        write_records(args.patients, records)
        env = server_env(data_dir)
        start = time.perf_counter()
        out = run_cli(env, "registry", "import", str(records), "--as-of", AS_OF.isoformat())
        elapsed = time.perf_counter() - start
        print(
            f"import: {args.patients} patients in {elapsed:.1f} s = {args.patients / elapsed:.0f} patients/s"
        )
        print(f"  ({out.strip()}; one process, each record its own transaction)")
        with running_server(data_dir, demo=False, users=(USER,)) as server:
            ok = measure(server.url, PASSWORDS[USER], args.requests)
    print(f"load average at end: {load()}")
    print(f"goal: worklist p95 < {GOAL_MS:.0f} ms on the embedded database: {'PASS' if ok else 'FAIL'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
