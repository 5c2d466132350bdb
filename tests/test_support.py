"""The shared-data helpers: one skip message when the folder is absent, a failure when a file is."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import support

TESTS = Path(__file__).resolve().parent


def test_missing_folder_message_names_the_folder_and_the_variable() -> None:
    assert str(support.SHARED) in support.SHARED_MISSING
    assert support.SHARED_ENV == "HCCWATCH_SHARED_DATA"
    assert support.SHARED_MISSING.endswith("set HCCWATCH_SHARED_DATA to its folder")


def test_absent_folder_skips_with_the_one_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(support, "HAS_SHARED", False)
    with pytest.raises(pytest.skip.Exception, match=re.escape(support.SHARED_MISSING)):
        support.shared_path("data", "anything.csv")
    assert support.shared_file("data", "anything.csv") is None


def test_present_folder_with_a_missing_file_fails_loudly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(support, "HAS_SHARED", True)
    monkeypatch.setattr(support, "SHARED", tmp_path)
    with pytest.raises(pytest.fail.Exception, match="missing from the shared public data"):
        support.shared_path("data", "gone.csv")
    with pytest.raises(FileNotFoundError):
        support.shared_file("data", "gone.csv")
    (tmp_path / "here.csv").write_text("x", encoding="utf-8")
    assert support.shared_path("here.csv") == tmp_path / "here.csv"


def test_no_test_finds_the_shared_folder_on_its_own() -> None:
    # Every reader goes through support (SHARED, shared_path, shared_file, requires_shared), so the
    # environment variable and the skip message hold everywhere.
    own = re.compile(r"""["']\.\./shared|/\s*["']shared["']|HCCWATCH_SHARED_DATA""")
    offenders = [
        str(p.relative_to(TESTS))
        for p in TESTS.rglob("*.py")
        if p.name not in {"support.py", "test_support.py"} and own.search(p.read_text(encoding="utf-8"))
    ]
    assert not offenders
