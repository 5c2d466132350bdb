"""Workup: which tests each suspicion needs, how urgently, and why.

When a suspicion is raised, Then its tests are requested at the suspicion's urgency:

| suspicion                      | tests (knowledge ``metastasis.workup.for.*``)                      |
|--------------------------------|-------------------------------------------------------------------|
| suspected MSCC                 | whole-spine MRI                                                    |
| spinal pain                    | whole-spine MRI, bone imaging (PET-CT or CT/MRI)                    |
| bone symptoms                  | bone imaging                                                       |
| brain symptoms                 | head CT first if the onset was sudden (emergency), brain MRI        |
| haemoptysis, chest symptoms    | chest CT                                                           |
| abdominal symptoms             | abdomen/pelvis CT or MRI                                           |
| imaging finding at a site      | the site's test (``site_tests``) plus restaging (liver, chest, AFP) |

Current evidence is preferred to the older list (chest X-ray, ultrasound, CT, bone X-ray, MRI):
chest CT over chest X-ray, multiphase CT/MRI over ultrasound, PET-CT or CT/MRI over bone scan
(Seo 2011: 98% vs 53% of lesions), whole-spine MRI over plain X-ray (NICE CG75/NG234). Each
item names the older test it replaces in ``instead_of``.

The workup has one item per test: the most urgent request wins and the reasons are merged.
Citations: SEO-2011, SUGIYAMA-2004, YOON-2021, NICE-CG75, NICE-NG234, HAN-2010, BAVENO-2022.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from hccwatch.core.context import Context
from hccwatch.core.finding import URGENCY_ORDER, Trace, Urgency, WorkupItem, merge_citations
from hccwatch.core.knowledge import JsonValue
from hccwatch.core.rules.metastasis.model import WorkupRequest, as_urgency, at_most, most_urgent

__all__ = ["build_workup", "requests_for_alert", "requests_for_tests"]


def requests_for_tests(
    t: Trace, tests: Iterable[str], urgency: Urgency, because: str, suspicion: str
) -> tuple[WorkupRequest, ...]:
    """Requests for ``tests``, citing what the suspicion's trace has read so far."""
    return tuple(
        WorkupRequest(
            test=test,
            urgency=urgency,
            because=because,
            suspicion=suspicion,
            citations=t.citations,
            unverified=t.unverified,
            policy=t.policy,
        )
        for test in dict.fromkeys(tests)
    )


def _spec_applies(spec: Mapping[str, JsonValue], urgency: Urgency) -> bool:
    only_at = spec.get("only_at")
    return only_at is None or as_urgency(only_at) == urgency


def requests_for_alert(t: Trace, alert_id: str, urgency: Urgency, because: str) -> tuple[WorkupRequest, ...]:
    """The tests knowledge lists for a red-flag alert, at the alert's urgency (or capped)."""
    out: list[WorkupRequest] = []
    for spec in t.items(f"metastasis.workup.for.{alert_id}"):
        if not isinstance(spec, dict) or not _spec_applies(spec, urgency):
            continue
        ceiling = spec.get("at_most")
        level = urgency if ceiling is None else at_most(urgency, as_urgency(ceiling))
        out.extend(requests_for_tests(t, [str(spec["test"])], level, because, alert_id))
    return tuple(out)


def _item(ctx: Context, test: str, group: list[WorkupRequest]) -> WorkupItem:
    t = ctx.trace(f"workup.{test}")
    spec = t.table(f"metastasis.workup.tests.{test}")
    instead_of = spec.get("instead_of")
    becauses = " ".join(dict.fromkeys(r.because.rstrip(".") + "." for r in group))
    return WorkupItem(
        test=test,
        urgency=most_urgent(*(r.urgency for r in group)),
        reason=f"{becauses} {spec['why']}",
        citations=merge_citations(*(r.citations for r in group), t.citations),
        suspicion=", ".join(dict.fromkeys(r.suspicion for r in group)),
        instead_of=instead_of if isinstance(instead_of, str) else None,
        unverified=merge_citations(*(r.unverified for r in group), t.unverified),
        policy=merge_citations(*(r.policy for r in group), t.policy),
    )


def build_workup(ctx: Context, requests: Iterable[WorkupRequest]) -> tuple[WorkupItem, ...]:
    """One item per test, the most urgent request's level, merged reasons; most urgent first."""
    groups: dict[str, list[WorkupRequest]] = {}
    for r in requests:
        groups.setdefault(r.test, []).append(r)
    items = [_item(ctx, test, group) for test, group in groups.items()]
    return tuple(sorted(items, key=lambda w: URGENCY_ORDER[w.urgency]))
