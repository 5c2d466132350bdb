"""hccwatch synth and hccwatch batch from the command line, with the real FHIR adapter."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from hccwatch.app.cli import main
from hccwatch.population.run import run_batch


def test_synth_then_batch_with_the_fhir_adapter(tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(main, ["synth", "--patients", "150", "--seed", "2", "--out", str(tmp_path / "bulk")])
    assert done.exit_code == 0, done.output
    done = runner.invoke(
        main,
        ["batch", str(tmp_path / "bulk" / "manifest.json"), "--out", str(tmp_path / "r"), "--workers", "1"],
    )
    assert done.exit_code == 0, done.output
    assert "HCC patients of 150 (as of 2026-11-24)" in done.output
    with (tmp_path / "r" / "worklist.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert rows and all(r["status"] == "assessed" for r in rows)
    assessments = [json.loads(x) for x in (tmp_path / "r" / "assessments.jsonl").read_text().splitlines()]
    # The adapter read the treatments: every phase is one after a treatment.
    phases = {a["surveillance"]["phase"] for a in assessments}
    assert "post_curative" in phases and phases <= {
        "post_curative",
        "post_locoregional",
        "post_transplant",
        "on_systemic",
    }, phases
    # The stated assumptions of the mapping reach the worklist.
    assert any(r["assumptions"] for r in rows)


def test_batch_as_of_is_checked_and_bad_input_is_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(main, ["batch", str(tmp_path), "--out", str(tmp_path / "r"), "--as-of", "soon"])
    assert done.exit_code == 2 and "not a date" in done.output
    done = runner.invoke(
        main, ["batch", str(tmp_path), "--out", str(tmp_path / "r"), "--as-of", "2026-11-24"]
    )
    assert done.exit_code == 2 and "no manifest.json and no *.ndjson" in done.output


def test_worker_processes_change_nothing_in_the_output(export_dir: Path, tmp_path: Path) -> None:
    run_batch(export_dir, tmp_path / "one", workers=1)
    run_batch(export_dir, tmp_path / "two", workers=2)
    for name in ("worklist.csv", "worklist.parquet", "assessments.jsonl", "summary.json", "summary.html"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
