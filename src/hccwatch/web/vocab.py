"""Display names of the registry's own codes (worklist groups, outreach outcomes, reasons to leave
the worklist, alert levels). Assessment display names stay in ``report/labels.toml``."""

from __future__ import annotations

__all__ = ["GROUP_TITLES", "LEAVE_REASON_NAMES", "OUTCOME_NAMES", "URGENCY_NAMES"]

OUTCOME_NAMES: dict[str, str] = {
    "reached": "Reached",
    "no_answer": "No answer",
    "wrong_number": "Wrong number",
    "declined": "Declined",
    "test_booked": "Test booked",
    "test_done_elsewhere": "Test done elsewhere",
    "moved": "Moved away",
    "died": "Died",
    "discharged": "Discharged from follow-up",
}

LEAVE_REASON_NAMES: dict[str, str] = {
    "died": "died",
    "moved": "moved away",
    "discharged": "discharged from follow-up",
    "declined_follow_up": "declined follow-up",
    "followed_elsewhere": "followed elsewhere",
}

GROUP_TITLES: dict[str, str] = {
    "alerts": "Alerts",
    "afp": "Suspicious AFP",
    "overdue": "Overdue",
    "lost": "Lost to follow-up",
    "due_soon": "Due soon",
    "not_assessed": "Could not be assessed",
    "off_worklist": "Off the worklist",
}

URGENCY_NAMES: dict[str, str] = {
    "emergency": "Emergency",
    "urgent": "Urgent",
    "soon": "Soon",
    "routine": "Routine",
}
