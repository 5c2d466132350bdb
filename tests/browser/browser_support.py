"""The real server and a real browser for the web app's tests.

The server is ``hccwatch serve`` in its own process on a free loopback port, over a registry in a
temporary data folder (the demo registry and one user per role, made through the command line).
The browser is Debian's Chromium driven by Playwright's Python API (never Playwright's own
browser builds). Without either, every browser test is skipped with one message.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "screenshots"
# ``hccwatch serve`` assesses for the day it runs on (it has no fixed clock): the demo registry and
# every imported record are assessed for that day too, so no page waits for a day's refresh.
TODAY = dt.date.today()
ROLES = ("admin", "clinician", "navigator", "readonly")
# Known only to these tests; the server's registry lives in a temporary folder.
PASSWORDS = {role: f"pw-{role}-browser-0001" for role in ROLES}
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Headless, no sandbox (CI runs as root), and nothing that reaches the network by itself.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1366, "height": 900}
TABLET = {"width": 820, "height": 1180}  # a 10.9-inch tablet held upright
START_TIMEOUT_S = 60.0
SHOT_TIMEOUT_MS = 45_000


def _skip_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "browser tests need Playwright's Python package (pip install -e '.[dev]')"
    if not Path(CHROMIUM).exists():
        return f"browser tests need Debian's chromium at {CHROMIUM} (scripts/test installs it)"
    return None


SKIP_REASON = _skip_reason()
requires_browser = pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or "")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    """A running ``hccwatch serve`` and the command line that reaches the same registry."""

    url: str
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    _imported: list[str] = field(default_factory=list)

    def cli(self, *args: str, stdin: str | None = None) -> str:
        """Run ``hccwatch ARGS`` on the server's registry; its output."""
        return run_cli(self.env, *args, stdin=stdin)

    def patient_id(self, record_id: str) -> int:
        """The registry's number of a patient (read from the database file, read-only)."""
        db = sqlite3.connect(f"{(self.data_dir / 'registry.sqlite3').as_uri()}?mode=ro", uri=True)
        try:
            row = db.execute("SELECT id FROM patients WHERE record_id = ?", (record_id,)).fetchone()
        finally:
            db.close()
        if row is None:
            raise LookupError(f"no patient {record_id} in the registry")
        return int(row[0])

    def import_record(self, record: dict[str, Any], folder: Path) -> str:
        """Import one record through ``hccwatch registry import``; its record id."""
        path = folder / f"{record['id']}.json"
        path.write_text(json.dumps(record), encoding="utf-8")
        self.cli("registry", "import", str(path), "--as-of", TODAY.isoformat())
        self._imported.append(record["id"])
        return str(record["id"])


class CliError(RuntimeError):
    """A command of the hccwatch command line failed (its message names the command and why)."""


def run_cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """Run ``hccwatch ARGS`` in its own process; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "hccwatch.app.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=3600,
        check=False,
    )
    if done.returncode != 0:
        raise CliError(f"hccwatch {' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    return done.stdout


def server_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HCCWATCH_")}
    env.update(
        HCCWATCH_DATA_DIR=str(data_dir),
        HCCWATCH_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def _wait_healthy(server: Server, deadline: float) -> None:
    assert server.process is not None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            log = server.log.read_text(encoding="utf-8", errors="replace") if server.log else ""
            raise RuntimeError(f"hccwatch serve exited {server.process.returncode}: {log[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.url}/healthz", timeout=2).status_code == httpx.codes.OK:
                return
        time.sleep(0.2)
    raise RuntimeError(f"hccwatch serve did not answer /healthz within {START_TIMEOUT_S:.0f} s")


@contextlib.contextmanager
def running_server(data_dir: Path, *, demo: bool = True, users: Sequence[str] = ROLES) -> Iterator[Server]:
    """A registry in ``data_dir`` (demo patients, one user per role), served until the block ends."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = Server(url=f"http://127.0.0.1:{port}", data_dir=data_dir, env=server_env(data_dir))
    if demo:
        server.cli("registry", "demo", "--as-of", TODAY.isoformat())

    def add(role: str) -> str:
        return server.cli(
            "users", "add", role, "--role", role, "--display-name", f"Test {role}", stdin=PASSWORDS[role]
        )

    # The first command creates the database; the others then run side by side (each spends most
    # of its time starting Python).
    if users:
        add(users[0])
    with ThreadPoolExecutor(max_workers=max(1, len(users) - 1)) as pool:
        list(pool.map(add, users[1:]))
    server.log = data_dir / "serve.log"
    with server.log.open("wb") as log:
        server.process = subprocess.Popen(
            [sys.executable, "-m", "hccwatch.app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=server.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_healthy(server, time.monotonic() + START_TIMEOUT_S)
        yield server
    finally:
        server.process.terminate()
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


class Shots:
    """Numbered full-page screenshots of one test, kept under test-artifacts/screenshots/."""

    def __init__(self, test_name: str) -> None:
        self.folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def __call__(self, page: Page, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{re.sub(r'[^A-Za-z0-9_-]+', '-', step)}.png"
        from playwright.sync_api import Error as PlaywrightError

        try:
            page.screenshot(path=str(path), full_page=True, animations="disabled", timeout=SHOT_TIMEOUT_MS)
        except PlaywrightError as exc:
            # A screenshot is an artifact, not a check: a slow machine must not fail the test with it.
            path.with_suffix(".txt").write_text(f"no screenshot: {exc.message}\n", encoding="utf-8")
        return path


def login(page: Page, server: Server, role: str, *, password: str | None = None) -> None:
    """Log in through the login form as the user of ``role``."""
    page.goto(f"{server.url}/login")
    page.get_by_label(re.compile("user ?name", re.I)).fill(role)
    page.get_by_label(re.compile("password", re.I)).fill(
        password if password is not None else PASSWORDS[role]
    )
    page.locator("form").filter(has=page.get_by_label(re.compile("password", re.I))).locator(
        "button[type=submit], input[type=submit]"
    ).first.click()
    page.wait_for_load_state("domcontentloaded")


_CSRF = re.compile(r'name="csrf_token"\s+value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _CSRF.search(html)
    if found is None:
        raise AssertionError("no csrf_token field on the page")
    return found.group(1)


def http_login(client: httpx.Client, username: str, password: str) -> str:
    """Log ``client`` in through the login form (as a browser would); the session's CSRF token."""
    form = client.get("/login")
    answer = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(form.text), "next": "/"},
    )
    if answer.status_code != httpx.codes.OK or "/login" in str(answer.url):
        raise AssertionError(f"login as {username} failed: {answer.status_code} at {answer.url}")
    return csrf_token(answer.text)


def worklist_search(page: Page, server: Server, text: str) -> None:
    """The worklist, searched for ``text`` through its search field."""
    page.goto(f"{server.url}/")
    field = page.get_by_role("searchbox").or_(page.get_by_label(re.compile("search", re.I))).first
    field.fill(text)
    field.press("Enter")
    page.wait_for_load_state("domcontentloaded")


def open_patient(page: Page, server: Server, record_id: str) -> str:
    """Open the patient page of ``record_id`` (the worklist tests follow the links themselves); its URL."""
    page.goto(f"{server.url}/patients/{server.patient_id(record_id)}")
    page.wait_for_load_state("domcontentloaded")
    return page.url
