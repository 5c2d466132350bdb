"""The engine: staging findings are memoised per combination of what the staging rules read,
and a memoised answer is the answer."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from corpus import build as corpus
from hccwatch import DeceasedError, assess, default_knowledge, parse_record
from hccwatch.core.engine import STAGING_FIELDS, evaluate
from hccwatch.core.memo import clear_all
from hccwatch.record.model import PatientRecord
from support import AS_OF, labs

_BASE: dict[str, Any] = {
    "ecog": 0,
    "tumors": [{"size_cm": 2.5}],
    "tumors_assessed_on": "2026-10-01",
    "macrovascular_invasion": False,
    "microvascular_invasion": False,
    "adjacent_organ_invasion": False,
    "visceral_peritoneum_perforation": False,
    "extrahepatic_metastasis": False,
    "lymph_node_metastasis": False,
    "infiltrative": False,
    "liver": {"ascites": "none", "encephalopathy": "none"},
    "labs": labs(bilirubin=1.0, albumin=4.0, inr=1.0),
}
_FOUR = [{"size_cm": 2.0}] * 4  # multinodular beyond BCLC A: stage B, where infiltrative growth is read

# (shared by both records, only in the second, evaluation date of the second); one per fact read.
PAIRS: list[tuple[dict[str, Any], dict[str, Any], dt.date]] = [
    ({}, {"ecog": 3}, AS_OF),
    ({"ecog": 1}, {"ecog_cancer_related": True}, AS_OF),
    ({}, {"macrovascular_invasion": True}, AS_OF),
    ({}, {"microvascular_invasion": True}, AS_OF),
    ({}, {"adjacent_organ_invasion": True}, AS_OF),
    ({}, {"visceral_peritoneum_perforation": True}, AS_OF),
    ({}, {"extrahepatic_metastasis": True}, AS_OF),
    ({}, {"lymph_node_metastasis": True}, AS_OF),
    ({"tumors": _FOUR}, {"infiltrative": True}, AS_OF),
    ({}, {"tumors": [{"size_cm": 6.0}]}, AS_OF),
    ({}, {"tumors_assessed_on": "2026-11-20"}, AS_OF),
    ({}, {"metastatic_sites": [{"site": "lung"}]}, AS_OF),
    ({"metastatic_sites": [{"site": "lung", "date": "2026-12-01"}]}, {}, dt.date(2026, 12, 2)),
    ({}, {"labs": labs(bilirubin=4.0, albumin=2.5, inr=2.5)}, AS_OF),
]


def _staging(raw: dict[str, Any], as_of: dt.date = AS_OF) -> Any:
    return assess(raw, as_of=as_of).to_dict()["staging"]


def test_every_field_the_staging_rules_read_has_a_pair() -> None:
    covered = {name for _, other, _ in PAIRS for name in other}
    assert set(STAGING_FIELDS) <= covered
    assert set(STAGING_FIELDS) <= set(PatientRecord.model_fields)


@pytest.mark.parametrize(("shared", "other", "as_of"), PAIRS, ids=[str(p[1] or p[2]) for p in PAIRS])
def test_memo_tells_apart_what_staging_reads(
    shared: dict[str, Any], other: dict[str, Any], as_of: dt.date
) -> None:
    first = {"id": "a", **_BASE, **shared}
    second = {"id": "b", **_BASE, **shared, **other}
    clear_all()
    before = _staging(first)
    warm = _staging(second, as_of)
    clear_all()
    assert warm == _staging(second, as_of)
    assert warm != before


def test_memoised_staging_is_the_staging() -> None:
    """Across the seeded corpus records, answered from a cold memo and from records seen before."""
    raws = [*corpus.generated(), *corpus.examples()]
    clear_all()
    warm = {raw["id"]: _staging(raw) for raw in raws}
    for raw in raws[::5]:
        clear_all()
        assert _staging(raw) == warm[raw["id"]], raw["id"]


# A static guard beside the pairs: a staging rule that starts reading another part of the record
# would make the memo hand one patient's stage to another. Every record read in the staging
# modules must be a key field, and none may reach the record through the context's look-ups.
_STAGING_DIR = Path(__file__).resolve().parents[2] / "src" / "hccwatch" / "core" / "rules" / "staging"
_CONTEXT_LOOKUPS = {"labs", "latest_lab", "lab_series", "treatments", "imaging", "active_symptoms"}


def _record_reads(tree: ast.AST) -> tuple[set[str], set[str]]:
    fields: set[str] = set()
    lookups: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        base = node.value
        if (isinstance(base, ast.Name) and base.id in {"record", "rec"}) or (
            isinstance(base, ast.Attribute) and base.attr == "record"
        ):
            fields.add(node.attr)
        if isinstance(base, ast.Name) and base.id == "ctx" and node.attr in _CONTEXT_LOOKUPS:
            lookups.add(node.attr)
    return fields, lookups


@pytest.mark.parametrize("path", sorted(_STAGING_DIR.glob("*.py")), ids=lambda p: p.name)
def test_staging_reads_only_memo_key_fields(path: Path) -> None:
    fields, lookups = _record_reads(ast.parse(path.read_text(encoding="utf-8")))
    assert fields <= set(STAGING_FIELDS), f"{path.name} reads {fields - set(STAGING_FIELDS)}"
    assert not lookups, f"{path.name} uses context look-ups {lookups} that the staging memo does not key on"


def test_the_guard_sees_a_new_read() -> None:
    fields, lookups = _record_reads(ast.parse("x = ctx.record.labs\ny = ctx.latest_lab(t, 'afp')"))
    assert fields == {"labs"} and lookups == {"latest_lab"}


# --- a record that says the patient died --------------------------------------------------------

_DIED = dt.date(2019, 5, 2)


@pytest.mark.parametrize("as_of", [_DIED, _DIED + dt.timedelta(days=1), AS_OF])
def test_a_patient_who_died_on_or_before_as_of_is_not_assessed(as_of: dt.date) -> None:
    with pytest.raises(DeceasedError) as info:
        assess({"id": "p1", **_BASE, "deceased_on": _DIED.isoformat()}, as_of)
    assert str(info.value) == (
        "the record says the patient died on 2019-05-02: hccwatch assesses the follow-up of "
        "living patients, so nothing is assessed or due"
    )
    assert info.value.deceased_on == _DIED


def test_a_patient_who_died_with_no_date_given_is_not_assessed() -> None:
    with pytest.raises(DeceasedError, match=r"^the record says the patient has died \(no date given\): "):
        assess({"id": "p1", **_BASE, "deceased": True}, AS_OF)


def test_a_death_dated_after_as_of_leaves_the_patient_assessed_as_on_that_day() -> None:
    # Alive on as_of: the assessment is the one of the same record without the death.
    later = (AS_OF + dt.timedelta(days=1)).isoformat()
    died = assess({"id": "p1", **_BASE, "deceased": True, "deceased_on": later}, AS_OF).to_dict()
    living = assess({"id": "p1", **_BASE}, AS_OF).to_dict()
    assert died == living


def test_a_record_saying_the_patient_is_alive_is_assessed_as_usual() -> None:
    stated = assess({"id": "p1", **_BASE, "deceased": False}, AS_OF).to_dict()
    assert stated == assess({"id": "p1", **_BASE}, AS_OF).to_dict()


def test_the_engine_refuses_before_reading_the_clinical_record() -> None:
    # Pure: evaluate itself refuses (not only the API), whatever else the record holds.
    record = parse_record({"id": "p1", "deceased": True, "deceased_on": "2019-05-02"})
    with pytest.raises(DeceasedError):
        evaluate(record, as_of=AS_OF, knowledge=default_knowledge())
