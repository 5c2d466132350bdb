"""DuckDB and Spark give byte-identical results on the same cohort (worklist, assessments,
problems, summary). Needs PySpark and Java; without either the test is skipped with one message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from result_files import same_files
from stand_in_mapper import read

from hccwatch.population.run import run_batch
from hccwatch.population.spark_engine import spark_available

WHY_NOT = spark_available()
pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(WHY_NOT is not None, reason=f"Spark tests skipped: {WHY_NOT}"),
]


def test_duckdb_and_spark_write_identical_results(export_dir: Path, tmp_path: Path) -> None:
    # A few problem lines in an extra file, so the problem report is compared too.
    export = tmp_path / "export"
    export.mkdir()
    for p in export_dir.iterdir():
        (export / p.name).write_bytes(p.read_bytes())
    manifest = json.loads((export / "manifest.json").read_text())
    extra = [
        b"{broken",
        json.dumps({"resourceType": "Nope"}).encode(),
        json.dumps({"resourceType": "Observation", "subject": {"reference": "Patient/ghost"}}).encode(),
    ]
    (export / "Extra.000.ndjson").write_bytes(b"\n".join(extra) + b"\n")
    manifest["output"].append({"type": "Observation", "url": "Extra.000.ndjson"})
    (export / "manifest.json").write_text(json.dumps(manifest))

    run_batch(export, tmp_path / "duck", mapper=read, engine="duckdb")
    run_batch(export, tmp_path / "spark", mapper=read, engine="spark", spark_master="local[2]")
    duck = same_files(tmp_path / "duck", tmp_path / "spark")
    summary = json.loads(duck["summary.json"])
    assert summary["export"]["problems_by_kind"] == {
        "bad_line": 1,
        "dangling_reference": 1,
        "unknown_type": 1,
    }
    assert summary["cohort"]["patients"] > 0
