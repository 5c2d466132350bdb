"""``hccwatch serve``: refuses --dev off loopback and bad settings before starting anything."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hccwatch.app.cli import main
from hccwatch.app.server import serve as serve_module


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    started: list[tuple[str, int]] = []

    def fake_run(app: object, host: str, port: int, **kwargs: object) -> None:
        started.append((host, port))

    monkeypatch.setattr(serve_module.uvicorn, "run", fake_run)
    return started


def test_dev_is_refused_on_a_non_loopback_host(runs: list[tuple[str, int]]) -> None:
    result = CliRunner().invoke(main, ["serve", "--dev", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "loopback only" in result.output
    assert runs == []


def test_dev_is_announced_loudly(runs: list[tuple[str, int]], tmp_path: object) -> None:
    result = CliRunner().invoke(
        main, ["serve", "--dev", "--port", "8123"], env={"HCCWATCH_DATA_DIR": str(tmp_path)}
    )
    assert result.exit_code == 0, result.output
    assert "DEVELOPMENT MODE" in result.output
    assert runs == [("127.0.0.1", 8123)]


def test_a_bad_setting_stops_the_server_naming_it(runs: list[tuple[str, int]]) -> None:
    result = CliRunner().invoke(main, ["serve"], env={"HCCWATCH_CDS_ISSUERS": "{"})
    assert result.exit_code == 2
    assert "HCCWATCH_CDS_ISSUERS" in result.output
    assert runs == []


def test_a_closed_server_says_what_is_missing(runs: list[tuple[str, int]], tmp_path: object) -> None:
    env = {"HCCWATCH_DATA_DIR": str(tmp_path), "HCCWATCH_CDS_ISSUERS": "", "HCCWATCH_API_TOKENS": ""}
    result = CliRunner().invoke(main, ["serve"], env=env)
    assert result.exit_code == 0
    assert "HCCWATCH_CDS_ISSUERS" in result.output
    assert "HCCWATCH_API_TOKENS" in result.output


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "[::1]"])
def test_loopback_hosts(host: str) -> None:
    assert serve_module.is_loopback_host(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.1", "example.org"])
def test_other_hosts(host: str) -> None:
    assert not serve_module.is_loopback_host(host)
