"""A malformed knowledge value fails when the knowledge base loads, naming the entry."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from hccwatch.core.knowledge import load_knowledge
from hccwatch.core.knowledge_shapes import check_value
from hccwatch.errors import KnowledgeError


@pytest.mark.parametrize(
    ("key", "value", "unit", "message"),
    [
        ("meld.creatinine_cap_mg_dl", "4.0", "mg/dL", "expected a number, got text"),
        ("meld.creatinine_cap_mg_dl", True, None, "expected a number, got true/false"),
        ("x.threshold", float("inf"), None, "not a finite number"),
        ("x.threshold", float("nan"), None, "not a finite number"),
        ("x.cutoff", "high", "ng/mL", "has a unit (ng/mL) but holds text"),
        ("x.window", {"from_months": "3"}, None, "from_months: expected a number, got text"),
        ("x.bands", [{"upto": 3, "points": 0}, {"upto": "6", "points": 1}], None, "expected a number"),
        ("x.bands", [{"upto": 3, "points": 0}, {"upto": 2, "points": 1}], None, "increasing order"),
        ("x.bands", [{"points": 0}, {"upto": 2, "points": 1}], None, "only the last band may be open"),
        ("x.arms", [{"label": "a"}, {"label": 3}], None, "x.arms'[1].label: a number where row 0 has a text"),
        ("units.afp", {"canonical": "ng/mL"}, None, "expected {canonical = unit, convert"),
        ("units.afp", {"canonical": "ng/mL", "convert": {"IU/mL": ["times", 1.21]}}, None, "IU/mL"),
        ("units.afp", {"canonical": "ng/mL", "convert": {"IU/mL": ["multiply", 0]}}, None, "factor > 0"),
        ("plausibility.afp", [10, 1], "ng/mL", "low <= high"),
        ("plausibility.afp", [0], "ng/mL", "[low, high]"),
    ],
)
def test_malformed_values_are_refused_naming_the_entry(
    key: str, value: Any, unit: str | None, message: str
) -> None:
    with pytest.raises(KnowledgeError, match=r"f\.toml: entry") as info:
        check_value(key, value, unit, "f.toml")
    assert key in str(info.value) and message in str(info.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (
            "transplant.afp_model.afp_points",
            [{"upto": 100, "points": 0}, {"upto": 1000, "points": 2}, {"points": 3}],
        ),
        (
            "retreat.afp_bands_ng_ml",
            [{"min": 0, "points": 0}, {"above": 20, "points": 1}, {"min": 100, "points": 2}],
        ),
        ("child_pugh.albumin_g_dl", [2.8, 3.5]),
        ("bclc.first_choice.stage_0", [{"id": "ablation", "label": "Ablation"}]),
    ],
)
def test_well_formed_values_pass(key: str, value: Any) -> None:
    check_value(key, value, None, "f.toml")


def _copy_of_packaged(tmp_path: Path) -> Path:
    with resources.as_file(resources.files("hccwatch") / "knowledge") as src:
        return Path(shutil.copytree(src, tmp_path / "knowledge"))


def test_a_bad_file_fails_at_load_not_mid_assessment(tmp_path: Path) -> None:
    root = _copy_of_packaged(tmp_path)
    units = root / "thresholds" / "units.toml"
    text = units.read_text(encoding="utf-8")
    units.write_text(
        text.replace('"IU/mL" = ["multiply", 1.21]', '"IU/mL" = ["multiply", "1.21"]'), encoding="utf-8"
    )
    with pytest.raises(KnowledgeError, match=r"units\.toml: entry 'units\.afp'.*IU/mL"):
        load_knowledge(root)


def test_a_toml_date_is_not_a_knowledge_value(tmp_path: Path) -> None:
    root = _copy_of_packaged(tmp_path)
    extra = root / "thresholds" / "zz_extra.toml"
    extra.write_text(
        '[x.since]\nvalue = 2020-01-01\ncitation = "HCCWATCH-POLICY"\nlocator = "l"\nverified = false\n',
        encoding="utf-8",
    )
    with pytest.raises(
        KnowledgeError, match=r"zz_extra\.toml: entry 'x\.since': a date is not a knowledge value"
    ):
        load_knowledge(root)
