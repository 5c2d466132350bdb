"""The errors hccwatch raises.

::

    HccwatchError                 anything hccwatch refuses, with a message for a person
    ├── InvalidRecordError        a patient record that cannot be read as given
    │   └── UnitError             a unit hccwatch does not know for that quantity
    ├── DeceasedError             the record says the patient had died by the evaluation date:
    │                             hccwatch follows living patients, so nothing is assessed
    ├── UsageError                a request hccwatch cannot serve: unknown language or
    │                             profile, an evaluation date that is not a plausible date
    └── KnowledgeError            the knowledge base is inconsistent (a bug, not user input)

A rule never raises for missing clinical data: it answers "cannot determine" and names
what is missing. These exceptions are for input that cannot be trusted at all.
"""

from __future__ import annotations

import datetime as dt

__all__ = [
    "DeceasedError",
    "HccwatchError",
    "InvalidRecordError",
    "KnowledgeError",
    "UnitError",
    "UsageError",
]


class HccwatchError(Exception):
    """Base class of every error hccwatch raises on purpose."""


class InvalidRecordError(HccwatchError):
    """A patient record is malformed; ``problems`` lists each field and what is wrong with it."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems: list[str] = problems if problems is not None else [message]


class UnitError(InvalidRecordError):
    """A lab value came with a unit hccwatch cannot convert."""


class DeceasedError(HccwatchError):
    """The record says the patient died on or before the evaluation date (or died, no date given).

    Not an invalid record: it is read as given, and it says there is no one to follow up. Every
    face shows the message as it shows any other refusal, never an assessment.
    """

    def __init__(self, message: str, deceased_on: dt.date | None) -> None:
        super().__init__(message)
        self.deceased_on = deceased_on


class UsageError(HccwatchError):
    """An argument of the call (not the record) is wrong: language, profile, evaluation date."""


class KnowledgeError(HccwatchError):
    """The packaged knowledge base is inconsistent."""
