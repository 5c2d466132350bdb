"""UNOS downstaging entry (AASLD-2023 Table 4) and the 2017 UNOS AFP rule for the T2 exception."""

from __future__ import annotations

import pytest
from transplant_support import criteria

from support import labs

# ------------------------------------------------------------------ UNOS-DS entry


@pytest.mark.parametrize(
    ("sizes", "eligible", "reason"),
    [
        pytest.param((4.0,), False, "within_milan", id="within Milan: no downstaging needed"),
        pytest.param((5.1,), True, "within_entry", id="single 5.1 cm"),
        pytest.param((8.0,), True, "within_entry", id="single 8.0 cm"),
        pytest.param((8.1,), False, "beyond_entry", id="single 8.1 cm"),
        pytest.param((5.0, 3.0), True, "within_entry", id="2 lesions, 5 + 3 = 8 cm"),
        pytest.param((5.0, 3.1), False, "beyond_entry", id="2 lesions, total 8.1 cm"),
        pytest.param((4.0, 2.0, 2.0), True, "within_entry", id="3 lesions, largest 4 cm"),
        pytest.param((3.0, 3.0, 1.0, 1.0), True, "within_entry", id="4 lesions each <= 3, total 8"),
        pytest.param((3.1, 1.0, 1.0, 1.0), False, "beyond_entry", id="4 lesions, one 3.1 cm"),
        pytest.param((1.0,) * 6, False, "beyond_entry", id="6 lesions"),
    ],
)
def test_downstaging_entry(sizes: tuple[float, ...], eligible: bool, reason: str) -> None:
    finding = criteria(sizes)["unos_downstaging"]
    assert (finding["eligible"], finding["reason"]) == (eligible, reason)
    assert finding.rule == "transplant.unos_downstaging"


def test_downstaging_with_an_unknown_size_that_matters() -> None:
    finding = criteria((None, 2.0))["unos_downstaging"]
    assert finding["eligible"] is None
    assert "tumors[0].size_cm" in finding.missing


# ------------------------------------------------------------------ T2 and the AFP rule (UNOS 2017)


@pytest.mark.parametrize(
    ("sizes", "t2"),
    [
        pytest.param((1.9,), False, id="T1: single < 2 cm"),
        pytest.param((2.0,), True, id="single 2.0 cm"),
        pytest.param((5.0,), True, id="single 5.0 cm"),
        pytest.param((5.1,), False, id="single 5.1 cm"),
        pytest.param((1.5, 1.2), True, id="2 lesions of 1-3 cm"),
        pytest.param((2.5, 0.8), True, id="a lesion < 1 cm does not count"),
        pytest.param((3.0, 3.0, 3.0, 0.5), True, id="3 lesions plus one < 1 cm"),
        pytest.param((3.0, 3.0, 3.0, 1.0), False, id="4 lesions >= 1 cm"),
    ],
)
def test_t2(sizes: tuple[float, ...], t2: bool) -> None:
    finding = criteria(sizes, afp=10)["unos_afp_exception"]
    assert (finding["t2"], finding["eligible"]) == (t2, t2)
    assert any("class 5" in n for n in finding.notes)


HIGH = labs("2026-09-01", afp=1200)
TACE = [{"type": "tace", "date": "2026-09-15"}]


@pytest.mark.parametrize(
    ("history", "treatments", "eligible", "phrase"),
    [
        pytest.param(labs(afp=1000), [], True, "not exceeded 1000", id="AFP 1000 is not above 1000"),
        pytest.param(labs(afp=1001), [], False, "not initially eligible", id="AFP 1001, no treatment"),
        pytest.param(HIGH + labs(afp=499), TACE, True, "< 500", id="AFP 499 after TACE"),
        pytest.param(HIGH + labs(afp=500), TACE, False, "review board", id="AFP 500 after TACE"),
        pytest.param(
            HIGH + labs("2026-10-01", afp=800) + labs(afp=300), TACE, False, "review board", id="500+ once"
        ),
        pytest.param(HIGH, TACE, None, "no current AFP", id="no AFP since TACE"),
    ],
)
def test_afp_rule(
    history: list[dict[str, object]], treatments: list[dict[str, str]], eligible: bool | None, phrase: str
) -> None:
    # UNOS 2017: AFP > 1000 not initially eligible; < 500 after LRT eligible; >= 500 after LRT review board.
    finding = criteria(tumors=[{"size_cm": 3.0, "viable": True}], labs=history, treatments=treatments)
    result = finding["unos_afp_exception"]
    assert result["eligible"] is eligible
    assert phrase in result.explanation


def test_afp_rule_with_unknown_current_afp() -> None:
    finding = criteria((3.0,))["unos_afp_exception"]
    assert finding["t2"] is True and finding["eligible"] is None
    assert "labs.afp" in finding.missing


RESECTED_2020 = {
    "tumors_assessed_on": "2026-10-01",
    "treatments": [{"type": "resection", "date": "2020-02-01"}],
}


def test_afp_before_a_resection_is_not_part_of_the_history() -> None:
    # A pre-resection AFP of 1500 reflects the removed tumour: the recurrence with AFP 8 is judged on
    # its own AFP (UNOS 2017 rule applied to current disease).
    history = labs("2020-01-01", afp=1500) + labs("2026-11-01", afp=8)
    finding = criteria((3.0,), labs=history, **RESECTED_2020)["unos_afp_exception"]
    assert finding["eligible"] is True and finding["afp_ng_ml"] == 8
    assert any("reflect the removed tumour" in n for n in finding.notes)


def test_afp_above_1000_after_the_resection_still_counts() -> None:
    history = labs("2020-01-01", afp=5) + labs("2026-11-01", afp=1500)
    finding = criteria((3.0,), labs=history, **RESECTED_2020)["unos_afp_exception"]
    assert finding["eligible"] is False and "not initially eligible" in finding.explanation


def test_a_current_afp_taken_before_the_resection_is_not_current() -> None:
    recent = {"tumors_assessed_on": "2026-11-20", "treatments": [{"type": "resection", "date": "2026-11-10"}]}
    finding = criteria((3.0,), labs=labs("2026-11-01", afp=8), **recent)["unos_afp_exception"]
    assert finding["eligible"] is None
    assert "labs.afp (after the resection of 2026-11-10)" in finding.missing


def test_t2_is_the_imaging_stage_and_an_unknown_exclusion_leaves_only_eligibility_open() -> None:
    finding = criteria((3.0,), afp=10, macrovascular_invasion=None)["unos_afp_exception"]
    assert finding["t2"] is True and finding["eligible"] is None
    assert finding.missing == ("macrovascular_invasion",)
    assert "meets T2" in finding.explanation and "T2 cannot be determined" not in finding.explanation
    excluded = criteria((3.0,), afp=10, macrovascular_invasion=True)["unos_afp_exception"]
    assert excluded["t2"] is True and excluded["eligible"] is False


def test_downstaging_names_the_burden_verdict_while_an_exclusion_is_unknown() -> None:
    finding = criteria((6.0,), infiltrative=None)["unos_downstaging"]
    assert (finding["eligible"], finding["reason"]) == (None, "within_entry")
    assert "beyond Milan but within the downstaging entry criteria" in finding.explanation
    assert finding.missing == ("infiltrative",)
