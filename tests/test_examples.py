"""The example records: each is valid, realistic in time, assessable, and its JSON is to_dict()."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hccwatch import assess, parse_record
from support import AS_OF, EXAMPLES

FILES = sorted(EXAMPLES.glob("*.json"))
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _dates(value: Any) -> list[dt.date]:
    if isinstance(value, dict):
        return [d for v in value.values() for d in _dates(v)]
    if isinstance(value, list):
        return [d for v in value for d in _dates(v)]
    if isinstance(value, str) and ISO_DATE.match(value):
        return [dt.date.fromisoformat(value)]
    return []


def test_there_are_enough_examples_including_the_article_patients() -> None:
    names = {p.stem for p in FILES}
    assert len(names) >= 7
    assert {"article-man-after-resection", "article-woman-back-pain"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_example_is_valid_and_assessable(path: Path) -> None:
    data = _load(path)
    record = parse_record(data)
    assert record.id == path.stem
    assert max(_dates(data)) <= AS_OF, "an example must not hold facts after the demo date"
    assessment = assess(record, as_of=AS_OF)
    assert assessment.record_id == path.stem
    json.dumps(assessment.to_dict(), ensure_ascii=False, allow_nan=False)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_cli_json_lines_equal_to_dict(lang: str) -> None:
    script = Path(sys.executable).with_name("hccwatch")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "hccwatch.app.cli"]
    args = ["assess", *map(str, FILES), "--as-of", AS_OF.isoformat(), "--format", "json", "--lang", lang]
    result = subprocess.run([*command, *args], capture_output=True, text=True, encoding="utf-8", timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(FILES)
    for path, line in zip(FILES, lines, strict=True):
        want = assess(_load(path), as_of=AS_OF, lang=lang).to_dict()
        assert json.loads(line) == json.loads(json.dumps(want)), path.stem
