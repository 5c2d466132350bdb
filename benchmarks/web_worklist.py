"""How fast is the web app's worklist through the real server? Anyone can run it.

    .venv/bin/python benchmarks/web_worklist.py [--patients 5000] [--requests 50] [--database FILE]

Builds a SQLite registry of ``--patients`` fictitious patients (as benchmarks/registry_import.py
does; ``--database FILE`` keeps it and reuses it on the next run), with a call logged for one
patient in ten, then serves the app (uvicorn on a loopback port, as ``hccwatch serve`` does),
logs in over HTTP and times ``--requests`` GETs of each page: the worklist home (sections, KPIs,
counts), a group, a search, and a filter, as p50/p95 in milliseconds, wall clock at the client;
then the home page right after a call was logged (its counts, sections and KPIs recomputed).
The first request of a new day recomputes the stored assessments (in the background); it is
timed apart. Goal (issue 8): worklist p95 under 300 ms on the embedded database at 5,000 patients.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "tests" / "registry"))

from registry_import import records  # noqa: E402

from hccwatch.app.server import Settings, create_app  # noqa: E402
from hccwatch.registry import Actor, Registry  # noqa: E402

AS_OF = dt.date(2026, 11, 24)
ACTOR = Actor("benchmark", "admin")
PASSWORD = "benchmark-password-1"


def build(path: Path, n: int) -> None:
    reg = Registry.open(f"sqlite:///{path}", today=lambda: AS_OF)
    try:
        if reg.count_patients(ACTOR) >= n:
            return
        start = time.perf_counter()
        for i, rec in enumerate(records(n)):
            view = reg.import_record(ACTOR, rec)
            if i % 10 == 0:
                reg.log_outreach(ACTOR, view.patient_id, "no_answer")
        reg.add_user(ACTOR, "navigator", "navigator", PASSWORD)
        print(f"built {n} patients in {time.perf_counter() - start:.0f} s", flush=True)
    finally:
        reg.close()


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms"


def serve(db: Path, today: dt.date) -> tuple[str, uvicorn.Server, threading.Thread]:
    reg = Registry.open(f"sqlite:///{db}", today=lambda: today)
    app = create_app(Settings(data_dir=db.parent), today=lambda: today, registry=reg)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return f"http://127.0.0.1:{sock.getsockname()[1]}", server, thread


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--database", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = args.database or Path(folder) / "bench.sqlite3"
        build(db, args.patients)
        # The server's today is a day after the build: its first worklist refreshes every patient.
        base, server, thread = serve(db, AS_OF + dt.timedelta(days=1))
        try:
            with httpx.Client(base_url=base, timeout=120, follow_redirects=True) as client:
                token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
                assert token
                client.post("/login", data={"username": "navigator", "password": PASSWORD,
                                            "csrf_token": token.group(1)})  # fmt: skip
                start = time.perf_counter()
                client.get("/")
                first_ms = (time.perf_counter() - start) * 1000
                print(f"first worklist of the day (refresh started): {first_ms:.0f} ms")
                while "being brought up to" in client.get("/").text:
                    time.sleep(1)
                print(
                    f"refresh of {args.patients} assessments done after {time.perf_counter() - start:.0f} s"
                )
                pages = {
                    "worklist home": "/",
                    "overdue group": "/?group=overdue",
                    "search": "/?q=bench-012",
                    "urgent filter": "/?urgency=urgent",
                }
                for name, path in pages.items():
                    samples = []
                    for _ in range(args.requests):
                        t0 = time.perf_counter()
                        r = client.get(path)
                        samples.append(time.perf_counter() - t0)
                        assert r.status_code == 200
                    print(f"  {name:<16}{percentiles(samples)}   ({len(r.content) // 1024} KB)", flush=True)
                # After a write the page recomputes its counts, sections and KPIs (the cold path).
                samples = []
                for _ in range(args.requests):
                    page = client.get("/?group=due_soon").text
                    form = re.search(
                        r'action="/worklist/outreach/(\d+)">\s*<input type="hidden" name="csrf_token" '
                        r'value="([^"]+)">\s*<input type="hidden" name="version" value="(\d+)"',
                        page,
                    )
                    assert form
                    pid, csrf, version = form.groups()
                    call = {"csrf_token": csrf, "outcome": "no_answer", "version": version}
                    client.post(f"/worklist/outreach/{pid}", data=call, follow_redirects=False)
                    t0 = time.perf_counter()
                    client.get("/")
                    samples.append(time.perf_counter() - t0)
                print(f"  {'home after a call':<16}{percentiles(samples)}", flush=True)
        finally:
            server.should_exit = True
            thread.join(10)


if __name__ == "__main__":
    main()
