"""The worklist page on the demo registry: order, filters, search, counts, KPIs, one-click
outreach (audited, version-checked), roles, and the daily refresh of stored assessments."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from web_support import AS_OF, OPERATOR, Web

from hccwatch.registry import Registry
from hccwatch.registry.worklist_index import group_counts, worklist_index
from hccwatch.web.worklist import sections


def _patient_links(html: str) -> list[int]:
    return [int(m) for m in re.findall(r'href="/patients/(\d+)"', html)]


def test_sections_come_in_the_order_of_the_issue(web_demo: Web) -> None:
    web_demo.login("readonly")
    html = web_demo.client.get("/").text
    headings = re.findall(r'<h2 id="s-([a-z_]+)">', html)
    order = ["urgent", "not_assessed", "afp", "overdue", "lost", "due_soon", "other_alerts"]
    assert headings == [h for h in order if h in headings]
    assert headings[:2] == ["urgent", "afp"]
    assert {"overdue", "lost", "due_soon"} <= set(headings)


def test_every_patient_sits_in_one_section_most_urgent_first(web_demo: Web) -> None:
    reg = web_demo.registry
    by_id = {r.patient_id: r for r in reg.worklist(OPERATOR)}
    index = worklist_index(reg, OPERATOR)
    assert [e.patient_id for e in index] == list(by_id)
    assert group_counts(reg, OPERATOR, index) == reg.worklist_counts(OPERATOR)
    for e in index:
        row = by_id[e.patient_id]
        assert (e.lost_to_follow_up, e.due_soon, e.not_assessed, e.overdue, e.top_urgency) == (
            row.lost_to_follow_up,
            row.due_soon,
            row.error is not None,
            row.overdue,
            row.top_urgency,
        )
    parts = [
        dataclasses.replace(s, rows=[by_id[i] for i in s.ids])
        for s in sections(index, lost_months=12, due_days=30)
    ]
    shown = [r.patient_id for s in parts for r in s.rows]
    assert len(shown) == len(set(shown))
    urgent = next(s for s in parts if s.key == "urgent")
    assert urgent.rows and all(r.top_urgency in ("emergency", "urgent") for r in urgent.rows)
    ranks = [("emergency", "urgent").index(r.top_urgency or "") for r in urgent.rows]
    assert ranks == sorted(ranks)
    overdue = next(s for s in parts if s.key == "overdue")
    days = [r.days_overdue or 0 for r in overdue.rows if r.top_urgency is None]
    assert days == sorted(days, reverse=True)
    lost = next(s for s in parts if s.key == "lost")
    assert lost.rows and all(r.lost_to_follow_up for r in lost.rows)
    assert all(not r.lost_to_follow_up for r in overdue.rows)


def test_filters_search_and_counts(web_demo: Web) -> None:
    web_demo.login("readonly")
    c = web_demo.client
    counts = web_demo.registry.worklist_counts(OPERATOR)
    html = c.get("/").text
    assert f"Lost to follow-up ({counts['lost']})" in html
    lost = c.get("/?group=lost").text
    assert len(set(_patient_links(lost))) == counts["lost"]
    emergency = c.get("/?urgency=emergency").text
    ids = set(_patient_links(emergency))
    assert ids == {r.patient_id for r in web_demo.registry.worklist(OPERATOR) if r.top_urgency == "emergency"}
    stage_c = set(_patient_links(c.get("/?stage=C").text))
    assert stage_c == {r.patient_id for r in web_demo.registry.worklist(OPERATOR) if r.bclc_stage == "C"}
    one = web_demo.registry.worklist(OPERATOR)[0]
    found = c.get("/", params={"q": one.record_id.upper()}).text
    assert set(_patient_links(found)) == {one.patient_id}
    assert "No patient matches." in c.get("/?q=nobody-by-this-name").text
    off = set(_patient_links(c.get("/?group=off_worklist").text))
    assert len(off) == counts["off_worklist"]
    # Unknown filter values are ignored, never an error.
    assert c.get("/?group=everything&urgency=panic&stage=Z&limit=abc").status_code == 200


def test_kpis_are_shown(web_demo: Web) -> None:
    web_demo.login("readonly")
    html = web_demo.client.get("/").text
    assert "up to date" in html
    assert "of follow-up time covered" in html
    assert "median overdue" in html
    assert "returned to care after a call" in html


def test_one_click_outreach_is_logged_audited_and_shown(web_demo: Web) -> None:
    token = web_demo.login("navigator")
    row = next(r for r in web_demo.registry.worklist(OPERATOR, group="overdue"))
    before = len(web_demo.registry.audit_events(OPERATOR, patient_id=row.patient_id))
    r = web_demo.client.post(
        f"/worklist/outreach/{row.patient_id}",
        data={"csrf_token": token, "outcome": "no_answer", "version": row.version, "back": "group=overdue"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"].startswith("/?group=overdue&logged=")
    page = web_demo.client.get(r.headers["location"]).text
    assert f"Call logged for {row.name}: No answer." in page
    history = web_demo.registry.outreach_history(OPERATOR, row.patient_id)
    assert history[0].outcome == "no_answer"
    assert history[0].actor == "navigator"
    events = web_demo.registry.audit_events(OPERATOR, patient_id=row.patient_id)
    assert len(events) == before + 1
    assert events[0].action == "outreach.log"


def test_an_outreach_on_a_changed_patient_is_refused_clearly(web_demo: Web) -> None:
    token = web_demo.login("navigator")
    row = web_demo.registry.worklist(OPERATOR, group="overdue")[0]
    web_demo.registry.set_contact(
        OPERATOR, row.patient_id, expected_version=row.version, name=row.name, phone="+1 555 0000",
        family_doctor=None,
    )  # fmt: skip
    r = web_demo.client.post(
        f"/worklist/outreach/{row.patient_id}",
        data={"csrf_token": token, "outcome": "reached", "version": row.version},
        follow_redirects=False,
    )
    assert r.status_code == 409
    assert "changed by someone else" in r.text
    assert "nothing was written" in r.text
    assert all(
        e.outcome != "reached" or e.actor != "navigator"
        for e in web_demo.registry.outreach_history(OPERATOR, row.patient_id)
    )


def test_bad_outcome_and_missing_version_are_explained(web_demo: Web) -> None:
    token = web_demo.login("navigator")
    row = web_demo.registry.worklist(OPERATOR)[0]
    r = web_demo.client.post(
        f"/worklist/outreach/{row.patient_id}",
        data={"csrf_token": token, "outcome": "abducted", "version": 1},
    )
    assert r.status_code == 400
    assert "Unknown call outcome" in r.text
    r = web_demo.client.post(
        f"/worklist/outreach/{row.patient_id}", data={"csrf_token": token, "outcome": "reached"}
    )
    assert r.status_code == 400
    r = web_demo.client.post(
        "/worklist/outreach/999999", data={"csrf_token": token, "outcome": "reached", "version": 1}
    )
    assert r.status_code == 404


def test_readonly_sees_no_call_buttons_and_cannot_post(web_demo: Web) -> None:
    token = web_demo.login("readonly")
    html = web_demo.client.get("/").text
    assert "/worklist/outreach/" not in html
    row = web_demo.registry.worklist(OPERATOR)[0]
    r = web_demo.client.post(
        f"/worklist/outreach/{row.patient_id}",
        data={"csrf_token": token, "outcome": "reached", "version": row.version},
    )
    assert r.status_code == 403


def test_a_new_day_refreshes_stored_assessments_before_listing(web_demo: Web) -> None:
    web = web_demo
    web.login("readonly")
    web.client.get("/")
    assert web.registry.count_patients(OPERATOR) > 40
    next_day = AS_OF + dt.timedelta(days=1)
    web.client.app.state.today = lambda: next_day  # type: ignore[attr-defined]
    html = web.client.get("/").text
    assert next_day.isoformat() in html
    reg: Registry = web.registry
    assert all(r.as_of == next_day for r in reg.worklist(OPERATOR))
