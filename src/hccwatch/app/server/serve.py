"""``hccwatch serve``: check the settings, announce --dev loudly, run uvicorn."""

from __future__ import annotations

import ipaddress

import click
import uvicorn

from hccwatch.app.server.app import create_app
from hccwatch.app.server.settings import Settings, SettingsError

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


def run(host: str, port: int, *, dev: bool) -> int:
    """Serve until interrupted; returns the exit code (2 for unusable settings)."""
    try:
        settings = Settings.from_env(dev=dev)
    except SettingsError as exc:
        click.echo(f"hccwatch serve: {exc}", err=True)
        return 2
    if dev and not is_loopback_host(host):
        click.echo(f"hccwatch serve: --dev listens on loopback only (127.0.0.1, ::1), not {host!r}", err=True)
        return 2
    if dev:
        click.secho(_DEV_BANNER, fg="red", bold=True, err=True)
    elif not settings.cds_issuers:
        click.echo("hccwatch serve: no HCCWATCH_CDS_ISSUERS: every CDS Hooks call will get 401", err=True)
    if not dev and not settings.api_token_digests:
        click.echo("hccwatch serve: no HCCWATCH_API_TOKENS: every /api/v1 call will get 401", err=True)
    app = create_app(settings)
    # uvicorn's access log would print query strings; our own log line per request replaces it.
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning", server_header=False)
    return 0
