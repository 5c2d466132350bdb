"""The hccwatch command, run for real in a subprocess (the installed console script)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner, Result

from hccwatch import PatientRecord, assess, default_knowledge
from hccwatch.app import cli, io
from hccwatch.app.cli import main
from support import AS_OF, EXAMPLES

_SCRIPT = Path(sys.executable).with_name("hccwatch")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "hccwatch.app.cli"]
MAN = EXAMPLES / "article-man-after-resection.json"
WOMAN = EXAMPLES / "article-woman-back-pain.json"


def run(*args: str | Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


def expected(path: Path, **kwargs: Any) -> Any:
    """What --format json must print: the assessment's to_dict(), as JSON."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return json.loads(json.dumps(assess(data, as_of=AS_OF, **kwargs).to_dict()))


def write(tmp_path: Path, name: str, record: dict[str, Any] | str) -> Path:
    path = tmp_path / name
    path.write_text(record if isinstance(record, str) else json.dumps(record), encoding="utf-8")
    return path


# ---------------------------------------------------------------- formats and inputs


@pytest.mark.parametrize(
    ("fmt", "start"),
    [
        ("text", "=" * 100 + "\nHCCWATCH REPORT · article-man-after-resection\n"),
        ("markdown", "# hccwatch report: article-man-after-resection\n"),
        ("html", "<!DOCTYPE html>\n"),
    ],
)
def test_report_formats(fmt: str, start: str) -> None:
    result = run("assess", MAN, "--as-of", AS_OF.isoformat(), "--format", fmt)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(start)
    assert result.stderr == ""


def test_text_output_is_the_golden_report() -> None:
    golden = Path(__file__).parents[1] / "report" / "golden" / "article-man-after-resection.txt"
    result = run("assess", MAN, "--as-of", AS_OF.isoformat())
    assert result.stdout == golden.read_text(encoding="utf-8")


def test_single_json_is_indented_to_dict() -> None:
    result = run("assess", MAN, "--as-of", AS_OF.isoformat(), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('{\n  "hccwatch_version"')
    assert json.loads(result.stdout) == expected(MAN)


def test_stdin() -> None:
    result = run("assess", "-", "--as-of", AS_OF.isoformat(), "--format", "json", stdin=WOMAN.read_text())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected(WOMAN)


def test_directory_prints_json_lines_in_name_order() -> None:
    result = run("assess", EXAMPLES, "--as-of", AS_OF.isoformat(), "--format", "json")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    files = sorted(EXAMPLES.glob("*.json"))
    assert [json.loads(line)["record_id"] for line in lines] == [p.stem for p in files]


def test_several_files_print_json_lines() -> None:
    result = run("assess", MAN, WOMAN, "--as-of", AS_OF.isoformat(), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == [expected(MAN), expected(WOMAN)]


def test_lang_zh_changes_the_patient_summary_language() -> None:
    result = run("assess", MAN, "--as-of", AS_OF.isoformat(), "--format", "json", "--lang", "zh")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected(MAN, lang="zh")
    assert json.loads(result.stdout)["patient_summary"]["lang"] == "zh"


def test_as_of_defaults_to_the_record() -> None:
    result = run("assess", MAN, "--format", "json")
    assert json.loads(result.stdout)["as_of_source"] == "record"


# ---------------------------------------------------------------- bad input: exit 2, named problems


GOOD = {"id": "bad", "sex": "female"}


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        pytest.param(
            {**GOOD, "labs": [{"test": "afp", "value": 3, "unit": "mg/L", "date": "2026-01-01"}]},
            "bad.json: labs[0]: unit 'mg/L' is not accepted for afp",
            id="bad-unit",
        ),
        pytest.param(
            {**GOOD, "labs": [{"test": "albumin", "value": 35, "unit": "g/dL", "date": "2026-01-01"}]},
            "bad.json: labs[0]: albumin (after conversion to g/dL) 35 g/dL is not physiologically plausible",
            id="implausible-value",
        ),
        pytest.param({**GOOD, "ascites": "none"}, "bad.json: ascites: unknown field", id="unknown"),
        pytest.param(
            {**GOOD, "treatments": [{"type": "resection", "date": "2026-02-30"}]},
            "bad.json: treatments[0].date: '2026-02-30' is not a calendar date",
            id="bad-date",
        ),
        pytest.param(
            '{"id": "bad",\n  "sex": "male",,\n}', "bad.json: invalid JSON at line 2, column 17", id="json"
        ),
        pytest.param(
            '{"id": "a", "id": "b"}', "bad.json: key 'id' appears twice in one object", id="dup-key"
        ),
        pytest.param("[]", "bad.json: a patient record must be a JSON object ({...}), got []", id="array"),
        pytest.param("", "bad.json: empty input", id="empty"),
    ],
)
def test_invalid_record_exits_2_naming_file_and_problem(
    tmp_path: Path, record: dict[str, Any] | str, problem: str
) -> None:
    result = run("assess", write(tmp_path, "bad.json", record), "--as-of", AS_OF.isoformat())
    assert result.returncode == 2
    assert result.stdout == ""
    assert problem in result.stderr


def test_every_problem_of_a_record_is_listed(tmp_path: Path) -> None:
    record = {
        **GOOD,
        "ecog": 7,
        "labs": [{"test": "afp", "value": 3, "unit": "mg/L", "date": "2026-01-01"}],
        "surprise": True,
    }
    lines = run("assess", write(tmp_path, "bad.json", record)).stderr.splitlines()
    assert [line.split(":")[1].strip() for line in lines] == ["ecog", "labs[0]", "surprise"]


def test_one_bad_file_among_good_ones_loses_nothing(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.json", "{nope")
    result = run("assess", MAN, bad, WOMAN, "--as-of", AS_OF.isoformat(), "--format", "json")
    assert result.returncode == 2
    assert [json.loads(line)["record_id"] for line in result.stdout.splitlines()] == [
        "article-man-after-resection",
        "article-woman-back-pain",
    ]
    assert result.stderr.startswith(f"{bad}: invalid JSON at line 1, column 2")


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--as-of", "2026-13-01"], "'2026-13-01' is not a date (YYYY-MM-DD)"),
        (["--as-of", "yesterday"], "'yesterday' is not a date"),
        (["--format", "pdf"], "Invalid value for '--format'"),
        (["--lang", "fr"], "Invalid value for '--lang'"),
    ],
)
def test_bad_option_exits_2(args: list[str], problem: str) -> None:
    result = run("assess", MAN, *args)
    assert result.returncode == 2
    assert problem in result.stderr


def test_missing_file_and_empty_directory_are_named(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("assess", tmp_path / "missing.json", empty)
    assert result.returncode == 2
    assert f"{tmp_path / 'missing.json'}: no such file or directory" in result.stderr
    assert f"{empty}: directory holds no *.json record" in result.stderr


# ---------------------------------------------------------------- other commands


def test_schema_is_the_record_json_schema() -> None:
    result = run("schema")
    assert result.returncode == 0
    assert json.loads(result.stdout) == PatientRecord.model_json_schema()


def test_knowledge_lists_version_citations_and_unverified() -> None:
    k = default_knowledge()
    text = run("knowledge").stdout
    assert text.startswith(f"hccwatch knowledge {k.version}:")
    assert all(f"  {cid}: " in text for cid in k.citations)
    data = json.loads(run("knowledge", "--format", "json").stdout)
    assert data["knowledge_version"] == k.version
    assert {u["key"] for u in data["unverified"]} == {e.key for e in k.entries.values() if not e.verified}


def test_version() -> None:
    from hccwatch import __version__

    assert run("--version").stdout.strip() == f"hccwatch, version {__version__}"


def test_unknown_profile_is_a_usage_error_naming_the_choices() -> None:
    result = run("assess", MAN, "--profile", "weekly")
    assert result.returncode == 2
    assert "'weekly' is not a profile; available: default" in result.stderr


def test_unknown_profile_in_a_record_names_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"id": "p", "surveillance_profile": "weekly"}), encoding="utf-8")
    result = run("assess", str(bad))
    assert result.returncode == 2
    assert "surveillance_profile: unknown surveillance profile 'weekly'" in result.stderr


# ---------------------------------------------------------------- hostile files, in-process (CliRunner)

HOSTILE = [
    pytest.param('{"id": "a", "age": ' + "9" * 5000 + "}", "a number of 5000 digits", id="huge-int"),
    pytest.param("[" * 100_000 + "]" * 100_000, "nested too deeply", id="deep-json"),
    pytest.param('{"id": "a", "liver": ' + '{"a": ' * 40 + "1" + "}" * 41, "nested more than", id="nested"),
    pytest.param(b'{"id": "\xff\xfe"}', "not UTF-8 text", id="not-utf8"),
    pytest.param('"a record"', "must be a JSON object ({...}), got 'a record'", id="string"),
    pytest.param('{"id": "a", "dcp_mau_ml": NaN}', "NaN is not a number JSON allows", id="nan"),
    pytest.param('{"id": "a", "dcp_mau_ml": Infinity}', "Infinity is not a number", id="infinity"),
    pytest.param('{"id": "a", "dcp_mau_ml": 1e999}', "too large to be a value", id="overflow"),
    pytest.param('{"id": "a", "age": true}', "age: expected a whole number, got true", id="bool-age"),
    pytest.param(
        '{"id": "a", "treatments": [{"type": "tace", "date": "9999-12-31"}]}',
        "treatments[0].date: 9999-12-31 is outside the plausible dates",
        id="year-9999",
    ),
]


def _cli(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.parametrize(("content", "problem"), HOSTILE)
def test_a_hostile_file_is_named_and_the_next_file_is_still_assessed(
    tmp_path: Path, content: str | bytes, problem: str
) -> None:
    bad = tmp_path / "bad.json"
    if isinstance(content, bytes):
        bad.write_bytes(content)
    else:
        bad.write_text(content, encoding="utf-8")
    good = write(tmp_path, "good.json", {"id": "good", "sex": "male"})
    result = _cli("assess", bad, good, "--as-of", "2026-01-01", "--format", "json")
    assert result.exit_code == 2
    assert f"{bad}: " in result.stderr and problem in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr) < 1000  # echoes are bounded
    assert [json.loads(line)["record_id"] for line in result.stdout.splitlines()] == ["good"]


def test_a_non_finite_number_in_an_assessment_is_a_bug_for_that_record_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = cli.assess

    def broken(record: PatientRecord, *args: Any, **kwargs: Any) -> Any:
        assessment = real(record, *args, **kwargs)
        if record.id != "bug":
            return assessment
        data = assessment.to_dict()
        data["afp"] = {"slope": math.inf}
        return SimpleNamespace(to_dict=lambda: data)

    monkeypatch.setattr(cli, "assess", broken)
    files = [write(tmp_path, f"{i}.json", {"id": i}) for i in ("a", "bug", "c")]
    result = _cli("assess", *files, "--as-of", "2026-01-01", "--format", "json")
    assert result.exit_code == 1
    assert "bug.json: internal error" in result.stderr
    assert [json.loads(line)["record_id"] for line in result.stdout.splitlines()] == ["a", "c"]
    assert "Infinity" not in result.stdout


def test_help_does_not_load_the_knowledge_base() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from hccwatch.app.cli import main\n"
        "from hccwatch.core.knowledge import default_knowledge\n"
        "assert CliRunner().invoke(main, ['assess', '--help']).exit_code == 0\n"
        "sys.exit(default_knowledge.cache_info().currsize)\n"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_as_of_outside_the_plausible_dates_is_a_usage_error() -> None:
    result = _cli("assess", MAN, "--as-of", "9999-12-31")
    assert result.exit_code == 2
    assert "outside the plausible dates" in result.stderr


def test_as_of_before_birth_is_named_for_that_record(tmp_path: Path) -> None:
    young = write(tmp_path, "young.json", {"id": "young", "birth_date": "2020-01-01"})
    result = _cli("assess", young, MAN, "--as-of", "2019-06-01", "--format", "json")
    assert result.exit_code == 2
    assert f"{young}: as_of 2019-06-01 (given) is before the patient's birth_date" in result.stderr
    assert json.loads(result.stdout)["record_id"] == "article-man-after-resection"


def test_a_patient_who_died_is_named_in_one_line_and_the_rest_assessed(tmp_path: Path) -> None:
    data = json.loads(MAN.read_text(encoding="utf-8"))
    died = write(tmp_path, "died.json", {**data, "id": "died", "deceased_on": "2020-03-01"})
    result = _cli("assess", died, MAN, "--as-of", AS_OF.isoformat(), "--format", "json")
    assert result.exit_code == 2
    assert result.stderr == (
        f"{died}: the record says the patient died on 2020-03-01: hccwatch assesses the follow-up "
        "of living patients, so nothing is assessed or due\n"
    )
    assert json.loads(result.stdout)["record_id"] == "article-man-after-resection"


def test_a_file_too_large_to_be_a_record_is_named_without_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = MAN.stat().st_size
    monkeypatch.setattr(io, "MAX_RECORD_BYTES", limit)
    big = write(tmp_path, "big.json", {"id": "big", "note": "x" * limit})
    result = _cli("assess", big, MAN, "--as-of", AS_OF.isoformat(), "--format", "json")
    assert result.exit_code == 2
    assert f"{big}: larger than" in result.stderr
    assert json.loads(result.stdout)["record_id"] == "article-man-after-resection"


def test_an_input_name_the_system_cannot_look_up_is_named_and_the_rest_assessed() -> None:
    result = _cli("assess", "x" * 5000, MAN, "--as-of", AS_OF.isoformat(), "--format", "json")
    assert result.exit_code == 2
    assert result.stderr.startswith("x" * 77 + "...: cannot be read")
    assert json.loads(result.stdout)["record_id"] == "article-man-after-resection"


def test_a_bug_while_reading_one_input_loses_no_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = cli.load

    def broken(source: io.Source, *args: Any) -> io.Loaded:
        if source.name.endswith("bug.json"):
            raise RuntimeError("boom")
        return real(source, *args)

    monkeypatch.setattr(cli, "load", broken)
    bug = write(tmp_path, "bug.json", {"id": "bug"})
    result = _cli("assess", bug, MAN, "--as-of", AS_OF.isoformat(), "--format", "json")
    assert result.exit_code == 1
    assert (
        f"{bug}: internal error, a bug in hccwatch rather than in the record: RuntimeError('boom')"
        in result.stderr
    )
    assert json.loads(result.stdout)["record_id"] == "article-man-after-resection"
