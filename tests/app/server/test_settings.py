"""Server settings from the environment: each bad value named, the docs table complete."""

from __future__ import annotations

import re

import pytest

from hccwatch.app.server.settings import ENV_TABLE, Settings, SettingsError, token_digest
from support import REPO


def test_defaults_are_closed() -> None:
    s = Settings.from_env({})
    assert s.api_token_digests == frozenset()
    assert dict(s.cds_issuers) == {}
    assert s.cors_origins == ()
    assert not s.dev


def test_tokens_are_kept_only_as_digests() -> None:
    digest = token_digest("other")
    s = Settings.from_env({"HCCWATCH_API_TOKENS": " a , b ", "HCCWATCH_API_TOKEN_SHA256": digest.upper()})
    assert s.api_token_digests == {token_digest("a"), token_digest("b"), digest}
    assert "a" not in repr(s).split("api_token_digests")[0]


def test_issuers_and_numbers_are_read() -> None:
    s = Settings.from_env(
        {
            "HCCWATCH_CDS_ISSUERS": '{"https://ehr.example.org": "https://ehr.example.org/jwks"}',
            "HCCWATCH_CDS_DEADLINE_S": "1.5",
            "HCCWATCH_PUBLIC_URL": "https://hccwatch.example.org/",
            "HCCWATCH_CORS_ORIGINS": "https://a.example.org,https://b.example.org",
        }
    )
    assert dict(s.cds_issuers) == {"https://ehr.example.org": "https://ehr.example.org/jwks"}
    assert s.cds_deadline_s == 1.5
    assert s.public_url == "https://hccwatch.example.org"
    assert s.cors_origins == ("https://a.example.org", "https://b.example.org")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HCCWATCH_CDS_ISSUERS", "not json"),
        ("HCCWATCH_CDS_ISSUERS", '["x"]'),
        ("HCCWATCH_CDS_ISSUERS", '{"iss": 3}'),
        ("HCCWATCH_CDS_DEADLINE_S", "soon"),
        ("HCCWATCH_CDS_DEADLINE_S", "-1"),
        ("HCCWATCH_CDS_DEADLINE_S", "nan"),
        ("HCCWATCH_CDS_DEADLINE_S", "inf"),
        ("HCCWATCH_MAX_BODY_BYTES", "10"),
        ("HCCWATCH_PUBLIC_URL", "hccwatch.example.org"),
        ("HCCWATCH_PATIENT_URL", "/patients/{patient_id}"),
        ("HCCWATCH_API_TOKEN_SHA256", "abc"),
        ("HCCWATCH_LOG_LEVEL", "chatty"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_docs_list_every_setting_with_its_default() -> None:
    text = (REPO / "docs" / "server.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(HCCWATCH_[A-Z0-9_]+)` \| ([^|]+) \|", text, flags=re.M))
    assert {k: v.strip() for k, v in rows.items()} == {k: d for k, (d, _m) in ENV_TABLE.items()}
