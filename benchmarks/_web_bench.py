"""What the web benchmarks share: a throwaway demo registry served by the real app on a loopback
port (uvicorn in a thread), and a logged-in HTTP client."""

from __future__ import annotations

import datetime as dt
import logging
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

from hccwatch.app.server import Settings, create_app
from hccwatch.app.server.logs import LOGGER_NAME
from hccwatch.registry import Actor, Registry
from hccwatch.registry.demo import load_demo

__all__ = ["CSRF", "DemoServer", "demo_server", "find", "logged_in"]

OPERATOR = Actor("benchmark", "admin")
PASSWORD = "benchmark-password-0001"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class DemoServer:
    base_url: str
    registry: Registry
    patient_ids: list[int]


def find(pattern: re.Pattern[str], html: str) -> str:
    found = pattern.search(html)
    if found is None:
        raise SystemExit(f"the page holds no {pattern.pattern!r}")
    return found.group(1)


@contextmanager
def demo_server(as_of: dt.date) -> Iterator[DemoServer]:
    """The demo registry (one clinician account) behind the real app, stopped on exit."""
    with tempfile.TemporaryDirectory() as tmp:
        reg = Registry.open(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", today=lambda: as_of)
        reg.add_user(OPERATOR, "clinician", "clinician", PASSWORD)
        count = load_demo(reg, OPERATOR, as_of)
        ids = [reg.find_patient(OPERATOR, f"demo-{i:03d}").id for i in range(1, count + 1)]
        app = create_app(Settings(data_dir=Path(tmp) / "data"), today=lambda: as_of, registry=reg)
        # One log line per request would drown the figures.
        logging.getLogger(LOGGER_NAME).setLevel(logging.WARNING)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield DemoServer(f"http://127.0.0.1:{port}", reg, ids)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            reg.close()


@contextmanager
def logged_in(base_url: str, username: str = "clinician", password: str = PASSWORD) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        login = client.get("/login")
        data = {"username": username, "password": password, "csrf_token": find(CSRF, login.text)}
        done = client.post("/login", data=data)
        if done.status_code != 303:  # the redirect after a login
            raise SystemExit(f"login failed: {done.status_code}")
        yield client
