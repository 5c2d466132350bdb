"""The patient page, its print view and letters, through the real app on a demo registry."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
from web_support import AS_OF, OPERATOR, Web, WebFactory

from hccwatch import assess
from hccwatch.app.server import Settings
from hccwatch.registry.demo import demo_patients
from hccwatch.report import cards
from hccwatch.web.wording import wording
from support import EXAMPLES

SECTIONS = (
    "alerts",
    "afp",
    "timeline",
    "tumours",
    "transplant",
    "metastasis",
    "workup",
    "surveillance",
    "recurrence",
    "options",
    "assumptions",
    "outreach",
    "sources",
)
HEADER = ("bclc", "cnlc", "child_pugh", "meld_3", "albi", "since", "next_due", "urgency")
_SVG = re.compile(r"<svg .*?</svg>", re.DOTALL)
_CJK = re.compile("[\u4e00-\u9fff]")


def _courses() -> dict[str, str]:
    """One demo record id per clinical course."""
    out: dict[str, str] = {}
    for p in demo_patients(AS_OF):
        out.setdefault(p.course, str(p.record["id"]))
    return out


COURSES = _courses()


def _id(web: Web, record_id: str) -> int:
    return web.registry.find_patient(OPERATOR, record_id).id


def _views(web: Web, patient_id: int) -> int:
    return sum(
        1
        for e in web.registry.audit_events(OPERATOR)
        if e.action == "patient.view" and e.patient_id == patient_id
    )


def test_every_section_for_each_kind_of_demo_patient(web_demo: Web) -> None:
    web_demo.login("clinician")
    for course, record_id in sorted(COURSES.items()):
        r = web_demo.client.get(f"/patients/{_id(web_demo, record_id)}")
        assert r.status_code == 200, (course, r.text)
        html = r.text
        for section in SECTIONS:
            assert f'<section id="{section}"' in html, (course, section)
        for key in HEADER:
            assert f'id="header-{key}"' in html, (course, key)
        assert "{% block" not in html and "patient_actions" not in html
        assert html.count("decision support, not a diagnosis") == 1, course
        assert "assessment-error" not in html, course
        svg = _SVG.search(html)
        assert svg is not None, course
        ET.fromstring(svg.group(0))


def test_the_chart_and_its_table_match_the_records_afp_values(web_demo: Web) -> None:
    web_demo.login("readonly")
    view = web_demo.registry.find_patient(OPERATOR, COURSES["rising AFP"])
    afp = sorted((lab for lab in view.record["labs"] if lab["test"] == "afp"), key=lambda lab: lab["date"])
    assert len(afp) >= 3
    for scale in ("linear", "log"):
        html = web_demo.client.get(f"/patients/{view.id}?scale={scale}").text
        svg = _SVG.search(html)
        assert svg is not None
        root = ET.fromstring(svg.group(0))
        ns = "{http://www.w3.org/2000/svg}"
        tips = [t.text for t in root.iter(f"{ns}title") if t.text and re.match(r"\d{4}-\d\d-\d\d:", t.text)]
        assert [tip.split(":")[0] for tip in tips] == [lab["date"] for lab in afp]
        assert [float(tip.split(": ")[1].split()[0]) for tip in tips] == [float(lab["value"]) for lab in afp]
        axis = next(t.text or "" for t in root.iter(f"{ns}text") if t.get("class") == "afp-unit")
        assert ("log" in axis) == (scale == "log")
        table = html.split('class="data afp-table"')[1].split("</table>")[0]
        for lab in afp:
            assert f"<td>{lab['date']}</td>" in table
    assert "rising" in html  # the assessment's own trend word, in the chart description


def test_the_view_is_audited_and_readonly_may_see_it(web_demo: Web) -> None:
    web_demo.login("readonly")
    pid = _id(web_demo, COURSES["overdue"])
    before = _views(web_demo, pid)
    assert web_demo.client.get(f"/patients/{pid}").status_code == 200
    assert web_demo.client.get(f"/patients/{pid}/print").status_code == 200
    assert web_demo.client.get(f"/patients/{pid}/letter?to=doctor").status_code == 200
    assert _views(web_demo, pid) == before + 3
    last = [e for e in web_demo.registry.audit_events(OPERATOR) if e.action == "patient.view"][-1]
    assert last.actor == "readonly"


def test_unknown_patient_is_a_plain_404(web_demo: Web) -> None:
    web_demo.login("clinician")
    for path in ("/patients/999999", "/patients/999999/print", "/patients/999999/letter"):
        r = web_demo.client.get(path)
        assert r.status_code == 404
        assert "There is no patient at this address." in r.text
        assert "999999" not in r.text.replace(path, "")
    assert web_demo.client.get("/patients/not-a-number").status_code == 404


def test_anonymous_is_sent_to_login(web_demo: Web) -> None:
    r = web_demo.client.get("/patients/1", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/patients/1")


def test_the_page_shows_what_the_registry_stored(web_demo: Web) -> None:
    """The page re-reads assess on the stored date: the same answer the registry stored."""
    for record_id in COURSES.values():
        view = web_demo.registry.find_patient(OPERATOR, record_id)
        assert view.assessment is not None and view.assessment_as_of is not None
        again = assess(view.record, as_of=view.assessment_as_of, knowledge=web_demo.registry.knowledge)
        assert json.loads(json.dumps(again.to_dict())) == view.assessment


def test_a_failed_assessment_is_shown_with_its_error(web_demo: Web) -> None:
    web_demo.login("clinician")
    pid = _id(web_demo, COURSES["up to date"])
    with web_demo.registry.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE assessments SET result_json = NULL, error = 'labs[0]: unit mg/L is not accepted' "
            f"WHERE patient_id = {pid}"
        )
    html = web_demo.client.get(f"/patients/{pid}").text
    assert "The assessment could not be made" in html and "unit mg/L is not accepted" in html
    for section in SECTIONS:
        assert f'<section id="{section}"' in html
    r = web_demo.client.get(f"/patients/{pid}/print")
    assert r.status_code == 200 and "unit mg/L is not accepted" in r.text


def test_print_reuses_the_html_report_in_english_and_chinese(web_demo: Web) -> None:
    web_demo.login("navigator")
    pid = _id(web_demo, COURSES["spinal pain"])
    en = web_demo.client.get(f"/patients/{pid}/print")
    assert en.status_code == 200
    assert "hccwatch report:" in en.text and "Bottom line" in en.text and "Patient summary" in en.text
    assert "<style>" not in en.text and 'href="/patients/report.css"' in en.text
    assert en.text.count("decision support, not a diagnosis") == 1
    zh = web_demo.client.get(f"/patients/{pid}/print?lang=zh")
    summary = zh.text.split('lang="zh"', 1)[1]
    assert _CJK.search(summary)
    css = web_demo.client.get("/patients/report.css")
    assert css.status_code == 200 and "@media print" in css.text and "text/css" in css.headers["content-type"]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("to", ["patient", "doctor"])
def test_letters_list_the_overdue_tests(web_demo: Web, to: str, lang: str) -> None:
    web_demo.login("navigator")
    view = web_demo.registry.find_patient(OPERATOR, COURSES["overdue"])
    a = assess(view.record, as_of=view.assessment_as_of, knowledge=web_demo.registry.knowledge, lang=lang)
    late = cards.overdue(a)
    assert late
    html = web_demo.client.get(f"/patients/{view.id}/letter?to={to}&lang={lang}").text
    letter = html.split('<article class="letter', 1)[1]
    for item in late:
        assert wording(lang).tests[item.item] in letter and str(item.due) in letter
    assert AS_OF.isoformat() in letter
    if lang == "zh":
        assert _CJK.search(letter) and 'lang="zh-Hans"' in html
    if to == "doctor":
        assert str(view.family_doctor) in letter and view.record_id in letter
    else:
        assert str(view.name) in letter


def test_no_letter_when_nothing_is_overdue(web_demo: Web) -> None:
    web_demo.login("navigator")
    view = web_demo.registry.find_patient(OPERATOR, COURSES["up to date"])
    a = assess(view.record, as_of=view.assessment_as_of, knowledge=web_demo.registry.knowledge)
    assert cards.overdue(a) == ()
    html = web_demo.client.get(f"/patients/{view.id}/letter").text
    assert "No follow-up test is overdue" in html and '<article class="letter' not in html


def test_letters_carry_the_configured_clinic(make_web: WebFactory, tmp_path: Path) -> None:
    env = {"HCCWATCH_CLINIC_NAME": "Riverside Liver Clinic", "HCCWATCH_CLINIC_PHONE": "+1 555 0199"}
    web = make_web(replace(Settings.from_env(env), data_dir=tmp_path / "data"))
    view = web.registry.add_patient(OPERATOR, _overdue_record(), name="Ann Lee")
    web.login("clinician")
    html = web.client.get(f"/patients/{view.id}/letter?to=patient").text
    letter = html.split('<article class="letter', 1)[1]
    assert "Riverside Liver Clinic" in letter and "+1 555 0199" in letter and "Dear Ann Lee," in letter
    assert "not configured" not in html
    bare = make_web()
    bare.login("clinician")
    page = bare.client.get(
        f"/patients/{bare.registry.add_patient(OPERATOR, _overdue_record()).id}/letter"
    ).text
    assert "not configured" in page and "HCCWATCH_CLINIC_PHONE" in page


def _overdue_record() -> dict[str, object]:
    data = json.loads((EXAMPLES / "article-man-after-resection.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data
