"""The Spark engine: the same bytes as the DuckDB engine whatever the block size and however odd
the lines, patient partitions in patient-id order. Needs PySpark and Java for the runs; without
either those tests are skipped with one message."""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from result_files import files, same_files
from stand_in_mapper import read

from hccwatch.errors import HccwatchError
from hccwatch.population import scan
from hccwatch.population.run import run_batch
from hccwatch.population.scan import Block
from hccwatch.population.source import ExportError
from hccwatch.population.spark_engine import (
    _bounds,
    _first_lines,
    _scanned,
    _task_groups,
    _Unreadable,
    spark_available,
)

WHY_NOT = spark_available()
needs_spark = pytest.mark.skipif(WHY_NOT is not None, reason=f"Spark tests skipped: {WHY_NOT}")
AS_OF = dt.date(2026, 11, 24)


def _block(index: int, f: int) -> Block:
    return Block(index, f, f"F{f}.ndjson", Path(f"F{f}.ndjson"), 0, 1)


def test_first_lines_number_each_file_from_one() -> None:
    parts = [_block(0, 0), _block(1, 0), _block(2, 1), _block(3, 1), _block(4, 1)]
    assert _first_lines(parts, [10, 5, 3, 0, 7]) == [1, 11, 1, 4, 4]


def test_task_groups_keep_block_order_and_share_the_bytes() -> None:
    sizes = [8, 8, 1, 8, 8, 8, 8, 2, 8, 8, 8, 1]
    parts = [replace(_block(i, 0), length=n) for i, n in enumerate(sizes)]
    groups = _task_groups(parts, 4)
    assert [b for g in groups for b in g] == parts
    assert len(groups) == 4
    assert all(sum(b.length for b in g) <= 2 * sum(sizes) / 4 for g in groups)
    assert _task_groups(parts, 100) == [[b] for b in parts]
    assert _task_groups(parts, 1) == [parts]
    empty = [replace(b, length=0) for b in parts]
    assert len(_task_groups(empty, 3)) <= 3


def test_bounds_cut_the_sorted_cohort_into_even_ranges() -> None:
    ids = [f"p{i:03d}" for i in range(100)]
    bounds = _bounds(reversed(ids), 4)
    assert bounds == ["p025", "p050", "p075"]
    assert _bounds([], 4) == []
    assert _bounds(["only"], 4) == ["only", "only", "only"]  # empty ranges before it; still in order


def _copy(export_dir: Path, to: Path, extra: bytes) -> Path:
    to.mkdir()
    for p in export_dir.iterdir():
        (to / p.name).write_bytes(p.read_bytes())
    manifest = json.loads((to / "manifest.json").read_text())
    (to / "Odd.000.ndjson").write_bytes(extra)
    manifest["output"].append({"type": "Observation", "url": "Odd.000.ndjson"})
    (to / "manifest.json").write_text(json.dumps(manifest))
    return to


@pytest.mark.spark
@needs_spark
def test_odd_lines_and_tiny_blocks_give_the_duckdb_bytes(
    export_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ghost = b'{"resourceType":"Observation","subject":{"reference":"Patient/ghost"}}'
    odd = [
        b'{"resourceType":"Observation","subject":{"reference":"Patient/\xff"}}',  # not UTF-8
        b'{"resourceType":"Observation",\r"subject":{"reference":"Patient/lone-cr"}}',  # JSON space
        b"",
        b"   ",
        b"[1, 2]",
        ghost + b"\r",  # CRLF
        ghost,  # and no line end at the end of the file
    ]
    export = _copy(export_dir, tmp_path / "export", b"\n".join(odd))
    run_batch(export, tmp_path / "duck", mapper=read, engine="duckdb")
    monkeypatch.setattr(scan, "BLOCK_BYTES", 16_384)  # many blocks, cut inside every file
    run_batch(export, tmp_path / "spark", mapper=read, engine="spark", spark_master="local[2]")
    duck = same_files(tmp_path / "duck", tmp_path / "spark")
    problems = duck["problems.csv"].decode().splitlines()
    assert problems[1:] == [
        "Odd.000.ndjson,1,bad_line,not JSON (str is not valid UTF-8)",
        "Odd.000.ndjson,2,dangling_reference,Patient/lone-cr is not in the export",
        "Odd.000.ndjson,5,bad_line,not a JSON object",
        "Odd.000.ndjson,6,dangling_reference,Patient/ghost is not in the export",
        "Odd.000.ndjson,7,dangling_reference,Patient/ghost is not in the export",
    ]


@pytest.mark.spark
@needs_spark
def test_an_export_without_hcc_gives_an_empty_worklist(tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    (export / "Patient.ndjson").write_bytes(b'{"resourceType":"Patient","id":"a"}\n')
    run_batch(export, tmp_path / "duck", mapper=read, engine="duckdb", as_of=AS_OF)
    run_batch(export, tmp_path / "spark", mapper=read, engine="spark", spark_master="local[2]", as_of=AS_OF)
    assert files(tmp_path / "spark") == files(tmp_path / "duck")
    summary = json.loads((tmp_path / "spark" / "summary.json").read_text())
    assert (summary["export"]["patients"], summary["cohort"]["patients"]) == (1, 0)


@needs_spark
def test_asking_for_another_master_while_a_context_runs_says_which_one_works(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from hccwatch.population.spark_engine import spark_context

    running = spark_context("local[2]")
    with caplog.at_level(logging.WARNING, logger="hccwatch.population.spark_engine"):
        assert spark_context("local[1]") is running
    assert caplog.messages == [
        f"a Spark context for {running.master} is already running in this process: it is used, not local[1]"
    ]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="hccwatch.population.spark_engine"):
        spark_context(running.master)
    assert caplog.messages == []


def test_an_export_error_in_a_blocks_scan_is_returned_as_data_with_its_message_whole(tmp_path: Path) -> None:
    path = tmp_path / "Patient.000.ndjson"
    path.write_bytes(b'{"resourceType":"Patient","id":"a"}\n')
    # Listed longer than it is: the executor's read comes back short.
    name = "Odd\nExportError: Patient.000.ndjson"
    index, found = _scanned(Block(3, 0, name, path, 0, 100))
    assert index == 3 and isinstance(found, _Unreadable)
    assert found.message == (
        f"{name} changed while the batch ran (its size is not what it was when the export was listed); "
        "run it again"
    )
    error = found.error()
    assert type(error) is ExportError and str(error) == found.message


def test_any_other_exception_in_a_blocks_scan_is_raised_on_the_executor(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        _scanned(Block(0, 0, "Gone.ndjson", tmp_path / "Gone.ndjson", 0, 10))


class BuggyMapper:
    """A mapper with a bug that the assessing of a patient does not catch as the mapper's (it fails
    when its line reader is looked up), and whose message looks like an export error's."""

    @property
    def read_lines(self) -> Any:
        raise RuntimeError("a bug on the executor\nExportError: not an export problem")

    def __call__(self, resources: list[dict[str, Any]], *, as_of: dt.date) -> Any:
        return read(resources, as_of=as_of)


@pytest.mark.spark
@needs_spark
def test_a_bug_on_an_executor_fails_the_run_not_as_an_export_error(export_dir: Path, tmp_path: Path) -> None:
    failures: dict[str, BaseException] = {}
    for engine in ("duckdb", "spark"):
        with pytest.raises(Exception) as raised:  # any, but not an export error
            run_batch(
                export_dir, tmp_path / engine, mapper=BuggyMapper(), engine=engine, spark_master="local[2]"
            )
        failures[engine] = raised.value
    for engine, failure in failures.items():
        assert not isinstance(failure, HccwatchError), (engine, failure)
        assert "a bug on the executor" in str(failure), engine
    assert not list(tmp_path.iterdir())
