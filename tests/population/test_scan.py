"""The DuckDB engine's block scan: the result does not depend on the block size or the number of
worker processes, lines are numbered as in the file, and an escaped type name is still found."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from result_files import files
from stand_in_mapper import read

from hccwatch.population import scan
from hccwatch.population.run import run_batch


def test_tiny_blocks_give_the_same_result(
    export_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_batch(export_dir, tmp_path / "whole", mapper=read)
    monkeypatch.setattr(scan, "BLOCK_BYTES", 4_096)  # hundreds of blocks, cut inside every file
    run_batch(export_dir, tmp_path / "tiny", mapper=read)
    assert files(tmp_path / "tiny") == files(tmp_path / "whole")


def test_worker_processes_give_the_same_result(export_dir: Path, tmp_path: Path) -> None:
    run_batch(export_dir, tmp_path / "one", workers=1)
    run_batch(export_dir, tmp_path / "two", workers=2)
    assert files(tmp_path / "two") == files(tmp_path / "one")


def test_line_numbers_count_blank_and_crlf_lines_and_escapes_are_decoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scan, "BLOCK_BYTES", 64)
    src = tmp_path / "export"
    src.mkdir()
    patient = b'{"resourceType":"Pati\\u0065nt","id":"p1","gender":"female","birthDate":"1960-02-01"}'
    condition = json.dumps(
        {
            "resourceType": "Conditi\u006fn",
            "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "109841003"}]},
        }
    ).replace("Condition", "Conditi\\u006fn", 1)
    lines = [patient, b"", b"  ", condition.encode(), b"{broken", b'{"resourceType":"Observation"}']
    (src / "All.ndjson").write_bytes(b"\r\n".join(lines))  # CRLF, and no line end at the end
    run_batch(src, tmp_path / "out", mapper=read, as_of=dt.date(2026, 11, 24))
    with (tmp_path / "out" / "worklist.csv").open() as fh:
        assert [r["patient_id"] for r in csv.DictReader(fh)] == ["p1"]
    with (tmp_path / "out" / "problems.csv").open() as fh:
        assert [(r["file"], r["line"], r["kind"]) for r in csv.DictReader(fh)] == [
            ("All.ndjson", "5", "bad_line")
        ]


def _observation(pid: str, n: int) -> str:
    return json.dumps(
        {"resourceType": "Observation", "id": f"o{n}", "subject": {"reference": f"Patient/{pid}"}}
    )


def test_dangling_references_are_all_counted_and_the_first_listed_by_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hccwatch.population import duckdb_engine

    monkeypatch.setattr(duckdb_engine, "MAX_LISTED_PROBLEMS", 10)
    monkeypatch.setattr(scan, "BLOCK_BYTES", 300)  # runs of one ghost patient cut across blocks
    src = tmp_path / "export"
    src.mkdir()
    patient = json.dumps({"resourceType": "Patient", "id": "p1"})
    (src / "B.ndjson").write_text("\n".join([_observation("ghost", i) for i in range(30)] + ["{bad"]) + "\n")
    (src / "A.ndjson").write_text(
        "\n".join([patient] + [_observation("ghost2", i) for i in range(30)]) + "\n"
    )
    out = tmp_path / "out"
    summary = run_batch(src, out, mapper=read, as_of=dt.date(2026, 11, 24))
    assert summary["export"]["problems_by_kind"] == {"bad_line": 1, "dangling_reference": 60}
    with (out / "problems.csv").open() as fh:
        listed = [(r["file"], int(r["line"]), r["kind"], r["detail"]) for r in csv.DictReader(fh)]
    assert listed == [
        ("A.ndjson", n, "dangling_reference", "Patient/ghost2 is not in the export") for n in range(2, 12)
    ]


def test_a_short_window_of_patients_in_flight_gives_the_same_result(
    export_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hccwatch.population import duckdb_engine

    run_batch(export_dir, tmp_path / "one", workers=1)
    monkeypatch.setattr(duckdb_engine, "_WINDOW", 3)
    monkeypatch.setattr(duckdb_engine, "_CHUNK", 2)
    run_batch(export_dir, tmp_path / "two", workers=2)
    assert files(tmp_path / "two") == files(tmp_path / "one")
