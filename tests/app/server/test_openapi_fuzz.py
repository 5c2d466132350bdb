"""schemathesis against the server's own OpenAPI, through real HTTP on loopback: no 5xx.

Bounded (50 examples per operation) so it stays a test, not a campaign. The server runs in --dev
mode without tokens so generated requests reach the handlers instead of stopping at 401.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import hypothesis
import pytest
import schemathesis
from server_support import live_server, settings

from hccwatch.app.server import create_app

schema = schemathesis.openapi.from_dict(create_app(settings(Path("unused"), dev=True)).openapi())


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server(settings(tmp_path_factory.mktemp("fuzz"), dev=True)) as url:
        yield url


@pytest.mark.slow
@schema.parametrize()
@hypothesis.settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    derandomize=True,
)
def test_no_generated_request_gets_a_5xx(case: schemathesis.Case, base_url: str) -> None:
    response = case.call(base_url=base_url, timeout=30)
    assert response.status_code < 500, (
        f"{case.method} {case.path}: {response.status_code} {response.text[:500]}"
    )
