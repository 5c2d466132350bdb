"""Typed reading of an assessment (report.cards): the pieces the bottom line, a web app or an EHR
card show, including what they say when something cannot be determined."""

from __future__ import annotations

import dataclasses

from report_support import example

from hccwatch import Finding, WorkupItem, assess
from hccwatch.report import cards
from support import AS_OF


def test_article_woman_full_bottom_line() -> None:
    b = cards.bottom_line(example("article-woman-back-pain"))
    assert b.alert is not None
    assert (b.alert.badge, b.alert.tone, b.alert.title) == (
        "URGENT",
        "urgent",
        "Spinal pain suggestive of spinal metastasis",
    )
    assert b.more_alerts == 1
    assert [(o.label, o.badge) for o in b.orders] == [
        ("Whole spine MRI", "URGENT"),
        ("Bone imaging", "URGENT"),
        ("Liver multiphase CT or MRI", "SOON"),
    ]
    assert b.more_orders == 1
    # Her six-monthly ultrasounds count for liver imaging after the first two years (AASLD 2023).
    assert b.overdue == ()
    assert [(s.label, s.text, s.determined) for s in b.scores] == [
        ("Child-Pugh", "A (5 points)", True),
        ("MELD 3.0", "7", True),
        ("ALBI", "grade 2", True),
    ]
    assert b.stage is not None
    assert (b.stage.stage, b.stage.text) == (None, "cannot determine: missing ECOG cancer related")


def test_empty_record_says_cannot_determine_and_names_the_gaps() -> None:
    b = cards.bottom_line(assess({"id": "empty"}, as_of=AS_OF))
    assert b.alert is None and b.orders == () and b.more_orders == 0
    assert b.overdue is None
    assert b.overdue_text.startswith("cannot determine")
    assert all(not s.determined and s.value is None for s in b.scores)
    child_pugh = b.scores[0]
    assert child_pugh.text == "cannot determine: missing bilirubin, albumin, INR, +2 more"
    assert b.stage is not None and b.stage.stage is None


def test_a_known_class_with_unknown_points_says_which_gap() -> None:
    f = Finding("scores.child_pugh", {"points": None, "class": "C"}, True, "x", missing=("liver.ascites",))
    s = cards.score("child_pugh", f)
    assert (s.value, s.text, s.determined) == ("C", "C; points: missing ascites", True)


def test_short_missing_keeps_names_and_counts_the_rest() -> None:
    gaps = (
        "labs.inr (latest, 2026-04-14, is older than 90 days)",
        "liver.ascites",
        "labs.inr",
        "ecog",
        "tumors",
    )
    assert cards.short_missing(gaps) == "missing INR, ascites, ECOG, +1 more"
    assert cards.short_missing(()) == ""


def test_criteria_verdicts() -> None:
    views = {c.key: c for c in cards.criteria(example("article-man-after-resection"))}
    assert views["milan"].label == "Milan"
    assert views["milan"].verdict_key == "within"
    assert views["milan"].text in {"within", "beyond", "cannot determine"}
    assert (
        views["milan"].text
        == {True: "within", False: "beyond", None: "cannot determine"}[views["milan"].verdict]
    )


def test_orders_most_urgent_first_and_unrated_last() -> None:
    a = example("article-man-after-resection")
    a = dataclasses.replace(
        a,
        workup=(
            WorkupItem("odd test", "whenever", "r", ()),  # type: ignore[arg-type]
            WorkupItem("chest_ct", "soon", "r", ()),
            WorkupItem("brain_mri", "emergency", "r", ()),
        ),
    )
    assert [(o.label, o.badge, o.tone) for o in cards.orders(a)] == [
        ("Brain MRI", "EMERGENCY", "emergency"),
        ("Chest CT", "SOON", "soon"),
        ("Odd test", "WHENEVER", "plain"),  # capitalised, as in the Workup section
    ]


def test_stages_and_scores_cover_every_finding() -> None:
    a = example("article-man-after-resection")
    assert [s.key for s in cards.stages(a)] == list(a.staging)
    assert [s.key for s in cards.scores(a)] == list(a.scores)
    bclc = next(s for s in cards.stages(a) if s.key == "bclc")
    assert (bclc.label, bclc.stage, bclc.text, bclc.determined) == ("BCLC", "A", "A", True)
