"""The FHIR resources of one CDS Hooks call: from the prefetch, else from the EHR's FHIR server.

CDS Hooks 2.0 §Prefetch: a key that is **absent** was not fetched (we query ``fhirServer``
ourselves); a key that is **null** means the EHR has no such data; a value may be an
**OperationOutcome** (the EHR tried and failed: treated like absent) or a **Bundle** that is
partial (a ``next`` link, which we follow on the FHIR server). A prefetch is never assumed
complete. What could not be obtained is reported (by key, never by content) so the caller can
log it and answer 412 when the patient itself is out of reach.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import ssl
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["PREFETCH", "FhirAccess", "Gathered", "fhir_access", "gather", "query_for", "tls_context"]

# key -> FHIR query template (CDS Hooks 2.0 prefetch syntax). The labs are the LOINC codes of
# AFP (1834-1), bilirubin (1975-2), albumin (1751-7), INR (6301-6), creatinine (2160-0),
# sodium (2951-2) and platelets (777-3) (https://loinc.org); other observations (ECOG, tumour
# size, TNM, disease status, symptoms) come by category. Sorting newest first with a count keeps
# the payload bounded; a next link is followed on the FHIR server. A resource found under two keys
# (a lab is both) is kept once.
_P = "{{context.patientId}}"
PREFETCH: dict[str, str] = {
    "patient": f"Patient/{_P}",
    "conditions": f"Condition?patient={_P}",
    "labs": (
        f"Observation?patient={_P}&code=http://loinc.org|1834-1,http://loinc.org|1975-2,"
        "http://loinc.org|1751-7,http://loinc.org|6301-6,http://loinc.org|2160-0,"
        "http://loinc.org|2951-2,http://loinc.org|777-3&_sort=-date&_count=200"
    ),
    "observations": (
        f"Observation?patient={_P}&category=survey,exam,imaging,laboratory&_sort=-date&_count=200"
    ),
    "reports": f"DiagnosticReport?patient={_P}&_sort=-date&_count=50",
    "imaging": f"ImagingStudy?patient={_P}&_sort=-started&_count=50",
    "procedures": f"Procedure?patient={_P}",
    "medication-requests": f"MedicationRequest?patient={_P}",
    "medication-administrations": f"MedicationAdministration?patient={_P}",
    "medication-statements": f"MedicationStatement?patient={_P}",
}
# Pages followed per key on the FHIR server: a chart is bounded; an endless next chain is not.
_MAX_PAGES = 20
_LOOPBACK_NAMES = {"localhost"}


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every outgoing call: building one loads the CA store (~100 ms)."""
    return ssl.create_default_context()


def query_for(key: str, patient_id: str) -> str:
    # The id is quoted: a patientId with '&' or '/' must not change the query.
    return PREFETCH[key].replace(_P, urllib.parse.quote(patient_id, safe=""))


@dataclass(frozen=True)
class FhirAccess:
    base: str
    token: str | None


def _loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def fhir_access(request: Mapping[str, Any], *, allow_http: bool, http_loopback: bool) -> FhirAccess | None:
    """The FHIR server we may query for this call, or None (absent, or not https in production).

    Plain http is accepted anywhere only with ``allow_http`` (--dev), and on loopback only with
    ``http_loopback`` (a FHIR server on the same host): otherwise a caller could point the service
    at the host's own unencrypted services."""
    server = request.get("fhirServer")
    if not isinstance(server, str) or not server:
        return None
    parts = urllib.parse.urlsplit(server)
    secure = parts.scheme == "https" or (
        parts.scheme == "http" and (allow_http or (http_loopback and _loopback(parts.hostname)))
    )
    if not secure or not parts.hostname:
        return None
    auth = request.get("fhirAuthorization")
    token = auth.get("access_token") if isinstance(auth, dict) else None
    return FhirAccess(base=server.rstrip("/"), token=token if isinstance(token, str) and token else None)


@dataclass
class Gathered:
    resources: list[dict[str, Any]] = field(default_factory=list)
    # keys whose data could not be obtained (absent or failed, and no usable FHIR server)
    missing: list[str] = field(default_factory=list)
    # keys read (at least partly) from the FHIR server
    fetched: list[str] = field(default_factory=list)


def _entries(bundle: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    entries = bundle.get("entry")
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        resource = entry.get("resource")
        response = entry.get("response")
        status = response.get("status") if isinstance(response, dict) else None
        # A batch-response entry that failed carries an OperationOutcome, not data.
        if isinstance(status, str) and not status.lstrip().startswith("2"):
            continue
        if isinstance(resource, dict) and resource.get("resourceType") != "OperationOutcome":
            out.append(resource)
    return out


def _next(bundle: Mapping[str, Any]) -> str | None:
    links = bundle.get("link")
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and link.get("relation") == "next" and isinstance(link.get("url"), str):
            return str(link["url"])
    return None


def _read_value(value: Any) -> tuple[bool, list[dict[str, Any]], str | None]:
    """(usable, resources, next page URL) of one prefetch value."""
    if value is None:
        return True, [], None  # null: the EHR says there is no such data
    if not isinstance(value, dict):
        return False, [], None
    kind = value.get("resourceType")
    if kind == "OperationOutcome" or not isinstance(kind, str):
        return False, [], None
    if kind == "Bundle":
        return True, _entries(value), _next(value)
    return True, [value], None


def _same_server(url: str, access: FhirAccess) -> bool:
    # A next link is followed (with the EHR's token) only on the EHR's own FHIR server.
    return url == access.base or url.startswith((access.base + "/", access.base + "?"))


async def _fetch(
    client: httpx.AsyncClient, access: FhirAccess, url: str
) -> tuple[bool, list[dict[str, Any]]]:
    """Every page of one query (a search, or an instance read)."""
    out: list[dict[str, Any]] = []
    next_url: str | None = url if url.startswith(("https://", "http://")) else f"{access.base}/{url}"
    pages = 0
    while next_url is not None and pages < _MAX_PAGES:
        if not _same_server(next_url, access):
            return False, out
        response = await client.get(next_url)
        pages += 1
        if response.status_code == httpx.codes.NOT_FOUND:
            return True, out  # an instance read of nothing: no such data
        if response.status_code != httpx.codes.OK:
            return False, out
        try:
            data = response.json()
        except ValueError:
            return False, out
        usable, resources, next_url = _read_value(data)
        if not usable:
            return False, out
        out.extend(resources)
    return next_url is None, out


async def gather(prefetch: object, patient_id: str, access: FhirAccess | None) -> Gathered:
    """Every prefetch key's resources, fetching what is absent, failed or partial (when we may)."""
    given = prefetch if isinstance(prefetch, dict) else {}
    got = Gathered()
    client: httpx.AsyncClient | None = None
    if access is not None:
        headers = {"Accept": "application/fhir+json"}
        if access.token is not None:
            headers["Authorization"] = f"Bearer {access.token}"
        client = httpx.AsyncClient(
            headers=headers, follow_redirects=False, timeout=None, verify=tls_context()
        )
    todo: list[tuple[str, str]] = []
    for key in PREFETCH:
        usable, resources, next_url = _read_value(given[key]) if key in given else (False, [], None)
        got.resources.extend(resources)
        if usable and next_url is None:
            continue
        if client is None or access is None:
            got.missing.append(key)
        else:
            todo.append((key, next_url or query_for(key, patient_id)))
    if client is None or access is None:
        return _unique(got)
    try:
        # The queries run together: the call's deadline covers the slowest, not their sum.
        results = await asyncio.gather(
            *(_fetch(client, access, url) for _, url in todo), return_exceptions=True
        )
    finally:
        await client.aclose()
    for (key, _), result in zip(todo, results, strict=True):
        got.fetched.append(key)
        if isinstance(result, BaseException):
            if not isinstance(result, httpx.HTTPError | ValueError):
                raise result
            got.missing.append(key)
            continue
        ok, more = result
        got.resources.extend(more)
        if not ok:
            got.missing.append(key)
    return _unique(got)


def _unique(got: Gathered) -> Gathered:
    seen: set[tuple[str, str]] = set()
    kept: list[dict[str, Any]] = []
    for resource in got.resources:
        rid = resource.get("id")
        if isinstance(rid, str):
            key = (str(resource.get("resourceType")), rid)
            if key in seen:
                continue
            seen.add(key)
        kept.append(resource)
    got.resources = kept
    return got
