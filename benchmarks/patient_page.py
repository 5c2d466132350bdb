"""How fast is the patient page? Prints p50/p95 per page kind; anyone can run it.

    .venv/bin/python benchmarks/patient_page.py [--rounds N] [--as-of YYYY-MM-DD]

Loads the demo registry into a throwaway SQLite file, starts the real app (uvicorn on loopback,
one worker), logs in as a clinician and requests every demo patient's page, its log-scale chart,
its printable report and its reminder letter, ``--rounds`` times each, over real HTTP. Figures are
wall-clock times per request as the client sees them (the page reads the registry, records the
audited view, re-reads the assessment and renders). Goal (web-patient brief): patient page under
150 ms.
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

from hccwatch.app.server import Settings, create_app
from hccwatch.registry import Actor, Registry
from hccwatch.registry.demo import load_demo

OPERATOR = Actor("benchmark", "admin")
PASSWORD = "benchmark-password-0001"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _csrf(html: str) -> str:
    found = _CSRF.search(html)
    if found is None:
        raise SystemExit("no CSRF token on the login page")
    return found.group(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 11, 24))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        reg = Registry.open(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", today=lambda: args.as_of)
        reg.add_user(OPERATOR, "clinician", "clinician", PASSWORD)
        count = load_demo(reg, OPERATOR, args.as_of)
        ids = [reg.find_patient(OPERATOR, f"demo-{i:03d}").id for i in range(1, count + 1)]
        app = create_app(Settings(data_dir=Path(tmp) / "data"), today=lambda: args.as_of, registry=reg)
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=base) as client:
                login = client.get("/login")
                done = client.post(
                    "/login",
                    data={"username": "clinician", "password": PASSWORD, "csrf_token": _csrf(login.text)},
                )
                if done.status_code != 303:  # the redirect after a login
                    raise SystemExit(f"login failed: {done.status_code}")
                kinds = {
                    "patient page": "/patients/{id}",
                    "patient page, log chart": "/patients/{id}?scale=log",
                    "print report": "/patients/{id}/print",
                    "letter (zh)": "/patients/{id}/letter?to=patient&lang=zh",
                }
                for pid in ids:  # warm templates and knowledge once
                    client.get(f"/patients/{pid}")
                print(f"{count} demo patients, {args.rounds} rounds, as of {args.as_of}")
                for kind, path in kinds.items():
                    times = []
                    for _ in range(args.rounds):
                        for pid in ids:
                            start = time.perf_counter()
                            r = client.get(path.format(id=pid))
                            times.append((time.perf_counter() - start) * 1000)
                            if r.status_code != 200:
                                raise SystemExit(f"{path.format(id=pid)}: {r.status_code}")
                    p50, p95 = statistics.median(times), statistics.quantiles(times, n=20)[-1]
                    print(f"{kind:<26} n={len(times):<5} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")
        finally:
            server.should_exit = True
            thread.join()
            reg.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
