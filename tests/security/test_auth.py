"""Bearer JWT verification: HS256 and RS256/ES256 from a JWKS file; issuer, audience, expiry, not-before, skew."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from api.auth import ANONYMOUS, DEVELOPER, Authenticator, AuthError, AuthSettings, mint

SECRET = "s3cret-for-tests-only-" + "0123456789abcdef" * 4


def _claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "alice", "roles": ["quality"], "iat": now, "nbf": now, "exp": now + 600, **extra}


async def test_hs256_token_gives_subject_and_roles() -> None:
    auth = Authenticator(AuthSettings(hs256_secret=SECRET))
    principal = await auth.authenticate(f"Bearer {mint(SECRET, 'alice', ['quality', 'viewer'])}")
    assert principal.subject == "alice"
    assert principal.roles == {"quality", "viewer"}
    assert principal.authenticated


async def test_no_header_is_anonymous_and_dev_mode_is_everyone() -> None:
    assert await Authenticator(AuthSettings(hs256_secret=SECRET)).authenticate(None) is ANONYMOUS
    assert await Authenticator(AuthSettings(mode="none")).authenticate(None) is DEVELOPER


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (jwt.encode(_claims(exp=int(time.time()) - 3600), SECRET, algorithm="HS256"), "expired"),
        (jwt.encode(_claims(nbf=int(time.time()) + 3600), SECRET, algorithm="HS256"), "not valid yet"),
        (jwt.encode(_claims(), "another-secret-" * 4, algorithm="HS256"), "not valid"),
        (jwt.encode({"roles": ["admin"], "exp": int(time.time()) + 60}, SECRET, algorithm="HS256"), "not valid"),
        ("not.a.token", "not valid"),
        (jwt.encode(_claims(), SECRET, algorithm="HS512"), "not valid"),
    ],
)
async def test_bad_tokens_are_refused(token: str, message: str) -> None:
    with pytest.raises(AuthError, match=message):
        await Authenticator(AuthSettings(hs256_secret=SECRET)).authenticate(f"Bearer {token}")


async def test_clock_skew_is_tolerated_up_to_the_leeway() -> None:
    auth = Authenticator(AuthSettings(hs256_secret=SECRET, leeway_seconds=30))
    slightly = jwt.encode(_claims(exp=int(time.time()) - 10), SECRET, algorithm="HS256")
    assert (await auth.authenticate(f"Bearer {slightly}")).subject == "alice"


async def test_issuer_and_audience_are_checked() -> None:
    auth = Authenticator(AuthSettings(hs256_secret=SECRET, issuer="https://idp.plant", audience="lotgraph"))
    good = jwt.encode(_claims(iss="https://idp.plant", aud="lotgraph"), SECRET, algorithm="HS256")
    assert (await auth.authenticate(f"Bearer {good}")).authenticated
    for claims in (_claims(iss="https://evil", aud="lotgraph"), _claims(iss="https://idp.plant", aud="other")):
        with pytest.raises(AuthError, match="not issued for this gateway"):
            await auth.authenticate(f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}")


async def test_malformed_headers_are_refused() -> None:
    auth = Authenticator(AuthSettings(hs256_secret=SECRET))
    for header in ("Basic abc", "Bearer", "Bearer   "):
        with pytest.raises(AuthError):
            await auth.authenticate(header)


def _private_key(algorithm: str) -> Any:
    return rsa.generate_private_key(65537, 2048) if algorithm == "RS256" else ec.generate_private_key(ec.SECP256R1())


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
async def test_asymmetric_tokens_with_keys_from_a_jwks_file(tmp_path: Path, algorithm: str) -> None:
    key: Any = (
        rsa.generate_private_key(65537, 2048) if algorithm == "RS256" else ec.generate_private_key(ec.SECP256R1())
    )
    algo = jwt.get_algorithm_by_name(algorithm)
    jwk = json.loads(algo.to_jwk(key.public_key()))
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": algorithm}]}))
    auth = Authenticator(AuthSettings(jwks_file=jwks))
    token = jwt.encode(_claims(roles="shipping viewer"), key, algorithm=algorithm, headers={"kid": "k1"})
    principal = await auth.authenticate(f"Bearer {token}")
    assert principal.roles == {"shipping", "viewer"}
    other: Any = (
        rsa.generate_private_key(65537, 2048) if algorithm == "RS256" else ec.generate_private_key(ec.SECP256R1())
    )
    forged = jwt.encode(_claims(), other, algorithm=algorithm, headers={"kid": "k1"})
    with pytest.raises(AuthError, match="not valid"):
        await auth.authenticate(f"Bearer {forged}")
    with pytest.raises(AuthError):  # an HS256 token signed with the public key must not pass as RS/ES
        await auth.authenticate("Bearer " + jwt.encode(_claims(), SECRET, algorithm="HS256"))


def test_mint_refuses_unknown_roles() -> None:
    with pytest.raises(ValueError, match="unknown role 'root'"):
        mint(SECRET, "bob", ["root"])
