"""How fast are data entry, quick assessment and import in the browser? Prints p50/p95 per kind.

    .venv/bin/python benchmarks/web_forms.py [--rounds N] [--as-of YYYY-MM-DD]

Loads the demo registry into a throwaway SQLite file, starts the real app (uvicorn on loopback,
one worker), logs in as a clinician and, over real HTTP, for every demo patient: opens the
add-AFP form, saves an AFP value (validated, stored, re-assessed and audited), sends one with a
refused unit (the form comes back with its field message), and assesses an example record and an
example FHIR Bundle on the quick-assessment page; then imports each example Bundle. Figures are
wall-clock times per request as the client sees them.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from hccwatch.app.server import Settings, create_app
from hccwatch.registry import Actor, Registry
from hccwatch.registry.demo import load_demo

OPERATOR = Actor("benchmark", "admin")
PASSWORD = "benchmark-password-0001"
ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "examples" / "article-woman-back-pain.json"
BUNDLES = sorted((ROOT / "examples" / "fhir").glob("*.bundle.json"))
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_VERSION = re.compile(r'name="version" value="([0-9]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _find(pattern: re.Pattern[str], html: str) -> str:
    found = pattern.search(html)
    if found is None:
        raise SystemExit(f"not on the page: {pattern.pattern}")
    return found.group(1)


def _timed(
    times: list[float], expected: int, send: Callable[..., httpx.Response], *args: Any, **kwargs: Any
) -> httpx.Response:
    start = time.perf_counter()
    response = send(*args, **kwargs)
    times.append((time.perf_counter() - start) * 1000)
    if response.status_code != expected:
        raise SystemExit(f"{response.request.url}: {response.status_code}, expected {expected}")
    return response


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
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
        times: dict[str, list[float]] = {
            k: [] for k in ("add form", "save AFP", "refused unit", "quick record", "quick FHIR", "import")
        }
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
                login = client.get("/login")
                data = {"username": "clinician", "password": PASSWORD, "csrf_token": _find(_CSRF, login.text)}
                if client.post("/login", data=data).status_code != 303:
                    raise SystemExit("login failed")
                token = _find(_CSRF, client.get("/").text)
                record, bundle = RECORD.read_text(encoding="utf-8"), BUNDLES[0].read_bytes()
                for round_ in range(args.rounds):
                    for pid in ids:
                        url = f"/patients/{pid}/add/afp"
                        page = _timed(times["add form"], 200, client.get, url)
                        form = {
                            "csrf_token": token,
                            "version": _find(_VERSION, page.text),
                            "date": "2026-11-20",
                        }
                        saved = form | {"value": str(5 + round_), "unit": "ng/mL"}
                        _timed(times["save AFP"], 303, client.post, url, data=saved)
                        _timed(
                            times["refused unit"],
                            422,
                            client.post,
                            url,
                            data=form | {"value": "5", "unit": "mg/L"},
                        )
                        quick = {"csrf_token": token, "record": record, "as_of": "2026-11-24"}
                        _timed(times["quick record"], 200, client.post, "/quick", data=quick)
                        files = {"file": ("b.bundle.json", bundle, "application/fhir+json")}
                        _timed(
                            times["quick FHIR"],
                            200,
                            client.post,
                            "/quick",
                            data=quick | {"record": ""},
                            files=files,
                        )
                for path in BUNDLES * args.rounds:
                    files = {"file": (path.name, path.read_bytes(), "application/fhir+json")}
                    _timed(
                        times["import"], 200, client.post, "/import", data={"csrf_token": token}, files=files
                    )
        finally:
            server.should_exit = True
            thread.join()
            reg.close()
        print(f"{count} demo patients, {args.rounds} rounds, as of {args.as_of}")
        for kind, values in times.items():
            p50 = statistics.median(values)
            p95 = statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]
            print(f"{kind:<14} n={len(values):<5} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
