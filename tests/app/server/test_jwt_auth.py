"""JWT verification of the EHR (CDS Hooks 2.0 §Trusting CDS Clients), with generated keys.

Each refused case is one of the attacks the CDS Hooks best-practices page names: no signature,
a symmetric algorithm keyed with the public key, a token for another service, an expired or
replayed token, an unknown key or issuer.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import pytest
from server_support import FakeFhir, Signer, ec_signer, fake_fhir, rsa_signer, write_jwks

from hccwatch.app.server.jwt_auth import JwtVerifier, VerifiedCall

AUD = "https://hccwatch.example.org/cds-services/hccwatch-patient-view"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def _verify(verifier: JwtVerifier, token: str | None, aud: str = AUD) -> VerifiedCall | None:
    return asyncio.run(verifier.verify(token, aud))


@pytest.fixture
def rsa() -> Signer:
    return rsa_signer()


@pytest.fixture
def es() -> Signer:
    return ec_signer()


@pytest.fixture
def verifier(tmp_path: Path, rsa: Signer, es: Signer) -> JwtVerifier:
    return JwtVerifier(
        {
            rsa.iss: str(write_jwks(tmp_path / "rsa.json", rsa)),
            es.iss: str(write_jwks(tmp_path / "es.json", es)),
        }
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    head = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
    return head + "." + _b64(signature)


def _claims(signer: Signer) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": signer.iss, "aud": AUD, "iat": now, "exp": now + 300, "jti": "j-1"}


def test_a_valid_rs384_token_is_accepted(verifier: JwtVerifier, rsa: Signer) -> None:
    call = _verify(verifier, rsa.token(AUD))
    assert call is not None
    assert call.iss == rsa.iss


def test_a_valid_es384_token_as_the_sandbox_sends_it_is_accepted(verifier: JwtVerifier, es: Signer) -> None:
    # The CDS Hooks sandbox signs with ES384 and an aud list would be as valid as a string.
    assert _verify(verifier, es.token([AUD])) is not None


def test_an_expired_token_is_refused(verifier: JwtVerifier, rsa: Signer) -> None:
    assert _verify(verifier, rsa.token(AUD, now=time.time() - 3600, lifetime_s=300)) is None


def test_a_token_for_another_url_is_refused(verifier: JwtVerifier, rsa: Signer) -> None:
    assert _verify(verifier, rsa.token("https://other.example.org/cds-services/x")) is None
    assert _verify(verifier, rsa.token(AUD.replace("https", "http"))) is None


def test_alg_none_is_refused(verifier: JwtVerifier, rsa: Signer) -> None:
    token = _unsigned({"alg": "none", "typ": "JWT", "kid": rsa.kid}, _claims(rsa))
    assert _verify(verifier, token) is None


def test_hmac_keyed_with_the_public_key_is_refused(verifier: JwtVerifier, rsa: Signer) -> None:
    # The classic algorithm confusion: sign HS256/HS384 with the PEM of the public key.
    from cryptography.hazmat.primitives import serialization

    pem = rsa.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for alg, digest in [("HS256", hashlib.sha256), ("HS384", hashlib.sha384)]:
        header = {"alg": alg, "typ": "JWT", "kid": rsa.kid}
        head = _unsigned(header, _claims(rsa)).rsplit(".", 1)[0]
        signature = hmac.new(pem, head.encode(), digest).digest()
        assert _verify(verifier, head + "." + _b64(signature)) is None


def test_a_key_of_the_wrong_type_for_the_algorithm_is_refused(tmp_path: Path) -> None:
    # The issuer's JWKS holds an EC key under the kid the RS384 token names.
    rsa_key, ec_key = rsa_signer(kid="k"), ec_signer(kid="k", iss="https://ehr.example.org")
    v = JwtVerifier({rsa_key.iss: str(write_jwks(tmp_path / "k.json", ec_key))})
    assert _verify(v, rsa_key.token(AUD)) is None


def test_a_replayed_jti_is_refused(verifier: JwtVerifier, rsa: Signer) -> None:
    token = rsa.token(AUD, jti="once")
    assert _verify(verifier, token) is not None
    assert _verify(verifier, token) is None
    # A new token reusing the jti is a replay too.
    assert _verify(verifier, rsa.token(AUD, jti="once")) is None
    assert _verify(verifier, rsa.token(AUD, jti="twice")) is not None


def test_an_untrusted_issuer_is_refused_even_with_a_good_signature(tmp_path: Path, rsa: Signer) -> None:
    stranger = rsa_signer(iss="https://stranger.example.org")
    v = JwtVerifier({rsa.iss: str(write_jwks(tmp_path / "k.json", rsa, stranger))})
    assert _verify(v, stranger.token(AUD)) is None


def test_a_jku_other_than_the_configured_one_is_refused(verifier: JwtVerifier, rsa: Signer) -> None:
    assert _verify(verifier, rsa.token(AUD, header={"jku": "https://attacker.example.org/jwks"})) is None


@pytest.mark.parametrize("missing", ["jti", "exp", "iat", "iss", "aud"])
def test_a_token_missing_a_required_claim_is_refused(
    verifier: JwtVerifier, rsa: Signer, missing: str
) -> None:
    token = rsa.token(AUD, claims={missing: None})
    assert _verify(verifier, token) is None


def test_a_token_living_longer_than_an_hour_is_refused(verifier: JwtVerifier, rsa: Signer) -> None:
    assert _verify(verifier, rsa.token(AUD, lifetime_s=7 * 24 * 3600)) is None


@pytest.mark.parametrize("token", [None, "", "abc", "a.b.c", "x" * 5000])
def test_garbage_is_refused(verifier: JwtVerifier, token: str | None) -> None:
    assert _verify(verifier, token) is None


def _jwks_server(*signers: Signer) -> Any:
    return fake_fhir({"jwks": (200, {"keys": [s.jwk() for s in signers]})})


def test_an_unknown_kid_refetches_the_jwks_at_most_once_a_minute() -> None:
    old, new = rsa_signer(kid="old"), rsa_signer(kid="new")
    clock = Clock()
    with _jwks_server(old) as server:
        v = JwtVerifier({old.iss: f"{server.base}/jwks"}, refresh_s=60, clock=clock)

        async def run(state: FakeFhir) -> None:
            assert await v.verify(old.token(AUD), AUD) is not None
            assert v.fetches == 1
            # The EHR rotates its key: the first unknown kid refetches, and the key is not there yet.
            for _ in range(20):
                assert await v.verify(new.token(AUD), AUD) is None
            assert v.fetches == 1  # fetched 1 s before: a flood of unknown kids fetches nothing
            state.routes["jwks"] = (200, {"keys": [old.jwk(), new.jwk()]})
            clock.now += 61
            assert await v.verify(new.token(AUD), AUD) is not None
            assert v.fetches == 2
            assert await v.verify(old.token(AUD), AUD) is not None
            assert v.fetches == 2

        asyncio.run(run(server))


def test_an_unreachable_jwks_refuses_and_keeps_the_known_keys(tmp_path: Path, rsa: Signer) -> None:
    path = write_jwks(tmp_path / "k.json", rsa)
    clock = Clock()
    v = JwtVerifier({rsa.iss: str(path)}, refresh_s=60, clock=clock)
    assert _verify(v, rsa.token(AUD)) is not None
    path.unlink()
    clock.now += 61
    assert _verify(v, rsa_signer(kid="other").token(AUD)) is None
    assert _verify(v, rsa.token(AUD)) is not None
