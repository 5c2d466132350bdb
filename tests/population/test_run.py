"""hccwatch batch refuses a result read from files that changed while it ran: each file's identity
(size, modification time, inode, device) is taken when the export is opened and checked after
the scan and again before the result is put in place. The files are changed at the run's own
stage boundaries (its progress hook, the engine's patient groups), never after a delay."""

from __future__ import annotations

import multiprocessing
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from result_files import files
from stand_in_mapper import read

from hccwatch.app.cli import main
from hccwatch.population import duckdb_engine
from hccwatch.population.bulk import ExportError, open_export
from hccwatch.population.run import run_batch
from hccwatch.population.source import difference, local_identity

TARGET = "Patient.000.ndjson"


@pytest.fixture
def export(export_dir: Path, tmp_path: Path) -> Path:
    """A copy of the session's export that a test may change."""
    copy = tmp_path / "bulk"
    shutil.copytree(export_dir, copy)
    return copy


def rewrite_in_place(path: Path) -> None:
    """The same size, other bytes (its lines in reverse order), the same inode, a later mtime.
    The mtime is moved explicitly: a rewrite within the file system's clock tick keeps it."""
    data = path.read_bytes()
    other = b"".join(reversed(data.splitlines(keepends=True)))
    assert len(other) == len(data) and other != data
    before = path.stat()
    with path.open("r+b") as fh:
        fh.write(other)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))


def replace_with_copy(path: Path) -> None:
    """The same bytes and mtime in a new file renamed over it (another inode): a sync tool's way."""
    fresh = path.with_name(path.name + ".new")
    shutil.copy2(path, fresh)
    os.replace(fresh, path)


def once(change: Callable[[Path], None], path: Path, stage: str) -> Callable[[str, int], None]:
    """A progress hook that changes ``path`` the first time the run reports ``stage``."""
    done = [False]

    def progress(reported: str, n: int) -> None:
        if reported == stage and not done[0]:
            done[0] = True
            change(path)

    return progress


def test_identity_of_a_file_and_what_differs(tmp_path: Path) -> None:
    path = tmp_path / "x.ndjson"
    path.write_bytes(b'{"a": 1}\n{"b": 2}\n')
    before = local_identity(path)
    assert difference(before, local_identity(path)) is None
    rewrite_in_place(path)
    assert difference(before, local_identity(path)) == "its modification time"
    before = local_identity(path)
    replace_with_copy(path)
    assert difference(before, local_identity(path)) == "its inode (the file was replaced)"
    # Only what both identities hold is compared (an object listing gives fewer details).
    assert difference((("size", "3"), ("etag", "a")), (("size", "3"),)) is None


def test_a_same_size_rewrite_between_scan_and_reads_fails_and_keeps_the_previous_result(
    export: Path, tmp_path: Path
) -> None:
    out = tmp_path / "result"
    run_batch(export, out, mapper=read)
    previous = files(out)
    # "cohort" is reported after the scan, before any patient's lines are read back.
    with pytest.raises(
        ExportError, match=rf"^{TARGET} changed while the batch ran \(its modification time .*run it again$"
    ):
        run_batch(export, out, mapper=read, progress=once(rewrite_in_place, export / TARGET, "cohort"))
    assert files(out) == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bulk", "result"]  # no half-written folder


@pytest.mark.parametrize("workers", [1, 2])
def test_a_file_replaced_during_the_scan_fails_before_any_patient_is_assessed(
    export: Path, tmp_path: Path, workers: int
) -> None:
    assessed: list[int] = []
    scan_change = once(replace_with_copy, export / TARGET, "scan")

    def progress(stage: str, n: int) -> None:
        scan_change(stage, n)
        if stage == "assess":
            assessed.append(n)

    with pytest.raises(ExportError, match=rf"^{TARGET} changed while the batch ran \(its inode"):
        run_batch(export, tmp_path / "r", workers=workers, progress=progress)
    assert not assessed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bulk"]
    assert not multiprocessing.active_children()  # the engine's workers were ended, not left idle


def test_a_removed_file_is_named(export: Path, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=rf"^{TARGET} was removed while the batch ran; run it again$"):
        run_batch(export, tmp_path / "r", mapper=read, progress=once(Path.unlink, export / TARGET, "cohort"))


def test_an_unchanged_export_passes_both_checks(export: Path, tmp_path: Path) -> None:
    opened = open_export(export)
    assert len(opened.identities) == len(opened.files)
    opened.check_unchanged()
    # Read (not written): the identity is unchanged by reading.
    (export / TARGET).read_bytes()
    opened.check_unchanged()


def test_cli_says_which_file_changed_in_one_line_exit_2(
    export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    groups = duckdb_engine.groups

    def changed_first(*args: Any) -> Iterator[Any]:
        # The engine's boundary between the scan and reading each patient's lines back.
        rewrite_in_place(export / TARGET)
        yield from groups(*args)

    monkeypatch.setattr(duckdb_engine, "groups", changed_first)
    out = tmp_path / "r"
    done = CliRunner().invoke(main, ["batch", str(export), "--out", str(out), "--workers", "2"])
    assert done.exit_code == 2, done.output
    lines = done.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"hccwatch batch: {TARGET} changed while the batch ran")
    assert "run it again" in lines[0]
    assert not out.exists()
