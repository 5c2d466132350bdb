"""How fast does the FHIR reader map resources to a record? Prints figures and the floor.

    .venv/bin/python benchmarks/fhir_mapping.py [--repeat N]

Single process, single core, processor time (best of ``--repeat`` passes). For the Synthea
patient Bundles of the shared public data (``../shared/data/synthea-r4-bundles``, or the folder
named by HCCWATCH_SHARED_DATA) and for the example Bundles it times:

- ``decode``: ``json.loads`` of the Bundle text (the floor: reading the input at all);
- ``map``: ``read_fhir_by_patient`` of the decoded Bundle (typed decoding of the needed
  elements, code look-ups, the record validated once per patient);
- ``map+assess``: the same, then ``assess(record).to_dict()`` for each patient.

It prints resources per second and the ratio of each step to the floor.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hccwatch import assess, default_knowledge
from hccwatch.adapters.fhir import read_fhir_by_patient

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HCCWATCH_SHARED_DATA") or REPO.parent / "shared")
AS_OF = dt.date(2026, 11, 24)


def _best(repeat: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return best


def _count(bundle: Any) -> int:
    return len(bundle.get("entry", [])) if isinstance(bundle, dict) else 0


def _run(name: str, texts: list[str], repeat: int) -> None:
    bundles = [json.loads(t) for t in texts]
    resources = sum(_count(b) for b in bundles)
    decode = _best(repeat, lambda: [json.loads(t) for t in texts])

    def mapping() -> None:
        for b in bundles:
            read_fhir_by_patient(b, as_of=AS_OF)

    def mapping_and_assessment() -> None:
        for b in bundles:
            for reading in read_fhir_by_patient(b, as_of=AS_OF).values():
                assess(reading.record, as_of=AS_OF).to_dict()

    mapped = _best(repeat, mapping)
    assessed = _best(repeat, mapping_and_assessment)
    print(f"{name}: {len(bundles)} Bundles, {resources} resources")
    for label, seconds in (("decode", decode), ("map", mapped), ("map+assess", assessed)):
        rate = resources / seconds if seconds > 0 else float("inf")
        ratio = seconds / decode if decode > 0 else float("inf")
        print(f"  {label:<11} {seconds * 1000:9.1f} ms  {rate:12,.0f} resources/s  {ratio:6.1f} x decode")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    default_knowledge()
    examples = sorted((REPO / "examples" / "fhir").glob("*.json"))
    _run("examples/fhir", [p.read_text(encoding="utf-8") for p in examples], args.repeat)
    synthea = SHARED / "data" / "synthea-r4-bundles"
    if synthea.is_dir():
        files = sorted(p for p in synthea.glob("*.json") if not p.name.startswith("groupInformation"))
        _run("synthea-r4-bundles", [p.read_text(encoding="utf-8") for p in files], args.repeat)
    else:
        print(f"shared public data not found at {SHARED}; set HCCWATCH_SHARED_DATA to its folder")


if __name__ == "__main__":
    main()
