"""The browser fixtures themselves: the real server answers, and Chromium reaches it."""

from __future__ import annotations

import httpx
from browser_support import ROLES, Server, Shots, requires_browser
from playwright.sync_api import Page

pytestmark = requires_browser


def test_the_server_is_up_with_the_demo_registry_and_one_user_per_role(server: Server) -> None:
    assert httpx.get(f"{server.url}/healthz", timeout=5).json()["status"] == "ok"
    users = server.cli("users", "list")
    assert all(role in users for role in ROLES)
    assert "patients" in server.cli("registry", "worklist")


def test_chromium_reaches_the_server(server: Server, page: Page, shots: Shots) -> None:
    response = page.goto(f"{server.url}/healthz")
    assert response is not None and response.ok
    assert '"status":"ok"' in page.inner_text("body").replace(" ", "")
    shots(page, "healthz")
