"""hccwatch synth: deterministic, streamed, standard codes, every distribution entry used."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from hccwatch.population import synth
from hccwatch.population.synth import RESOURCE_TYPES, generate_patient, load_distributions, write_cohort

SRC = Path(synth.__file__)


def _read(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_seed_same_bytes_other_seed_other_cohort(tmp_path: Path) -> None:
    write_cohort(tmp_path / "a", 60, 3)
    write_cohort(tmp_path / "b", 60, 3)
    write_cohort(tmp_path / "c", 60, 4)
    assert _read(tmp_path / "a") == _read(tmp_path / "b")
    assert _read(tmp_path / "a")["Patient.000.ndjson"] != _read(tmp_path / "c")["Patient.000.ndjson"]


def test_manifest_lists_every_file_with_its_count(export_dir: Path) -> None:
    manifest = json.loads((export_dir / "manifest.json").read_text())
    assert manifest["transactionTime"].startswith(load_distributions()["reference_date"])
    assert [o["type"] for o in manifest["output"]] == list(RESOURCE_TYPES)
    for item in manifest["output"]:
        lines = (export_dir / item["url"]).read_bytes().splitlines()
        assert len(lines) == item["count"]
        assert all(json.loads(line)["resourceType"] == item["type"] for line in lines)
    assert not list(export_dir.glob("*.part"))


def test_most_patients_are_noise_and_hcc_uses_standard_codes(export_dir: Path) -> None:
    conditions = [json.loads(x) for x in (export_dir / "Condition.000.ndjson").read_text().splitlines()]
    codes = [
        (c["system"], c["code"], x["subject"]["reference"]) for x in conditions for c in x["code"]["coding"]
    ]
    hcc = {ref for system, code, ref in codes if (system, code) == ("http://snomed.info/sct", "109841003")}
    icd = {ref for system, code, ref in codes if code == "C22.0"}
    patients = len((export_dir / "Patient.000.ndjson").read_text().splitlines())
    assert hcc == icd
    assert 0 < len(hcc) < patients / 4
    # Metastasis TO the liver (C78.7) is in the noise, as in a real export.
    assert any(code == "C78.7" for _, code, _ in codes)
    afp = [json.loads(x) for x in (export_dir / "Observation.000.ndjson").read_text().splitlines()]
    afp = [o for o in afp if o["code"]["coding"][0]["code"] == "1834-1"]
    assert afp and all(o["valueQuantity"]["code"] == "ng/mL" for o in afp)


def test_afp_negative_share_is_near_the_published_46_percent() -> None:
    # Farinati 2006 via the clinical reference: AFP normal (< 20 ng/mL) at diagnosis in about 46%.
    d = load_distributions()
    first_afp = []
    for i in range(2500):
        resources = generate_patient(d, 11, i)
        if any(r["resourceType"] == "Procedure" for r in resources):
            afp = [
                r
                for r in resources
                if r["resourceType"] == "Observation" and r["code"]["coding"][0]["code"] == "1834-1"
            ]
            first_afp.append(afp[0]["valueQuantity"]["value"])
    negative = sum(v < 20 for v in first_afp) / len(first_afp)
    assert 0.36 < negative < 0.56, (negative, len(first_afp))


def test_every_distribution_entry_is_read_by_the_generator() -> None:
    data = tomllib.loads((SRC.parent / "synth_distributions.toml").read_text())
    code = SRC.read_text()
    unread = [key for key in data if f'd["{key}"]' not in code and f"d['{key}']" not in code]
    assert not unread
    for key, entry in data.items():
        assert entry["status"] in {"verified", "secondary", "memory", "policy"}, key
        assert entry["source"].strip(), key


def test_no_clock_is_read() -> None:
    assert not re.search(r"\b(today|now|utcnow|time\.time)\(", SRC.read_text())


def _peak_rss_kib(out: Path, n: int) -> int:
    """Peak resident memory of a fresh process writing an n-patient export."""
    code = (
        "import resource, sys, pathlib\n"
        "from hccwatch.population.synth import write_cohort\n"
        "write_cohort(pathlib.Path(sys.argv[1]), int(sys.argv[2]), 5)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(out), str(n)], capture_output=True, text=True, check=True
    )
    return int(done.stdout.split()[-1])


def test_memory_stays_flat_as_the_cohort_grows(tmp_path: Path) -> None:
    small = _peak_rss_kib(tmp_path / "small", 200)
    large = _peak_rss_kib(tmp_path / "large", 10_000)
    # Fifty times the patients, the same footprint within a few MiB (one patient at a time).
    assert large < small + 16 * 1024, (small, large)
