"""A rising AFP entered through the form: the suspicion alert appears and the chart gains a point."""

from __future__ import annotations

import re
from collections.abc import Callable

from browser_support import Server, Shots, login, open_patient, requires_browser
from playwright.sync_api import Page, expect

pytestmark = requires_browser

AFP_ALERT = re.compile("AFP rising or raised", re.I)


def _chart_points(page: Page) -> int:
    chart = page.locator("figure, svg").filter(has=page.locator("svg")).filter(has_text=re.compile("AFP"))
    return chart.first.locator("circle").count()


def test_a_rising_afp_raises_the_alert_and_extends_the_chart(
    server: Server, page: Page, shots: Shots, fresh_patient: Callable[..., str]
) -> None:
    record_id = fresh_patient()  # AFP 3.5 to 4.1 ng/mL for a year: no AFP alert
    login(page, server, "clinician")
    open_patient(page, server, record_id)
    expect(page.get_by_text(AFP_ALERT)).to_have_count(0)
    before = _chart_points(page)
    assert before > 0, "no AFP chart with points on the patient page"
    shots(page, "before")
    page.get_by_role("link", name=re.compile(r"add .*(lab|AFP)", re.I)).first.click()
    page.wait_for_load_state("domcontentloaded")
    test = page.get_by_label(re.compile(r"^test", re.I))
    if test.count():
        test.first.select_option(label=re.compile("AFP|alpha", re.I))  # type: ignore[arg-type]
    page.get_by_label(re.compile(r"^value", re.I)).fill("45")
    unit = page.get_by_label(re.compile(r"^unit", re.I))
    if unit.count():
        unit.first.select_option("ng/mL")
    page.get_by_label(re.compile(r"date", re.I)).first.fill("2026-11-20")
    shots(page, "form filled")
    page.get_by_role("button", name=re.compile(r"save|add", re.I)).first.click()
    page.wait_for_url(re.compile(r"/patients/[^/]+$"))
    expect(page.get_by_text(AFP_ALERT).first).to_be_visible()
    assert _chart_points(page) == before + 1
    shots(page, "after")
