"""``hccwatch serve``: check the settings, announce --dev loudly, open the registry (and set up
the demo with --demo), run uvicorn."""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress

import click
import uvicorn

from hccwatch.app.server.app import create_app
from hccwatch.app.server.demo_start import DemoRefusedError, DemoStart, prepare_demo
from hccwatch.app.server.settings import Settings, SettingsError
from hccwatch.registry import Registry, RegistryError

__all__ = ["run"]

_DEV_BANNER = """
************************************************************************
*  hccwatch DEVELOPMENT MODE (--dev)                                    *
*  CDS Hooks calls WITHOUT a signed JWT are ACCEPTED, and the REST API  *
*  needs no token unless HCCWATCH_API_TOKENS is set. Loopback only.     *
*  Never use this mode with real patient data or a real EHR.            *
************************************************************************
"""


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}/"


def _announce_demo(start: DemoStart, url: str) -> None:
    lines = [
        "",
        f"hccwatch demo: {start.patients} fictitious patients. Open {url}",
        f"  log in as {', '.join(start.usernames[:-1])} or {start.usernames[-1]}",
    ]
    if start.password is not None:
        lines.append(f"  password (the same for all, shown only now): {start.password}")
    else:
        lines.append(
            "  with the password printed at the demo's first start "
            "(forgotten? hccwatch users set-password admin, with the same HCCWATCH_DATA_DIR)"
        )
    lines.append("  Demo data only: never enter a real patient here. Stop with Ctrl+C.")
    click.secho("\n".join(lines) + "\n", fg="green", bold=True)


def run(host: str, port: int, *, dev: bool, demo: bool = False) -> int:
    """Serve until interrupted; returns the exit code (2 for unusable settings or database)."""
    try:
        settings = dataclasses.replace(Settings.from_env(dev=dev), demo=demo)
    except SettingsError as exc:
        click.echo(f"hccwatch serve: {exc}", err=True)
        return 2
    if (dev or demo) and not is_loopback_host(host):
        flag = "--dev" if dev else "--demo"
        click.echo(
            f"hccwatch serve: {flag} listens on loopback only (127.0.0.1, ::1), not {host!r}", err=True
        )
        return 2
    try:
        registry = Registry.open()
    except RegistryError as exc:
        click.echo(f"hccwatch serve: {exc}", err=True)
        return 2
    try:
        return _serve(registry, settings, host, port)
    finally:
        registry.close()


def _serve(registry: Registry, settings: Settings, host: str, port: int) -> int:
    dev, demo = settings.dev, settings.demo
    start = None
    if demo:
        try:
            start = prepare_demo(registry, dt.date.today())
        except DemoRefusedError as exc:
            click.echo(f"hccwatch serve: {exc}", err=True)
            return 2
    if dev:
        click.secho(_DEV_BANNER, fg="red", bold=True, err=True)
    elif not settings.cds_issuers:
        click.echo("hccwatch serve: no HCCWATCH_CDS_ISSUERS: every CDS Hooks call will get 401", err=True)
    if not dev and not settings.api_token_digests:
        click.echo("hccwatch serve: no HCCWATCH_API_TOKENS: every /api/v1 call will get 401", err=True)
    app = create_app(settings, registry=registry)
    if start is not None:
        _announce_demo(start, _url(host, port))
    else:
        click.echo(
            f"hccwatch serve: the web app is at {_url(host, port)} (log in with a registry user)", err=True
        )
    # uvicorn's access log would print query strings; our own log line per request replaces it.
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning", server_header=False)
    return 0
