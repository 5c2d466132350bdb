"""The worklist in a real browser: emergencies first, search, opening a patient."""

from __future__ import annotations

import re

from browser_support import Server, Shots, login, requires_browser
from playwright.sync_api import Page, expect

pytestmark = requires_browser

# Most urgent first, as the alerts name their urgency.
URGENCIES = ("emergency", "urgent", "soon")
PATIENT_LINKS = "a[href^='/patients/']"


def _rank(row_text: str) -> int:
    text = row_text.lower()
    return next((i for i, word in enumerate(URGENCIES) if word in text), len(URGENCIES))


def test_emergencies_come_first(server: Server, any_page: Page, shots: Shots) -> None:
    page = any_page
    login(page, server, "navigator")
    rows = page.locator("tr").filter(has=page.locator(PATIENT_LINKS))
    expect(rows.first).to_be_visible()
    shots(page, "worklist")
    ranks = [_rank(text) for text in rows.all_inner_texts()]
    assert ranks[0] == 0, f"the first row is not an emergency: {rows.first.inner_text()!r}"
    alerted = [r for r in ranks if r < len(URGENCIES)]
    assert alerted == sorted(alerted), f"alerts out of order of urgency: {ranks}"


def test_search_finds_a_patient_and_the_link_opens_the_page(server: Server, page: Page, shots: Shots) -> None:
    login(page, server, "clinician")
    first = page.locator(PATIENT_LINKS).first
    name = first.inner_text().strip()
    search = page.get_by_role("searchbox").or_(page.get_by_label(re.compile("search", re.I))).first
    search.fill(name)
    search.press("Enter")
    page.wait_for_load_state("domcontentloaded")
    links = page.locator(PATIENT_LINKS)
    expect(links.first).to_contain_text(name)
    shots(page, "searched")
    links.first.click()
    expect(page).to_have_url(re.compile(r"/patients/[^/]+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    expect(page.get_by_text(re.compile("decision support", re.I)).first).to_be_visible()
    shots(page, "patient page")
