"""Symptom-check answers for tests: every question "no" unless told otherwise."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hccwatch.symptoms import form, response_from_form

AUTHORED = dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC)


def form_fields(**answers: str) -> dict[str, str]:
    """Form fields by linkId (underscores stand for dashes): every symptom "no", then ``answers``."""
    fields = {q.link_id: "no" for q in form().questions if q.kind == "symptom"}
    fields.update({k.replace("_", "-"): v for k, v in answers.items()})
    return fields


def response(**answers: str) -> dict[str, Any]:
    return response_from_form(form_fields(**answers), authored=AUTHORED)
