"""The printable clinician report: print media shows the report, and Chromium prints it to PDF."""

from __future__ import annotations

import re
from collections.abc import Callable

from browser_support import Server, Shots, login, open_patient, requires_browser
from playwright.sync_api import Page, expect

pytestmark = requires_browser


def test_the_print_view_prints(
    server: Server, page: Page, shots: Shots, fresh_patient: Callable[..., str]
) -> None:
    record_id = fresh_patient("article-woman-back-pain")
    login(page, server, "readonly")
    open_patient(page, server, record_id)
    page.get_by_role("link", name=re.compile(r"^print report", re.I)).first.click()
    page.wait_for_load_state("domcontentloaded")
    page.emulate_media(media="print")
    expect(page.get_by_text(re.compile("decision support", re.I)).first).to_be_visible()
    expect(page.get_by_text(re.compile("EMERGENCY|URGENT")).first).to_be_visible()
    # What is only for the screen (navigation, buttons) is not printed.
    assert (
        not page.get_by_role("navigation").first.is_visible()
        if page.get_by_role("navigation").count()
        else True
    )
    shots(page, "print media")
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
