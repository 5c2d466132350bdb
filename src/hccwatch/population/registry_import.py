"""``hccwatch registry import RESULT_DIR``: load a batch result's cohort into the registry.

A batch result folder is recognised by its files (``summary.json`` and ``worklist.csv``, which
``hccwatch batch`` writes together). Each cohort patient's mapped record (``records.jsonl``) goes
through ``Registry.import_record``, so the registry assesses it again with the same ``assess``;
an identical record already stored is left alone, so a rerun changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from hccwatch.errors import HccwatchError

__all__ = ["BatchResult", "BatchResultError", "batch_result", "import_batch_result", "summary_line"]

# The files that mark a folder as written by ``hccwatch batch``.
MARKERS = ("summary.json", "worklist.csv")
RECORDS = "records.jsonl"
OUTCOMES = ("added", "updated", "unchanged", "refused")


class BatchResultError(HccwatchError):
    """A batch result folder that cannot be imported (an older layout, an unreadable summary)."""


@dataclass(frozen=True)
class BatchResult:
    folder: Path
    as_of: dt.date  # the date the batch assessed every patient on
    cohort: int


def _is_result(path: Path) -> bool:
    return path.is_dir() and all((path / name).is_file() for name in MARKERS)


def batch_result(inputs: Sequence[str]) -> BatchResult | None:
    """The batch result folder when it is the only input, else None (an ordinary import).

    Raises:
        BatchResultError: the folder is a batch result that cannot be imported.
    """
    if len(inputs) != 1 or not _is_result(Path(inputs[0])):
        return None
    folder = Path(inputs[0])
    if not (folder / RECORDS).is_file():
        raise BatchResultError(
            f"{folder.name}: a batch result without {RECORDS} (written by an older hccwatch); "
            "run hccwatch batch again to import it"
        )
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        as_of = dt.date.fromisoformat(summary["as_of"])
        cohort = int(summary["cohort"]["patients"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BatchResultError(f"{folder.name}: summary.json is not a batch summary ({exc})") from None
    return BatchResult(folder, as_of, cohort)


def _unmapped(folder: Path) -> list[tuple[str, str]]:
    """(patient id, why) of worklist rows that could not be mapped (they have no record)."""
    with (folder / "worklist.csv").open(encoding="utf-8", newline="") as fh:
        return [
            (row.get("patient_id", "?"), row.get("message", ""))
            for row in csv.DictReader(fh)
            if row.get("status") != "assessed"
        ]


def import_batch_result(
    registry: Any, actor: Any, result: BatchResult, *, echo: Callable[[str], None]
) -> Counter[str]:
    """Import every record of the result; returns the count of each outcome (``added``,
    ``updated``, ``unchanged``, ``refused``). Each refusal is named through ``echo``; the others
    are still imported."""
    counts: Counter[str] = Counter(dict.fromkeys(OUTCOMES, 0))
    seen: set[str] = set()  # patients with a record, imported or refused
    with (result.folder / RECORDS).open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                counts["refused"] += 1
                echo(f"{RECORDS} line {number}: not JSON; skipped")
                continue
            pid = str(record.get("id", f"line {number}")) if isinstance(record, dict) else f"line {number}"
            seen.add(pid)
            try:
                outcome = registry.import_record(actor, record)
            except HccwatchError as exc:
                counts["refused"] += 1
                echo(f"{result.folder.name}#{pid}: {exc}")
                continue
            counts[outcome.status] += 1
    for pid, why in _unmapped(result.folder):
        if pid not in seen:
            # Not assessed by the batch either: no record to load; the worklist says why.
            counts["refused"] += 1
            echo(f"{result.folder.name}#{pid}: not imported: {why or 'no mapped record'}")
    return counts


def summary_line(result: BatchResult, counts: Counter[str]) -> str:
    done = ", ".join(f"{k} {counts[k]}" for k in OUTCOMES)
    return (
        f"{done} (batch result {result.folder.name}: {result.cohort} HCC patients, "
        f"assessed as of {result.as_of.isoformat()})"
    )
