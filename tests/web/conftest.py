"""Web fixtures: ``web`` (users only) and ``web_demo`` (with the demo registry), each a fresh
SQLite registry in tmp_path behind a TestClient; ``web_factory`` makes more (other settings)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_support import AS_OF, Web, WebFactory, make_template, web_factory

__all__ = ["AS_OF"]


@pytest.fixture(scope="session")
def users_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_template(tmp_path_factory.mktemp("web-users") / "template.sqlite3", demo=False)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_template(tmp_path_factory.mktemp("web-demo") / "template.sqlite3", demo=True)


@pytest.fixture
def make_web(users_template: Path, tmp_path: Path) -> Iterator[WebFactory]:
    yield from web_factory(users_template, tmp_path)


@pytest.fixture
def web(make_web: WebFactory) -> Web:
    return make_web()


@pytest.fixture
def web_demo(demo_template: Path, tmp_path: Path) -> Iterator[Web]:
    for factory in web_factory(demo_template, tmp_path):
        yield factory()


@pytest.fixture
def as_of() -> dt.date:
    """The web app's fixed clock (``AS_OF``)."""
    return AS_OF
