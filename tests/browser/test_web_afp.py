"""A rising AFP entered through the form: the suspicion alert appears and the chart gains a point."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from browser_support import TODAY, Server, Shots, login, open_patient, requires_browser
from playwright.sync_api import Page, expect

pytestmark = requires_browser

AFP_ALERT = re.compile("AFP rising or raised", re.I)
# A few days before the server's today (after the record's last AFP, 3.6 ng/mL on 2026-11-10).
NEW_AFP_DATE = (TODAY - dt.timedelta(days=4)).isoformat()
PATIENT_PAGE = re.compile(r"/patients/\d+([?#].*)?$")


def _chart_points(page: Page) -> int:
    return page.locator("#afp svg .afp-point").count()


def test_a_rising_afp_raises_the_alert_and_extends_the_chart(
    server: Server, page: Page, shots: Shots, fresh_patient: Callable[..., str]
) -> None:
    record_id = fresh_patient()  # AFP 3.5 to 4.1 ng/mL for a year: no AFP alert
    login(page, server, "clinician")
    open_patient(page, server, record_id)
    alerts = page.locator("#alerts")
    expect(alerts).to_be_visible()
    expect(alerts.get_by_text(AFP_ALERT)).to_have_count(0)
    before = _chart_points(page)
    assert before == 6, "the AFP chart does not show the record's six values"
    shots(page, "before")
    # "Add: AFP" among the record entries on the patient page.
    page.locator("#record-entries").get_by_role("link", name="AFP", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("AFP")
    page.get_by_label(re.compile(r"^value", re.I)).fill("45")
    page.get_by_label(re.compile(r"^unit", re.I)).select_option("ng/mL")
    page.get_by_label(re.compile(r"^date", re.I)).fill(NEW_AFP_DATE)
    shots(page, "form filled")
    page.get_by_role("button", name=re.compile(r"^save", re.I)).click()
    page.wait_for_url(PATIENT_PAGE)
    expect(alerts.get_by_text(AFP_ALERT).first).to_be_visible()
    assert _chart_points(page) == before + 1
    expect(page.locator("#afp table").first).to_contain_text(NEW_AFP_DATE)
    shots(page, "after")


def test_a_bad_value_is_named_and_nothing_is_saved(
    server: Server, page: Page, shots: Shots, fresh_patient: Callable[..., str]
) -> None:
    record_id = fresh_patient()
    login(page, server, "clinician")
    patient_url = open_patient(page, server, record_id)
    page.goto(f"{patient_url}/add/afp")
    page.get_by_label(re.compile(r"^value", re.I)).fill("forty")
    page.get_by_label(re.compile(r"^date", re.I)).fill(NEW_AFP_DATE)
    page.get_by_role("button", name=re.compile(r"^save", re.I)).click()
    expect(page.get_by_role("alert").first).to_contain_text(re.compile("value", re.I))
    expect(page.get_by_label(re.compile(r"^value", re.I))).to_have_value("forty")  # nothing typed is lost
    shots(page, "refused")
    page.goto(patient_url)
    assert _chart_points(page) == 6
