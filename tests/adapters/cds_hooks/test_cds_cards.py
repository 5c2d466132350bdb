"""CDS Hooks 2.0 cards: checked against the cds-validator card schema (kept in the shared data),
brought up from CDS Hooks 1.0 to 2.0 in the few places the spec changed; the article patients
give the cards a clinician expects, and quiet patients none."""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings

from hccwatch import assess
from hccwatch.adapters.cds_hooks import SUMMARY_MAX, cards, check_card
from hccwatch.record import parse_record
from strategies import records
from support import AS_OF, EXAMPLES, requires_shared, shared_path

LINK = "https://hccwatch.example.org/patients/article-woman-back-pain"


def _example(name: str) -> dict[str, Any]:
    rec: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return rec


def _woman_with_leg_numbness() -> dict[str, Any]:
    rec = _example("article-woman-back-pain")
    rec["symptoms"].append({"code": "leg_numbness", "onset": "2026-11-22"})
    return rec


def _schema_2_0() -> dict[str, Any]:
    """The cds-validator card schema (CDS Hooks 1.0, JSON Schema draft 3), updated to 2.0.

    2.0 replaced the ``hard-stop`` indicator by ``critical`` and added the card's ``uuid``,
    ``selectionBehavior`` and ``overrideReasons``, a suggestion's ``isRecommended`` and a link's
    ``autolaunchable`` (CDS Hooks 2.0, Card attributes). Everything else stays as strict as it was
    (no other property allowed anywhere).
    """
    raw = json.loads(
        shared_path("data", "cds-hooks", "cds-validator-schemas", "card-schema.json").read_text()
    )
    schema: dict[str, Any] = copy.deepcopy(raw)
    card = schema["properties"]["cards"]["items"]
    card["properties"]["indicator"]["enum"] = ["info", "warning", "critical"]
    card["properties"]["uuid"] = {"type": "string"}
    card["properties"]["selectionBehavior"] = {"type": "string", "enum": ["at-most-one", "any"]}
    coding = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "system": {"type": "string"},
            "code": {"type": "string", "required": True},
            "display": {"type": "string", "required": True},
        },
    }
    card["properties"]["overrideReasons"] = {"type": "array", "items": coding}
    card["properties"]["suggestions"]["items"]["properties"]["isRecommended"] = {"type": "boolean"}
    card["properties"]["links"]["items"]["properties"]["autolaunchable"] = {"type": "boolean"}
    return schema


def _check_schema(payload: list[dict[str, Any]]) -> None:
    jsonschema.Draft3Validator(_schema_2_0()).validate({"cards": payload})


@requires_shared
@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_every_example_s_cards_match_the_schema(path: Any) -> None:
    payload = cards(assess(json.loads(path.read_text(encoding="utf-8")), as_of=AS_OF), patient_link=LINK)
    _check_schema(payload)
    assert len({c["indicator"] for c in payload}) == len(payload)  # one card per level at most


@requires_shared
def test_the_schema_still_refuses_what_2_0_forbids() -> None:
    card = cards(assess(_woman_with_leg_numbness(), as_of=AS_OF))[0]
    for broken in (
        {**card, "indicator": "hard-stop"},
        {**card, "colour": "red"},
        {k: v for k, v in card.items() if k != "summary"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            _check_schema([broken])


def test_back_pain_patient_with_new_leg_numbness_gets_one_critical_card_for_whole_spine_mri() -> None:
    a = assess(_woman_with_leg_numbness(), as_of=AS_OF)
    payload = cards(a, patient_link=LINK)
    critical = [c for c in payload if c["indicator"] == "critical"]
    assert len(critical) == 1
    card = critical[0]
    assert payload[0] is card  # the most urgent first
    assert "spinal cord compression" in card["summary"]
    orders = [s["actions"][0]["resource"] for s in card["suggestions"]]
    assert [o["code"]["coding"][-1]["code"] for o in orders] == ["whole_spine_mri"]
    assert orders[0]["priority"] == "stat"
    assert (orders[0]["status"], orders[0]["intent"]) == ("draft", "proposal")
    assert card["suggestions"][0]["actions"][0]["type"] == "create"
    assert card["selectionBehavior"] == "any"
    assert card["source"]["url"].startswith("https://www.nice.org.uk/guidance/cg75")
    assert "NICE CG75" in card["source"]["label"]
    assert "leg\\_numbness" in card["detail"]  # the fact it used, escaped for Markdown
    assert card["links"] == [
        {
            "label": "hccwatch report for this patient",
            "url": LINK,
            "type": "absolute",
            "autolaunchable": False,
        }
    ]
    # The other levels: spinal pain (warning) and the AFP rise (info), each on one card.
    assert [c["indicator"] for c in payload] == ["critical", "warning", "info"]
    # The disclaimer once, on the first card.
    assert sum(a.disclaimer in c["detail"] for c in payload) == 1
    assert a.disclaimer in card["detail"]


def test_quiet_man_after_resection_gets_no_card() -> None:
    a = assess(_example("article-man-after-resection"), as_of=AS_OF)
    # His surveillance is overdue, and that is deliberately no card (see the module docstring).
    assert a.surveillance["overdue"] is True
    assert cards(a) == []
    assert cards(a, patient_link=LINK) == []


def test_several_alerts_of_a_level_share_one_card() -> None:
    a = assess(_example("bclc-c-lung-metastases"), as_of=AS_OF)
    payload = cards(a)
    soon = [x for x in a.alerts if x.urgency == "soon"]
    assert len(soon) > 1
    assert [c["indicator"] for c in payload] == ["info"]
    assert f"and {len(soon) - 1} more" in payload[0]["summary"]
    for alert in soon:
        assert f"**{alert.title}**" in payload[0]["detail"].replace("\\", "")


def test_uuids_are_deterministic_and_distinct() -> None:
    first = cards(assess(_woman_with_leg_numbness(), as_of=AS_OF))
    again = cards(assess(_woman_with_leg_numbness(), as_of=AS_OF))
    assert first == again
    ids = [c["uuid"] for c in first] + [s["uuid"] for c in first for s in c.get("suggestions", [])]
    assert len(set(ids)) == len(ids)


def test_stated_assumptions_are_shown_when_present() -> None:
    class Assumed:
        field = "symptoms.leg_numbness"
        value = "present"
        reason = "coded as an active Condition"

    a = assess(_woman_with_leg_numbness(), as_of=AS_OF)
    alert = next(x for x in a.alerts if x.id == "mscc_suspected")
    object.__setattr__(
        alert, "assumptions", (Assumed(), {"field": "liver.ascites", "value": "none", "reason": "x"})
    )
    card = cards(a)[0]
    assert "Stated assumptions" in card["detail"]
    assert "coded as an active Condition" in card["detail"]


@pytest.mark.parametrize("link", ["patients/1", "javascript:alert(1)", "ftp://host/x", ""])
def test_patient_link_must_be_absolute_http(link: str) -> None:
    a = assess(_woman_with_leg_numbness(), as_of=AS_OF)
    with pytest.raises(ValueError, match="absolute"):
        cards(a, patient_link=link)


def test_check_card_refuses_broken_cards() -> None:
    good = cards(assess(_woman_with_leg_numbness(), as_of=AS_OF))[0]
    check_card(good)
    for broken in (
        {**good, "summary": "x" * 140},
        {**good, "indicator": "hard-stop"},
        {k: v for k, v in good.items() if k != "selectionBehavior"},
        {**good, "source": {}},
    ):
        with pytest.raises(ValueError):
            check_card(broken)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records)
def test_summaries_stay_short_and_cards_stay_few(data: dict[str, Any]) -> None:
    a = assess(parse_record(data), as_of=AS_OF)
    payload = cards(a)
    for card in payload:
        assert 0 < len(card["summary"]) <= SUMMARY_MAX
        check_card(card)
    assert len(payload) <= 3
    actionable = [x for x in a.alerts if x.urgency != "routine"] + [
        w for w in a.workup if w.urgency != "routine"
    ]
    assert bool(payload) == bool(actionable)
    emergency = any(x.urgency == "emergency" for x in [*a.alerts, *a.workup])
    assert any(c["indicator"] == "critical" for c in payload) == emergency


def test_a_long_title_is_shortened_at_a_word() -> None:
    a = assess(_woman_with_leg_numbness(), as_of=AS_OF)
    long_alert = dataclasses.replace(a.alerts[0], title="Suspected compression " * 20)
    card = cards(dataclasses.replace(a, alerts=(long_alert, *a.alerts[1:])))[0]
    assert len(card["summary"]) <= SUMMARY_MAX
    assert card["summary"].endswith("compression…")


def test_given_assumptions_show_on_the_card_whose_alert_used_the_field() -> None:
    a = assess(_woman_with_leg_numbness(), as_of=AS_OF)
    given = [
        {"field": "symptoms.leg_numbness", "value": True, "reason": "an active Condition, SNOMED CT"},
        {"field": "liver.dialysis_twice_past_week", "value": False, "reason": "none recorded"},
    ]
    payload = cards(a, assumptions=given)
    assert "symptoms.leg\\_numbness = yes: an active Condition, SNOMED CT" in payload[0]["detail"]
    assert all("dialysis" not in c["detail"] for c in payload)
    assert "leg\\_numbness = yes" not in payload[1]["detail"]
