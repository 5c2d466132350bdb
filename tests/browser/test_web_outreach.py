"""One click on the worklist logs an outreach call; the patient's outreach history shows it."""

from __future__ import annotations

import re
from collections.abc import Callable

from browser_support import Server, Shots, login, open_patient, requires_browser, worklist_search
from playwright.sync_api import Page, expect

pytestmark = requires_browser


def test_an_outreach_call_logged_on_the_worklist_is_in_the_history(
    server: Server, tablet: Page, shots: Shots, fresh_patient: Callable[..., str]
) -> None:
    page = tablet  # navigators work the list on a tablet
    record_id = fresh_patient()  # overdue for liver imaging and chest CT
    login(page, server, "navigator")
    worklist_search(page, server, record_id)
    row = page.locator("tr").filter(has_text=record_id).first
    expect(row).to_be_visible()
    shots(page, "row")
    row.get_by_text(re.compile(r"^log (a )?call", re.I)).click()  # the outcomes are one tap away
    shots(page, "outcomes")
    row.get_by_role("button", name=re.compile(r"^no answer", re.I)).click()
    page.wait_for_load_state("domcontentloaded")
    expect(page.get_by_text(re.compile(r"call logged.*no answer", re.I)).first).to_be_visible()
    shots(page, "logged")
    open_patient(page, server, record_id)
    history = page.locator("section").filter(
        has=page.get_by_role("heading", name=re.compile("outreach", re.I))
    )
    expect(history.first).to_contain_text(re.compile("no answer", re.I))
    shots(page, "history")
