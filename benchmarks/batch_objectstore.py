"""What reading a Bulk export from an object store costs, against the same export on local disk.

    .venv/bin/python benchmarks/batch_objectstore.py                   # 2,000 patients, DuckDB
    .venv/bin/python benchmarks/batch_objectstore.py --patients 10000 --engines duckdb,spark
    .venv/bin/python benchmarks/batch_objectstore.py --read-ahead 0,1 --repeat 2  # with and without

Builds a synthetic export (``hccwatch synth``, seed 1; kept under --work), starts moto's S3 server
in a process of its own on loopback (``moto_server``, from the dev dependencies), uploads the
export, and runs ``hccwatch batch`` on it from the folder and from ``s3://``. Prints, per engine:
the HTTP requests the object-store run made (counted from the server's request log), split into
opening the export (listing, manifest, sizes), finding the blocks' line ends, reading the blocks,
checking that no file changed (one request per file after the scan and again at the end) and
reading the cohort's lines back; per block and per HCC patient; the wall and processor time
of both runs (processor: this process and the worker processes it waited for; the S3 server's
own is not counted) and their difference per HCC patient; and whether the outputs are
byte-identical (they must be). ``--read-ahead 0,1`` runs the object-store run once without and
once with the next group's reads sent while a group is assessed (``scan.STORE_READ_AHEAD``),
alternately, ``--repeat`` times each, so both are measured in the same conditions.

These are **loopback** figures: a request to a cloud store costs milliseconds of latency (and a
fee per thousand requests), not the fraction of a millisecond measured here. The request counts
carry over; the times do not.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from hccwatch.population import scan
from hccwatch.population.bulk import open_export
from hccwatch.population.run import run_batch
from hccwatch.population.synth import write_cohort

BUCKET = "bench"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """moto's S3 server in its own process; its request log counts the requests."""

    def __init__(self, log: Path) -> None:
        self.port = _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = log
        exe = Path(sys.executable).with_name("moto_server")
        self.fh = log.open("w")
        self.proc = subprocess.Popen(
            [str(exe), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.fh,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},  # each request logged as it is served
        )
        for _ in range(200):
            try:
                urllib.request.urlopen(self.endpoint, timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("moto_server did not start")

    def requests(self) -> int:
        self.fh.flush()
        text = self.log.read_text(errors="replace")
        return len(re.findall(r"(?:GET|HEAD|PUT|POST|DELETE) /\S* HTTP/", text))

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()
        self.fh.close()


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patients", type=int, default=2_000)
    ap.add_argument("--engines", default="duckdb")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "hccwatch-objectstore-bench")
    ap.add_argument(
        "--read-ahead",
        default=str(scan.STORE_READ_AHEAD),
        help="comma-separated values of scan.STORE_READ_AHEAD to run from s3 (0 off, 1 on)",
    )
    ap.add_argument("--repeat", type=int, default=1, help="object-store runs per --read-ahead value")
    args = ap.parse_args()
    aheads = [int(x) for x in args.read_ahead.split(",")]

    export = args.work / f"export-{args.patients}-seed1"
    if not (export / "manifest.json").is_file():
        write_cohort(export, args.patients, 1)
    args.work.mkdir(parents=True, exist_ok=True)
    server = Server(args.work / "s3-requests.log")
    try:
        os.environ.update(
            AWS_ACCESS_KEY_ID="bench",
            AWS_SECRET_ACCESS_KEY="bench",
            AWS_DEFAULT_REGION="us-east-1",
            AWS_ENDPOINT_URL=server.endpoint,
        )
        import boto3

        client = boto3.client("s3", endpoint_url=server.endpoint)
        client.create_bucket(Bucket=BUCKET)
        for p in sorted(export.iterdir()):
            client.upload_file(str(p), BUCKET, f"{export.name}/{p.name}")
        # The folder's name as the local one's: the summary names its source.
        url = f"s3://{BUCKET}/{export.name}/"
        options = (("endpoint_url", server.endpoint), ("key", "bench"), ("secret", "bench"))

        before = server.requests()
        remote = open_export(url, options)
        opening = server.requests() - before
        before = server.requests()
        blocks = list(scan.blocks(remote.files, remote.names, store=remote.store, sizes=remote.sizes))
        probes = server.requests() - before
        size = sum(remote.sizes)
        print(
            f"export: {args.patients:,} patients, {len(remote.files)} files, {size / 2**20:.0f} MiB, "
            f"{len(blocks)} blocks of up to {scan.BLOCK_BYTES // 2**20} MiB; S3 server on loopback"
        )
        checks = 2 * len(remote.files)
        for engine in args.engines.split(","):
            out = {}
            took: dict[str, list[tuple[float, float, int]]] = {}
            runs = [("local", export, scan.STORE_READ_AHEAD)]
            runs += [(f"s3 read-ahead {a}", url, a) for _ in range(args.repeat) for a in aheads]
            for where, source, ahead in runs:
                target = args.work / f"out-{engine}-{where.replace(' ', '-')}"
                shutil.rmtree(target, ignore_errors=True)
                scan.STORE_READ_AHEAD = ahead  # read when the run starts (workers, Spark closures)
                requests = server.requests()
                cpu, wall = _cpu(), time.perf_counter()
                summary = run_batch(
                    source,
                    target,
                    engine=engine,
                    workers=args.workers,
                    spark_master=f"local[{args.workers}]",
                    storage_options=options if source == url else (),
                )
                spent = (time.perf_counter() - wall, _cpu() - cpu, server.requests() - requests)
                took.setdefault(where, []).append(spent)
                out[where] = target
            hcc = summary["cohort"]["patients"]
            print(f"{engine}: {hcc:,} HCC patients")
            local_wall = took["local"][0][0]
            for where, spent in took.items():
                same = all(
                    filecmp.cmp(p, out[where] / p.name, shallow=False) for p in sorted(out["local"].iterdir())
                )
                walls = ", ".join(f"{w:.1f}" for w, _, _ in spent)
                cpus = ", ".join(f"{c:.1f}" for _, c, _ in spent)
                best = min(w for w, _, _ in spent)
                print(
                    f"  {where:16} wall {walls} s  CPU {cpus} s  "
                    f"{1000 * best / max(hcc, 1):6.2f} ms wall per HCC patient (best); "
                    f"byte-identical to local: {same}"
                )
                if where == "local":
                    continue
                total = spent[-1][2]
                reads = total - opening - probes - len(blocks) - checks
                print(
                    f"    requests: {total:,} = open {opening} + line-end probes {probes} + block reads "
                    f"{len(blocks)} + unchanged checks {checks} + lines read back {reads:,}; "
                    f"{(probes + len(blocks)) / len(blocks):.2f} per block, "
                    f"{reads / max(hcc, 1):.2f} per HCC patient; "
                    f"+{1000 * (best - local_wall) / max(hcc, 1):.2f} ms wall per HCC patient over local"
                )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
