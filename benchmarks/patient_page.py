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
import statistics
import sys
import time

from _web_bench import demo_server, logged_in

KINDS = {
    "patient page": "/patients/{id}",
    "patient page, log chart": "/patients/{id}?scale=log",
    "print report": "/patients/{id}/print",
    "letter (zh)": "/patients/{id}/letter?to=patient&lang=zh",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 11, 24))
    args = parser.parse_args(argv)
    with demo_server(args.as_of) as served, logged_in(served.base_url) as client:
        ids = served.patient_ids
        for pid in ids:  # warm templates and knowledge once
            client.get(f"/patients/{pid}")
        print(f"{len(ids)} demo patients, {args.rounds} rounds, as of {args.as_of}")
        for kind, path in KINDS.items():
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
