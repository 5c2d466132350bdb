"""How long from a patient's "send" to the report at the top of the worklist? Anyone can run it.

    .venv/bin/python benchmarks/symptom_check.py [--patients 500] [--rounds 50]

Builds a SQLite registry in a temporary folder with ``--patients`` patients (a short post-resection
record each) and a symptom-check link for each, serves the app with uvicorn on a loopback port in
this process, logs in as a navigator, then ``--rounds`` times: fetches one patient's form, sends
"leg numbness" (an emergency) through real HTTP, and fetches the worklist until the report is at its
top. Prints p50, p95 and max in milliseconds for the submission (merge, assess, store) and for
submission-to-worklist, and the machine's load average (it is shared: times are upper bounds).
Goal (issue 9): the worklist shows a patient-reported emergency within a second.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from hccwatch.app.server import Settings, create_app
from hccwatch.registry import Actor, Registry
from hccwatch.registry.symptom_checks import SymptomChecks
from hccwatch.symptoms import form
from hccwatch.web import symptom_check
from hccwatch.web.symptom_settings import SymptomSettings

AS_OF = dt.date(2026, 11, 24)
OPERATOR = Actor("cli:bench", "admin")
PASSWORD = "bench-navigator-pw-0001"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# Every question "no" but leg numbness: an emergency.
ANSWERS = {q.link_id: "no" for q in form().questions if q.kind == "symptom"} | {"leg-numbness": "yes"}


def _ms(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return f"p50 {statistics.median(values):7.1f}  p95 {p95:7.1f}  max {values[-1]:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="hccwatch-symptom-bench-"))
    reg = Registry.open(f"sqlite:///{folder / 'registry.sqlite3'}", today=lambda: AS_OF)
    reg.add_user(OPERATOR, "navigator", "navigator", PASSWORD)
    checks = SymptomChecks(reg)
    tokens = []
    for n in range(args.patients):
        record = {"id": f"B-{n:05d}", "treatments": [{"type": "resection", "date": "2025-06-01"}]}
        pid = reg.add_patient(OPERATOR, record, name=f"Bench {n}").id
        tokens.append(checks.create_link(OPERATOR, pid).token)
    settings = Settings(data_dir=folder / "data", log_level="WARNING")
    app = create_app(settings, today=lambda: AS_OF, registry=reg)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    # Limits raised: the benchmark sends from one address far faster than any patient.
    symptom_check.configure(app, SymptomSettings(hits_per_10_minutes=10**6, posts_per_hour=10**6))
    bound = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{bound}"
    staff, patient = httpx.Client(base_url=url), httpx.Client(base_url=url)
    login = staff.get("/login")
    staff.post("/login", data={"username": "navigator", "password": PASSWORD,
                               "csrf_token": _CSRF.search(login.text).group(1), "next": "/"})  # type: ignore[union-attr]  # fmt: skip
    submit_ms, visible_ms = [], []
    for token in tokens[: args.rounds]:
        page = patient.get(f"/s/{token}")
        csrf = _CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        t0 = time.perf_counter()
        answer = patient.post(f"/s/{token}", data={**ANSWERS, "csrf_token": csrf})
        assert answer.status_code == 200 and "emergency department" in answer.text
        submit_ms.append(1000 * (time.perf_counter() - t0))
        while "Patient-reported emergency" not in staff.get("/").text.split("<h1", 1)[0]:
            time.sleep(0.01)
        visible_ms.append(1000 * (time.perf_counter() - t0))
        # Acknowledge it so the next round's report is the top one.
        top = staff.get("/").text
        ack = re.search(r'action="(/symptom-reports/\d+/acknowledge)"', top)
        staff.post(ack.group(1), data={"csrf_token": _CSRF.search(top).group(1)})  # type: ignore[union-attr]
    print(f"patients {args.patients}, rounds {args.rounds}, load average {os.getloadavg()[0]:.1f}")
    print(f"submission (merge, assess, store)   {_ms(submit_ms)}")
    print(f"send -> top of the worklist         {_ms(visible_ms)}")
    server.should_exit = True
    thread.join(timeout=15)
    reg.close()


if __name__ == "__main__":
    main()
