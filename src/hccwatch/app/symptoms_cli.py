"""``hccwatch symptoms ...``: the patient symptom check from the command line.

``due`` lists the checks an external SMS or email system should remind patients of (hccwatch
sends nothing itself); ``link`` makes a patient's personal link and prints it once; ``report``
gives completion rates and how quickly emergencies were acknowledged. The registry is opened as
for ``hccwatch registry`` (``--database``, else the environment), acting as the command line.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import sys
from typing import Any

import click

from hccwatch.app.registry_cli import _as_of, _database, _open, _operator

__all__ = ["symptoms_group"]


def _checks(registry: Any) -> Any:
    from hccwatch.registry.symptom_checks import SymptomChecks
    from hccwatch.web.symptom_settings import SymptomSettings

    try:
        settings = SymptomSettings.from_env()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    return SymptomChecks(registry, link_days=settings.link_days)


@click.group("symptoms")
def symptoms_group() -> None:
    """The patient symptom check: due reminders, personal links, completion report."""


@symptoms_group.command("due")
@_database
@_as_of
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
def due_command(database: str | None, as_of: dt.date | None, fmt: str) -> None:
    """List patients whose weekly symptom check is due (patient ref, phone, link status)."""
    when = as_of or dt.date.today()
    with _open(database, when) as registry:
        rows = [
            {
                "patient_ref": d.record_id,
                "registry_id": d.patient_id,
                "phone": d.phone or "",
                "due": d.due.isoformat(),
                "link_status": d.link_state,
            }
            for d in _checks(registry).due_checks(_operator(), when)
        ]
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    out = csv.DictWriter(
        sys.stdout, ["patient_ref", "registry_id", "phone", "due", "link_status"], lineterminator="\n"
    )
    out.writeheader()
    out.writerows(rows)


@symptoms_group.command("link")
@click.argument("patient")
@_database
@click.option("--days", type=click.IntRange(min=1), default=None, help="Days the link stays valid.")
@click.option(
    "--base-url",
    default=None,
    help="Address of the web app (default: HCCWATCH_PUBLIC_URL); without one only the path is printed.",
)
def link_command(patient: str, database: str | None, days: int | None, base_url: str | None) -> None:
    """Make a symptom-check link for PATIENT (a record id) and print it once."""
    with _open(database) as registry:
        found = registry.find_patient(_operator(), patient)
        made = _checks(registry).create_link(_operator(), found.id, days=days)
    base = (base_url or os.environ.get("HCCWATCH_PUBLIC_URL") or "").rstrip("/")
    click.echo(f"{base}/s/{made.token}")
    click.echo(f"valid until {made.link.expires_at.strftime('%Y-%m-%d %H:%M UTC')}; shown only now", err=True)


def _pct(rate: float | None) -> str:
    return "n/a" if rate is None else f"{100 * rate:.0f}%"


@symptoms_group.command("report")
@_database
@_as_of
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def report_command(database: str | None, as_of: dt.date | None, fmt: str) -> None:
    """Completion rate per patient and for the clinic; time from emergency report to acknowledgement."""
    when = as_of or dt.date.today()
    with _open(database, when) as registry:
        r = _checks(registry).report(_operator(), when)
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "as_of": when.isoformat(),
                    "patients": [
                        {
                            "patient_ref": p.record_id,
                            "expected": p.expected,
                            "completed": p.completed,
                            "rate": p.rate,
                        }
                        for p in r.patients
                    ],
                    "clinic": {
                        "expected": r.clinic_expected,
                        "completed": r.clinic_completed,
                        "rate": r.clinic_rate,
                    },
                    "emergencies": {
                        "reported": r.emergencies,
                        "acknowledged": r.acknowledged,
                        "minutes_to_acknowledge_median": r.ack_minutes_median,
                        "minutes_to_acknowledge_max": r.ack_minutes_max,
                    },
                },
                indent=1,
            )  # fmt: skip
        )
        return
    click.echo(f"Symptom checks on {when.isoformat()} (weekly checks completed / due so far)")
    for p in r.patients:
        click.echo(f"  {p.record_id:<24} {p.completed:>3} / {p.expected:<3} {_pct(p.rate):>5}")
    click.echo(f"Clinic: {r.clinic_completed} / {r.clinic_expected} ({_pct(r.clinic_rate)})")
    if r.ack_minutes_median is None or r.ack_minutes_max is None:
        ack = "none acknowledged yet"
    else:
        ack = f"median {r.ack_minutes_median:.0f} min, max {r.ack_minutes_max:.0f} min"
    click.echo(f"Emergencies reported: {r.emergencies}; acknowledged: {r.acknowledged} ({ack})")
