"""Prefetch reading never trusts its input: any JSON under any key gives resources or a gap."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hccwatch.app.server.prefetch import PREFETCH, FhirAccess, fhir_access, gather, query_for

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
_resource_like = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(["Bundle", "Patient", "OperationOutcome", "Observation", 3, None])},
    optional={
        "entry": st.lists(st.one_of(_json, st.fixed_dictionaries({"resource": _json, "response": _json}))),
        "link": st.lists(
            st.one_of(_json, st.fixed_dictionaries({"relation": st.just("next"), "url": _json}))
        ),
        "id": _json,
    },
)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.sampled_from([*PREFETCH, "other"]), st.one_of(_json, _resource_like), max_size=6)
    | _json
)
def test_any_prefetch_gives_resources_or_named_gaps_without_an_exception(prefetch: Any) -> None:
    got = asyncio.run(gather(prefetch, "p1", None))
    assert all(isinstance(r, dict) for r in got.resources)
    assert set(got.missing) <= set(PREFETCH)
    given_keys = prefetch if isinstance(prefetch, dict) else {}
    for key in PREFETCH:
        if key not in given_keys:
            assert key in got.missing  # absent and no FHIR server: a named gap, never "no data"


def test_null_is_no_data_and_not_a_gap() -> None:
    got = asyncio.run(gather({key: None for key in PREFETCH}, "p1", None))
    assert got.missing == []
    assert got.resources == []


def test_the_patient_id_cannot_change_the_query() -> None:
    assert query_for("conditions", "a&b=c/../x") == "Condition?patient=a%26b%3Dc%2F..%2Fx"


def test_fhir_access_rules() -> None:
    def access(server: object, **kw: bool) -> FhirAccess | None:
        return fhir_access({"fhirServer": server, "fhirAuthorization": {"access_token": "t"}}, **kw)

    closed = {"allow_http": False, "http_loopback": False}
    assert access("https://ehr.example.org/fhir/", **closed) == FhirAccess(
        "https://ehr.example.org/fhir", "t"
    )
    assert access("http://ehr.example.org/fhir", **closed) is None
    assert access("http://127.0.0.1:8080/fhir", **closed) is None
    assert access("http://127.0.0.1:8080/fhir", allow_http=False, http_loopback=True) is not None
    assert access("http://ehr.example.org/fhir", allow_http=True, http_loopback=False) is not None
    for bad in [None, "", 3, "ftp://x", "https://", "file:///etc/passwd"]:
        assert access(bad, **closed) is None
