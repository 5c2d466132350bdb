"""``hccwatch batch`` on real public Bulk Data exports nobody on the project wrote: the SMART
sample-bulk-fhir-datasets 10-patient export (with its bulk client's ``log.ndjson``), the Inferno
US Core reference server's bulk export, and the mCODE STU4 examples assembled into an export.
Counts are checked against a count made here from the files; one real patient of each is then
given an HCC Condition and AFP results and followed into the registry; real lines, mutated,
never crash the run nor go uncounted."""

from __future__ import annotations

import csv
import json
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from result_files import same_files

from hccwatch.adapters.fhir.codes import code_tables
from hccwatch.app.cli import main
from hccwatch.population.bulk import CLIENT_LOG, CLIENT_LOG_REASON, R4_TYPES
from hccwatch.population.run import run_batch
from hccwatch.population.spark_engine import spark_available
from hccwatch.registry import Actor, Registry
from support import AS_OF, requires_shared, shared_file, shared_path

pytestmark = requires_shared

SYNTHEA = ("data", "synthea-bulk-ndjson-10")
INFERNO = ("data", "inferno-uscore", "decoded-bulk-export")
MCODE = ("data", "mcode-examples")
# One real patient of each export, chosen for holding most kinds of resource of their export, and
# the kinds the test expects the patient to hold.
PATIENTS = {
    "synthea": (
        "a5cb8ce9-cec6-6b23-0990-cbaf753578a4",
        {"Condition", "Encounter", "MedicationRequest", "Procedure", "Immunization", "AllergyIntolerance"},
    ),
    "inferno": (
        "355",
        {"Condition", "Encounter", "MedicationRequest", "Procedure", "Observation", "Immunization"},
    ),
    "mcode": (
        "cancer-patient-jenny-m",
        {
            "Condition",
            "MedicationRequest",
            "MedicationAdministration",
            "Procedure",
            "Observation",
            "Specimen",
        },
    ),
}
INFERNO_PATIENT = PATIENTS["inferno"][0]
# The file of each export the batch leaves out: the SMART export's bulk client log.
SKIPPED = {"synthea": CLIENT_LOG}
UCUM = "http://unitsofmeasure.org"
WHY_NOT_SPARK = spark_available()
ADMIN = Actor("cli:test", "admin")


# --- an independent count of an export, from its bytes ------------------------------------------


@dataclass
class Expected:
    """What an export holds, counted here line by line (not with the batch's own code)."""

    files: int = 0
    lines: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    patients: set[str] = field(default_factory=set)
    problems: list[tuple[str, int, str]] = field(default_factory=list)  # file, line, kind
    refs: list[tuple[str, int, str]] = field(default_factory=list)  # file, line, patient named
    nonblank: int = 0

    def dangling(self) -> list[tuple[str, int, str]]:
        return [(f, n, "dangling_reference") for f, n, pid in self.refs if pid not in self.patients]

    def all_problems(self) -> list[tuple[str, int, str]]:
        return sorted(self.problems + self.dangling())


def _patient_named(resource: dict[str, Any]) -> str | None:
    # FHIR names the patient of a resource in one of these (Bulk Data's patient compartment).
    for key in ("subject", "patient", "beneficiary"):
        ref = resource.get(key)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            value: str = ref["reference"]
            if value.startswith("Patient/"):
                return value.removeprefix("Patient/").split("/_history/")[0] or None
    return None


def count(folder: Path, skipped: str | None = None) -> Expected:
    """What the ``*.ndjson`` files of ``folder`` hold, but ``skipped`` (a file the batch must leave
    out of the export)."""
    out = Expected()
    for path in sorted(folder.glob("*.ndjson")):
        if path.name == skipped:
            continue
        out.files += 1
        physical = path.read_bytes().split(b"\n")
        if physical[-1] == b"":
            physical.pop()
        out.lines += len(physical)
        for number, raw in enumerate(physical, start=1):
            line = raw.rstrip(b"\r")
            if not line.strip():
                continue
            out.nonblank += 1
            try:
                resource = orjson.loads(line)
            except orjson.JSONDecodeError:
                out.problems.append((path.name, number, "bad_line"))
                continue
            rtype = resource.get("resourceType") if isinstance(resource, dict) else None
            if not isinstance(rtype, str) or not rtype:
                out.problems.append((path.name, number, "bad_line"))
            elif rtype not in R4_TYPES:
                out.problems.append((path.name, number, "unknown_type"))
            elif rtype == "Patient":
                rid = resource.get("id")
                if isinstance(rid, str) and rid:
                    out.by_type[rtype] += 1
                    out.patients.add(rid)
                else:
                    out.problems.append((path.name, number, "bad_line"))
            else:
                out.by_type[rtype] += 1
                pid = _patient_named(resource)
                if pid is not None:
                    out.refs.append((path.name, number, pid))
    return out


def _problems(result: Path) -> list[tuple[str, int, str]]:
    with (result / "problems.csv").open(newline="") as fh:
        return [(r["file"], int(r["line"]), r["kind"]) for r in csv.DictReader(fh)]


def _worklist(result: Path) -> list[dict[str, str]]:
    with (result / "worklist.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def _check_counts(summary: dict[str, Any], result: Path, expected: Expected) -> None:
    export = summary["export"]
    assert export["files"] == expected.files
    # The summary's "lines" are the lines that hold something: blank ones are not counted.
    assert export["lines"] == expected.nonblank
    assert export["resources_by_type"] == dict(sorted(expected.by_type.items()))
    assert export["patients"] == len(expected.patients)
    problems = expected.all_problems()
    assert export["problems_by_kind"] == dict(sorted(Counter(k for _, _, k in problems).items()))
    assert sorted(_problems(result)) == problems
    # Nothing lost: every line that is not blank is a resource or a counted problem.
    assert sum(export["resources_by_type"].values()) + len(problems) - len(expected.dangling()) == (
        expected.nonblank
    )


def real_export(name: str, to: Path) -> Path:
    """A copy of a real export in ``to``. The mCODE examples are one resource a file: assembled
    into an export as a Bulk Data server writes one (one resource a line, one file per type)."""
    if name != "mcode":
        shutil.copytree(shared_path(*(SYNTHEA if name == "synthea" else INFERNO)), to)
        return to
    by_type: dict[str, list[bytes]] = {}
    for path in sorted(shared_path(*MCODE).glob("*-*.json")):
        resource = orjson.loads(path.read_bytes())
        by_type.setdefault(resource["resourceType"], []).append(orjson.dumps(resource))
    to.mkdir()
    for rtype, lines in by_type.items():
        (to / f"{rtype}.ndjson").write_bytes(b"".join(line + b"\n" for line in lines))
    return to


# --- 1. the real exports as they are --------------------------------------------------------------


@pytest.mark.parametrize("name", ["synthea", "inferno", "mcode"])
def test_a_real_export_runs_and_its_counts_are_the_files(name: str, tmp_path: Path) -> None:
    folder = real_export(name, tmp_path / "export")
    expected = count(folder, SKIPPED.get(name))
    out = tmp_path / "result"
    summary = run_batch(folder, out, as_of=AS_OF)
    _check_counts(summary, out, expected)
    assert [f["file"] for f in summary["export"]["skipped_files"]] == (
        [SKIPPED[name]] if name in SKIPPED else []
    )
    assert summary["cohort"]["patients"] == 0
    assert _worklist(out) == []
    assert (out / "assessments.jsonl").read_bytes() == b""
    assert summary["as_of"] == AS_OF.isoformat()


def test_the_synthea_export_holds_what_its_upstream_says(tmp_path: Path) -> None:
    # Pinned so that a change of the shared copy shows here rather than as a puzzling count.
    expected = count(shared_path(*SYNTHEA))
    assert (expected.files, expected.lines, len(expected.patients)) == (14, 7164, 13)
    assert expected.dangling() == []
    # The bulk client's log sits beside the resources (the folder has no manifest): four JSON
    # objects without a resourceType, each an event of the client's with an eventId.
    assert expected.problems == [("log.ndjson", n, "bad_line") for n in (1, 2, 3, 4)]
    # The batch leaves the log out, says so, and takes the evaluation date from the
    # transactionTime the log records (2024-08-06T18:12:57Z), as it would from a manifest.
    summary = run_batch(shared_path(*SYNTHEA), tmp_path / "r")
    assert summary["as_of"] == "2024-08-06"
    assert summary["export"]["skipped_files"] == [{"file": "log.ndjson", "reason": CLIENT_LOG_REASON}]
    assert summary["export"]["files"] == 13
    assert summary["export"]["problems_listed"] == 0
    assert _problems(tmp_path / "r") == []


def test_the_inferno_export_names_only_its_own_patients() -> None:
    expected = count(shared_path(*INFERNO))
    assert sorted(expected.patients) == ["355", "85", "907"]
    assert expected.problems == [] and expected.dangling() == []
    assert len(expected.refs) == sum(n for t, n in expected.by_type.items() if t in _COMPARTMENT_TYPES)


# The inferno export's resource types that belong to one patient (all the others name none).
_COMPARTMENT_TYPES = frozenset(
    """AllergyIntolerance CarePlan CareTeam Condition Coverage Device DiagnosticReport
    DocumentReference Encounter Goal Immunization Media MedicationDispense MedicationRequest
    Observation Procedure RelatedPerson ServiceRequest Specimen""".split()
)


def test_a_dangling_reference_in_a_real_export_is_named_with_file_and_line(tmp_path: Path) -> None:
    export = tmp_path / "export"
    shutil.copytree(shared_path(*INFERNO), export)
    # Patient 907 is dropped: the one Encounter naming it is then a dangling reference.
    lines = (export / "Patient.ndjson").read_bytes().splitlines(keepends=True)
    kept = [x for x in lines if orjson.loads(x)["id"] != "907"]
    assert len(kept) == len(lines) - 1
    (export / "Patient.ndjson").write_bytes(b"".join(kept))
    expected = count(export)
    assert [(f, k) for f, _, k in expected.dangling()] == [("Encounter.ndjson", "dangling_reference")]
    summary = run_batch(export, tmp_path / "r", as_of=AS_OF)
    _check_counts(summary, tmp_path / "r", expected)


# --- 2. a real patient made an HCC patient --------------------------------------------------------


def _hcc_condition(pid: str) -> dict[str, Any]:
    # The codes are the FHIR adapter's own (knowledge entry fhir.hcc), not spelled out here.
    return {
        "resourceType": "Condition",
        "id": "hccwatch-test-hcc",
        "clinicalStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
            ]
        },
        "verificationStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}
            ]
        },
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": min(code_tables().hcc_snomed)}]},
        "subject": {"reference": f"Patient/{pid}"},
        "onsetDateTime": "2025-03-10",
    }


def _afp(pid: str, n: int, day: str, value: float) -> dict[str, Any]:
    loinc = min(code for code, test in code_tables().labs.items() if test == "afp")
    return {
        "resourceType": "Observation",
        "id": f"hccwatch-test-afp-{n}",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": day,
        "valueQuantity": {"value": value, "unit": "ng/mL", "system": UCUM, "code": "ng/mL"},
    }


AFP_RESULTS = (("2026-05-02", 8.5), ("2026-09-14", 11.2))


def _append(path: Path, resources: list[dict[str, Any]]) -> None:
    with path.open("ab") as fh:
        for r in resources:
            fh.write(orjson.dumps(r) + b"\n")


def hcc_export(name: str, pid: str, to: Path) -> Path:
    """A copy of a real export in which ``pid`` has an HCC Condition and two AFP results."""
    real_export(name, to)
    conditions = sorted(to.glob("Condition*.ndjson"))[0]
    observations = sorted(to.glob("Observation*.ndjson"))
    _append(conditions, [_hcc_condition(pid)])
    afp = [_afp(pid, n, day, value) for n, (day, value) in enumerate(AFP_RESULTS)]
    # The synthea 10-patient export has no Observation file: one is added, as an EHR's would be.
    _append(observations[0] if observations else to / "Observation.000.ndjson", afp)
    return to


@pytest.fixture(scope="module", params=sorted(PATIENTS))
def hcc_result(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, str]:
    pid = PATIENTS[request.param][0]
    base = tmp_path_factory.mktemp("hcc")
    export = hcc_export(request.param, pid, base / "export")
    out = base / "result"
    run_batch(export, out, as_of=AS_OF)
    return export, out, pid


def test_the_cohort_is_the_one_patient_given_hcc(hcc_result: tuple[Path, Path, str]) -> None:
    export, out, pid = hcc_result
    summary = json.loads((out / "summary.json").read_text())
    _check_counts(summary, out, count(export, CLIENT_LOG))
    assert summary["cohort"]["patients"] == 1
    rows = _worklist(out)
    assert [r["patient_id"] for r in rows] == [pid]
    (row,) = rows
    # Their real resources went through the mapping: no error row, whatever they hold.
    assert row["status"] in ("assessed", "cannot_assess")
    if row["status"] == "cannot_assess":
        assert row["message"]
    else:
        assert row["afp_latest_ng_ml"] == str(AFP_RESULTS[-1][1])
        assert row["afp_latest_date"] == AFP_RESULTS[-1][0]


# A real synthea patient whose Patient resource has a deceasedDateTime (three of the export do).
SYNTHEA_DECEASED = "129c6ac7-8d06-89de-ad63-0204a93e76c3"


def test_a_real_patient_who_died_made_an_hcc_patient_is_not_assessed(tmp_path: Path) -> None:
    export = hcc_export("synthea", SYNTHEA_DECEASED, tmp_path / "export")
    (patient,) = _own(export, SYNTHEA_DECEASED)["Patient"]
    died = patient["deceasedDateTime"][:10]  # the day as written, as the adapter reads every dateTime
    assert died < AS_OF.isoformat()
    out = tmp_path / "result"
    summary = run_batch(export, out, as_of=AS_OF)
    _check_counts(summary, out, count(export, CLIENT_LOG))
    assert summary["cohort"]["patients"] == 1
    (row,) = _worklist(out)
    assert (row["patient_id"], row["status"]) == (SYNTHEA_DECEASED, "deceased")
    assert row["message"] == (
        f"the record says the patient died on {died}: hccwatch assesses the follow-up of living "
        "patients, so nothing is assessed or due"
    )
    # Nothing due, nothing overdue: not counted among the patients lost to follow-up.
    assert row["overdue"] == "" and row["next_due_item"] == "" and row["next_due_date"] == ""
    assert summary["cohort"]["by_status"] == {"deceased": 1}
    assert summary["cohort"]["with_overdue_surveillance"] == 0
    assert (out / "assessments.jsonl").read_bytes() == b""
    (record,) = [json.loads(x) for x in (out / "records.jsonl").read_text().splitlines()]
    assert record["deceased_on"] == died and "deceased" not in record


def _own(export: Path, pid: str) -> dict[str, list[dict[str, Any]]]:
    """The patient's resources by type, read here from the export."""
    mine: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(export.glob("*.ndjson")):
        for raw in path.read_bytes().splitlines():
            r = json.loads(raw)
            if r.get("resourceType") == "Patient" and r.get("id") == pid or _patient_named(r) == pid:
                mine.setdefault(r["resourceType"], []).append(r)
    return mine


def test_the_patients_real_resources_reach_the_record(hcc_result: tuple[Path, Path, str]) -> None:
    export, out, pid = hcc_result
    mine = _own(export, pid)
    (kinds,) = [k for p, k in PATIENTS.values() if p == pid]
    assert kinds <= mine.keys()
    (record,) = [json.loads(x) for x in (out / "records.jsonl").read_text().splitlines()]
    assert record["id"] == pid
    (patient,) = mine["Patient"]
    assert record["sex"] == patient["gender"]
    assert record["birth_date"] == patient["birthDate"]
    afp = sorted((lab["date"], lab["value"]) for lab in record["labs"] if lab["test"] == "afp")
    assert afp == sorted(AFP_RESULTS)
    # Every Procedure of theirs was read for the dialysis look-back (the mapper says how many).
    procedures = len(mine["Procedure"])
    assert any(
        f"among the {procedures} Procedure resources read" in a["reason"] for a in record["assumptions"]
    )
    # Warnings name only this patient's resources.
    (row,) = _worklist(out)
    own_ids = {f"{t}/{r.get('id')}" for t, rs in mine.items() for r in rs}
    named = re.findall(r"(?:^|; )([A-Z][A-Za-z]+/[^:;\s]+): ", row["warnings"])
    assert set(named) <= own_ids


def test_what_the_export_lacks_is_named_not_guessed(hcc_result: tuple[Path, Path, str]) -> None:
    _, out, pid = hcc_result
    rows = _worklist(out)
    if rows[0]["status"] != "assessed":
        pytest.skip("not assessed: the previous test names why")
    (a,) = [json.loads(x) for x in (out / "assessments.jsonl").read_text().splitlines()]
    assert a["record_id"] == pid and a["as_of"] == AS_OF.isoformat()
    assert "not a diagnosis" in a["disclaimer"]
    # Two AFP results: no trend, and the third one it needs is named.
    assert a["afp"]["trend"] is None and not a["afp"]["determined"]
    assert any(m.startswith("labs.afp") for m in a["afp"]["missing"])
    # Every score that could not be worked out names what it lacks, and the worklist leaves it blank.
    for name, score in a["scores"].items():
        if not score["determined"]:
            assert score["missing"], name
    for name, column in (("child_pugh", "child_pugh"), ("meld_3", "meld_3"), ("albi", "albi_grade")):
        if not a["scores"][name]["determined"]:
            assert rows[0][column] == "", name


def test_the_batch_result_loads_the_patient_into_the_registry(
    hcc_result: tuple[Path, Path, str], tmp_path: Path
) -> None:
    _, out, pid = hcc_result
    if _worklist(out)[0]["status"] != "assessed":
        pytest.skip("not assessed: the cohort test names why")
    url = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    done = CliRunner().invoke(main, ["registry", "import", str(out), "--database", url])
    assert done.exit_code == 0, done.stderr
    assert done.stdout.startswith("added 1, updated 0, unchanged 0, refused 0 (batch result result:")
    registry = Registry.open(url)
    try:
        stored = registry.find_patient(ADMIN, pid)
        assert stored.assessment_as_of == AS_OF
        assert stored.assessment is not None
        (batch,) = [json.loads(x) for x in (out / "assessments.jsonl").read_text().splitlines()]
        assert stored.assessment["surveillance"] == batch["surveillance"]
        assert [x["id"] for x in stored.assessment["alerts"]] == [x["id"] for x in batch["alerts"]]
    finally:
        registry.close()


@pytest.mark.spark
@pytest.mark.skipif(WHY_NOT_SPARK is not None, reason=f"Spark tests skipped: {WHY_NOT_SPARK}")
def test_both_engines_write_the_same_bytes_for_a_real_export(tmp_path: Path) -> None:
    # The synthea export (its bulk client's log left out) and one HCC patient (a cohort row).
    export = hcc_export("synthea", PATIENTS["synthea"][0], tmp_path / "export")
    run_batch(export, tmp_path / "duck", as_of=AS_OF, engine="duckdb")
    run_batch(export, tmp_path / "spark", as_of=AS_OF, engine="spark", spark_master="local[2]")
    duck = same_files(tmp_path / "duck", tmp_path / "spark")
    assert json.loads(duck["summary.json"])["cohort"]["patients"] == 1


# --- 3. real lines, mutated -------------------------------------------------------------------


def _fuzz_base() -> list[tuple[str, list[bytes]]]:
    """Real lines to mutate: the inferno export's files, patient 355 made an HCC patient, so the
    mapping runs on every draw. Read once, at collection; empty when the shared data is absent."""
    folder = shared_file(*INFERNO)
    if folder is None:
        return []
    contents = [(p.name, p.read_bytes().splitlines()) for p in sorted(folder.glob("*.ndjson"))]
    extra = {
        "Condition.ndjson": [orjson.dumps(_hcc_condition(INFERNO_PATIENT))],
        "Observation.ndjson": [
            orjson.dumps(_afp(INFERNO_PATIENT, n, day, value)) for n, (day, value) in enumerate(AFP_RESULTS)
        ],
    }
    return [(name, lines + extra.get(name, [])) for name, lines in contents]


FUZZ_BASE = _fuzz_base()
_WRONG_TYPES = st.sampled_from([None, 0, -1.5, True, "", "x", [], {}, [None], {"a": 1}])


def _object(line: bytes) -> dict[str, Any] | None:
    try:
        resource = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return resource if isinstance(resource, dict) and resource else None


def _mutate(line: bytes, data: st.DataObject) -> list[bytes]:
    """One mutation of one real line (perhaps mutated already): the line or lines in its place."""
    kinds = ["truncate", "insert", "utf8", "duplicate", "blank", "crlf", "spaces"]
    resource = _object(line)
    kind = data.draw(st.sampled_from(kinds + ["flip"] * bool(line) + ["wrong_type", "drop"] * bool(resource)))
    at = data.draw(st.integers(0, max(len(line) - 1, 0) if kind == "flip" else len(line)))
    if kind == "truncate":
        return [line[:at]]
    if kind == "flip":
        return [line[:at] + bytes([line[at] ^ data.draw(st.integers(1, 255))]) + line[at + 1 :]]
    if kind == "insert":
        return [line[:at] + bytes([data.draw(st.integers(0, 255))]) + line[at:]]
    if kind == "utf8":
        bad = data.draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80"]))
        return [line[:at] + bad + line[at:]]
    if resource is not None and kind in ("wrong_type", "drop"):
        key = data.draw(st.sampled_from(sorted(resource)))
        if kind == "drop":
            del resource[key]
        else:
            resource[key] = data.draw(_WRONG_TYPES)
        return [orjson.dumps(resource)]
    if kind == "duplicate":
        return [line, line]
    if kind == "blank":
        return [line, b""]
    if kind == "spaces":
        return [b" \t ", line]
    return [line + b"\r"]  # a CRLF line end on this line only


def _of_patient(files: list[tuple[str, list[bytes]]], pid: str) -> list[tuple[int, int]]:
    """(file, line) of the lines naming the patient, as far as a byte search tells (the mapping
    of the patient in the cohort runs on what they hold)."""
    needles = (f'"Patient/{pid}"'.encode(), f'"id":"{pid}"'.encode(), f'"id": "{pid}"'.encode())
    return [
        (f, n)
        for f, (_, lines) in enumerate(files)
        for n, line in enumerate(lines)
        if any(x in line for x in needles)
    ]


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_mutated_real_lines_never_crash_nor_go_uncounted(tmp_path: Path, data: st.DataObject) -> None:
    contents = [(name, list(lines)) for name, lines in FUZZ_BASE]
    for _ in range(data.draw(st.integers(1, 6), label="mutations")):
        if data.draw(st.booleans(), label="a line of the cohort patient"):
            f, n = data.draw(st.sampled_from(_of_patient(contents, INFERNO_PATIENT)))
        else:
            f = data.draw(st.integers(0, len(contents) - 1), label="file")
            n = data.draw(st.integers(0, len(contents[f][1]) - 1), label="line")
        lines = contents[f][1]
        lines[n : n + 1] = _mutate(lines[n], data)
    crlf = data.draw(st.booleans(), label="whole export CRLF")
    ending = b"\r\n" if crlf else b"\n"
    run = Path(tempfile.mkdtemp(dir=tmp_path))
    export = run / "export"
    export.mkdir(parents=True)
    for name, lines in contents:
        (export / name).write_bytes(b"".join(line + ending for line in lines))
    expected = count(export)
    summary = run_batch(export, run / "a", as_of=AS_OF)
    _check_counts(summary, run / "a", expected)
    assert all(r["status"] != "error" for r in _worklist(run / "a")), _worklist(run / "a")
    run_batch(export, run / "b", as_of=AS_OF)
    same_files(run / "a", run / "b")
    shutil.rmtree(run)


def test_the_fuzz_has_real_lines_to_work_on() -> None:
    assert sum(len(lines) for _, lines in FUZZ_BASE) > 700
