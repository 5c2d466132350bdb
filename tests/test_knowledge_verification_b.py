"""Issue 11, verification pass B: follow-up, AFP, metastasis, recurrence and options entries.

Every entry of these families states its review status, and each status carries what a reviewer
needs to trace it: a project choice says why and cites HCCWATCH-POLICY, a secondary reading names
the primary it reports, an unverified entry says what was searched. The spot checks pin the
entries this pass verified against their primary source to the wording read there.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from importlib.resources import files
from typing import Any

import pytest

from hccwatch import default_knowledge
from hccwatch.core.knowledge import Entry

FAMILIES = ("surveillance", "afp", "metastasis", "red_flags", "workup", "recurrence", "options")


def _keys(table: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    # An entry is a table with a locator; anything else is a namespace.
    for name, sub in table.items():
        if isinstance(sub, dict):
            key = f"{prefix}{name}"
            if "locator" in sub:
                yield key
            else:
                yield from _keys(sub, f"{key}.")


def _family_entries() -> list[Entry]:
    folder = files("hccwatch") / "knowledge" / "thresholds"
    kb = default_knowledge().entries
    keys = [k for n in FAMILIES for k in _keys(tomllib.loads((folder / f"{n}.toml").read_text("utf-8")))]
    return [kb[k] for k in keys]


def test_the_families_are_found() -> None:
    assert len(_family_entries()) > 150


@pytest.mark.parametrize("entry", _family_entries(), ids=lambda e: e.key)
def test_each_status_carries_what_a_reviewer_needs(entry: Entry) -> None:
    if entry.status == "policy":
        assert "HCCWATCH-POLICY" in entry.citations and entry.note, "a project choice says why"
    elif entry.status == "secondary":
        note = (entry.note or "").lower()
        assert "secondary" in note and "primary" in note, "a secondary reading names its primary"
    elif entry.status == "unverified":
        assert entry.note, "an unverified entry says why it could not be confirmed"


# Values and the source's own wording of the boundary (inclusive or exclusive), as read in pass B.
@pytest.mark.parametrize(
    ("key", "value", "wording"),
    [
        # Giard 2018 abstract: "AFP slope greater than 7.5 ng/mL per month" (exclusive).
        ("afp.rising_slope_ng_ml_per_month", 7.5, "greater than 7.5"),
        # NICE NG127, terms used: "Refer urgently - To be seen by the specialist service within 2 weeks".
        ("metastasis.urgency.soon", "within about 2 weeks", "within 2 weeks"),
        # NICE QS56 statement 3: whole-spine MRI "within 24 hours of the suspected diagnosis".
        ("metastasis.red_flags.mscc.mri_within_hours", 24, "within 24 hours"),
        # Shirabe 1997 abstract: AFP "did not decrease to <20 ng/ml" within 3 months (exclusive).
        ("afp.normalisation.normal_below_ng_ml", 20, "decrease to <20 ng/ml"),
        ("afp.normalisation.assess_after_days", 90, "within 3 months after surgery"),
        # Wang 2018 abstract: "disease-free interval (DFI) < 12 months (HR = 2.421 ...)".
        ("options.metastasectomy.dfi_min_months", 12, "< 12 months"),
    ],
)
def test_verified_entries_quote_their_source(key: str, value: object, wording: str) -> None:
    entry = default_knowledge().entries[key]
    assert entry.status == "verified" and entry.value == value
    assert wording in entry.locator


def test_reach2_eligibility_is_inclusive_at_400() -> None:
    # REACH-2 Methods: "alpha-fetoprotein concentrations of 400 ng/mL or greater", Child-Pugh A, ECOG 0-1.
    entry = default_knowledge().entries["options.regimen.ramucirumab"]
    assert entry.status == "verified" and "400 ng/mL or greater" in entry.locator
    assert isinstance(entry.value, dict)
    assert entry.value["afp_min_ng_ml"] == 400 and entry.value["child_pugh"] == ["A"]
    assert entry.value["ecog_max"] == 1


def test_guideline_intervals_not_read_in_the_primary_are_not_called_verified() -> None:
    kb = default_knowledge().entries
    secondary = (
        "surveillance.profile.aasld_2023",
        "surveillance.profile.easl",
        "surveillance.schedule.post_lt_6m",
    )
    for key in secondary:
        assert kb[key].status == "secondary", key
    for key in ("surveillance.profile.china_2024", "surveillance.schedule.china_post_treatment"):
        assert kb[key].status == "unverified", key
