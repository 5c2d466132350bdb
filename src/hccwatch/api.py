"""The Python entry point: ``assess(record, as_of=None) -> Assessment``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from hccwatch.core.assessment import Assessment
from hccwatch.core.engine import evaluate
from hccwatch.core.knowledge import Knowledge, default_knowledge
from hccwatch.record.model import PatientRecord, parse_record

__all__ = ["assess"]


def _as_date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"as_of {value!r} is not a date (YYYY-MM-DD)") from None


def assess(
    record: PatientRecord | Mapping[str, Any],
    as_of: dt.date | str | None = None,
    *,
    lang: str = "en",
    profile: str | None = None,
    knowledge: Knowledge | None = None,
) -> Assessment:
    """Assess one patient.

    Args:
        record: a :class:`PatientRecord`, or a decoded JSON object to validate.
        as_of: the evaluation date. If omitted, the record's own ``as_of`` is used, and
            failing that today's date; the Assessment says which (``as_of_source``).
        lang: language of the patient summary (``en`` or ``zh``).
        profile: surveillance schedule profile id (default: the record's, else the default).
        knowledge: a knowledge base other than the packaged one.

    Raises:
        InvalidRecordError: the record cannot be read; each problem names its field.
    """
    rec = record if isinstance(record, PatientRecord) else parse_record(dict(record))
    if as_of is not None:
        when, source = _as_date(as_of), "given"
    elif rec.as_of is not None:
        when, source = rec.as_of, "record"
    else:
        # The only clock read in hccwatch, outside the rules, and reported in the output.
        when, source = dt.date.today(), "today"
    return evaluate(
        rec,
        as_of=when,
        knowledge=knowledge or default_knowledge(),
        as_of_source=source,
        lang=lang,
        profile=profile,
    )
