"""Corpus regression: the assessments of a fixed corpus are byte-for-byte what was stored.

A speed-up, a refactoring or a dependency upgrade must not change any answer. The corpus (the
examples, seeded generated records and the real cohorts of the shared data folder) is described
in ``tests/corpus/build.py``; its digests are in ``tests/corpus/digests.json``.
"""

from __future__ import annotations

import json

import pytest

from corpus import build
from support import requires_shared

STORED: dict[str, dict[str, str | None]] = json.loads(build.DIGESTS.read_text(encoding="utf-8"))

ADVICE = (
    "If this is an intended clinical change, run scripts/corpus, review the diff of "
    "tests/corpus/digests.json (and the reports of the records named) and commit it with the change."
)


def _check(group: str) -> None:
    expected = STORED[group]
    actual = build.digests(group)
    changed = sorted(name for name in expected.keys() & actual.keys() if expected[name] != actual[name])
    added, removed = sorted(actual.keys() - expected.keys()), sorted(expected.keys() - actual.keys())
    problems = [
        *([f"{len(changed)} outputs changed: {', '.join(changed[:20])}"] if changed else []),
        *([f"new records: {', '.join(added[:20])}"] if added else []),
        *([f"records gone: {', '.join(removed[:20])}"] if removed else []),
    ]
    assert not problems, f"corpus group {group!r}: " + "; ".join(problems) + ". " + ADVICE


@pytest.mark.parametrize("group", build.LOCAL_GROUPS)
def test_local_corpus_unchanged(group: str) -> None:
    _check(group)


@requires_shared
@pytest.mark.parametrize("group", build.SHARED_GROUPS)
def test_real_cohorts_unchanged(group: str) -> None:
    _check(group)
