"""The patient symptom check end to end in a real Chromium at a phone viewport (390x844), in both
languages: leg numbness gives the emergency instruction and puts the patient at the top of the
navigator's worklist within a second; refused links reveal nothing; a token reaches only its own
patient; the form's CSRF token and the per-link rate limit hold."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from browser_support import PASSWORDS, Shots, free_port, requires_browser
from playwright.sync_api import Browser, Page, expect

from hccwatch.app.server import Settings, create_app
from hccwatch.registry import Actor, Registry
from hccwatch.registry.symptom_checks import SymptomChecks
from hccwatch.symptoms import form

pytestmark = requires_browser

PHONE = {"width": 390, "height": 844}
SYMPTOMS = [q.link_id for q in form().questions if q.kind == "symptom"]
EMERGENCY = {"en": "Go to an emergency department now", "zh": "请立即去急诊"}
YES = {"en": "Yes", "zh": "是"}
NO = {"en": "No", "zh": "否"}


OPERATOR = Actor("cli:browser", "admin")
AS_OF = dt.date(2026, 11, 24)
_numbers = itertools.count(1)


@dataclass
class Site:
    """The app (registry and web pages) served by uvicorn on a loopback port, in this process."""

    url: str
    registry: Registry

    def patient(self) -> tuple[int, str]:
        record_id = f"symptom-browser-{next(_numbers)}"
        record = {"id": record_id, "treatments": [{"type": "resection", "date": "2025-06-01"}]}
        return self.registry.add_patient(OPERATOR, record, name=f"Name Of {record_id}").id, record_id

    def link(self, patient_id: int) -> str:
        return f"{self.url}/s/{SymptomChecks(self.registry).create_link(OPERATOR, patient_id).token}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("symptom-site")
    reg = Registry.open(f"sqlite:///{folder / 'registry.sqlite3'}", today=lambda: AS_OF)
    reg.add_user(OPERATOR, "navigator", "navigator", PASSWORDS["navigator"])
    app = create_app(Settings(data_dir=folder / "data"), today=lambda: AS_OF, registry=reg)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield Site(f"http://127.0.0.1:{port}", reg)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        reg.close()


def login(page: Page, site: Site) -> None:
    page.goto(f"{site.url}/login")
    page.get_by_label(re.compile("user ?name", re.I)).fill("navigator")
    page.get_by_label(re.compile("password", re.I)).fill(PASSWORDS["navigator"])
    page.locator("form").filter(has=page.get_by_label(re.compile("password", re.I))).locator(
        "button[type=submit]"
    ).first.click()
    page.wait_for_load_state("domcontentloaded")


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB")
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def _answer(page: Page, lang: str, yes: set[str]) -> None:
    for link_id in SYMPTOMS:
        choice = YES[lang] if link_id in yes else NO[lang]
        page.locator(f"#q-{link_id} > .yn").get_by_text(choice, exact=True).click()


def _send(page: Page) -> None:
    page.locator("button.send").click()
    page.wait_for_load_state("domcontentloaded")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_leg_numbness_on_a_phone_is_an_emergency_at_the_top_of_the_worklist(
    site: Site, phone: Page, page: Page, shots: Shots, lang: str
) -> None:
    pid, record_id = site.patient()
    login(page, site)
    phone.goto(site.link(pid) + f"?lang={lang}")
    expect(phone.locator("html")).to_have_attribute("lang", "zh-Hans" if lang == "zh" else "en")
    # Large touch targets: every answer is at least 44 px high and fits the phone's width.
    box = phone.locator("#q-leg-numbness .choice").first.bounding_box()
    assert box is not None and box["height"] >= 44 and box["x"] + box["width"] <= PHONE["width"]
    _answer(phone, lang, {"leg-numbness"})
    expect(phone.locator("#leg-numbness-since")).to_be_visible()
    expect(phone.locator("#back-pain-night")).to_be_hidden()
    shots(phone, f"answered-{lang}")
    _send(phone)
    sent = time.monotonic()
    expect(phone.get_by_role("heading", level=1)).to_have_text(EMERGENCY[lang])
    shots(phone, f"emergency-{lang}")
    page.goto(f"{site.url}/")
    top = page.locator(".top-items .top-item").first
    expect(top).to_contain_text("Patient-reported emergency")
    expect(top).to_contain_text(record_id)
    assert time.monotonic() - sent < 1.0, "the worklist did not show the report within a second"
    shots(page, f"worklist-{lang}")
    top.get_by_role("button", name="Acknowledge").click()
    page.wait_for_load_state("domcontentloaded")
    expect(page.locator(".top-item", has_text=record_id)).to_have_count(0)


def test_revoked_and_unknown_links_reveal_nothing(site: Site, phone: Page, page: Page, shots: Shots) -> None:
    pid, record_id = site.patient()
    url = site.link(pid)
    login(page, site)
    page.goto(f"{site.url}/patients/{pid}/symptom-links")
    page.get_by_role("button", name="Revoke").click()
    page.wait_for_load_state("domcontentloaded")
    expect(page.locator(".link-state").first).to_have_text("revoked")
    for target, status in ((url, 410), (site.url + "/s/" + "A" * 43, 404)):
        answer = phone.goto(target)
        assert answer is not None and answer.status == status
        expect(phone.get_by_role("heading", level=1)).to_have_text("This link cannot be used")
        assert record_id not in phone.content() and phone.locator("form").count() == 0
    shots(phone, "refused")


def test_a_token_reaches_only_its_own_patient(site: Site, phone: Page, page: Page) -> None:
    (mine, _), (other, _) = site.patient(), site.patient()
    phone.goto(site.link(mine))
    _answer(phone, "en", {"jaundice"})
    _send(phone)
    expect(phone.get_by_role("heading", level=1)).to_have_text("Call your care team today")
    login(page, site)
    page.goto(f"{site.url}/patients/{other}/symptom-links")
    expect(page.get_by_text("No symptom check sent yet.")).to_be_visible()
    page.goto(f"{site.url}/patients/{mine}/symptom-links")
    expect(page.locator("td.urgency").first).to_have_text("urgent")
    page.locator("form[action$='/acknowledge'] button").first.click()


def test_csrf_and_the_rate_limit_hold(site: Site, phone: Page, shots: Shots) -> None:
    url = site.link(site.patient()[0])
    phone.goto(url)
    _answer(phone, "en", set())
    phone.locator("input[name=csrf_token]").evaluate("e => { e.value = 'forged'; }")
    _send(phone)
    expect(phone.get_by_role("heading", level=1)).to_have_text("Please send the form again")
    shots(phone, "csrf-refused")
    statuses = []
    for _ in range(7):  # the default limit is 6 answers per link per hour
        phone.goto(url)
        _answer(phone, "en", set())
        with phone.expect_response(lambda r: r.request.method == "POST") as posted:
            _send(phone)
        statuses.append(posted.value.status)
    assert statuses == [200] * 6 + [429], statuses
    shots(phone, "rate-limited")
