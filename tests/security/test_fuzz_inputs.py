"""Every client-controlled input gets a typed 4xx or a GraphQL error, never a 500: a search over nested JSON, numeric
headers and token headers, seeded with the three inputs that once gave a plain-text 500 (variables nested 100,000
deep, a 400-digit ``Webhook-Timestamp``, a token whose header names an algorithm its key cannot verify)."""

from __future__ import annotations

import base64
import dataclasses
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from api.settings import Settings, WebhookSettings, WebhookSource
from plant.webhooks import sign
from tests.conftest import TEST_SECRET, Gateway, gateway_over

FUZZ = settings(  # the number of cases, and whether they are random, come from the Hypothesis profile
    max_examples=round(settings.default.max_examples / 2),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
WEBHOOK_SECRET = "webhook-secret-for-tests-" + "0" * 16
EC_KEY = ec.generate_private_key(ec.SECP256R1())
RSA_KEY = rsa.generate_private_key(65537, 2048)


def _jwk(key: Any, algorithm: str, kid: str) -> dict[str, Any]:
    public = json.loads(jwt.get_algorithm_by_name(algorithm).to_jwk(key.public_key()))
    return {**public, "kid": kid, "use": "sig"}


@pytest.fixture
async def exposed(settings: Settings, plant: Starlette, tmp_path: Path) -> AsyncIterator[Gateway]:
    """A gateway with every input open: HS256 and a JWKS (an EC and an RSA key), and webhooks from the QMS."""
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [_jwk(EC_KEY, "ES256", "ec"), _jwk(RSA_KEY, "RS256", "rsa")]}))
    wide_open = dataclasses.replace(
        settings,
        auth=dataclasses.replace(settings.auth, jwks_file=jwks),
        webhooks=WebhookSettings(qms=WebhookSource(secret=WEBHOOK_SECRET)),
    )
    async with gateway_over(plant, wide_open) as gateway:
        yield gateway


def _client_error(status: int, text: str) -> None:
    assert status < 500, (status, text[:300])
    assert "Traceback" not in text
    assert '"INTERNAL"' not in text, text[:300]


def _nested(depth: int, opener: str) -> str:
    closer = {"[": "]", '{"a":': "}"}[opener]
    return opener * depth + "1" + closer * depth


@FUZZ
@given(depth=st.one_of(st.integers(1, 100), st.integers(100, 200_000)), opener=st.sampled_from(["[", '{"a":']))
@example(depth=100_000, opener="[")
async def test_nested_json_anywhere_in_a_request(exposed: Gateway, depth: int, opener: str) -> None:
    value = _nested(depth, opener)
    headers = {"Authorization": f"Bearer {exposed.bearer}", "Content-Type": "application/json"}
    for body in (
        '{"query": "query($v: JSON) { eventTypes { type } }", "variables": {"v": ' + value + "}}",
        '{"query": "{ eventTypes { type } }", "extensions": {"x": ' + value + "}}",
        '{"query": ' + value + "}",
    ):
        response = await exposed.client.post("/graphql", content=body, headers=headers)
        _client_error(response.status_code, response.text)
    if len(value) < 8_000:  # a URL httpx will send
        response = await exposed.client.get("/graphql", params={"query": "{ __typename }", "variables": value})
        _client_error(response.status_code, response.text)


NUMBERS = st.one_of(
    st.integers(-(10**3), 10**500).map(str),
    st.text(st.sampled_from("0123456789²³¹٣\u09e6๓+-_. e"), max_size=500),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)


@FUZZ
@given(timestamp=NUMBERS, length=NUMBERS)
@example(timestamp="9" * 400, length="0")
@example(timestamp="²", length="³")
async def test_numeric_headers_of_a_webhook(exposed: Gateway, timestamp: str, length: str) -> None:
    body = b'{"type": "HoldPlaced"}'
    wire = timestamp.encode()  # as a client puts it on the wire; the server reads header bytes as Latin-1
    signed = sign(WEBHOOK_SECRET, wire.decode("latin-1"), body).encode()
    headers = {"Webhook-Timestamp": wire, "Webhook-Signature": signed}
    response = await exposed.client.post("/webhooks/qms", content=body, headers=headers)
    _client_error(response.status_code, response.text)
    assert response.status_code in (200, 202, 401), response.text
    headers["Content-Length"] = length.encode()
    response = await exposed.client.post("/webhooks/qms", content=body, headers=headers)
    _client_error(response.status_code, response.text)


def _segment(value: object) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


HEADER_VALUES = st.one_of(
    st.sampled_from(["HS256", "RS256", "ES256", "PS256", "EdDSA", "none", "HS512", "ES384", "RS512"]),
    st.sampled_from(["ec", "rsa", "", "../x"]),
    st.none(),
    st.integers(),
    st.booleans(),
    st.text(max_size=20),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
)
SIGNERS = st.sampled_from(["hs256", "ec", "rsa", "garbage", "empty"])


@FUZZ
@given(
    header=st.fixed_dictionaries(
        {"alg": HEADER_VALUES}, optional={"kid": HEADER_VALUES, "typ": HEADER_VALUES, "crit": HEADER_VALUES}
    ),
    signer=SIGNERS,
)
@example(header={"alg": "RS256", "kid": "ec"}, signer="ec")
@example(header={"alg": "ES256", "kid": "rsa"}, signer="rsa")
@example(header={"alg": "RS256", "kid": "ec"}, signer="hs256")
async def test_token_headers(exposed: Gateway, header: dict[str, Any], signer: str) -> None:
    now = int(time.time())
    claims = {"sub": "fuzz", "roles": ["admin"], "iat": now, "exp": now + 600}
    signing_input = f"{_segment(header)}.{_segment(claims)}".encode()
    signature = {
        "hs256": lambda: jwt.get_algorithm_by_name("HS256").sign(signing_input, TEST_SECRET.encode()),
        "ec": lambda: jwt.get_algorithm_by_name("ES256").sign(signing_input, EC_KEY),
        "rsa": lambda: jwt.get_algorithm_by_name("RS256").sign(signing_input, RSA_KEY),
        "garbage": lambda: b"\x00garbage",
        "empty": lambda: b"",
    }[signer]()
    token = f"{signing_input.decode()}.{_segment(signature)}"
    response = await exposed.as_token(token).post("{ eventTypes { type } }")
    _client_error(response.status_code, response.text)
    codes = {e.get("extensions", {}).get("code") for e in response.json().get("errors") or []}
    assert codes <= {"UNAUTHENTICATED"}, response.text
