"""Shared by the registry tests and benchmark: fixed dates, the test actor, and a throwaway
PostgreSQL cluster (initdb + pg_ctl on a loopback port; as root, the server runs as the
``postgres`` user, since PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from hccwatch.registry import Actor

AS_OF = dt.date(2026, 11, 24)
NOON = dt.datetime(2026, 11, 24, 12, tzinfo=dt.UTC)
ADMIN = Actor("cli:test", "admin")
PG_SKIP = "PostgreSQL registry tests skipped: {}; scripts/test installs PostgreSQL from Debian packages"


class PgUnavailableError(Exception):
    """Why no cluster could be started here."""


def _pg_bin() -> Path | None:
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PgCluster:
    def __init__(self, bindir: Path, root: Path, port: int, runas: list[str]) -> None:
        self.bindir, self.root, self.port, self.runas = bindir, root, port, runas
        self._names = itertools.count()

    def run(self, *args: str) -> None:
        subprocess.run([*self.runas, *args], check=True, capture_output=True, timeout=120)

    def new_database(self) -> str:
        import psycopg

        name = f"hccwatch_test_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[PgCluster]:
    """A PostgreSQL cluster on a free loopback port in a temporary folder, removed afterwards."""
    bindir = _pg_bin()
    if bindir is None:
        raise PgUnavailableError("initdb not found")
    runas: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="hccwatch-pg-"))
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root: run the throwaway cluster as the postgres user.
        runuser = shutil.which("runuser")
        try:
            import pwd

            pw = pwd.getpwnam("postgres")
        except KeyError:
            pw = None
        if runuser is None or pw is None:
            shutil.rmtree(root, ignore_errors=True)
            raise PgUnavailableError("running as root without a postgres user to run the server as")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        runas = [runuser, "-u", "postgres", "--"]
    port = _free_port()
    data = root / "data"
    cluster = PgCluster(bindir, root, port, runas)
    try:
        cluster.run(
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        cluster.run(
            str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-t", "60",
            "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off", "start",
        )  # fmt: skip
    except (subprocess.SubprocessError, OSError) as exc:
        shutil.rmtree(root, ignore_errors=True)
        raise PgUnavailableError(f"a throwaway cluster could not be started ({exc})") from None
    try:
        yield cluster
    finally:
        subprocess.run([*runas, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, timeout=60, check=False)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)
