"""What each role sees: read-only users get no edit control and a forged POST is refused; only an
administrator reaches the user administration."""

from __future__ import annotations

import re
from collections.abc import Callable

from browser_support import Server, Shots, login, open_patient, requires_browser
from playwright.sync_api import Page, expect

pytestmark = requires_browser

EDIT_CONTROL = re.compile(r"\b(add|edit|save|log (a )?call|log outreach|import|take off|return)\b", re.I)


def _post_forms(page: Page) -> list[str]:
    """The actions of the page's POST forms, apart from logging out."""
    actions: list[str] = page.eval_on_selector_all(
        "form",
        "fs => fs.filter(f => f.method.toLowerCase() === 'post').map(f => new URL(f.action).pathname)",
    )
    return [a for a in actions if a != "/logout"]


def test_readonly_sees_no_edit_control_and_a_forged_post_is_refused(
    server: Server, page: Page, shots: Shots, fresh_patient: Callable[..., str]
) -> None:
    record_id = fresh_patient()
    login(page, server, "readonly")
    patient_url = open_patient(page, server, record_id)
    shots(page, "readonly patient page")
    assert _post_forms(page) == []
    expect(page.get_by_role("button", name=EDIT_CONTROL)).to_have_count(0)
    expect(page.get_by_role("link", name=EDIT_CONTROL)).to_have_count(0)
    points = page.locator("#afp svg .afp-point").count()
    page.goto(f"{server.url}/")
    assert _post_forms(page) == []
    expect(page.get_by_role("button", name=EDIT_CONTROL)).to_have_count(0)
    shots(page, "readonly worklist")
    # The entry form itself is refused, and so is a POST forged with the session's own CSRF token.
    answer = page.goto(f"{patient_url}/add/afp")
    assert answer is not None and answer.status == 403
    token = page.locator("input[name=csrf_token]").first.input_value()
    forged = {"csrf_token": token, "value": "900", "unit": "ng/mL", "date": "2026-11-20", "version": "1"}
    answer = page.request.post(f"{patient_url}/add/afp", form=forged, max_redirects=0)
    assert answer.status == 403, f"a forged POST as readonly answered {answer.status}"
    page.goto(patient_url)
    assert page.locator("#afp svg .afp-point").count() == points  # nothing was saved


def test_a_navigator_cannot_reach_the_user_administration(server: Server, page: Page, shots: Shots) -> None:
    login(page, server, "navigator")
    expect(page.get_by_role("navigation").get_by_role("link", name=re.compile("admin", re.I))).to_have_count(
        0
    )
    answer = page.goto(f"{server.url}/admin/users")
    assert answer is not None and answer.status == 403
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile("not allowed", re.I))
    shots(page, "refused")


def test_an_admin_reaches_the_user_administration(server: Server, page: Page, shots: Shots) -> None:
    login(page, server, "admin")
    page.get_by_role("navigation").get_by_role("link", name=re.compile("admin", re.I)).click()
    expect(page).to_have_url(re.compile(r"/admin/users"))
    expect(page.get_by_role("cell", name="navigator", exact=True).first).to_be_visible()
    shots(page, "users")
