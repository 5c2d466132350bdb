"""hccwatch batch on the embedded engine: cohort from codes, outputs, problems with file and line,
byte-identical reruns, safe reruns after an interruption."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from result_files import files
from stand_in_mapper import read

from hccwatch.population.batch import COLUMNS, NO_SIGNAL
from hccwatch.population.bulk import ExportError, classify, open_export
from hccwatch.population.run import run_batch

AS_OF = dt.date(2026, 11, 24)


@pytest.fixture(scope="module")
def result(export_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("batch") / "result"
    run_batch(export_dir, out, mapper=read)
    return out


def test_cohort_is_the_patients_with_an_hcc_condition(export_dir: Path, result: Path) -> None:
    hcc = set()
    for line in (export_dir / "Condition.000.ndjson").read_text().splitlines():
        c = json.loads(line)
        if any(x["code"] in ("109841003", "C22.0") for x in c["code"]["coding"]):
            hcc.add(c["subject"]["reference"].removeprefix("Patient/"))
    with (result / "worklist.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["patient_id"] for r in rows] == sorted(hcc)
    assert all(r["status"] == "assessed" for r in rows)
    summary = json.loads((result / "summary.json").read_text())
    assert summary["cohort"]["patients"] == len(hcc)
    assert summary["export"]["patients"] == 300
    assert summary["as_of"] == "2026-11-24"  # the manifest's transactionTime, not the clock


def test_worklist_parquet_csv_and_assessments_agree(result: Path) -> None:
    table = pq.read_table(result / "worklist.parquet")
    assert table.column_names == [name for name, _ in COLUMNS]
    with (result / "worklist.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert table.column("patient_id").to_pylist() == [r["patient_id"] for r in rows]
    assessments = [json.loads(x) for x in (result / "assessments.jsonl").read_text().splitlines()]
    assert [a["record_id"] for a in assessments] == [r["patient_id"] for r in rows]
    assert all(a["as_of"] == "2026-11-24" for a in assessments)
    html = (result / "summary.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "not a diagnosis" in html


def test_worklist_row_reads_alerts_and_afp_from_the_assessment(result: Path) -> None:
    with (result / "worklist.csv").open() as fh:
        rows = {r["patient_id"]: r for r in csv.DictReader(fh)}
    by_id = {
        a["record_id"]: a for a in map(json.loads, (result / "assessments.jsonl").read_text().splitlines())
    }
    for pid, row in rows.items():
        a = by_id[pid]
        assert row["afp_trend"] == (a["afp"]["trend"] or "")
        urgencies = {x["urgency"] for x in a["alerts"]}
        assert (row["highest_urgency"] in urgencies) if urgencies else row["highest_urgency"] == ""
        assert row["overdue"] == "; ".join(
            n["item"]
            for n in sorted(a["surveillance"]["next_due"], key=lambda n: (n["due"] or "9999", n["item"]))
            if n["overdue"]
        )


def test_generic_site_reason_wording_is_still_the_one_the_worklist_skips(result: Path) -> None:
    reasons = {
        r
        for a in map(json.loads, (result / "assessments.jsonl").read_text().splitlines())
        for s in a["metastasis"]["likely_sites"]
        for r in s["reasons"]
    }
    assert NO_SIGNAL in reasons


def test_same_input_gives_byte_identical_output(export_dir: Path, result: Path, tmp_path: Path) -> None:
    run_batch(export_dir, tmp_path / "again", mapper=read)
    assert files(tmp_path / "again") == files(result)


def test_problem_lines_are_counted_with_file_and_line_and_never_abort(tmp_path: Path) -> None:
    src = tmp_path / "export"
    src.mkdir()
    pid = "p1"
    good = [
        {"resourceType": "Patient", "id": pid, "gender": "female", "birthDate": "1960-02-01"},
        {
            "resourceType": "Condition",
            "id": "c1",
            "subject": {"reference": f"Patient/{pid}"},
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C22.0"}]},
        },
    ]
    lines = [json.dumps(r) for r in good]
    lines += [
        "{not json",  # line 3
        "",  # blank: ignored, still counted in the numbering
        json.dumps({"resourceType": "Florp", "id": "x"}),  # line 5
        json.dumps(
            {"resourceType": "Observation", "id": "o", "subject": {"reference": "Patient/ghost"}}
        ),  # 6
        json.dumps([1, 2]),  # line 7
        json.dumps({"resourceType": "Organization", "id": "org"}),  # line 8: no patient, fine
    ]
    (src / "mixed.ndjson").write_text("\r\n".join(lines) + "\r\n")
    out = tmp_path / "out"
    summary = run_batch(src, out, as_of=AS_OF, mapper=read)
    with (out / "problems.csv").open() as fh:
        problems = [(r["file"], int(r["line"]), r["kind"]) for r in csv.DictReader(fh)]
    assert problems == [
        ("mixed.ndjson", 3, "bad_line"),
        ("mixed.ndjson", 5, "unknown_type"),
        ("mixed.ndjson", 6, "dangling_reference"),
        ("mixed.ndjson", 7, "bad_line"),
    ]
    assert summary["export"]["problems_by_kind"] == {
        "bad_line": 2,
        "dangling_reference": 1,
        "unknown_type": 1,
    }
    assert summary["cohort"]["patients"] == 1


def test_without_a_manifest_the_date_must_be_given(tmp_path: Path) -> None:
    src = tmp_path / "e"
    src.mkdir()
    (src / "Patient.ndjson").write_text(json.dumps({"resourceType": "Patient", "id": "a"}) + "\n")
    with pytest.raises(ExportError, match="cannot determine the evaluation date"):
        run_batch(src, tmp_path / "o", mapper=read)


def test_interrupted_run_leftovers_are_ignored_and_results_replaced(
    export_dir: Path, result: Path, tmp_path: Path
) -> None:
    out = tmp_path / "result"
    shutil.copytree(result, out)
    (out / "worklist.csv").write_text("stale")
    for leftover in (tmp_path / ".result.partial", tmp_path / ".result.work"):
        leftover.mkdir()
        (leftover / "junk").write_text("half-written")
    run_batch(export_dir, out, mapper=read)
    assert files(out) == files(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result"]


def test_a_folder_that_is_not_a_batch_result_is_not_overwritten(export_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        run_batch(export_dir, out, mapper=read)
    assert (out / "thesis.txt").read_text() == "keep me"


def test_manifest_with_remote_urls_is_refused_clearly(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(
        json.dumps(
            {
                "transactionTime": "2026-11-24T00:00:00Z",
                "output": [{"type": "Patient", "url": "https://ehr.example/p.ndjson"}],
            }
        )
    )
    with pytest.raises(ExportError, match="download the files first"):
        open_export(tmp_path / "manifest.json")


def test_secondary_liver_malignancy_is_not_hcc() -> None:
    line = json.dumps(
        {
            "resourceType": "Condition",
            "subject": {"reference": "Patient/a"},
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C78.7"}]},
        }
    )
    judged = classify(line.encode(), "f", 1)
    assert not judged.is_hcc  # type: ignore[union-attr]


def test_json_bytes_refuses_a_number_that_is_not_finite_anywhere() -> None:
    from hccwatch.population.batch import json_bytes

    assert json_bytes({"b": None, "a": [1.5, {"c": 2}]}) == b'{"a":[1.5,{"c":2}],"b":null}'
    for bad in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(ValueError, match="not finite"):
            json_bytes({"a": [{"b": bad}], "c": None})
        with pytest.raises(ValueError, match="not finite"):
            json_bytes([1, bad])


def _patients_lines(export_dir: Path) -> dict[str, list[bytes]]:
    """Each patient's lines, in file order (as a worker is given them)."""
    out: dict[str, list[bytes]] = {}
    for path in sorted(export_dir.glob("*.ndjson")):
        for number, raw in enumerate(path.read_bytes().splitlines()):
            line = classify(raw, path.name, number)
            pid = getattr(line, "pid", None)
            if pid is not None:
                out.setdefault(pid, []).append(raw)
    return out


def test_the_fhir_adapter_reads_a_patients_lines_itself_with_the_same_result(export_dir: Path) -> None:
    from hccwatch.adapters.fhir import read_resources
    from hccwatch.population.batch import default_mapper, process_patient

    mapper = default_mapper()
    assert callable(getattr(mapper, "read_lines", None))
    patients = _patients_lines(export_dir)
    assert len(patients) > 100
    for pid, raws in sorted(patients.items())[:120]:
        # A mapper without read_lines is given dicts (orjson), as before.
        assert process_patient(pid, raws, AS_OF, mapper) == process_patient(pid, raws, AS_OF, read_resources)


def test_an_hcc_patient_who_died_is_a_deceased_row_naming_the_death() -> None:
    import orjson

    from hccwatch.adapters.fhir.codes import code_tables
    from hccwatch.population.batch import default_mapper, process_patient

    patient = {"resourceType": "Patient", "id": "p1", "gender": "male", "birthDate": "1950-02-03"}
    hcc = {
        "resourceType": "Condition",
        "id": "c1",
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": min(code_tables().hcc_snomed)}]},
        "subject": {"reference": "Patient/p1"},
        "onsetDateTime": "2024-01-10",
    }
    died = [orjson.dumps({**patient, "deceasedDateTime": "2025-06-30T23:10:00+02:00"}), orjson.dumps(hcc)]
    result = process_patient("p1", died, AS_OF, default_mapper())
    assert result.row["status"] == "deceased"
    assert result.row["message"] == (
        "the record says the patient died on 2025-06-30: hccwatch assesses the follow-up of living "
        "patients, so nothing is assessed or due"
    )
    assert result.row["overdue"] == "" and result.row["next_due_date"] == "" and result.assessment is None
    # The mapped record is kept (registry import loads it and names the same refusal).
    assert result.record is not None and json.loads(result.record)["deceased_on"] == "2025-06-30"
    # The same patient without the death is assessed; with a death dated after as_of, too.
    living = [orjson.dumps(patient), orjson.dumps(hcc)]
    assert process_patient("p1", living, AS_OF, default_mapper()).row["status"] == "assessed"
    later = [orjson.dumps({**patient, "deceasedDateTime": "2099-01-01"}), orjson.dumps(hcc)]
    assert process_patient("p1", later, AS_OF, default_mapper()).row["status"] == "assessed"


def test_the_default_mapper_pickles_by_name_for_worker_processes() -> None:
    import pickle

    from hccwatch.population.batch import default_mapper

    mapper = default_mapper()
    assert pickle.loads(pickle.dumps(mapper)) == mapper
