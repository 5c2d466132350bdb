"""The patient summary: plain words from templates, urgent first, the same in English and Chinese.

Inputs are hand-made Assessments (findings, alerts, options built here), so these tests do not
depend on the other rules' work in progress.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import json
import re
import string
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hccwatch import assess
from hccwatch.core.assessment import Assessment, PatientSummary
from hccwatch.core.context import Context
from hccwatch.core.finding import Alert, Finding, InputUsed, TreatmentOption
from hccwatch.core.knowledge import JsonValue, Knowledge, default_knowledge
from hccwatch.core.rules.summary.patient_summary import (
    AFP_ALERTS,
    REASSURING_AFP_KEYS,
    afp_summary_key,
    patient_summary,
)
from strategies import records
from support import AS_OF, record

SRC = Path(__file__).resolve().parents[4] / "src" / "hccwatch"
TEXT = SRC / "knowledge" / "text"
EXAMPLES = SRC.parents[1] / "examples"
MY_TEXT_FILES = ("summary.toml", "options.toml")
ALERT_FILES = [TEXT / lang / "alerts.toml" for lang in ("en", "zh")]
# In Chinese output, Latin letters may appear only in these (abbreviations and units patients see on
# their lab reports).
ZH_ALLOWED_LATIN = {"AFP", "CT", "MRI", "PET", "X", "DCP", "PIVKA", "II", "hccwatch", "ng", "mL"}

# Templates for a made-up alert id, so the tests do not depend on alerts.toml being written.
TEST_ALERTS = {
    "en": {"alert.test_cord": "Your {site} results need a scan within a day (seen {date})."},
    "zh": {"alert.test_cord": "您的检查结果需要在一天之内做扫描（发现于{date}）。"},
}


def knowledge_with_test_alerts() -> Knowledge:
    k = default_knowledge()
    texts = {lang: {**k.texts[lang], **TEST_ALERTS.get(lang, {})} for lang in k.texts}
    return dataclasses.replace(k, texts=texts)


def finding(rule: str, determined: bool = True, **values: JsonValue) -> Finding:
    return Finding(rule=rule, values=values, determined=determined, explanation="")


def alert(alert_id: str, urgency: str, title: str = "Back pain with leg weakness", **facts: Any) -> Alert:
    used = tuple(
        InputUsed(name=name, value=value, date=dt.date(2026, 11, 20)) for name, value in facts.items()
    )
    return Alert(id=alert_id, urgency=urgency, title=title, detail="", citations=("NICE-CG75",), facts=used)  # type: ignore[arg-type]


def option(option_id: str, status: str) -> TreatmentOption:
    return TreatmentOption(id=option_id, title=option_id, status=status, reasons=("r",), citations=("X",))  # type: ignore[arg-type]


NONE_RECURRENCE = finding(
    "recurrence.type",
    timing=None,
    favours=None,
    lesion=None,
    treatment={"type": "resection", "date": "2025-03-01"},
)


def build(
    *,
    lang: str = "en",
    k: Knowledge | None = None,
    alerts: tuple[Alert, ...] = (),
    next_due: JsonValue = None,
    afp_trend: JsonValue = None,
    afp_normalisation: JsonValue = None,
    recurrence: Finding = NONE_RECURRENCE,
    options: tuple[TreatmentOption, ...] = (),
) -> PatientSummary:
    k = k or knowledge_with_test_alerts()
    placeholder = finding("x", determined=False)
    a = Assessment(
        record_id="t",
        as_of=AS_OF,
        as_of_source="given",
        knowledge=k,
        disclaimer=k.text(lang, "disclaimer"),
        patient={},
        scores={},
        staging={},
        transplant={},
        surveillance=finding("surveillance.schedule", next_due=next_due),
        afp=finding("afp.kinetics", trend=afp_trend, normalisation=afp_normalisation),
        alerts=alerts,
        metastasis=placeholder,
        workup=(),
        recurrence=recurrence,
        treatment_options=options,
        patient_summary=PatientSummary(lang=lang, headline="", items=(), disclaimer=""),
    )
    return patient_summary(Context(record=record(), as_of=AS_OF, knowledge=k), a, lang=lang)


EARLY = finding(
    "recurrence.type",
    timing="early",
    favours="intrahepatic_metastasis",
    months_since_treatment=9,
    early_cutoff_months=24,
    treatment={"type": "resection", "date": "2025-03-01"},
    lesion={"date": "2025-12-05"},
)
FULL = {
    "alerts": (alert("unknown_alert", "soon", "Dry cough"), alert("test_cord", "emergency", site="spine")),
    "next_due": [
        {"item": "liver_multiphase_ct_or_mri", "due": "2026-08-01", "overdue": True},
        {"item": "afp", "due": "2027-01-10", "overdue": False},
    ],
    "afp_trend": "rising",
    "recurrence": EARLY,
    "options": (
        option("metastasectomy", "candidate"),
        option("systemic.lenvatinib", "candidate"),
        option("systemic.atezolizumab_bevacizumab", "contraindicated"),
    ),
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_urgent_items_come_first_and_set_the_headline(lang: str) -> None:
    s = build(lang=lang, **FULL)
    order = ["emergency", "urgent", "soon", "routine"]
    ranks = [order.index(i.urgency) for i in s.items]
    assert ranks == sorted(ranks)
    assert s.items[0].about == "alert.test_cord"
    assert s.headline == default_knowledge().text(lang, "summary.headline.emergency")
    assert s.items[-1].about == "watch_for"
    assert s.disclaimer == default_knowledge().text(lang, "disclaimer")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_placeholder_is_filled(lang: str) -> None:
    s = build(lang=lang, **FULL)
    for text in [s.headline, s.disclaimer, *(i.text for i in s.items)]:
        assert "{" not in text and "}" not in text, text


def test_chinese_output_has_no_untranslated_english() -> None:
    # The generic alert fallback quotes the (English) alert title: only alerts with templates here.
    full = {**FULL, "alerts": FULL["alerts"][1:]}
    s = build(lang="zh", **full)  # type: ignore[arg-type]
    for text in [s.headline, *(i.text for i in s.items)]:
        words = set(re.findall(r"[A-Za-z]+", text)) - ZH_ALLOWED_LATIN
        assert not words, f"untranslated in {text!r}: {words}"
        assert re.search(r"[\u4e00-\u9fff]", text)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", "1 August 2026"), ("zh", "2026年8月1日")],
)
def test_dates_are_written_the_language_s_way(lang: str, expected: str) -> None:
    s = build(
        lang=lang, next_due=[{"item": "liver_multiphase_ct_or_mri", "due": "2026-08-01", "overdue": True}]
    )
    assert expected in s.items[0].text and s.items[0].urgency == "soon"


def test_alert_template_is_used_with_its_facts() -> None:
    s = build(alerts=(alert("test_cord", "urgent", site="spine"),))
    assert s.items[0].text == "Your spine results need a scan within a day (seen 20 November 2026)."


@pytest.mark.parametrize(
    ("alerts", "why"),
    [
        ((alert("no_such_alert", "urgent", "Dry cough"),), "no template"),
        ((alert("test_cord", "urgent", "Dry cough"),), "template placeholder {site} has no fact"),
    ],
)
def test_alert_without_a_usable_template_falls_back_to_the_generic_one(
    alerts: tuple[Alert, ...], why: str
) -> None:
    s = build(alerts=alerts)
    assert s.items[0].text == "Needs attention within a day: Dry cough. Please contact your care team.", why


def test_what_is_due_uses_test_names_and_a_fallback() -> None:
    texts = default_knowledge().texts["en"]
    assert "test.dcp" not in texts  # so DCP exercises the summary's own fallback name
    s = build(
        next_due=[
            {"item": "afp", "due": "2027-01-10", "overdue": False},
            {"item": "dcp", "due": "2027-01-20", "overdue": False},
            {"item": "pet_scan", "due": "2027-02-01"},
        ]
    )
    shown = [i.text for i in s.items]
    assert f"Due on 10 January 2027: {texts['test.afp']}" in shown
    assert f"Due on 20 January 2027: {texts['summary.test.dcp']}" in shown
    assert "Due on 1 February 2027: A planned check (pet_scan)." in shown


def test_overdue_without_a_flag_is_judged_by_the_date() -> None:
    s = build(next_due=[{"item": "dcp", "due": "2026-10-01"}])
    assert s.items[0].urgency == "soon" and s.items[0].text.startswith("Overdue since 1 October 2026")


def test_a_bare_due_date_is_a_follow_up_visit() -> None:
    s = build(next_due="2027-03-01")
    assert s.items[0].text == "Your next follow-up check is due on 1 March 2027."


@pytest.mark.parametrize(
    ("trend", "urgency", "words"),
    [("rising", "soon", "gone up"), ("falling", "routine", "gone down"), ("stable", "routine", "same")],
)
def test_afp_trend_in_plain_words(trend: str, urgency: str, words: str) -> None:
    item = next(i for i in build(afp_trend=trend).items if i.about == "afp.trend")
    assert item.urgency == urgency and words in item.text


def test_unknown_afp_trend_adds_nothing() -> None:
    assert not [i for i in build(afp_trend=None).items if i.about == "afp.trend"]


def test_recurrence_in_plain_words() -> None:
    s = build(recurrence=EARLY)
    texts = {i.about: i.text for i in s.items}
    assert texts["recurrence.timing"] == (
        "New growth was seen in the liver on 5 December 2025, 9 months after your operation to remove the "
        "liver tumour. Doctors call this an early recurrence, because it appeared within 24 months."
    )
    assert "original cancer spreading within the liver" in texts["recurrence.favours"]


def test_no_recurrence_is_said_plainly() -> None:
    item = next(i for i in build().items if i.about == "recurrence.timing")
    assert item.text == (
        "No new growth in the liver has been recorded since your operation to remove the liver tumour "
        "on 1 March 2025."
    )


@pytest.mark.parametrize("favours", [None, "not_decided"])
def test_undecided_origin_says_it_is_not_yet_clear(favours: str | None) -> None:
    rec = dataclasses.replace(EARLY, values={**EARLY.values, "favours": favours})
    item = next(i for i in build(recurrence=rec).items if i.about == "recurrence.favours")
    assert "not yet clear" in item.text


def test_an_unconfirmed_liver_finding_is_neither_a_recurrence_nor_no_growth() -> None:
    # Issue 6 §1: a sub-centimetre or indeterminate lesion is a prompt to re-image (its alert says so).
    pending = [{"date": "2026-10-01", "kind": "subcentimetre", "largest_cm": 0.6}]
    rec = dataclasses.replace(NONE_RECURRENCE, values={**NONE_RECURRENCE.values, "unconfirmed": pending})
    assert not [i for i in build(recurrence=rec).items if i.about.startswith("recurrence")]


def test_options_are_to_discuss() -> None:
    texts = [i.text for i in build(options=FULL["options"]).items]  # type: ignore[arg-type]
    assert (
        "Your care team may talk with you about an operation to remove the cancer that has spread outside "
        "the liver." in texts
    )
    assert (
        "Your care team may talk with you about medicines that treat the whole body, for example lenvatinib."
        in texts
    )
    assert any("checkpoint inhibitors are not suitable" in t for t in texts)


def test_options_waiting_for_information() -> None:
    texts = [i.text for i in build(options=(option("metastasectomy", "cannot_determine"),)).items]
    assert (
        "Your care team needs more information before they can discuss treatment options with you." in texts
    )


def test_red_flags_are_always_listed_last() -> None:
    s = build()
    assert s.items[-1].about == "watch_for"
    assert all(w in s.items[-1].text for w in ("legs", "bladder", "headache"))


# --- the templates themselves ---


def _flat(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else key
        out.update(_flat(value, name) if isinstance(value, dict) else {name: value})
    return out


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("filename", MY_TEXT_FILES)
def test_both_languages_have_the_same_keys_and_placeholders(filename: str) -> None:
    en, zh = (
        _flat(tomllib.loads((TEXT / lang / filename).read_text(encoding="utf-8"))) for lang in ("en", "zh")
    )
    assert set(en) == set(zh), f"en only {sorted(set(en) - set(zh))}, zh only {sorted(set(zh) - set(en))}"
    for key in en:
        if key == "summary.date":  # each language picks its own date parts
            assert _placeholders(en[key]) | _placeholders(zh[key]) <= {"day", "month", "month_name", "year"}
        else:
            assert _placeholders(en[key]) == _placeholders(zh[key]), key


def test_every_option_the_rules_can_give_has_a_patient_name() -> None:
    k = default_knowledge()
    regimens = {
        str(r) for key in ("first_line", "second_line") for r in k.entry(f"options.regimens.{key}").value
    }  # type: ignore[union-attr]
    ids = {"metastasectomy", "bone_radiotherapy", "transplant"} | {f"systemic.{r}" for r in regimens}
    for lang in ("en", "zh"):
        assert not [i for i in ids if f"option.{i}" not in k.texts[lang]], lang


def _alert_ids_in_code() -> set[str]:
    """Alert ids written as string literals in ``Alert(id=...)`` calls of the rules."""
    ids = set()
    for path in (SRC / "core" / "rules").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Alert":
                ids |= {
                    kw.value.value
                    for kw in node.keywords
                    if kw.arg == "id"
                    and isinstance(kw.value, ast.Constant)
                    and isinstance(kw.value.value, str)
                }
    return ids


def _alert_ids_emitted() -> set[str]:
    """Alert ids the engine gives for a sweep of red-flag records (catches ids built at run time)."""
    symptoms = [
        "back_pain", "neck_pain", "night_pain", "radicular_pain", "leg_weakness", "leg_numbness",
        "bladder_bowel_dysfunction", "saddle_numbness", "gait_difficulty", "headache", "confusion", "seizure",
        "focal_weakness", "haemoptysis", "cough", "dyspnoea", "bone_pain", "pathological_fracture",
        "abdominal_distension", "jaundice",
    ]  # fmt: skip
    base: dict[str, Any] = {
        "id": "sweep",
        "treatments": [{"type": "resection", "date": "2024-01-10"}],
        "labs": [{"test": "afp", "value": v, "unit": "ng/mL", "date": d}
                 for v, d in ((8, "2026-05-01"), (60, "2026-08-01"), (450, "2026-11-01"))],
    }  # fmt: skip
    found: set[str] = set()
    for code in symptoms:
        for sudden in (None, True):
            rec = {**base, "symptoms": [{"code": code, "onset": "2026-11-20", "sudden": sudden}]}
            found |= {a.id for a in assess(rec, as_of="2026-11-24").alerts}
    return found


@pytest.mark.skipif(
    not all(p.exists() for p in ALERT_FILES),
    reason="text/<lang>/alerts.toml not written yet (metastasis work)",
)
def test_every_alert_id_has_a_template_in_every_language() -> None:
    """Lists the alert ids whose patient text falls back to the generic template."""
    ids = _alert_ids_in_code() | _alert_ids_emitted()
    texts = default_knowledge().texts
    lacking = {lang: sorted(i for i in ids if f"alert.{i}" not in texts[lang]) for lang in ("en", "zh")}
    assert not any(lacking.values()), f"alert ids without a patient template: {lacking}"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_alert_below_its_usual_urgency_does_not_promise_the_usual_haste(lang: str) -> None:
    # Stable lumbar pain is a "soon" spinal alert: its text must not say "within a day".
    data = {
        "id": "lumbar",
        "symptoms": [
            {"code": "back_pain", "onset": "2026-11-01", "spinal_level": "lumbar", "progressive": False}
        ],
    }
    out = assess(data, as_of="2026-11-24", lang=lang).to_dict()
    assert [(a["id"], a["urgency"]) for a in out["alerts"]] == [("spinal_metastasis_suspected", "soon")]
    texts = [
        i["text"]
        for i in out["patient_summary"]["items"]
        if i["about"] == "alert.spinal_metastasis_suspected"
    ]
    assert texts == [default_knowledge().text(lang, "alert_by_urgency.soon.spinal_metastasis_suspected")]


# --- the AFP sentence never contradicts the clinician findings (issue 6 §1) ----------------------


def _afp_texts(lang: str, *keys: str) -> set[str]:
    return {default_knowledge().text(lang, f"summary.afp.{key}") for key in keys}


def _says_one_of(text: str, lang: str, *keys: str) -> bool:
    """Whether ``text`` is the template of one of ``keys`` (plain, or with the value filled in)."""
    k = default_knowledge()
    for key in keys:
        for name in (f"summary.afp.{key}", f"summary.afp_with_value.{key}"):
            if name not in k.texts[lang]:
                continue
            parts = [
                re.escape(lit) + ("(.+)" if field else "")
                for lit, field, _, _ in string.Formatter().parse(k.text(lang, name))
            ]
            if re.fullmatch("".join(parts), text):
                return True
    return False


@pytest.mark.parametrize(
    ("trend", "normalisation", "alert_ids", "key"),
    [
        ("rising", None, {"afp_rise"}, "rising"),
        ("stable", None, {"afp_rise"}, "raised"),  # raised and not falling
        (None, None, {"afp_rise"}, "raised"),  # a single raised value: no trend at all
        ("falling", "not_normalised", {"afp_not_normalised"}, "not_normalised"),
        ("falling", None, {"afp_not_normalised"}, "not_normalised"),  # the alert alone is enough
        ("rising", "not_normalised", {"afp_rise"}, "rising"),
        ("falling", "normalised", set(), "falling"),
        ("stable", "not_applicable", set(), "stable"),
        (None, None, set(), None),
    ],
)
def test_afp_key_comes_from_the_fields_the_alerts_use(
    trend: str | None, normalisation: str | None, alert_ids: set[str], key: str | None
) -> None:
    afp = finding("afp.kinetics", trend=trend, normalisation=normalisation)
    assert afp_summary_key(afp, alert_ids) == key


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_stable_afp_beside_an_afp_alert_is_not_called_the_same(lang: str) -> None:
    # The contradiction: "your AFP has stayed about the same" next to an AFP-rise alert.
    s = build(lang=lang, afp_trend="stable", alerts=(alert("afp_rise", "soon", "AFP rising or raised"),))
    [item] = [i for i in s.items if i.about == "afp.trend"]
    assert _says_one_of(item.text, lang, "raised") and item.urgency == "soon"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_falling_but_not_normalised_is_not_called_falling(lang: str) -> None:
    s = build(lang=lang, afp_trend="falling", afp_normalisation="not_normalised")
    [item] = [i for i in s.items if i.about == "afp.trend"]
    assert _says_one_of(item.text, lang, "not_normalised") and item.urgency == "soon"


_AFP_DATES = st.dates(dt.date(2024, 6, 1), dt.date(2026, 11, 24)).map(str)
_AFP_VALUES = st.sampled_from([0.0, 3.0, 6.0, 9.5, 12.0, 15.0, 25.0, 48.0, 300.0, 1200.0]) | st.floats(
    0, 60000, allow_nan=False
).map(lambda v: round(v, 1))


@st.composite
def records_with_afp(draw: st.DrawFn) -> dict[str, Any]:
    """Random records, most with an AFP series and a (curative or not) treatment to read it after."""
    data = dict(draw(records))
    series = draw(st.lists(st.tuples(_AFP_DATES, _AFP_VALUES), max_size=8))
    data["labs"] = [
        *data.get("labs", []),
        *({"test": "afp", "value": v, "unit": "ng/mL", "date": d} for d, v in series),
    ]
    if draw(st.booleans()):
        kind = draw(st.sampled_from(["resection", "ablation", "transplant", "tace"]))
        data["treatments"] = [*data.get("treatments", []), {"type": kind, "date": draw(_AFP_DATES)}]
    return data


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=records_with_afp())
def test_summary_never_reassures_about_afp_beside_an_afp_alert_or_a_rise(data: dict[str, Any]) -> None:
    for lang in ("en", "zh"):
        a = assess(data, as_of="2026-11-24", lang=lang)
        alarmed = bool({x.id for x in a.alerts} & AFP_ALERTS) or a.afp.get("trend") == "rising"
        reassuring = _afp_texts(lang, *REASSURING_AFP_KEYS)
        shown = [i for i in a.patient_summary.items if i.about == "afp.trend"]
        if alarmed:
            assert len(shown) == 1, shown
            assert _says_one_of(shown[0].text, lang, "rising", "raised", "not_normalised")
            assert not _says_one_of(shown[0].text, lang, *REASSURING_AFP_KEYS)
            assert shown[0].urgency != "routine"
        # Nowhere in the summary, not only in the AFP sentence.
        assert not alarmed or not [i for i in a.patient_summary.items if i.text in reassuring]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "Your latest AFP (a blood marker linked to liver cancer), 24.6 ng/mL on 18 November 2026, is "
         "higher than it should be."),
        ("zh", "您最近一次的甲胎蛋白（AFP，一种与肝癌相关的血液指标）结果（2026年11月18日，24.6 ng/mL）"
         "高于应有水平。"),
    ],
)  # fmt: skip
def test_the_afp_sentence_gives_the_latest_value_beside_the_alert(lang: str, expected: str) -> None:
    # The article's back-pain patient: one raised value (24.6 ng/mL), no rising trend.
    out = assess(
        json.loads((EXAMPLES / "article-woman-back-pain.json").read_text()), as_of="2026-11-24", lang=lang
    )
    items = [(i.about, i.text) for i in out.patient_summary.items]
    afp_at = [n for n, (about, _) in enumerate(items) if about in ("alert.afp_rise", "afp.trend")]
    assert afp_at == [afp_at[0], afp_at[0] + 1]  # read together
    assert items[afp_at[1]][1] == expected
