"""Real HTTP on loopback for the server tests: the app under uvicorn, a fake FHIR server, JWTs.

Everything listens on 127.0.0.1 on a port the system picks, and is stopped by its context manager.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from hccwatch.app.server import Settings, create_app

LOOPBACK = "127.0.0.1"
TODAY = dt.date(2026, 11, 24)


@contextlib.contextmanager
def live_server(settings: Settings, today: dt.date = TODAY) -> Iterator[str]:
    """The app on a free loopback port; yields its base URL."""
    app = create_app(settings, today=lambda: today)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://{LOOPBACK}:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@dataclass
class FakeFhir:
    """A FHIR server on loopback: ``routes`` maps path?query to (status, JSON); ``delay_s`` slows it."""

    routes: dict[str, tuple[int, Any]] = field(default_factory=dict)
    delay_s: float = 0.0
    seen: list[tuple[str, str | None]] = field(default_factory=list)
    base: str = ""


@contextlib.contextmanager
def fake_fhir(
    routes: Mapping[str, tuple[int, Any]] | None = None, delay_s: float = 0.0
) -> Iterator[FakeFhir]:
    state = FakeFhir(routes=dict(routes or {}), delay_s=delay_s)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.seen.append((self.path, self.headers.get("Authorization")))
            if state.delay_s:
                time.sleep(state.delay_s)
            path = self.path.removeprefix("/fhir/")
            status, body = state.routes.get(path, (404, {"resourceType": "OperationOutcome"}))
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (the deadline test does exactly that)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        # The service sends its queries together; the default backlog of 5 would drop some SYNs
        # and make each call wait a second for the retransmission.
        request_queue_size = 64

    httpd = Server((LOOPBACK, 0), Handler)
    httpd.daemon_threads = True
    state.base = f"http://{LOOPBACK}:{httpd.server_address[1]}/fhir"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


@dataclass
class Signer:
    """An EHR's key pair: signs tokens; its public JWKS is written to a file."""

    alg: str
    kid: str
    private: Any
    iss: str = "https://ehr.example.org"

    def jwk(self) -> dict[str, Any]:
        algorithm = RSAAlgorithm if self.alg.startswith("RS") else ECAlgorithm
        data: dict[str, Any] = json.loads(algorithm.to_jwk(self.private.public_key()))
        return data | {"kid": self.kid, "use": "sig", "alg": self.alg}

    def token(
        self,
        aud: str | list[str],
        *,
        now: float | None = None,
        lifetime_s: int = 300,
        jti: str | None = None,
        header: Mapping[str, Any] | None = None,
        claims: Mapping[str, Any] | None = None,
    ) -> str:
        t = time.time() if now is None else now
        payload = {
            "iss": self.iss,
            "aud": aud,
            "iat": int(t),
            "exp": int(t) + lifetime_s,
            "jti": jti or str(uuid.uuid4()),
        } | dict(claims or {})
        payload = {k: v for k, v in payload.items() if v is not None}  # None: leave the claim out
        headers = {"kid": self.kid, "typ": "JWT"} | dict(header or {})
        return jwt.encode(payload, self.private, algorithm=self.alg, headers=headers)


def rsa_signer(kid: str = "rsa-1", iss: str = "https://ehr.example.org") -> Signer:
    return Signer("RS384", kid, rsa.generate_private_key(public_exponent=65537, key_size=2048), iss)


def ec_signer(kid: str = "ec-1", iss: str = "https://sandbox.cds-hooks.org") -> Signer:
    return Signer("ES384", kid, ec.generate_private_key(ec.SECP384R1()), iss)


def write_jwks(path: Path, *signers: Signer) -> Path:
    path.write_text(json.dumps({"keys": [s.jwk() for s in signers]}), encoding="utf-8")
    return path


def settings(tmp: Path, **overrides: Any) -> Settings:
    # The fake FHIR server is plain http on loopback.
    base: dict[str, Any] = {
        "data_dir": tmp / "data",
        "api_token_digests": frozenset(),
        "fhir_http_loopback": True,
    }
    return Settings(**(base | overrides))


Clock = Callable[[], float]
