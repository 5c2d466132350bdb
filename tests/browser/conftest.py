"""Browser fixtures: one real server per test session, one Chromium, a fresh context per test."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    SKIP_REASON,
    TABLET,
    Server,
    Shots,
    running_server,
)

from support import EXAMPLES

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if SKIP_REASON is not None:
        pytest.skip(SKIP_REASON)
    with running_server(tmp_path_factory.mktemp("web-registry")) as s:
        yield s


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if SKIP_REASON is not None:
        pytest.skip(SKIP_REASON)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    b = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        yield b
    finally:
        b.close()


def _page(browser: Browser, viewport: dict[str, int], **options: Any) -> Iterator[Page]:
    # A fresh context per test: no cookie or session leaks from one test into another.
    context = browser.new_context(viewport=viewport, locale="en-GB", **options)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A desktop-sized page."""
    yield from _page(browser, DESKTOP)


@pytest.fixture
def tablet(browser: Browser) -> Iterator[Page]:
    """A tablet-sized touch page."""
    yield from _page(browser, TABLET, has_touch=True, is_mobile=True)


@pytest.fixture(params=["desktop", "tablet"])
def any_page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    """The same test at a desktop and a tablet viewport."""
    if request.param == "desktop":
        yield from _page(browser, DESKTOP)
    else:
        yield from _page(browser, TABLET, has_touch=True, is_mobile=True)


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    return Shots(request.node.name)


_numbers = itertools.count(1)


@pytest.fixture
def fresh_patient(server: Server, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[..., str]:
    """Imports a patient of the test's own (a copy of an example record under a new id), so tests
    that write never touch another test's patients; returns its record id."""

    def make(example: str = "article-man-after-resection", **changes: Any) -> str:
        record = json.loads((EXAMPLES / f"{example}.json").read_text(encoding="utf-8"))
        name = request.node.originalname.removeprefix("test_").replace("_", "-")[:32]
        record.update(changes, id=f"browser-{name}-{next(_numbers)}")
        record.pop("as_of", None)  # assessed for the server's day, like every stored record
        return server.import_record(record, tmp_path)

    return make
