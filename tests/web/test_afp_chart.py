"""The AFP chart: well-formed, accessible, faithful to the record, never raising."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from hccwatch.core.knowledge import default_knowledge
from hccwatch.record.model import parse_record
from hccwatch.web.afp_chart import (
    AfpPoint,
    TreatmentMarker,
    afp_points,
    chart_thresholds,
    render_chart,
    treatment_markers,
)

SVG = "{http://www.w3.org/2000/svg}"


def _record(labs: list[dict[str, object]], treatments: list[dict[str, object]] | None = None) -> object:
    return parse_record({"id": "chart-1", "labs": labs, "treatments": treatments or []})


def _point(day: dt.date, value: float) -> AfpPoint:
    return AfpPoint(day, value, value, "ng/mL")


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}desc") is not None
    return root


def test_thresholds_come_from_the_knowledge_base_with_their_sources() -> None:
    k = default_knowledge()
    cuts = chart_thresholds(k)
    keys = [t.key for t in cuts]
    assert keys[0] == "afp.upper_limit_normal_ng_ml"
    ids = k.entry("afp.threshold_ids").value
    assert isinstance(ids, list)
    assert {f"afp.threshold_ng_ml.{i}" for i in ids} <= set(keys)
    for t in cuts:
        entry = k.entry(t.key)
        assert t.value == entry.value and t.citations == entry.citations and t.status == entry.status


def test_the_upper_limit_the_assessment_used_wins_over_the_current_entry() -> None:
    cuts = chart_thresholds(default_knowledge(), {"rise_thresholds": {"upper_limit_normal_ng_ml": 8}})
    assert cuts[0].key == "afp.upper_limit_normal_ng_ml" and cuts[0].value == 8


def test_iu_per_ml_is_drawn_in_ng_per_ml_through_the_record_boundary() -> None:
    rec = _record(
        [
            {"test": "afp", "value": 10, "unit": "IU/mL", "date": "2026-01-10"},
            {"test": "afp", "value": 5, "unit": "ng/mL", "date": "2025-12-01"},
        ]
    )
    pts = afp_points(rec)  # type: ignore[arg-type]
    assert [p.date.isoformat() for p in pts] == ["2025-12-01", "2026-01-10"]
    iu = rec.labs[0]  # type: ignore[attr-defined]
    assert pts[1].value == iu.canonical.value and pts[1].given_unit == "IU/mL" and pts[1].given_value == 10
    chart = render_chart(pts, chart_thresholds(default_knowledge()))
    values = [t.text for t in _parse(chart.svg).iter(f"{SVG}text") if t.get("class") == "afp-value"]
    assert values == ["5", f"{iu.canonical.value:g}"]


def test_no_point_says_so() -> None:
    chart = render_chart([], chart_thresholds(default_knowledge()))
    root = _parse(chart.svg)
    assert "No AFP result" in (root.find(f"{SVG}desc").text or "")  # type: ignore[union-attr]
    assert not list(root.iter(f"{SVG}circle"))


def test_one_point_and_treatment_markers() -> None:
    rec = _record(
        [{"test": "afp", "value": 250, "unit": "ng/mL", "date": "2026-03-01"}],
        [{"type": "tace", "date": "2026-02-01"}, {"type": "resection", "date": "2025-01-01"}],
    )
    chart = render_chart(afp_points(rec), chart_thresholds(default_knowledge()), treatment_markers(rec))  # type: ignore[arg-type]
    root = _parse(chart.svg)
    assert len(list(root.iter(f"{SVG}circle"))) == 1
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "afp-treatment-label"]
    assert labels == ["Resection 2025-01-01", "TACE 2026-02-01"]
    drawn = {t.value for t in chart.shown_thresholds}
    assert 200 in drawn and 20 in drawn  # the cut-offs the value lies near are visible


def test_log_scale_draws_zero_on_the_bottom_edge_and_says_so() -> None:
    pts = [
        _point(dt.date(2026, 1, 1), 0.0),
        _point(dt.date(2026, 2, 1), 3.0),
        _point(dt.date(2026, 3, 1), 900.0),
    ]
    chart = render_chart(pts, chart_thresholds(default_knowledge()), scale="log")
    root = _parse(chart.svg)
    zero = [e for e in root.iter(f"{SVG}path") if "afp-point-zero" in (e.get("class") or "")]
    assert len(zero) == 1
    assert "1 value(s) of 0" in chart.summary
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "afp-tick"]
    assert "1" in ticks and "1000" in ticks


def test_text_is_escaped() -> None:
    marker = TreatmentMarker(dt.date(2026, 1, 1), '<script>alert("x")</script> & co')
    chart = render_chart([_point(dt.date(2026, 1, 2), 4.0)], (), [marker], trend="<rising>")
    assert "<script>" not in chart.svg
    _parse(chart.svg)


def test_output_is_deterministic() -> None:
    pts = [_point(dt.date(2026, 1, 1) + dt.timedelta(days=40 * i), 3.0 * i + 0.1) for i in range(30)]
    cuts = chart_thresholds(default_knowledge())
    assert render_chart(pts, cuts).svg == render_chart(list(reversed(pts)), cuts).svg


def test_two_hundred_points_label_only_the_landmarks() -> None:
    pts = [_point(dt.date(2010, 1, 1) + dt.timedelta(days=20 * i), float(i % 37)) for i in range(200)]
    chart = render_chart(pts, chart_thresholds(default_knowledge()), scale="log")
    root = _parse(chart.svg)
    assert len(list(root.iter(f"{SVG}circle"))) + len(list(root.iter(f"{SVG}path"))) == 200
    assert len([t for t in root.iter(f"{SVG}text") if t.get("class") == "afp-value"]) <= 4


_dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2060, 12, 31))
_values = st.one_of(
    st.just(0.0),
    st.floats(min_value=0, max_value=1e7, allow_nan=False, allow_infinity=False),
    st.floats(min_value=-5, max_value=0, allow_nan=False),
)
_points = st.lists(st.builds(_point, _dates, _values), max_size=60)
_markers = st.lists(st.builds(TreatmentMarker, _dates, st.text(max_size=30)), max_size=6)


@settings(max_examples=150, deadline=None)
@given(_points, _markers, st.sampled_from(["linear", "log"]), st.one_of(st.none(), st.text(max_size=20)))
def test_never_raises_and_is_well_formed(
    points: list[AfpPoint], markers: list[TreatmentMarker], scale: str, trend: str | None
) -> None:
    chart = render_chart(points, chart_thresholds(default_knowledge()), markers, scale=scale, trend=trend)  # type: ignore[arg-type]
    root = _parse(chart.svg)
    assert len(list(root.iter(f"{SVG}circle"))) + len(
        [e for e in root.iter(f"{SVG}path") if "afp-point" in (e.get("class") or "")]
    ) == len(points)


def test_labels_of_close_cut_offs_do_not_overlap() -> None:
    chart = render_chart([_point(dt.date(2026, 1, 1), 3000.0)], chart_thresholds(default_knowledge()))
    root = _parse(chart.svg)
    ys = [float(t.get("y", "0")) for t in root.iter(f"{SVG}text") if t.get("class") == "afp-threshold-label"]
    assert len(ys) == len(chart.shown_thresholds) >= 3
    assert all(a - b >= 12 for a, b in zip(ys, ys[1:], strict=False))
