"""Registry fixtures: every registry test runs on SQLite and on a throwaway PostgreSQL cluster.

The cluster is made by the tests themselves (``initdb`` and ``pg_ctl`` on a free loopback port in
a temporary folder, as the ``postgres`` user when the tests run as root); where that cannot be
done the PostgreSQL half of the tests is skipped with one message saying why.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_support import AS_OF, PG_SKIP, PgCluster, PgUnavailableError, throwaway_cluster

from hccwatch.registry import Registry


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    try:
        with throwaway_cluster() as cluster:
            yield cluster
    except PgUnavailableError as exc:
        pytest.skip(PG_SKIP.format(exc))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return cluster.new_database()


@pytest.fixture
def registry(db_url: str) -> Iterator[Registry]:
    reg = Registry.open(db_url, today=lambda: AS_OF)
    try:
        yield reg
    finally:
        reg.close()
