"""How fast is one assessment? Prints figures and ratios; anyone can run it.

    .venv/bin/python benchmarks/assess_throughput.py [--repeat N]

Measures, per record: JSON -> PatientRecord validation, and the full assess() on the example
records and on the 654 real transplant-evaluation patients of shared/data/validation/ameld
(labs only), when that folder is beside the checkout.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hccwatch import assess, default_knowledge, parse_record

REPO = Path(__file__).resolve().parents[1]
AMELD = REPO.parent / "shared" / "data" / "validation" / "ameld" / "eldd.csv"


def _ameld_records() -> list[dict[str, Any]]:
    if not AMELD.exists():
        return []
    out = []
    units = {
        "BILI_S": ("bilirubin", "µmol/L"),
        "CRE_S": ("creatinine", "µmol/L"),
        "ALB_S": ("albumin", "g/L"),
        "NA_S": ("sodium", "mmol/L"),
        "INR_C": ("inr", None),
    }
    with AMELD.open(newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            labs = [
                {"test": test, "value": float(row[col]), "unit": unit, "date": "2026-11-01"}
                for col, (test, unit) in units.items()
                if row[col] not in ("", "NA")
            ]
            dialysis = row["Dialysis"] == "1"
            out.append(
                {
                    "id": f"ameld-{i}",
                    "sex": row["Sex"],
                    "age": int(float(row["Age"])),
                    "labs": labs,
                    "liver": {"dialysis_twice_past_week": dialysis, "cvvhd_24h_past_week": False},
                }
            )
    return out


def _time(fn: Callable[[], object], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    default_knowledge()  # load once, as a long-running service would
    sets = {"examples": [json.loads(p.read_text()) for p in sorted((REPO / "examples").glob("*.json"))]}
    if ameld := _ameld_records():
        sets["ameld (654 real patients, labs only)"] = ameld
    print(
        f"{'data set':40} {'records':>8} {'parse ms/rec':>13} "
        f"{'assess ms/rec':>14} {'records/s':>10} {'assess/parse':>13}"
    )
    for name, raw in sets.items():
        parsed = [parse_record(r) for r in raw]
        t_parse = _time(lambda raw=raw: [parse_record(r) for r in raw], args.repeat) / len(raw)
        t_assess = _time(
            lambda parsed=parsed: [assess(r, as_of="2026-11-24") for r in parsed], args.repeat
        ) / len(raw)
        print(
            f"{name:40} {len(raw):8d} {t_parse * 1e3:13.3f} "
            f"{t_assess * 1e3:14.3f} {1 / t_assess:10.0f} {t_assess / t_parse:13.1f}"
        )


if __name__ == "__main__":
    main()
