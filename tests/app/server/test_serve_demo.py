"""``hccwatch serve --demo``: the demo registry and accounts on an empty database (password
printed once), loopback only, refused on a real registry; and the real thing over HTTP."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from hccwatch.app.cli import main
from hccwatch.app.server import serve as serve_module
from hccwatch.registry import Actor, Registry
from hccwatch.registry.config import SQLITE_NAME
from hccwatch.registry.meta import is_demo

OPERATOR = Actor("cli:test", "admin")
_PASSWORD = re.compile(r"password \(the same for all, shown only now\): (\S+)")


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    started: list[tuple[str, int]] = []

    def fake_run(app: object, host: str, port: int, **kwargs: object) -> None:
        started.append((host, port))

    monkeypatch.setattr(serve_module.uvicorn, "run", fake_run)
    return started


def _env(folder: Path) -> dict[str, str]:
    return {"HCCWATCH_DATA_DIR": str(folder), "HCCWATCH_DATABASE_URL": ""}


def test_first_start_loads_the_demo_and_prints_the_password_once(
    runs: list[tuple[str, int]], tmp_path: Path
) -> None:
    first = CliRunner().invoke(main, ["serve", "--demo", "--port", "8124"], env=_env(tmp_path))
    assert first.exit_code == 0, first.output
    assert "http://127.0.0.1:8124/" in first.output
    found = _PASSWORD.search(first.output)
    assert found
    reg = Registry.open(f"sqlite:///{tmp_path / SQLITE_NAME}")
    try:
        assert is_demo(reg)
        assert 45 <= reg.count_patients(OPERATOR) <= 60
        assert {u.username for u in reg.list_users(OPERATOR)} == {
            "admin",
            "clinician",
            "navigator",
            "readonly",
        }
        assert reg.authenticate("navigator", found.group(1)).role == "navigator"
    finally:
        reg.close()
    again = CliRunner().invoke(main, ["serve", "--demo", "--port", "8124"], env=_env(tmp_path))
    assert again.exit_code == 0, again.output
    assert not _PASSWORD.search(again.output)
    assert "printed at the demo's first start" in again.output
    assert runs == [("127.0.0.1", 8124), ("127.0.0.1", 8124)]


def test_demo_is_refused_on_a_real_registry(runs: list[tuple[str, int]], tmp_path: Path) -> None:
    reg = Registry.open(f"sqlite:///{tmp_path / SQLITE_NAME}")
    reg.add_user(OPERATOR, "realadmin", "admin", "a-real-password-1")
    reg.close()
    result = CliRunner().invoke(main, ["serve", "--demo"], env=_env(tmp_path))
    assert result.exit_code == 2
    assert "already holds a registry" in result.output
    assert runs == []


def test_demo_is_loopback_only(runs: list[tuple[str, int]], tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--demo", "--host", "0.0.0.0"], env=_env(tmp_path))
    assert result.exit_code == 2
    assert "--demo listens on loopback only" in result.output
    assert not (tmp_path / SQLITE_NAME).exists()


def test_plain_serve_opens_the_registry_and_serves_the_web_app(
    runs: list[tuple[str, int]], tmp_path: Path
) -> None:
    result = CliRunner().invoke(main, ["serve"], env=_env(tmp_path))
    assert result.exit_code == 0, result.output
    assert "the web app is at http://127.0.0.1:8000/" in result.output
    assert (tmp_path / SQLITE_NAME).exists()


def test_an_unusable_database_stops_the_server_plainly(runs: list[tuple[str, int]], tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve"], env={"HCCWATCH_DATABASE_URL": "mysql://nobody@nowhere/x"})
    assert result.exit_code == 2
    assert "unsupported database" in result.output
    assert "Traceback" not in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_the_demo_over_real_http(tmp_path: Path) -> None:
    """The README's first command, minus the setup: start, read the password, log in, work."""
    port = _free_port()
    env = {**os.environ, "HCCWATCH_DATA_DIR": str(tmp_path), "HCCWATCH_DATABASE_URL": ""}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hccwatch.app.cli", "serve", "--demo", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        password = None
        deadline = time.monotonic() + 120
        lines = []
        while password is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
            lines.append(line)
            found = _PASSWORD.search(line)
            password = found.group(1) if found else None
        assert password, "".join(lines)
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=10, follow_redirects=True) as client:
            for _ in range(200):
                try:
                    page = client.get("/login")
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert token
            r = client.post("/login", data={"username": "navigator", "password": password,
                                            "csrf_token": token.group(1)})  # fmt: skip
            assert r.status_code == 200
            assert "Emergency and urgent alerts" in r.text
            assert r.text.count("decision support, not a diagnosis") == 1
            assert client.get("/static/style.css").status_code == 200
            assert client.get("/healthz").json()["status"] == "ok"
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
