"""The Python entry point: ``assess(record, as_of=None) -> Assessment``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from hccwatch.core.assessment import Assessment
from hccwatch.core.engine import evaluate
from hccwatch.core.knowledge import Knowledge, default_knowledge
from hccwatch.errors import UsageError
from hccwatch.record.messages import describe
from hccwatch.record.model import PatientRecord, parse_record
from hccwatch.record.units import BoundaryTables, boundary_tables

__all__ = ["assess"]


def _as_date(value: object, tables: BoundaryTables) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise UsageError(f"as_of {describe(value)} is not a date (YYYY-MM-DD)") from None
    if not isinstance(value, dt.date):
        raise UsageError(f"as_of must be a date (YYYY-MM-DD), got {describe(value)}")
    if not tables.first_date <= value <= tables.last_date:
        raise UsageError(
            f"as_of {value.isoformat()} is outside the plausible dates "
            f"({tables.first_date.isoformat()} to {tables.last_date.isoformat()})"
        )
    return value


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
        knowledge: a knowledge base other than the packaged one. The record's units, plausible
            values and dates are judged with it too; a :class:`PatientRecord` parsed with another
            knowledge base is converted again from its values as given.

    Raises:
        InvalidRecordError: the record cannot be read; each problem names its field.
        UsageError: ``as_of``, ``lang`` or ``profile`` is not one hccwatch can use.
        DeceasedError: the record says the patient died on or before the evaluation date.
    """
    if knowledge is not None and not isinstance(knowledge, Knowledge):
        raise UsageError(f"knowledge must be a Knowledge (see load_knowledge), got {describe(knowledge)}")
    k = knowledge if knowledge is not None else default_knowledge()
    tables = boundary_tables(k)
    if not isinstance(lang, str) or lang not in k.languages:
        raise UsageError(
            f"no patient texts for language {describe(lang)}; available: {', '.join(k.languages)}"
        )
    if profile is not None and profile not in tables.profile_ids:
        raise UsageError(
            f"unknown surveillance profile {describe(profile)}; available: {', '.join(tables.profile_ids)}"
        )
    # The arguments are checked before the record, so a usage error is reported once, not per record.
    when_given = None if as_of is None else _as_date(as_of, tables)
    rec = parse_record(record, knowledge=k)
    if when_given is not None:
        when, source = when_given, "given"
    elif rec.as_of is not None:
        when, source = rec.as_of, "record"
    else:
        # The only clock read in hccwatch, outside the rules, and reported in the output.
        when, source = dt.date.today(), "today"
    if rec.birth_date is not None and when < rec.birth_date:
        raise UsageError(
            f"as_of {when.isoformat()} ({source}) is before the patient's "
            f"birth_date {rec.birth_date.isoformat()}"
        )
    return evaluate(rec, as_of=when, knowledge=k, as_of_source=source, lang=lang, profile=profile)
