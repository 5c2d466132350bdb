"""The Bulk export's files: a folder without a manifest, and the Bulk Data client's event log that
may sit in it (SMART bulk-data-client writes ``log.ndjson`` beside the files it downloads)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hccwatch.app.cli import main
from hccwatch.population.bulk import CLIENT_LOG, CLIENT_LOG_REASON, client_log, open_export
from hccwatch.population.run import run_batch
from hccwatch.population.source import ExportError
from support import AS_OF


def _event(event_id: str, **detail: object) -> dict[str, object]:
    # The shape of the client's events: an export id, a timestamp, an event id and its details.
    return {
        "exportId": "e1",
        "timestamp": "2026-11-20T09:00:00-05:00",
        "eventId": event_id,
        "eventDetail": detail,
    }


LOG = [
    _event("kickoff", exportUrl="https://fhir.example/Group/g/$export"),
    _event("status_complete", transactionTime="2026-11-20T14:00:00Z"),
    _event("manifest_complete", transactionTime="2026-11-20T14:00:00Z", totalOutputFileCount=1),
    _event("export_complete", files=1, resources=2),
]
PATIENT = {"resourceType": "Patient", "id": "p1"}


def _ndjson(*items: object) -> bytes:
    return b"".join(json.dumps(i).encode() + b"\n" for i in items)


def _folder(tmp_path: Path, log: bytes) -> Path:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "Patient.ndjson").write_bytes(_ndjson(PATIENT))
    (folder / CLIENT_LOG).write_bytes(log)
    return folder


def test_the_client_log_is_told_and_its_transaction_time_read() -> None:
    assert client_log(_ndjson(*LOG)) == (True, "2026-11-20T14:00:00Z")
    # Blank lines and CRLF line ends change nothing; an export not yet complete has no time.
    assert client_log(_ndjson(LOG[0]).replace(b"\n", b"\r\n") + b"\n") == (True, None)


@pytest.mark.parametrize(
    "data",
    [
        b"",  # nothing to tell it by
        b"\n\n",
        _ndjson(*LOG, PATIENT),  # a FHIR resource among the events
        _ndjson(*LOG) + b"{broken\n",
        _ndjson(*LOG, [1, 2]),
        _ndjson({**LOG[1], "resourceType": "Patient"}),
        _ndjson({k: v for k, v in LOG[1].items() if k != "exportId"}),
        _ndjson({**LOG[1], "eventId": 7}),
    ],
)
def test_a_file_with_any_other_line_is_not_the_client_log(data: bytes) -> None:
    assert client_log(data) == (False, None)


def test_the_first_timed_event_gives_the_time_and_a_wrong_form_one_none() -> None:
    later = _event("status_complete", transactionTime="2026-11-21T00:00:00Z")
    assert client_log(_ndjson(LOG[1], later))[1] == "2026-11-20T14:00:00Z"
    assert client_log(_ndjson(_event("status_complete", transactionTime=20261120)))[1] is None
    assert client_log(_ndjson({**LOG[1], "eventDetail": "x"})) == (True, None)


def test_a_folder_without_a_manifest_leaves_the_client_log_out_and_dates_the_export(
    tmp_path: Path,
) -> None:
    export = open_export(_folder(tmp_path, _ndjson(*LOG)))
    assert export.names == ("Patient.ndjson",)
    assert [(s.name, s.reason) for s in export.skipped] == [(CLIENT_LOG, CLIENT_LOG_REASON)]
    assert export.transaction_time == "2026-11-20T14:00:00Z"
    summary = run_batch(tmp_path / "export", tmp_path / "out")
    assert summary["as_of"] == "2026-11-20"
    assert summary["export"]["files"] == 1
    assert summary["export"]["skipped_files"] == [{"file": CLIENT_LOG, "reason": CLIENT_LOG_REASON}]
    assert summary["export"]["problems_by_kind"] == {}
    assert f"Skipped: {CLIENT_LOG}" in (tmp_path / "out" / "summary.html").read_text()


def test_a_log_named_file_that_holds_anything_else_is_read_as_part_of_the_export(
    tmp_path: Path,
) -> None:
    # Its lines are then judged one by one, as any file's: nothing in it goes unreported.
    folder = _folder(tmp_path, _ndjson(LOG[1], {"resourceType": "Observation"}))
    export = open_export(folder)
    assert export.names == ("Patient.ndjson", CLIENT_LOG) and export.skipped == ()
    assert export.transaction_time is None
    summary = run_batch(folder, tmp_path / "out", as_of=AS_OF)
    assert summary["export"]["problems_by_kind"] == {"bad_line": 1}
    assert summary["export"]["skipped_files"] == []


def test_with_a_manifest_the_manifest_decides(tmp_path: Path) -> None:
    folder = _folder(tmp_path, _ndjson(*LOG))
    manifest = {
        "transactionTime": "2026-11-24T00:00:00Z",
        "output": [{"type": "Patient", "url": "Patient.ndjson"}],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    export = open_export(folder)
    assert export.names == ("Patient.ndjson",) and export.skipped == ()
    assert export.transaction_time == "2026-11-24T00:00:00Z"


def test_a_client_log_without_a_time_still_needs_the_date(tmp_path: Path) -> None:
    folder = _folder(tmp_path, _ndjson(LOG[0]))
    with pytest.raises(ExportError, match=r"no transactionTime .*log\.ndjson.*give --as-of"):
        run_batch(folder, tmp_path / "out")


def test_the_command_says_which_file_it_left_out(tmp_path: Path) -> None:
    folder = _folder(tmp_path, _ndjson(*LOG))
    done = CliRunner().invoke(main, ["batch", str(folder), "--out", str(tmp_path / "out")])
    assert done.exit_code == 0, done.output
    assert f"skipped {CLIENT_LOG}: {CLIENT_LOG_REASON}" in done.stderr


def test_a_folder_holding_only_the_client_log_is_no_export(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / CLIENT_LOG).write_bytes(_ndjson(*LOG))
    with pytest.raises(ExportError, match=r"no manifest\.json and no \*\.ndjson file"):
        open_export(folder)


def test_a_log_that_cannot_be_read_when_opened_stays_an_export_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root reads any file here, so the refusal is made by hand: the log is then not judged a
    # client log, and the export's own reading names whatever is wrong with it.
    folder = _folder(tmp_path, _ndjson(*LOG))
    read_bytes = Path.read_bytes

    def refuse(self: Path) -> bytes:
        if self.name == CLIENT_LOG:
            raise PermissionError(13, "Permission denied", str(self))
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    export = open_export(folder)
    assert export.names == ("Patient.ndjson", CLIENT_LOG) and export.skipped == ()
