"""The knowledge base can be reviewed: every source findable, every status explained, every change logged.

The release snapshot (``knowledge/values.lock.json``, written by ``scripts/knowledge-lock``)
holds each entry's value and status at the last knowledge version; any difference must be
named in ``knowledge/CHANGELOG.md``, and a changed value needs a new ``VERSION``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from hccwatch.core.knowledge import Citation, default_knowledge

KNOWLEDGE = Path(__file__).resolve().parents[1] / "src" / "hccwatch" / "knowledge"
LOCK = KNOWLEDGE / "values.lock.json"
CHANGELOG = KNOWLEDGE / "CHANGELOG.md"

# Hosts of issuing bodies and publishers: their own address identifies what they publish.
OFFICIAL_HOSTS = frozenset(
    {
        "www.nice.org.uk",
        "optn.transplant.hrsa.gov",
        "unos.org",
        "www.nibsc.org",
        "www.who.int",
        "www.nhc.gov.cn",
        "www.facs.org",
        # Terminology and interoperability standards, at their issuing bodies.
        "loinc.org",
        "browser.ihtsdotools.org",
        "icd.who.int",
        "www.iacr.com.fr",
        "hl7.org",
        "cds-hooks.hl7.org",
        "dicom.nema.org",
        # Secondary clinical references at their publishers' own addresses; each is flagged
        # secondary_of its primary, and none has a DOI.
        "bestpractice.bmj.com",  # BMJ Best Practice, published by BMJ
        "www.msdmanuals.com",  # the MSD Manuals, published by Merck & Co. (MSD)
        "www.ccjm.org",  # Cleveland Clinic Journal of Medicine, the journal's own site
        # An article's publisher's own page stands as its address when its DOI could not be found.
        "www.springermedizin.de",  # Springer Medizin (Springer Nature), World J Surg's publisher
    }
)
# Software is identified by its repository.
CODE_HOSTS = frozenset({"github.com"})

# Citations still without a primary identifier, each with why. This list only shrinks: a
# citation that gains a DOI, PMID or official address must leave it (a test checks that too).
NO_PRIMARY_IDENTIFIER_YET: dict[str, str] = {}


def _has_primary_identifier(c: Citation) -> bool:
    if c.doi or c.pmid:
        return True
    host = urlparse(c.url).hostname if c.url else None
    if c.kind in ("guideline", "policy", "web", "dataset", "article") and host in OFFICIAL_HOSTS:
        return True
    return c.kind == "code" and host in CODE_HOSTS


def test_every_citation_has_a_doi_pmid_or_official_address() -> None:
    citations = default_knowledge().citations
    lacking = {
        cid
        for cid, c in citations.items()
        if c.kind != "project" and not _has_primary_identifier(c) and cid not in NO_PRIMARY_IDENTIFIER_YET
    }
    assert not lacking, f"citations without a DOI, PMID or official address: {sorted(lacking)}"


def test_the_allow_list_only_names_citations_that_still_need_it() -> None:
    citations = default_knowledge().citations
    stale = {
        cid
        for cid in NO_PRIMARY_IDENTIFIER_YET
        if cid not in citations or _has_primary_identifier(citations[cid])
    }
    assert not stale, f"remove from NO_PRIMARY_IDENTIFIER_YET: {sorted(stale)}"


# Entries of the other verification pass (knowledge-b: surveillance, AFP, metastasis, recurrence,
# options) still to be given a reason or a status; this list only shrinks.
POLICY_WITHOUT_NOTE_YET: frozenset[str] = frozenset()
PROJECT_ONLY_NOT_POLICY_YET: frozenset[str] = frozenset()


def test_every_policy_entry_says_why() -> None:
    k = default_knowledge()
    silent = {e.key for e in k.entries.values() if e.status == "policy" and not (e.note or "").strip()}
    assert POLICY_WITHOUT_NOTE_YET <= silent, (
        f"remove from the list: {sorted(POLICY_WITHOUT_NOTE_YET - silent)}"
    )
    silent -= POLICY_WITHOUT_NOTE_YET
    assert not silent, f"policy entries without a reason in their note: {silent}"


def test_an_entry_citing_only_the_project_is_a_policy_entry() -> None:
    k = default_knowledge()
    wrong = {
        e.key for e in k.entries.values() if e.citations == ("HCCWATCH-POLICY",) and e.status != "policy"
    }
    assert PROJECT_ONLY_NOT_POLICY_YET <= wrong, f"remove: {sorted(PROJECT_ONLY_NOT_POLICY_YET - wrong)}"
    wrong -= PROJECT_ONLY_NOT_POLICY_YET
    # An unverified project choice would hide among entries awaiting a source.
    assert not wrong, f"entries citing only HCCWATCH-POLICY but not marked policy: {wrong}"


def test_every_secondary_entry_names_its_primary() -> None:
    k = default_knowledge()
    unnamed = [
        e.key
        for e in k.entries.values()
        if e.status == "secondary" and not re.search(r"\bprimary\b", e.note or "", re.IGNORECASE)
    ]
    assert not unnamed, f"secondary entries whose note does not name the primary source: {unnamed}"


def _lock() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(LOCK.read_text(encoding="utf-8"))
    return data


def test_every_changed_entry_is_in_the_changelog() -> None:
    k = default_knowledge()
    locked = _lock()["entries"]
    log = CHANGELOG.read_text(encoding="utf-8")
    changed = {
        key
        for key in set(locked) | set(k.entries)
        if key not in locked
        or key not in k.entries
        or locked[key] != {"value": k.entries[key].value, "status": k.entries[key].status}
    }
    missing = sorted(key for key in changed if f"`{key}`" not in log)
    assert not missing, f"entries changed since the release snapshot but not in CHANGELOG.md: {missing}"


def test_a_changed_value_bumps_the_knowledge_version() -> None:
    k = default_knowledge()
    lock = _lock()
    values_changed = set(lock["entries"]) != set(k.entries) or any(
        lock["entries"][key]["value"] != entry.value for key, entry in k.entries.items()
    )
    if values_changed:
        assert k.version != lock["knowledge_version"], "a value changed: bump knowledge/VERSION"


def test_the_changelog_has_its_header() -> None:
    assert CHANGELOG.read_text(encoding="utf-8").startswith("# Knowledge changelog\n")
