"""``hccwatch assess --format fhir``: the assessment as a FHIR R4 Bundle, run for real."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fhir.resources.R4B.bundle import Bundle

from hccwatch import assess
from hccwatch.adapters.fhir import assessment_bundle
from support import AS_OF, EXAMPLES

_SCRIPT = Path(sys.executable).with_name("hccwatch")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "hccwatch.app.cli"]
MAN = EXAMPLES / "article-man-after-resection.json"
WOMAN = EXAMPLES / "article-woman-back-pain.json"


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *map(str, args)], capture_output=True, text=True, encoding="utf-8", timeout=120
    )


def _bundle(path: Path) -> object:
    return assessment_bundle(assess(json.loads(path.read_text(encoding="utf-8")), as_of=AS_OF))


def test_one_record_prints_an_indented_bundle() -> None:
    result = _run("assess", WOMAN, "--as-of", AS_OF.isoformat(), "--format", "fhir")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('{\n  "resourceType": "Bundle"')
    assert json.loads(result.stdout) == _bundle(WOMAN)
    Bundle.model_validate_json(result.stdout)


def test_several_records_print_one_bundle_per_line() -> None:
    result = _run("assess", MAN, WOMAN, "--as-of", AS_OF.isoformat(), "--format", "fhir")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == [_bundle(MAN), _bundle(WOMAN)]
