"""Logging in and out in a real browser, at a desktop and a tablet size."""

from __future__ import annotations

import re

from browser_support import Server, Shots, login, requires_browser
from playwright.sync_api import Page, expect

pytestmark = requires_browser


def test_log_in_and_see_the_worklist(server: Server, any_page: Page, shots: Shots) -> None:
    page = any_page
    page.goto(f"{server.url}/")
    expect(page).to_have_url(re.compile(r"/login"))  # not logged in: sent to the login form
    shots(page, "login form")
    login(page, server, "clinician")
    expect(page).to_have_url(f"{server.url}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile("worklist", re.I))
    expect(page.get_by_text(re.compile("decision support", re.I)).first).to_be_visible()
    shots(page, "worklist")


def test_a_wrong_password_shows_an_error_and_no_worklist(server: Server, page: Page, shots: Shots) -> None:
    login(page, server, "navigator", password="not-the-password")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_label("Password")).to_have_value("")
    shots(page, "refused")
    page.goto(f"{server.url}/")
    expect(page).to_have_url(re.compile(r"/login"))


def test_log_out_ends_the_session(server: Server, page: Page, shots: Shots) -> None:
    login(page, server, "readonly")
    page.get_by_role("button", name=re.compile(r"log ?out", re.I)).click()
    page.wait_for_load_state("domcontentloaded")
    shots(page, "logged out")
    page.goto(f"{server.url}/")
    expect(page).to_have_url(re.compile(r"/login"))
