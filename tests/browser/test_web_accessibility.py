"""Keyboard use and basic accessibility checks of every page, in a real browser."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from browser_support import Server, Shots, login, open_patient, requires_browser
from playwright.sync_api import Page, expect

pytestmark = requires_browser

MAX_TABS = 40

# Returns what is wrong: form fields without a label, images without a text alternative.
_PROBLEMS_JS = """() => {
  const out = [];
  const named = el => (el.getAttribute('aria-label') || '').trim() || el.getAttribute('aria-labelledby')
    || (el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`)) || el.closest('label')
    || (el.getAttribute('title') || '').trim();
  for (const el of document.querySelectorAll('input, select, textarea')) {
    const type = (el.getAttribute('type') || '').toLowerCase();
    if (['hidden', 'submit', 'button', 'reset', 'image'].includes(type)) continue;
    if (!named(el)) out.push(`unlabelled ${el.tagName.toLowerCase()} name=${el.name}`);
  }
  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('alt')) out.push(`img without alt: ${img.src}`);
  }
  for (const svg of document.querySelectorAll('svg')) {
    if (svg.parentElement.closest('svg')) continue;
    const hidden = svg.getAttribute('aria-hidden') === 'true';
    const name = svg.getAttribute('aria-label') || svg.getAttribute('aria-labelledby')
      || svg.querySelector('title');
    const titled = svg.getAttribute('role') === 'img' && name;
    if (!hidden && !titled) out.push('svg without role=img and a name');
  }
  return out;
}"""


def _check(page: Page) -> None:
    assert re.fullmatch(r"en|zh(-Hans)?", page.locator("html").get_attribute("lang") or ""), (
        "no page language"
    )
    expect(page.locator("h1")).to_have_count(1)
    assert page.title().strip()
    problems: list[str] = page.evaluate(_PROBLEMS_JS)
    assert problems == [], f"{page.url}: {problems}"


@pytest.mark.parametrize("path", ["/", "/quick", "/import"])
def test_pages_pass_the_basic_checks(server: Server, page: Page, shots: Shots, path: str) -> None:
    page.goto(f"{server.url}/login")
    _check(page)
    login(page, server, "clinician")
    answer = page.goto(f"{server.url}{path}")
    assert answer is not None and answer.ok, f"{path} answered {answer and answer.status}"
    shots(page, path)
    _check(page)


def test_the_patient_page_passes_the_basic_checks(
    server: Server, page: Page, shots: Shots, fresh_patient: Callable[..., str]
) -> None:
    record_id = fresh_patient("article-woman-back-pain")
    login(page, server, "clinician")
    open_patient(page, server, record_id)
    shots(page, "patient")
    _check(page)


def _tab_to(page: Page, wanted: Callable[[], bool]) -> int:
    for n in range(1, MAX_TABS + 1):
        page.keyboard.press("Tab")
        if wanted():
            return n
    raise AssertionError(f"not reached in {MAX_TABS} presses of Tab")


def test_keyboard_reaches_the_search_and_the_first_patient(server: Server, page: Page, shots: Shots) -> None:
    login(page, server, "navigator")
    page.keyboard.press("Tab")
    skip = page.evaluate("() => document.activeElement.textContent")
    assert re.search("skip", skip or "", re.I), f"the first Tab stop is not a skip link: {skip!r}"
    _tab_to(page, lambda: page.evaluate("() => document.activeElement.type") == "search")
    shots(page, "search focused")
    first = page.locator("a[href^='/patients/']").first.get_attribute("href")
    _tab_to(page, lambda: page.evaluate("() => document.activeElement.getAttribute('href')") == first)
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused link shows no outline"
    shots(page, "first patient focused")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/patients/[^/]+$"))
