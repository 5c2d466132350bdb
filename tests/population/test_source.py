"""hccwatch batch reading a Bulk export straight from an object store.

The store is moto's S3 server on loopback, started here on a free port: real HTTP, real ranged
GETs through s3fs, the very code path a bucket in the cloud takes. Every run from ``s3://`` must
give the bytes the same export gives from a local folder.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from result_files import files
from stand_in_mapper import read

from hccwatch.app.cli import main
from hccwatch.population import scan
from hccwatch.population.bulk import CLIENT_LOG, CLIENT_LOG_REASON, ExportError, open_export
from hccwatch.population.run import run_batch
from hccwatch.population.source import Store, parse_storage_options
from hccwatch.population.spark_engine import spark_available

pytest.importorskip("s3fs", reason="the object-store tests need s3fs (pip install -e '.[dev]')")
moto_server = pytest.importorskip("moto.server", reason="the object-store tests need moto[s3]")

BUCKET = "exports"
AS_OF = dt.date(2026, 11, 24)
# Lines the batch reports as problems, so problems.csv (file names, line numbers) is compared too.
EXTRA = [
    b"{broken",
    json.dumps({"resourceType": "Nope"}).encode(),
    json.dumps({"resourceType": "Observation", "subject": {"reference": "Patient/ghost"}}).encode(),
]


@dataclass(frozen=True)
class S3:
    endpoint: str
    client: Any
    local: Path  # the same export, in a folder of this machine

    @property
    def options(self) -> tuple[tuple[str, str], ...]:
        # Given explicitly as well as in the environment: Spark's Python workers get the
        # environment of a JVM that an earlier test may have started.
        return parse_storage_options([f"endpoint_url={self.endpoint}", "key=testing", "secret=testing"])

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=BUCKET, Key=key, Body=data)


@pytest.fixture(scope="module")
def s3(export_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3]:
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{server._server.server_port}"
        home = tmp_path_factory.mktemp("aws")
        with pytest.MonkeyPatch.context() as mp:
            # This machine's own AWS configuration, if any, must not be read.
            for key, value in {
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_CONFIG_FILE": str(home / "config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
            }.items():
                mp.setenv(key, value)
            for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
                mp.delenv(key, raising=False)
            import boto3

            client = boto3.client("s3", endpoint_url=endpoint)
            client.create_bucket(Bucket=BUCKET)
            local = tmp_path_factory.mktemp("objstore") / "cohort"
            local.mkdir()
            for p in sorted(export_dir.iterdir()):
                (local / p.name).write_bytes(p.read_bytes())
            manifest = json.loads((local / "manifest.json").read_text())
            (local / "Extra.000.ndjson").write_bytes(b"\n".join(EXTRA) + b"\n")
            manifest["output"].append({"type": "Observation", "url": "Extra.000.ndjson"})
            (local / "manifest.json").write_text(json.dumps(manifest))
            for p in sorted(local.iterdir()):
                client.put_object(Bucket=BUCKET, Key=f"cohort/{p.name}", Body=p.read_bytes())
            yield S3(endpoint, client, local)
    finally:
        server.stop()


class Guard:
    """A real HTTP endpoint on loopback in front of the moto server that answers what a bucket
    policy refusing access answers (403, an AccessDenied error document) to the requests
    ``deny`` picks, and passes every other request on (moto enforces no access rules itself)."""

    DENIED = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
        b"<Message>Access Denied</Message><RequestId>guard</RequestId><HostId>guard</HostId></Error>"
    )

    def __init__(self, upstream: str) -> None:
        import http.client
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import urlsplit

        self.deny: Any = lambda method, path: False
        self.answer = (403, self.DENIED)  # the status and error document of a refused request
        # Refuses ranged GETs too: called with the path and the range's first and last byte.
        self.deny_range: Any = None
        self.denied: list[str] = []
        self.requests: list[str] = []  # every request, as "METHOD path"
        up = urlsplit(upstream)
        guard = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                guard.requests.append(f"{self.command} {self.path}")
                if guard.deny(self.command, self.path) or self._range_denied():
                    guard.denied.append(f"{self.command} {self.path}")
                    status, document = guard.answer
                    payload = b"" if self.command == "HEAD" else document
                    self.send_response(status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(document)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                conn = http.client.HTTPConnection(up.hostname, up.port, timeout=30)
                try:
                    conn.request(self.command, self.path, body or None, dict(self.headers.items()))
                    reply = conn.getresponse()
                    data = reply.read()
                finally:
                    conn.close()
                self.send_response(reply.status)
                for key, value in reply.getheaders():
                    if key.lower() not in (
                        "transfer-encoding",
                        "connection",
                        "content-length",
                        "date",
                        "server",
                    ):
                        self.send_header(key, value)
                length = reply.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", length or str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _range_denied(self) -> bool:
                asked = self.headers.get("Range")
                if guard.deny_range is None or self.command != "GET" or not asked:
                    return False
                first, _, last = asked.removeprefix("bytes=").partition("-")
                return bool(guard.deny_range(self.path.split("?")[0], int(first), int(last)))

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _any

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                # A worker process ended by the failing run drops its connections; anything
                # else is reported as the standard library would.
                if not isinstance(sys.exc_info()[1], ConnectionError):
                    super().handle_error(request, client_address)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def options(self) -> tuple[tuple[str, str], ...]:
        return parse_storage_options([f"endpoint_url={self.endpoint}", "key=testing", "secret=testing"])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def guard(s3: S3) -> Iterator[Guard]:
    found = Guard(s3.endpoint)
    try:
        yield found
    finally:
        found.close()


def test_duckdb_from_s3_writes_the_bytes_of_the_local_run(
    s3: S3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small blocks: many line ends found by ranged reads, many blocks scanned by the workers.
    monkeypatch.setattr(scan, "BLOCK_BYTES", 256 * 2**10)
    run_batch(s3.local, tmp_path / "local", workers=2)
    run_batch(f"s3://{BUCKET}/cohort/", tmp_path / "s3", workers=2)  # the environment's endpoint
    assert files(tmp_path / "s3") == files(tmp_path / "local")
    assert b"Extra.000.ndjson" in (tmp_path / "s3" / "problems.csv").read_bytes()


def test_the_blocks_of_an_object_store_are_the_local_blocks(s3: S3) -> None:
    local = open_export(s3.local)
    remote = open_export(f"s3://{BUCKET}/cohort/manifest.json")
    assert remote.names == local.names and remote.transaction_time == local.transaction_time
    assert remote.sizes == tuple(Path(p).stat().st_size for p in local.files)
    mine = [(b.f, b.offset, b.length) for b in scan.blocks(local.files, local.names, 10_000)]
    theirs = scan.blocks(remote.files, remote.names, 10_000, store=remote.store, sizes=remote.sizes)
    assert [(b.f, b.offset, b.length) for b in theirs] == mine


def test_run_reader_coalesces_a_patients_runs_and_reads_the_local_bytes(s3: S3) -> None:
    local = open_export(s3.local)
    remote = open_export(f"s3://{BUCKET}/cohort/")
    f = local.names.index("Observation.000.ndjson")
    size = remote.sizes[f]
    # Runs near each other (one read), one far off (a second read), and one in another file.
    runs = [(f, 0, 100), (f, 101, 300), (f, size - 200, size - 1), (0, 0, 50)]
    mine = scan.RunReader(local.files)
    theirs = scan.RunReader(remote.files, remote.store)
    try:
        assert theirs.lines(runs) == mine.lines(runs)
        # Several patients read together: each gets its own lines, in its own order.
        groups = [runs[2:], runs[:2], [runs[3], runs[0]]]
        assert theirs.many(groups) == [mine.lines(g) for g in groups] == mine.many(groups)
    finally:
        mine.close()
        theirs.close()


@pytest.mark.parametrize("read_ahead", [0, 1])
def test_run_reader_reading_ahead_gives_each_item_its_own_lines_in_order(s3: S3, read_ahead: int) -> None:
    local = open_export(s3.local)
    remote = open_export(f"s3://{BUCKET}/cohort/")
    sizes = remote.sizes
    # Items of a few groups each (a range of every file), then an item with no runs at all.
    items: list[tuple[str, list[list[tuple[int, int, int]]]]] = [
        (f"item{i}", [[(f, i * size // 8, min(size, i * size // 8 + 200))] for f, size in enumerate(sizes)])
        for i in range(5)
    ]
    items.append(("empty", []))
    mine = scan.RunReader(local.files)
    theirs = scan.RunReader(remote.files, remote.store)
    try:
        got = list(theirs.ahead(items, read_ahead))
        assert [item for item, _ in got] == [item for item, _ in items]
        assert [lines for _, lines in got] == [mine.many(groups) for _, groups in items]
        # Stopped early (the caller failed): the thread's pending read is waited for, not leaked.
        stream = theirs.ahead(items, read_ahead)
        assert next(stream)[0] == "item0"
        stream.close()
    finally:
        mine.close()
        theirs.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_reading_ahead_sends_each_read_once_and_writes_the_same_bytes(
    s3: S3, guard: Guard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    from hccwatch.population import duckdb_engine

    # Groups of 2 patients: many groups for each worker, so most are read ahead.
    monkeypatch.setattr(duckdb_engine, "STORE_BATCH", 2)
    got: dict[int, tuple[dict[str, bytes], list[str]]] = {}
    for ahead in (0, 1):
        monkeypatch.setattr(scan, "STORE_READ_AHEAD", ahead)
        guard.requests.clear()
        run_batch(
            f"s3://{BUCKET}/cohort/", tmp_path / f"r{ahead}", workers=workers, storage_options=guard.options
        )
        got[ahead] = (
            files(tmp_path / f"r{ahead}"),
            sorted(r for r in guard.requests if r.startswith("GET")),
        )
    assert got[1][0] == got[0][0]
    # The same ranged reads (the same number of requests), only sent earlier.
    assert len(got[1][1]) == len(got[0][1])


def test_a_read_ahead_that_fails_is_raised_for_its_own_item(s3: S3, guard: Guard) -> None:
    remote = open_export(f"s3://{BUCKET}/cohort/", guard.options)
    second = remote.names.index("Condition.000.ndjson")
    guard.deny = lambda method, path: method == "GET" and path.startswith(f"/{BUCKET}/cohort/Condition.")
    reader = scan.RunReader(remote.files, remote.store)
    try:
        # The second item's reads are sent (and refused) while the caller has the first.
        stream = reader.ahead([("first", [[(0, 0, 100)]]), ("second", [[(second, 0, 100)]])], 1)
        assert next(stream)[0] == "first"
        with pytest.raises(ExportError, match=r"^s3://exports/cohort/Condition\.000\.ndjson: access denied"):
            next(stream)
    finally:
        reader.close()


def test_cli_reads_a_manifest_url_with_storage_options(s3: S3, tmp_path: Path) -> None:
    options = [x for k, v in s3.options for x in ("--storage-option", f"{k}={v}")]
    done = CliRunner().invoke(
        main,
        ["batch", f"s3://{BUCKET}/cohort/manifest.json", "--out", str(tmp_path / "r"), "--workers", "1"]
        + options,
    )
    assert done.exit_code == 0, done.output
    assert "HCC patients of" in done.output
    assert "testing" not in done.output  # no option value is echoed
    run_batch(s3.local / "manifest.json", tmp_path / "local", workers=1)
    assert files(tmp_path / "r") == files(tmp_path / "local")


def test_manifests_with_relative_and_object_store_urls(s3: S3, tmp_path: Path) -> None:
    manifest = json.loads((s3.local / "manifest.json").read_text())
    # In another folder of the bucket, naming the files relative to itself ...
    relative = dict(manifest, output=[dict(o, url=f"../cohort/{o['url']}") for o in manifest["output"]])
    s3.put("manifests/relative.json", json.dumps(relative).encode())
    # ... or by URL, and a manifest of this machine naming files in the bucket.
    absolute = dict(
        manifest, output=[dict(o, url=f"s3://{BUCKET}/cohort/{o['url']}") for o in manifest["output"]]
    )
    s3.put("manifests/absolute.json", json.dumps(absolute).encode())
    (tmp_path / "manifest.json").write_text(json.dumps(absolute))
    run_batch(s3.local, tmp_path / "local", mapper=read)
    expected = files(tmp_path / "local")
    for name, source in [
        ("relative", f"s3://{BUCKET}/manifests/relative.json"),
        ("absolute", f"s3://{BUCKET}/manifests/absolute.json"),
        ("local-manifest", tmp_path / "manifest.json"),
    ]:
        run_batch(source, tmp_path / name, mapper=read)
        got = files(tmp_path / name)
        for file in ("worklist.csv", "assessments.jsonl", "records.jsonl"):
            assert got[file] == expected[file], (name, file)
    # The files' names as reported: relative to the export folder, else the bare name.
    assert open_export(f"s3://{BUCKET}/manifests/relative.json").names[0] == "Patient.000.ndjson"


def test_missing_bucket_key_or_file_is_a_clear_export_error(s3: S3, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"s3://no-such-bucket/cohort: not found"):
        open_export("s3://no-such-bucket/cohort/")
    with pytest.raises(ExportError, match=r"s3://exports/nothing: not found"):
        open_export(f"s3://{BUCKET}/nothing/")
    with pytest.raises(ExportError, match="names no bucket"):
        open_export("s3://")
    manifest = json.loads((s3.local / "manifest.json").read_text())
    manifest["output"] = [dict(o, url=f"../cohort/{o['url']}") for o in manifest["output"]]
    manifest["output"].append({"type": "Patient", "url": "Gone.000.ndjson"})
    s3.put("broken/manifest.json", json.dumps(manifest).encode())
    with pytest.raises(ExportError, match=r"output\[\d+\] Gone.000.ndjson is not a file"):
        open_export(f"s3://{BUCKET}/broken/")
    s3.put("other/manifest.json", json.dumps(dict(manifest, output=[{"url": "gs://b/x.ndjson"}])).encode())
    with pytest.raises(ExportError, match="not in the manifest's store"):
        open_export(f"s3://{BUCKET}/other/manifest.json")


def test_cli_error_is_one_line_exit_2_and_writes_nothing(s3: S3, tmp_path: Path) -> None:
    out = tmp_path / "r"
    done = CliRunner().invoke(main, ["batch", "s3://no-such-bucket/cohort/", "--out", str(out)])
    assert done.exit_code == 2, done.output
    assert "hccwatch batch: s3://no-such-bucket/cohort: not found" in done.output
    assert "Traceback" not in done.output
    assert not out.exists() and not list(tmp_path.iterdir())
    done = CliRunner().invoke(
        main, ["batch", f"s3://{BUCKET}/cohort/", "--out", str(out), "--storage-option", "novalue"]
    )
    assert done.exit_code == 2 and "KEY=VALUE" in done.output


def test_a_backend_that_is_not_installed_names_the_extra() -> None:
    import importlib.util

    missing = [(p, pkg) for p, pkg in (("gs", "gcsfs"), ("az", "adlfs")) if not importlib.util.find_spec(pkg)]
    if not missing:
        pytest.skip("every object-store backend is installed here")
    protocol, package = missing[0]
    needs = rf"needs the {package} package: pip install 'hccwatch\[objectstore\]'"
    with pytest.raises(ExportError, match=needs):
        open_export(f"{protocol}://bucket/cohort/")
    with pytest.raises(ExportError, match="not a storage protocol"):
        open_export("nosuchprotocol://bucket/cohort/")


def test_a_file_that_changes_size_while_the_batch_runs(s3: S3) -> None:
    data = (s3.local / "Patient.000.ndjson").read_bytes()
    s3.put("changing/Patient.000.ndjson", data)
    export = open_export(f"s3://{BUCKET}/changing/")
    parts = list(scan.blocks(export.files, export.names, 4_096, store=export.store, sizes=export.sizes))
    reader = scan.RunReader(export.files, export.store)
    s3.put("changing/Patient.000.ndjson", data[: len(data) // 2])
    with pytest.raises(ExportError, match="Patient.000.ndjson changed while the batch ran"):
        scan.scan_block(parts[-1])
    with pytest.raises(ExportError, match="Patient.000.ndjson changed while the batch ran"):
        reader.lines([(0, len(data) - 100, len(data) - 1)])


def test_a_store_never_shows_its_option_values() -> None:
    store = Store("s3", parse_storage_options(["secret=hunter2", "key=AKIA"]))
    assert "hunter2" not in repr(store) and "AKIA" not in repr(store)


def _other_bytes(data: bytes) -> bytes:
    """The same size, other bytes: the lines in reverse order."""
    other = b"".join(reversed(data.splitlines(keepends=True)))
    assert len(other) == len(data) and other != data
    return other


def _copy_export(s3: S3, folder: str, *, manifest: bool = True) -> None:
    for p in sorted(s3.local.iterdir()):
        if manifest or p.suffix == ".ndjson":
            s3.put(f"{folder}/{p.name}", p.read_bytes())


def _on(stage: str, action: Any) -> Any:
    """A progress hook doing ``action`` the first time the run reports ``stage`` ("cohort": after
    the scan, before any patient's lines are read back)."""
    done = [False]

    def progress(reported: str, n: int) -> None:
        if reported == stage and not done[0]:
            done[0] = True
            action()

    return progress


def test_an_objects_identity_is_its_size_and_etag(s3: S3) -> None:
    export = open_export(f"s3://{BUCKET}/cohort/", s3.options)
    for identity, size in zip(export.identities, export.sizes, strict=True):
        details = dict(identity)
        assert details["size"] == str(size) and details["etag"].strip('"')
    export.check_unchanged()


def test_a_listed_folder_leaves_the_bulk_clients_log_out_and_is_dated_by_it(s3: S3, tmp_path: Path) -> None:
    _copy_export(s3, "with-client-log", manifest=False)
    event = {
        "exportId": "e",
        "eventId": "status_complete",
        "eventDetail": {"transactionTime": "2026-11-20T10:00:00Z"},
    }
    s3.put(f"with-client-log/{CLIENT_LOG}", json.dumps(event).encode() + b"\n")
    url = f"s3://{BUCKET}/with-client-log/"
    export = open_export(url, s3.options)
    assert CLIENT_LOG not in export.names and [s.name for s in export.skipped] == [CLIENT_LOG]
    assert export.transaction_time == "2026-11-20T10:00:00Z"
    summary = run_batch(url, tmp_path / "r", mapper=read)
    assert summary["as_of"] == "2026-11-20"
    assert summary["export"]["skipped_files"] == [{"file": CLIENT_LOG, "reason": CLIENT_LOG_REASON}]


@pytest.mark.parametrize("manifest", [True, False], ids=["manifest", "listed-folder"])
def test_an_object_overwritten_at_the_same_size_fails_the_run_and_keeps_the_previous_result(
    s3: S3, tmp_path: Path, manifest: bool
) -> None:
    folder = f"overwritten-{manifest}"
    _copy_export(s3, folder, manifest=manifest)
    url = f"s3://{BUCKET}/{folder}/"
    out = tmp_path / "r"
    run_batch(url, out, as_of=AS_OF, workers=2)
    previous = files(out)
    data = (s3.local / "Patient.000.ndjson").read_bytes()
    overwrite = _on("cohort", lambda: s3.put(f"{folder}/Patient.000.ndjson", _other_bytes(data)))
    # Without a manifest the export was listed, and the file system keeps that listing: the
    # check must ask the store again.
    changed = rf"^{url}Patient.000.ndjson changed while the batch ran \(its ETag .*run it again$"
    with pytest.raises(ExportError, match=changed):
        run_batch(url, out, as_of=AS_OF, workers=2, progress=overwrite)
    assert files(out) == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def _ndjson_gets(method: str, path: str) -> bool:
    return method == "GET" and path.split("?")[0].endswith(".ndjson")


def test_access_denied_to_the_export_folder_is_one_line_exit_2(s3: S3, guard: Guard, tmp_path: Path) -> None:
    guard.deny = lambda method, path: True
    out = tmp_path / "r"
    options = [x for k, v in guard.options for x in ("--storage-option", f"{k}={v}")]
    done = CliRunner().invoke(main, ["batch", f"s3://{BUCKET}/cohort/", "--out", str(out)] + options)
    assert done.exit_code == 2, done.output
    assert done.output.strip().splitlines() == [
        f"hccwatch batch: s3://{BUCKET}/cohort: access denied (check the s3 credentials of this machine)"
    ]
    assert guard.denied and not list(tmp_path.iterdir())


def test_access_denied_to_the_objects_in_the_scan_is_one_line_exit_2(
    s3: S3, guard: Guard, tmp_path: Path
) -> None:
    # Listing and details allowed, the files' bytes refused: the worker processes' ranged reads fail.
    guard.deny = _ndjson_gets
    out = tmp_path / "r"
    options = [x for k, v in guard.options for x in ("--storage-option", f"{k}={v}")]
    args = ["batch", f"s3://{BUCKET}/cohort/", "--out", str(out), "--workers", "2"]
    done = CliRunner().invoke(main, args + options)
    assert done.exit_code == 2, done.output
    lines = done.output.strip().splitlines()
    assert len(lines) == 1, done.output
    assert re.fullmatch(
        rf"hccwatch batch: s3://{BUCKET}/cohort/\w+\.000\.ndjson: access denied \(check the s3 credentials "
        r"of this machine\)",
        lines[0],
    )
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("workers", [1, 2])
def test_access_denied_while_patients_are_read_keeps_the_previous_result(
    s3: S3, guard: Guard, tmp_path: Path, workers: int
) -> None:
    out = tmp_path / "r"
    url = f"s3://{BUCKET}/cohort/"
    run_batch(url, out, workers=workers, storage_options=guard.options)
    previous = files(out)
    # Refused from the end of the scan on: each patient's lines are read back in the assessing
    # processes (workers 2) or in this one (workers 1).
    refuse = _on("cohort", lambda: setattr(guard, "deny", _ndjson_gets))
    with pytest.raises(ExportError, match=rf"^s3://{BUCKET}/cohort/\w+\.000\.ndjson: access denied"):
        run_batch(url, out, workers=workers, storage_options=guard.options, progress=refuse)
    assert guard.denied
    assert files(out) == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


WHY_NOT = spark_available()


@pytest.mark.spark
@pytest.mark.skipif(WHY_NOT is not None, reason=f"Spark tests skipped: {WHY_NOT}")
def test_spark_from_s3_writes_the_bytes_of_the_local_run(s3: S3, tmp_path: Path) -> None:
    run_batch(s3.local, tmp_path / "local", mapper=read, engine="duckdb")
    run_batch(
        f"s3://{BUCKET}/cohort/",
        tmp_path / "spark",
        mapper=read,
        engine="spark",
        spark_master="local[2]",
        storage_options=s3.options,
    )
    assert files(tmp_path / "spark") == files(tmp_path / "local")


def _shrunk_export(s3: S3, folder: str) -> Any:
    """An export opened (listed), whose Patient file then loses its second half."""
    data = (s3.local / "Patient.000.ndjson").read_bytes()
    s3.put(f"{folder}/Patient.000.ndjson", data)
    export = open_export(f"s3://{BUCKET}/{folder}/", s3.options)
    s3.put(f"{folder}/Patient.000.ndjson", data[: len(data) // 2])
    return export


def test_duckdb_workers_report_a_file_that_changed(s3: S3, tmp_path: Path) -> None:
    from hccwatch.population.duckdb_engine import run_duckdb

    export = _shrunk_export(s3, "shrinks-duckdb")
    with pytest.raises(ExportError, match="Patient.000.ndjson changed while the batch ran"):
        run_duckdb(export, as_of=AS_OF, work_dir=tmp_path, workers=2)


@pytest.mark.spark
@pytest.mark.skipif(WHY_NOT is not None, reason=f"Spark tests skipped: {WHY_NOT}")
def test_spark_executors_report_a_file_that_changed(s3: S3) -> None:
    from hccwatch.population.spark_engine import run_spark

    export = _shrunk_export(s3, "shrinks-spark")
    with pytest.raises(ExportError, match="^Patient.000.ndjson changed while the batch ran"):
        run_spark(export, as_of=AS_OF, master="local[2]")


@pytest.mark.spark
@pytest.mark.skipif(WHY_NOT is not None, reason=f"Spark tests skipped: {WHY_NOT}")
def test_spark_access_denied_to_the_objects_names_the_object(s3: S3, guard: Guard, tmp_path: Path) -> None:
    guard.deny = _ndjson_gets
    with pytest.raises(ExportError, match=rf"^s3://{BUCKET}/cohort/\w+\.000\.ndjson: access denied"):
        run_batch(
            f"s3://{BUCKET}/cohort/",
            tmp_path / "r",
            mapper=read,
            engine="spark",
            spark_master="local[2]",
            storage_options=guard.options,
        )
    assert not list(tmp_path.iterdir())


@pytest.mark.spark
@pytest.mark.skipif(WHY_NOT is not None, reason=f"Spark tests skipped: {WHY_NOT}")
def test_spark_run_fails_when_an_object_is_overwritten_at_the_same_size(s3: S3, tmp_path: Path) -> None:
    _copy_export(s3, "overwritten-spark")
    data = (s3.local / "Patient.000.ndjson").read_bytes()
    # Reported once the executors have assessed every patient, before the result is written.
    overwrite = _on("cohort", lambda: s3.put("overwritten-spark/Patient.000.ndjson", _other_bytes(data)))
    url = f"s3://{BUCKET}/overwritten-spark/"
    with pytest.raises(
        ExportError, match=rf"^{url}Patient.000.ndjson changed while the batch ran \(its ETag"
    ):
        run_batch(
            url,
            tmp_path / "r",
            mapper=read,
            engine="spark",
            spark_master="local[2]",
            storage_options=s3.options,
            progress=overwrite,
        )
    assert not list(tmp_path.iterdir())


def _error_document(code: str, message: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
        "<RequestId>guard</RequestId><HostId>guard</HostId></Error>"
    ).encode()


def test_a_range_past_the_end_is_told_by_the_status_not_by_the_words(s3: S3, guard: Guard) -> None:
    key = f"{BUCKET}/cohort/Patient.000.ndjson"
    data = (s3.local / "Patient.000.ndjson").read_bytes()
    store = Store("s3", guard.options)
    # The store's own 416 (s3fs: an OSError caused by botocore's InvalidRange error): no bytes,
    # and the caller says the file changed.
    assert store.read(key, len(data) + 10, len(data) + 20) == b""
    assert store.read_many([(key, len(data) + 10, len(data) + 20), (key, 0, 5)]) == [b"", data[:5]]
    # A refusal whose words hold "416" (an account id) is a refusal, not a short file.
    guard.answer = (
        403,
        _error_document(
            "AccessDenied",
            "User: arn:aws:iam::416000000000:user/batch is not authorized to perform: s3:GetObject "
            "(the requested range is not satisfiable for you)",
        ),
    )
    guard.deny = _ndjson_gets
    with pytest.raises(ExportError, match=rf"^s3://{key}: access denied"):
        store.read(key, 0, 5)
    with pytest.raises(ExportError, match=rf"^s3://{key}: access denied"):
        store.read_many([(key, 0, 5), (key, 100, 200)])


@pytest.mark.spark
@pytest.mark.skipif(WHY_NOT is not None, reason=f"Spark tests skipped: {WHY_NOT}")
def test_an_export_error_of_several_lines_is_reported_whole_by_both_engines(
    s3: S3, guard: Guard, tmp_path: Path
) -> None:
    # A store's error document whose message has two lines, the second like an exception's.
    guard.answer = (400, _error_document("GatewayTrouble", "the gateway said:\nExportError: nothing at all"))
    guard.deny = lambda method, path: method == "GET" and path.split("?")[0].endswith("/Condition.000.ndjson")
    messages: dict[str, str] = {}
    for engine in ("duckdb", "spark"):
        with pytest.raises(ExportError) as raised:
            run_batch(
                f"s3://{BUCKET}/cohort/",
                tmp_path / engine,
                mapper=read,
                engine=engine,
                workers=2,
                spark_master="local[2]",
                storage_options=guard.options,
            )
        messages[engine] = str(raised.value)
    expected = (
        f"s3://{BUCKET}/cohort/Condition.000.ndjson: cannot be read (OSError: [Errno 5] An error "
        "occurred (GatewayTrouble) when calling the GetObject operation: the gateway said:\n"
        "ExportError: nothing at all)"
    )
    assert messages["spark"] == messages["duckdb"] == expected
    assert not list(tmp_path.iterdir())


@pytest.mark.spark
@pytest.mark.skipif(WHY_NOT is not None, reason=f"Spark tests skipped: {WHY_NOT}")
def test_spark_access_denied_midway_through_a_partition_keeps_the_previous_result(
    s3: S3, guard: Guard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hccwatch.population import spark_engine
    from hccwatch.population.spark_engine import _bounds

    # One patient's lines read at a time (the executors get the driver's value with the task): each
    # read starts at a run of its own patient's.
    monkeypatch.setattr(spark_engine, "STORE_BATCH", 1)
    url = f"s3://{BUCKET}/cohort/"
    out = tmp_path / "r"
    run_batch(url, out, mapper=read, workers=2, storage_options=guard.options)
    previous = files(out)
    # The first patient partition holds the first of the cohort's ranges of patient ids; its last
    # patient's lines are refused once the scan is done, so the patients before it are assessed
    # (and streamed to the driver) before the refusal.
    cohort = sorted(row.split(",")[0] for row in previous["worklist.csv"].decode().splitlines()[1:])
    (bound, *_) = _bounds(cohort, spark_engine._patient_partitions(open_export(url, guard.options), 2))
    target = max(pid for pid in cohort if pid < bound)
    assert sum(pid < bound for pid in cohort) > 2
    local = open_export(s3.local)
    lines: dict[str, list[tuple[int, int]]] = {}
    for block in scan.blocks(local.files, local.names):
        runs = scan.scan_block(block).runs
        for pid, start, end in zip(runs.pid, runs.start, runs.end, strict=True):
            if pid == target:
                lines.setdefault(f"/{BUCKET}/cohort/{block.name}", []).append((start, end))
    fetched, scanned = [False], [False]

    def deny(method: str, path: str) -> bool:
        # Listing (HEADs), the scan (GETs), then the driver's check of the files (HEADs again).
        if path.endswith(".ndjson"):
            fetched[0] = fetched[0] or method == "GET"
            scanned[0] = scanned[0] or (method == "HEAD" and fetched[0])
        return False

    def deny_range(path: str, first: int, last: int) -> bool:
        return scanned[0] and any(start <= first < end for start, end in lines.get(path, ()))

    guard.deny, guard.deny_range = deny, deny_range
    assessed = [0]

    def progress(stage: str, n: int) -> None:
        if stage == "assess":
            assessed[0] = n

    with pytest.raises(
        ExportError,
        match=rf"^s3://{BUCKET}/cohort/\w+\.000\.ndjson: access denied \(check the s3 credentials of this "
        r"machine\)$",
    ):
        run_batch(
            url,
            out,
            mapper=read,
            engine="spark",
            spark_master="local[2]",
            storage_options=guard.options,
            progress=progress,
        )
    assert guard.denied
    assert 0 < assessed[0] < len(cohort)  # the results before the refusal were streamed, then dropped
    assert files(out) == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]
