"""Display names live in one data file and cover every key the engine produces."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from report_support import GOLDEN_EXAMPLES, example

from hccwatch.report.labels import labels
from hccwatch.report.view import build

SRC = Path(__file__).resolve().parents[2] / "src" / "hccwatch"


def test_every_finding_key_has_a_display_name() -> None:
    # A new score, stage or criterion must be named in labels.toml, not shown as its raw key.
    for name in GOLDEN_EXAMPLES:
        a = example(name)
        keys = {*a.scores, *a.staging, *a.transplant}
        assert keys <= set(labels().findings), sorted(keys - set(labels().findings))


def test_every_section_title_comes_from_the_labels() -> None:
    view = build(example("article-woman-back-pain"))
    assert [s.title for s in view.sections] == [labels().section(s.key).title for s in view.sections]
    assert view.bottom_line_title == labels().section("bottom_line").title
    assert {r.label for r in view.bottom_line} <= set(labels().bottom_line.values())


def test_keys_read_as_clinicians_write_them() -> None:
    assert labels().key("meld_3") == "MELD 3.0"
    assert labels().key("up_to_seven") == "Up-to-seven"
    assert labels().key("bilirubin_mg_dl") == "bilirubin (mg/dL)"
    assert labels().key("slope_ng_ml_per_month") == "slope (ng/mL per month)"
    assert labels().key("chest_ct") == "chest CT"
    assert labels().title("liver_function") == "Liver function"
    assert labels().title("milan") == "Milan"


def test_the_file_is_packaged_and_holds_only_strings() -> None:
    raw = tomllib.loads(
        resources.files("hccwatch.report").joinpath("labels.toml").read_text(encoding="utf-8")
    )

    def strings(v: object) -> bool:
        return isinstance(v, str) or (isinstance(v, dict) and all(strings(x) for x in v.values()))

    assert strings(raw)


def test_every_fixed_word_is_used() -> None:
    # Like knowledge entries, a label nobody reads is dead weight that drifts out of date.
    code = "".join(p.read_text(encoding="utf-8") for p in (SRC / "report").glob("*.py"))
    fixed = {*labels().words, *labels().bottom_line, *labels().sections}
    unused = sorted(k for k in fixed if f'"{k}"' not in code and f"'{k}'" not in code)
    assert not unused
