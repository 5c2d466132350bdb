"""The CLI reads FHIR wherever it reads a record: Bundles, NDJSON files and NDJSON folders."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from hccwatch.app.cli import main
from support import AS_OF, EXAMPLES

WOMAN = EXAMPLES / "fhir" / "woman-back-pain-leg-numbness.bundle.json"
MAN = EXAMPLES / "fhir" / "man-quiet-follow-up.bundle.json"
RECORD = EXAMPLES / "article-man-after-resection.json"


def _cli(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _split_ndjson(bundle: Path, folder: Path) -> None:
    """The Bundle as a Bulk Data export: one NDJSON file per resource type."""
    folder.mkdir()
    by_type: dict[str, list[str]] = {}
    for entry in json.loads(bundle.read_text(encoding="utf-8"))["entry"]:
        resource = entry["resource"]
        if "subject" in resource:
            resource["subject"] = {"reference": f"Patient/{bundle.stem}"}
        if resource["resourceType"] == "Patient":
            resource["id"] = bundle.stem
        by_type.setdefault(resource["resourceType"], []).append(json.dumps(resource))
    for kind, lines in by_type.items():
        (folder / f"{kind}.000.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_assess_a_bundle_gives_the_alerts_and_shows_the_assumptions() -> None:
    result = _cli("assess", WOMAN, "--as-of", AS_OF.isoformat(), "--format", "json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["record_id"] == "hcc-woman-back-pain-leg-numbness"
    assert out["alerts"][0]["id"] == "mscc_suspected"
    assert [a["field"] for a in out["scores"]["meld"]["assumptions"]] == [
        "liver.dialysis_twice_past_week",
        "liver.cvvhd_24h_past_week",
    ]
    assert result.stderr == ""


def test_a_bundle_and_a_record_together() -> None:
    result = _cli("assess", MAN, RECORD, "--as-of", AS_OF.isoformat(), "--format", "json")
    assert result.exit_code == 0
    ids = [json.loads(line)["record_id"] for line in result.stdout.splitlines()]
    assert ids == ["hcc-man-quiet-follow-up", "article-man-after-resection"]


def test_an_ndjson_folder_is_one_patient(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    _split_ndjson(WOMAN, folder)
    result = _cli("assess", folder, "--as-of", AS_OF.isoformat(), "--format", "json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["record_id"] == WOMAN.stem
    assert out["alerts"][0]["id"] == "mscc_suspected"


def test_record_prints_what_was_read_with_warnings_and_assumptions(tmp_path: Path) -> None:
    bundle = json.loads(MAN.read_text(encoding="utf-8"))
    bundle["entry"].append(
        {
            "resource": {
                "resourceType": "Observation",
                "id": "molar-afp",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "19177-5"}]},
                "subject": {"reference": bundle["entry"][0]["fullUrl"]},
                "effectiveDateTime": "2026-11-10",
                "valueQuantity": {"value": 3, "system": "http://unitsofmeasure.org", "code": "nmol/L"},
            }
        }
    )
    path = tmp_path / "man.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    result = _cli("record", path, "--as-of", AS_OF.isoformat())
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["format"] == "fhir"
    assert out["record"]["id"] == "hcc-man-quiet-follow-up"
    assert [w["resource"] for w in out["warnings"]] == ["Observation/molar-afp"]
    assert out["assumptions"] == out["record"]["assumptions"]
    assert "2026-11-17 to 2026-11-24" in out["assumptions"][0]["reason"]
    assessed = _cli("assess", path, "--as-of", AS_OF.isoformat(), "--format", "json")
    assert "1 mapping warning(s)" in assessed.stderr


def test_record_of_a_plain_record_and_of_bad_inputs(tmp_path: Path) -> None:
    result = _cli("record", RECORD)
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["format"] == "record" and out["warnings"] == [] and out["record"]["id"] == RECORD.stem
    none = tmp_path / "none.json"
    none.write_text(
        json.dumps({"resourceType": "Bundle", "type": "collection", "entry": []}), encoding="utf-8"
    )
    two = tmp_path / "two.json"
    two.write_text(
        json.dumps([{"resourceType": "Patient", "id": "a"}, {"resourceType": "Patient", "id": "b"}]),
        encoding="utf-8",
    )
    result = _cli("record", none, two, RECORD)
    assert result.exit_code == 2
    assert f"{none}: no patient found" in result.stderr
    assert f"{two}: 2 patients found" in result.stderr
    assert [json.loads(line)["source"] for line in result.stdout.splitlines()] == [str(RECORD)]
    bad = tmp_path / "bad.ndjson"
    bad.write_text('{"resourceType": "Patient", "id": "a"}\n{oops\n', encoding="utf-8")
    result = _cli("assess", bad)
    assert result.exit_code == 2
    assert f"{bad} line 2: invalid JSON" in result.stderr
