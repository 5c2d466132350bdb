"""The DuckDB engine's block scan: the result does not depend on the block size or the number of
worker processes, lines are numbered as in the file, and an escaped type name is still found."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from stand_in_mapper import read

from hccwatch.population import scan
from hccwatch.population.run import run_batch


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_tiny_blocks_give_the_same_result(
    export_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_batch(export_dir, tmp_path / "whole", mapper=read)
    monkeypatch.setattr(scan, "BLOCK_BYTES", 4_096)  # hundreds of blocks, cut inside every file
    run_batch(export_dir, tmp_path / "tiny", mapper=read)
    assert _files(tmp_path / "tiny") == _files(tmp_path / "whole")


def test_worker_processes_give_the_same_result(export_dir: Path, tmp_path: Path) -> None:
    run_batch(export_dir, tmp_path / "one", workers=1)
    run_batch(export_dir, tmp_path / "two", workers=2)
    assert _files(tmp_path / "two") == _files(tmp_path / "one")


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
