"""How fast does the FHIR reader map resources to a record? Prints figures and the floor.

    .venv/bin/python benchmarks/fhir_mapping.py [--repeat N]
    .venv/bin/python benchmarks/fhir_mapping.py --synthetic 1000 [--seed S] [--repeat N]

Single process, single core, processor time (best of ``--repeat`` passes). For the Synthea
patient Bundles of the shared public data (``../shared/data/synthea-r4-bundles``, or the folder
named by HCCWATCH_SHARED_DATA) and for the example Bundles it times:

- ``decode``: ``json.loads`` of the Bundle text (the floor: reading the input at all);
- ``map``: ``read_fhir_by_patient`` of the decoded Bundle (typed decoding of the needed
  elements, code look-ups, the record validated once per patient);
- ``map+assess``: the same, then ``assess(record).to_dict()`` for each patient.

It prints resources per second and the ratio of each step to the floor.

``--synthetic N`` instead generates N patients with ``hccwatch synth``'s generator (in memory,
the HCC patients among them kept; about 116 resources each, mostly lab Observations) and prints,
in processor milliseconds per HCC patient (best of ``--repeat`` passes, garbage collector frozen
after the setup so the figures do not depend on what else the process holds):

- ``map``: ``read_resources`` (typed decoding, code look-ups, the record validated once);
- ``validate``: ``parse_record`` of the mapped record (what ``assess`` of the JSON form redoes);
- ``assess(record)``: ``assess`` of the record as JSON data (validated again);
- ``assess(patient_record)``: ``assess`` of ``FhirReading.patient_record`` (not validated again);
- ``map+assess``: ``read_resources`` then ``assess(reading.patient_record)``, the batch's path.

Run it on two commits to compare them: the cohort depends on the seed only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _timing import best_cpu_seconds

from hccwatch import assess, default_knowledge, parse_record
from hccwatch.adapters.fhir import read_fhir_by_patient, read_resources

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HCCWATCH_SHARED_DATA") or REPO.parent / "shared")
AS_OF = dt.date(2026, 11, 24)


def _count(bundle: Any) -> int:
    return len(bundle.get("entry", [])) if isinstance(bundle, dict) else 0


def _run(name: str, texts: list[str], repeat: int) -> None:
    bundles = [json.loads(t) for t in texts]
    resources = sum(_count(b) for b in bundles)
    decode = best_cpu_seconds(repeat, lambda: [json.loads(t) for t in texts])

    def mapping() -> None:
        for b in bundles:
            read_fhir_by_patient(b, as_of=AS_OF)

    def mapping_and_assessment() -> None:
        for b in bundles:
            for reading in read_fhir_by_patient(b, as_of=AS_OF).values():
                assess(reading.patient_record, as_of=AS_OF).to_dict()

    mapped = best_cpu_seconds(repeat, mapping)
    assessed = best_cpu_seconds(repeat, mapping_and_assessment)
    print(f"{name}: {len(bundles)} Bundles, {resources} resources")
    for label, seconds in (("decode", decode), ("map", mapped), ("map+assess", assessed)):
        rate = resources / seconds if seconds > 0 else float("inf")
        ratio = seconds / decode if decode > 0 else float("inf")
        print(f"  {label:<11} {seconds * 1000:9.1f} ms  {rate:12,.0f} resources/s  {ratio:6.1f} x decode")


def _synthetic(patients: int, seed: int, repeat: int) -> None:
    from hccwatch.population.synth import generate, load_distributions

    d = load_distributions()
    as_of = dt.date.fromisoformat(str(d.values["reference_date"]))
    cohort: list[list[dict[str, Any]]] = []
    for resources in generate(d, patients, seed):
        reading = read_resources(resources, as_of=as_of)
        if not any("no hepatocellular carcinoma" in w.message for w in reading.warnings):
            cohort.append(resources)
    readings = [read_resources(resources, as_of=as_of) for resources in cohort]
    records = [r.record for r in readings]
    # Older versions have no patient_record: the figure is then that of validating the record.
    validated = [getattr(r, "patient_record", None) or parse_record(r.record) for r in readings]
    gc.collect()
    gc.freeze()
    n = len(cohort)
    resources_n = sum(len(r) for r in cohort)

    def map_and_assess() -> None:
        for resources in cohort:
            reading = read_resources(resources, as_of=as_of)
            assess(getattr(reading, "patient_record", None) or reading.record, as_of=as_of)

    steps: list[tuple[str, Callable[[], object]]] = [
        ("map", lambda: [read_resources(resources, as_of=as_of) for resources in cohort]),
        ("validate", lambda: [parse_record(r) for r in records]),
        ("assess(record)", lambda: [assess(r, as_of=as_of) for r in records]),
        ("assess(patient_record)", lambda: [assess(r, as_of=as_of) for r in validated]),
        ("map+assess", map_and_assess),
    ]
    print(
        f"synthetic cohort: seed {seed}, {patients} patients, {n} with HCC, "
        f"{resources_n / n:.0f} resources each"
    )
    for label, work in steps:
        per_patient = best_cpu_seconds(repeat, work) / n
        rate = 1 / per_patient if per_patient > 0 else float("inf")
        print(f"  {label:<23} {per_patient * 1000:7.3f} ms/patient  {rate:9,.0f} patients/s (one core)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--synthetic", type=int, metavar="N", help="time a synthetic cohort of N patients")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    default_knowledge()
    if args.synthetic:
        _synthetic(args.synthetic, args.seed, args.repeat)
        return
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
